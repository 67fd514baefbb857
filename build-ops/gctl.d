build-ops/gctl.o: src/gctl.c src/gctl.h src/flow.h src/pkt.h src/groups.h \
 src/sched.h src/mapping.h src/gconf.h src/gstore.h src/gflows.h \
 src/log.h src/sets.h src/table.h
src/gctl.h:
src/flow.h:
src/pkt.h:
src/groups.h:
src/sched.h:
src/mapping.h:
src/gconf.h:
src/gstore.h:
src/gflows.h:
src/log.h:
src/sets.h:
src/table.h:

build-ops/tests/test_gctl: tests/test_gctl.c src/gctl.h src/flow.h \
 src/pkt.h src/groups.h src/sched.h src/mapping.h src/gstore.h src/log.h \
 src/sets.h src/table.h src/store.h src/table.h
src/gctl.h:
src/flow.h:
src/pkt.h:
src/groups.h:
src/sched.h:
src/mapping.h:
src/gstore.h:
src/log.h:
src/sets.h:
src/table.h:
src/store.h:
src/table.h:

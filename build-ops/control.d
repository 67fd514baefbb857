build-ops/control.o: src/control.c src/control.h src/fanout.h src/fctl.h \
 src/mapping.h src/util.h src/gctl.h src/flow.h src/pkt.h src/groups.h \
 src/sched.h src/regsrv.h src/log.h src/resolver.h src/rowset.h \
 src/table.h src/sets.h src/status.h src/store.h
src/control.h:
src/fanout.h:
src/fctl.h:
src/mapping.h:
src/util.h:
src/gctl.h:
src/flow.h:
src/pkt.h:
src/groups.h:
src/sched.h:
src/regsrv.h:
src/log.h:
src/resolver.h:
src/rowset.h:
src/table.h:
src/sets.h:
src/status.h:
src/store.h:

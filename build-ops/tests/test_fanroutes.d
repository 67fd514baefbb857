build-ops/tests/test_fanroutes: tests/test_fanroutes.c src/control.h \
 src/fanout.h src/fctl.h src/mapping.h src/util.h src/gctl.h src/flow.h \
 src/pkt.h src/groups.h src/sched.h src/regsrv.h src/fctl.h src/gctl.h \
 src/routes.h src/control.h src/util.h
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
src/fctl.h:
src/gctl.h:
src/routes.h:
src/control.h:
src/util.h:

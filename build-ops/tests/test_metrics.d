build-ops/tests/test_metrics: tests/test_metrics.c src/metrics.h \
 src/control.h src/fanout.h src/fctl.h src/mapping.h src/util.h \
 src/gctl.h src/flow.h src/pkt.h src/groups.h src/sched.h src/regsrv.h \
 src/util.h
src/metrics.h:
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
src/util.h:

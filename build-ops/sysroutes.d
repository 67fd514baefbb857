build-ops/sysroutes.o: src/sysroutes.c src/control.h src/fanout.h \
 src/fctl.h src/mapping.h src/util.h src/gctl.h src/flow.h src/pkt.h \
 src/groups.h src/sched.h src/regsrv.h src/mapjson.h src/metrics.h \
 src/sysroutes.h src/routes.h
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
src/mapjson.h:
src/metrics.h:
src/sysroutes.h:
src/routes.h:

build-ops/fanroutes.o: src/fanroutes.c src/control.h src/fanout.h \
 src/fctl.h src/mapping.h src/util.h src/gctl.h src/flow.h src/pkt.h \
 src/groups.h src/sched.h src/regsrv.h src/fanjson.h src/fanroutes.h \
 src/routes.h
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
src/fanjson.h:
src/fanroutes.h:
src/routes.h:

build-ops/routes.o: src/routes.c src/auth.h src/fanroutes.h src/routes.h \
 src/control.h src/fanout.h src/fctl.h src/mapping.h src/util.h \
 src/gctl.h src/flow.h src/pkt.h src/groups.h src/sched.h src/regsrv.h \
 src/grouproutes.h src/mapjson.h src/maproutes.h src/sysroutes.h
src/auth.h:
src/fanroutes.h:
src/routes.h:
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
src/grouproutes.h:
src/mapjson.h:
src/maproutes.h:
src/sysroutes.h:

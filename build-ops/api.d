build-ops/api.o: src/api.c src/api.h src/auth.h src/log.h src/routes.h \
 src/control.h src/fanout.h src/fctl.h src/mapping.h src/util.h \
 src/gctl.h src/flow.h src/pkt.h src/groups.h src/sched.h src/regsrv.h
src/api.h:
src/auth.h:
src/log.h:
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

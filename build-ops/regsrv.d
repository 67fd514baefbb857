build-ops/regsrv.o: src/regsrv.c src/control.h src/fanout.h src/fctl.h \
 src/mapping.h src/util.h src/gctl.h src/flow.h src/pkt.h src/groups.h \
 src/sched.h src/regsrv.h src/log.h src/regproto.h
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
src/regproto.h:

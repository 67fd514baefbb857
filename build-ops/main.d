build-ops/main.o: src/main.c src/api.h src/control.h src/fanout.h \
 src/fctl.h src/mapping.h src/util.h src/gctl.h src/flow.h src/pkt.h \
 src/groups.h src/sched.h src/regsrv.h src/log.h src/nfq.h src/priv.h \
 src/store.h
src/api.h:
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
src/nfq.h:
src/priv.h:
src/store.h:

build-ops/nfq.o: src/nfq.c src/control.h src/fanout.h src/fctl.h \
 src/mapping.h src/util.h src/gctl.h src/flow.h src/pkt.h src/groups.h \
 src/sched.h src/regsrv.h src/log.h src/mux.h src/waitq.h src/nfq.h \
 src/table.h
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
src/mux.h:
src/waitq.h:
src/nfq.h:
src/table.h:

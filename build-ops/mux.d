build-ops/mux.o: src/mux.c src/mux.h src/flow.h src/pkt.h src/gctl.h \
 src/groups.h src/sched.h src/mapping.h src/waitq.h
src/mux.h:
src/flow.h:
src/pkt.h:
src/gctl.h:
src/groups.h:
src/sched.h:
src/mapping.h:
src/waitq.h:

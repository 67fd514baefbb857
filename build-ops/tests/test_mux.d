build-ops/tests/test_mux: tests/test_mux.c src/flow.h src/pkt.h \
 src/gctl.h src/flow.h src/groups.h src/sched.h src/mapping.h \
 src/groups.h src/mux.h src/gctl.h src/waitq.h src/pkt.h
src/flow.h:
src/pkt.h:
src/gctl.h:
src/flow.h:
src/groups.h:
src/sched.h:
src/mapping.h:
src/groups.h:
src/mux.h:
src/gctl.h:
src/waitq.h:
src/pkt.h:

build-ops/tests/test_waitq: tests/test_waitq.c src/waitq.h src/flow.h \
 src/pkt.h
src/waitq.h:
src/flow.h:
src/pkt.h:

build-ops/tests/test_flow: tests/test_flow.c src/flow.h src/pkt.h
src/flow.h:
src/pkt.h:

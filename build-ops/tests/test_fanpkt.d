build-ops/tests/test_fanpkt: tests/test_fanpkt.c src/fanpkt.h
src/fanpkt.h:

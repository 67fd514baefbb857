build-ops/tests/test_pkt: tests/test_pkt.c src/pkt.h
src/pkt.h:

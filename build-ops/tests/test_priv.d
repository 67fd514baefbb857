build-ops/tests/test_priv: tests/test_priv.c src/log.h src/priv.h
src/log.h:
src/priv.h:

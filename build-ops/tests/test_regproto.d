build-ops/tests/test_regproto: tests/test_regproto.c src/regproto.h
src/regproto.h:

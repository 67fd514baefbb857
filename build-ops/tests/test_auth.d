build-ops/tests/test_auth: tests/test_auth.c src/auth.h src/util.h
src/auth.h:
src/util.h:

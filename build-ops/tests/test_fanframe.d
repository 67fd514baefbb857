build-ops/tests/test_fanframe: tests/test_fanframe.c src/fanframe.h
src/fanframe.h:

build-ops/tests/test_sched: tests/test_sched.c src/sched.h
src/sched.h:

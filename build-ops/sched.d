build-ops/sched.o: src/sched.c src/sched.h src/util.h
src/sched.h:
src/util.h:

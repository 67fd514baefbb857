build-ops/fanframe.o: src/fanframe.c src/fanframe.h
src/fanframe.h:

build-ops/sub.o: src/sub.c src/fanframe.h src/regproto.h src/subarg.h
src/fanframe.h:
src/regproto.h:
src/subarg.h:

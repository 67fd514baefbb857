build-ops/subarg.o: src/subarg.c src/regproto.h src/subarg.h
src/regproto.h:
src/subarg.h:

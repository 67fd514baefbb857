build-ops/regproto.o: src/regproto.c src/regproto.h src/util.h
src/regproto.h:
src/util.h:

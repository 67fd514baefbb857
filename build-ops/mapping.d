build-ops/mapping.o: src/mapping.c src/mapping.h src/util.h
src/mapping.h:
src/util.h:

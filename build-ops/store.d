build-ops/store.o: src/store.c src/store.h src/mapping.h
src/store.h:
src/mapping.h:

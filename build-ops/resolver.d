build-ops/resolver.o: src/resolver.c src/resolver.h
src/resolver.h:

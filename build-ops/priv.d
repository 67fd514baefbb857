build-ops/priv.o: src/priv.c src/log.h src/priv.h
src/log.h:
src/priv.h:

build-ops/fstore.o: src/fstore.c src/fstore.h src/fctl.h src/mapping.h \
 src/util.h src/store.h
src/fstore.h:
src/fctl.h:
src/mapping.h:
src/util.h:
src/store.h:

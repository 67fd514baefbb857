build-ops/tests/test_fstore: tests/test_fstore.c src/fstore.h src/fctl.h \
 src/mapping.h src/util.h src/store.h
src/fstore.h:
src/fctl.h:
src/mapping.h:
src/util.h:
src/store.h:

build-ops/tests/test_store: tests/test_store.c src/store.h src/mapping.h
src/store.h:
src/mapping.h:

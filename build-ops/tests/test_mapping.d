build-ops/tests/test_mapping: tests/test_mapping.c src/mapping.h
src/mapping.h:

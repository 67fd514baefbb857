build-ops/tests/test_fanjson: tests/test_fanjson.c src/fanjson.h \
 src/fctl.h src/mapping.h src/util.h src/util.h
src/fanjson.h:
src/fctl.h:
src/mapping.h:
src/util.h:
src/util.h:

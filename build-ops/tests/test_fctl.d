build-ops/tests/test_fctl: tests/test_fctl.c src/fctl.h src/mapping.h \
 src/util.h src/fstore.h src/fctl.h src/log.h src/sets.h src/table.h \
 src/pkt.h src/store.h
src/fctl.h:
src/mapping.h:
src/util.h:
src/fstore.h:
src/fctl.h:
src/log.h:
src/sets.h:
src/table.h:
src/pkt.h:
src/store.h:

build-ops/tests/test_table: tests/test_table.c src/table.h src/pkt.h
src/table.h:
src/pkt.h:

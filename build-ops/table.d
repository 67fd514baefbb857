build-ops/table.o: src/table.c src/table.h src/pkt.h src/util.h
src/table.h:
src/pkt.h:
src/util.h:

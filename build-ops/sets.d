build-ops/sets.o: src/sets.c src/sets.h src/table.h src/pkt.h
src/sets.h:
src/table.h:
src/pkt.h:

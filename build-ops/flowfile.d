build-ops/flowfile.o: src/flowfile.c src/flowfile.h src/flow.h src/pkt.h
src/flowfile.h:
src/flow.h:
src/pkt.h:

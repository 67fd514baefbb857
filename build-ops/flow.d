build-ops/flow.o: src/flow.c src/flow.h src/pkt.h src/flowfile.h
src/flow.h:
src/pkt.h:
src/flowfile.h:

build-ops/pkt.o: src/pkt.c src/pkt.h
src/pkt.h:

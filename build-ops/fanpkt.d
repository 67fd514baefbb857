build-ops/fanpkt.o: src/fanpkt.c src/fanpkt.h src/pkt.h
src/fanpkt.h:
src/pkt.h:

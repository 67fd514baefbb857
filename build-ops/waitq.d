build-ops/waitq.o: src/waitq.c src/util.h src/waitq.h src/flow.h \
 src/pkt.h
src/util.h:
src/waitq.h:
src/flow.h:
src/pkt.h:

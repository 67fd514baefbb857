build-ops/fanout.o: src/fanout.c src/fanframe.h src/fanout.h src/fanpkt.h \
 src/fctl.h src/mapping.h src/util.h src/log.h
src/fanframe.h:
src/fanout.h:
src/fanpkt.h:
src/fctl.h:
src/mapping.h:
src/util.h:
src/log.h:

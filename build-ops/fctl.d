build-ops/fctl.o: src/fctl.c src/fctl.h src/mapping.h src/util.h \
 src/fconf.h src/fstore.h src/log.h src/sets.h src/table.h src/pkt.h
src/fctl.h:
src/mapping.h:
src/util.h:
src/fconf.h:
src/fstore.h:
src/log.h:
src/sets.h:
src/table.h:
src/pkt.h:

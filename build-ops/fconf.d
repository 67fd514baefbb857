build-ops/fconf.o: src/fconf.c src/fconf.h src/fctl.h src/mapping.h \
 src/util.h
src/fconf.h:
src/fctl.h:
src/mapping.h:
src/util.h:

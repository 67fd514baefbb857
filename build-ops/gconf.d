build-ops/gconf.o: src/gconf.c src/gconf.h src/gstore.h src/groups.h \
 src/pkt.h src/sched.h src/mapping.h
src/gconf.h:
src/gstore.h:
src/groups.h:
src/pkt.h:
src/sched.h:
src/mapping.h:

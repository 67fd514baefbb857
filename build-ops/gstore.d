build-ops/gstore.o: src/gstore.c src/gstore.h src/groups.h src/pkt.h \
 src/sched.h src/mapping.h src/store.h
src/gstore.h:
src/groups.h:
src/pkt.h:
src/sched.h:
src/mapping.h:
src/store.h:

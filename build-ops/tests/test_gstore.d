build-ops/tests/test_gstore: tests/test_gstore.c src/gstore.h \
 src/groups.h src/pkt.h src/sched.h src/store.h src/mapping.h
src/gstore.h:
src/groups.h:
src/pkt.h:
src/sched.h:
src/store.h:
src/mapping.h:

build-ops/groups.o: src/groups.c src/groups.h src/pkt.h src/sched.h \
 src/util.h
src/groups.h:
src/pkt.h:
src/sched.h:
src/util.h:

build-ops/tests/test_groups: tests/test_groups.c src/groups.h src/pkt.h \
 src/sched.h src/mapping.h
src/groups.h:
src/pkt.h:
src/sched.h:
src/mapping.h:

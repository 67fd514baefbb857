build-ops/tests/test_groupjson: tests/test_groupjson.c src/groupjson.h \
 src/gctl.h src/flow.h src/pkt.h src/groups.h src/sched.h src/mapping.h \
 src/util.h
src/groupjson.h:
src/gctl.h:
src/flow.h:
src/pkt.h:
src/groups.h:
src/sched.h:
src/mapping.h:
src/util.h:

build-ops/fanjson.o: src/fanjson.c src/fanjson.h src/fctl.h src/mapping.h \
 src/util.h src/mapjson.h src/control.h src/fanout.h src/gctl.h \
 src/flow.h src/pkt.h src/groups.h src/sched.h src/regsrv.h
src/fanjson.h:
src/fctl.h:
src/mapping.h:
src/util.h:
src/mapjson.h:
src/control.h:
src/fanout.h:
src/gctl.h:
src/flow.h:
src/pkt.h:
src/groups.h:
src/sched.h:
src/regsrv.h:

# portshare build.  `make` builds, `make check` runs every test (unit tests,
# then the root-only network scenarios), `make deps` installs the Debian
# packages, `make run` starts the daemon with its default database.
# SANITIZE=address,undefined builds everything with those sanitizers.

PREFIX ?= /usr/local
DESTDIR ?=
MANDIR ?= $(PREFIX)/share/man
BUILD ?= build

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wformat=2 -MMD -MP -iquote src -iquote $(BUILD)
# Warnings are errors in CI (which sets CI=true) or with WERROR=1.
ifneq ($(WERROR)$(CI),)
CFLAGS += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

CFLAGS += -DPORTSHARE_WEBDIR='"$(PREFIX)/share/portshare/web"'
PKGS := libnetfilter_queue libmnl sqlite3 libmicrohttpd jansson liburcu-memb \
	libipset libsystemd
LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CFLAGS += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

ifeq ($(V),)
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
else
Q :=
say =
endif

# Modules of the daemon, in the order data flows through them.
DAEMON_MODS := log pkt table flow flowfile sched groups waitq mux nfq mapping jsonfield mapjson store \
	gstore gconf resolver sets rowset status gflows gctl control config metrics auth maproutes \
	groupjson grouproutes fstore fconf fctl fanjson fanroutes regproto fanframe fanpkt fanout regsrv \
	sysroutes routes api priv main
DAEMON_OBJS := $(DAEMON_MODS:%=$(BUILD)/%.o) $(BUILD)/sql_migrations.o
# The fan-out subscriber (issue 5) links only the pure protocol modules.
SUB_MODS := sub regproto fanframe subarg

# Unit tests: test_<name> links these modules (the pure ones, plus store and
# the table snapshot).
UNIT_TESTS := pkt mapping mapjson store table routes auth metrics priv rowset config \
	flow groups sched waitq mux gstore gctl groupjson grouproutes fstore fctl fanjson \
	fanroutes regproto fanframe fanpkt
test_pkt_MODS := pkt
test_mapping_MODS := mapping
test_mapjson_MODS := mapjson jsonfield mapping
test_store_MODS := store mapping
test_table_MODS := table
test_routes_MODS := routes maproutes sysroutes metrics auth mapjson jsonfield mapping config \
	grouproutes groupjson groups sched flow flowfile fanroutes fanjson
test_auth_MODS := auth
test_metrics_MODS := metrics mapping sched
test_priv_MODS := priv log
test_rowset_MODS := rowset resolver
test_config_MODS := config mapping
# Virtual port multiplexing (issue 4): the flow table, the group snapshot,
# backend scheduling and the wait queue, unit-tested ahead of their wiring
# into the packet path.
test_flow_MODS := flow flowfile
test_groups_MODS := groups sched
test_sched_MODS := sched
test_waitq_MODS := waitq
test_mux_MODS := mux groups sched flow flowfile waitq pkt
test_gstore_MODS := gstore store mapping groups sched
test_gstore_EXTRA := $(BUILD)/sql_migrations.o
test_gctl_MODS := gctl gflows gconf gstore store mapping groups sched flow flowfile table log
test_gctl_EXTRA := $(BUILD)/sql_migrations.o
test_groupjson_MODS := groupjson jsonfield groups sched mapping mapjson flow flowfile
test_fstore_MODS := fstore store mapping
test_fstore_EXTRA := $(BUILD)/sql_migrations.o
test_fctl_MODS := fctl fconf fstore store mapping log
test_fctl_EXTRA := $(BUILD)/sql_migrations.o
test_fanjson_MODS := fanjson jsonfield mapping mapjson
test_regproto_MODS := regproto
test_fanframe_MODS := fanframe
test_fanpkt_MODS := fanpkt pkt
test_grouproutes_MODS := $(test_routes_MODS)
test_fanroutes_MODS := $(test_routes_MODS)
test_store_EXTRA := $(BUILD)/sql_migrations.o
# portshare-sub's command line (subarg checks --address with regproto).
UNIT_TESTS += subarg
test_subarg_MODS := subarg regproto
UNIT_TESTS += jsonfield
test_jsonfield_MODS := jsonfield mapping

# Fuzzers: fuzz_<name> compiles src/<name>.c, or the files
# fuzz_<name>_SRCS lists, and links fuzz_<name>_LIBS.
FUZZERS := pkt mapping mapjson regproto fanframe
fuzz_mapjson_SRCS := src/mapjson.c src/jsonfield.c src/mapping.c
fuzz_mapjson_LIBS := -ljansson
FUZZERS += subarg
fuzz_subarg_SRCS := src/subarg.c src/regproto.c

.DELETE_ON_ERROR:
.PHONY: all check unit-check net-check deps run install uninstall clean fuzz bench
all: $(BUILD)/portshared $(BUILD)/portshare-sub

$(BUILD):
	$(Q)mkdir -p $(BUILD) $(BUILD)/tests

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(call say,CC,$<)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/sql_migrations.c: $(wildcard sql/[0-9]*.sql) sql/embed.sh | $(BUILD)
	$(call say,GEN,$@)sh sql/embed.sh $(sort $(wildcard sql/[0-9]*.sql)) > $@

$(BUILD)/sql_migrations.o: $(BUILD)/sql_migrations.c
	$(call say,CC,$<)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/portshared: $(DAEMON_OBJS)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/portshare-sub: $(SUB_MODS:%=$(BUILD)/%.o)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $^

define unit_test_rule
$(BUILD)/tests/test_$(1): tests/test_$(1).c $$(test_$(1)_MODS:%=$(BUILD)/%.o) $$(test_$(1)_EXTRA) | $(BUILD)
	$$(call say,LD,$$@)$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(CHECK_LIBS) $$(LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))

UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/tests/test_%)

unit-check: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

net-check: $(BUILD)/portshared
	$(Q)tests/run-net.sh

# The test command installs what it needs, builds, runs the unit tests in a
# plain and a sanitizer build, then the network scenarios against the
# sanitizer build of the daemon.
check: deps
	$(Q)MAKE="$(MAKE)" tests/run-check.sh

# Fuzz harnesses compile the real parser files with libFuzzer (clang).  Any
# header may change what they compile, hence the dependency on all of them.
define fuzz_rule
$(BUILD)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $$(or $$(fuzz_$(1)_SRCS),src/$(1).c) $$(wildcard src/*.h) | $(BUILD)
	$$(call say,CLANG,$$@)clang -g -O1 -fsanitize=fuzzer,address,undefined -iquote src \
		-o $$@ $$(filter %.c,$$^) $$(fuzz_$(1)_LIBS)
endef
$(foreach f,$(FUZZERS),$(eval $(call fuzz_rule,$(f))))

fuzz: $(FUZZERS:%=$(BUILD)/fuzz_%)
	$(Q)for f in $(FUZZERS); do \
		mkdir -p $(BUILD)/corpus_$$f; \
		$(BUILD)/fuzz_$$f -max_total_time=$${FUZZ_SECONDS:-30} \
			$(BUILD)/corpus_$$f tests/fuzz/corpus_$$f || exit 1; \
	done

deps:
	$(Q)bash .ci/deps.sh

# The benchmark (issue 6), not part of check: its tools are built into
# $(BUILD)/bench and tests/bench/run.sh measures every path against the
# kernel and a bare NFQUEUE consumer.  BENCH_QUICK=1 runs each row briefly.
BENCH_TOOLS := gen sink nfqbare
nfqbare_LIBS := $(shell pkg-config --libs libnetfilter_queue libmnl 2>/dev/null)

$(BUILD)/bench/%: tests/bench/%.c | $(BUILD)
	$(Q)mkdir -p $(BUILD)/bench
	$(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lpthread $($*_LIBS)

# PORTSHARED=/path/to/portshared benchmarks that binary and skips building
# the daemon, for a tree that is mid-change.
bench: deps $(if $(PORTSHARED),,all) $(BENCH_TOOLS:%=$(BUILD)/bench/%)
	$(Q)BENCH_BIN=$(BUILD)/bench PORTSHARED=$(or $(PORTSHARED),$(BUILD)/portshared) tests/bench/run.sh

# The main job: rules in, daemon in the foreground, rules out on Ctrl-C.
# The shell ignores SIGINT so that it survives to run the uninstall after
# the daemon (which handles SIGINT) has finished.
RUN_DB ?= /var/lib/portshare/portshare.db
RUN_HTTP ?= 127.0.0.1:8080
RUN_QUEUES ?= 0:2
run: deps all
	$(Q)iptables/portshare-iptables install --queues $(RUN_QUEUES)
	$(Q)sh -c 'trap : INT TERM; $(BUILD)/portshared --db $(RUN_DB) --http $(RUN_HTTP) \
		--queues $(RUN_QUEUES) --web web; rc=$$?; \
		iptables/portshare-iptables uninstall; exit $$rc'

# The unit and man pages name installed paths; sed points them at PREFIX.
install: all
	install -D -m 0755 $(BUILD)/portshared $(DESTDIR)$(PREFIX)/sbin/portshared
	install -D -m 0755 iptables/portshare-iptables $(DESTDIR)$(PREFIX)/sbin/portshare-iptables
	install -D -m 0755 $(BUILD)/portshare-sub $(DESTDIR)$(PREFIX)/bin/portshare-sub
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(PREFIX)/share/portshare/web $(DESTDIR)$(PREFIX)/share/portshare/sql
	sed 's|/usr/local/|$(PREFIX)/|g' systemd/portshared.service \
		> $(DESTDIR)$(PREFIX)/lib/systemd/system/portshared.service
	sed 's|/usr/local/|$(PREFIX)/|g' systemd/portshared.8 > $(DESTDIR)$(MANDIR)/man8/portshared.8
	sed 's|/usr/local/|$(PREFIX)/|g' systemd/portshare-iptables.8 \
		> $(DESTDIR)$(MANDIR)/man8/portshare-iptables.8
	sed 's|/usr/local/|$(PREFIX)/|g' systemd/portshare-sub.1 > $(DESTDIR)$(MANDIR)/man1/portshare-sub.1
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/portshared.service \
		$(DESTDIR)$(MANDIR)/man8/portshared.8 $(DESTDIR)$(MANDIR)/man8/portshare-iptables.8 \
		$(DESTDIR)$(MANDIR)/man1/portshare-sub.1
	install -m 0644 $(filter-out web/doc,$(wildcard web/*)) $(DESTDIR)$(PREFIX)/share/portshare/web/
	install -m 0644 $(sort $(wildcard sql/[0-9]*.sql)) $(DESTDIR)$(PREFIX)/share/portshare/sql/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/portshared $(DESTDIR)$(PREFIX)/sbin/portshare-iptables \
		$(DESTDIR)$(PREFIX)/bin/portshare-sub \
		$(DESTDIR)$(PREFIX)/lib/systemd/system/portshared.service \
		$(DESTDIR)$(MANDIR)/man8/portshared.8 $(DESTDIR)$(MANDIR)/man8/portshare-iptables.8 \
		$(DESTDIR)$(MANDIR)/man1/portshare-sub.1
	rm -rf $(DESTDIR)$(PREFIX)/share/portshare

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d $(BUILD)/bench/*.d)

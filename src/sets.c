/*
 * sets: see sets.h.  A sync writes an `ipset restore` script into memory and
 * feeds it to libipset, which sends it to the kernel in one session.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libipset/ipset.h>

#include "sets.h"

struct sets {
	struct ipset *ipset;
	char error[256];
};

/* The six sets and which part of a rule each one holds. */
enum sets_kind { SETS_IN, SETS_OUT, SETS_ADDR };

static const struct {
	const char *name;
	const char *type;
	int family;
	enum sets_kind kind;
} sets_all[] = {
	{ "portshare-in4", "hash:ip,port", AF_INET, SETS_IN },
	{ "portshare-in6", "hash:ip,port", AF_INET6, SETS_IN },
	{ "portshare-out4", "hash:ip,port", AF_INET, SETS_OUT },
	{ "portshare-out6", "hash:ip,port", AF_INET6, SETS_OUT },
	{ "portshare-addr4", "hash:ip", AF_INET, SETS_ADDR },
	{ "portshare-addr6", "hash:ip", AF_INET6, SETS_ADDR },
};

static const struct {
	unsigned bit;
	const char *name;
} sets_protos[] = {
	{ 1, "tcp" },
	{ 2, "udp" },
};

/* The port-only sets (see sets.h): groups' virtual and backend ports, contested ports. */
static const char *const sets_ports[] = { "portshare-vport", "portshare-bport",
					  "portshare-fport" };

static int sets_custom_error(struct ipset *ipset, void *p, int status,
			     const char *msg, ...)
{
	struct sets *s = p;
	va_list ap;

	(void)ipset;
	va_start(ap, msg);
	vsnprintf(s->error, sizeof(s->error), msg, ap);
	va_end(ap);
	return status;
}

static int sets_standard_error(struct ipset *ipset, void *p)
{
	struct sets *s = p;
	struct ipset_session *session = ipset_session(ipset);
	const char *msg = ipset_session_report_msg(session);

	if (ipset_session_report_type(session) == IPSET_ERROR)
		snprintf(s->error, sizeof(s->error), "%s", msg);
	ipset_session_report_reset(session);
	return 0;
}

static int sets_print(struct ipset_session *session, void *p, const char *fmt, ...)
{
	(void)session;
	(void)p;
	(void)fmt;
	return 0;
}

/* Runs an ipset restore script; returns 0 or -1 with the library's message. */
static int sets_run(struct sets *s, char *script, size_t len, char *errbuf,
		    size_t errlen)
{
	FILE *f = fmemopen(script, len, "r");
	int rc;

	if (!f) {
		snprintf(errbuf, errlen, "ipset: fmemopen failed");
		return -1;
	}
	s->error[0] = '\0';
	rc = ipset_parse_stream(s->ipset, f);
	fclose(f);
	if (rc != 0 || s->error[0]) {
		snprintf(errbuf, errlen, "ipset: %s", s->error[0] ? s->error : "restore failed");
		return -1;
	}
	return 0;
}

/*
 * Closes the script that out wrote into *script, runs it and frees it.
 * Returns sets_run's result.
 */
static int sets_run_stream(struct sets *s, FILE *out, char **script, size_t *len,
			   char *errbuf, size_t errlen)
{
	int rc;

	fclose(out);
	rc = sets_run(s, *script, *len, errbuf, errlen);
	free(*script);
	return rc;
}

/* Swaps name.new, filled since its flush, in for name and drops the old one. */
static void sets_swap_line(FILE *out, const char *name)
{
	fprintf(out, "swap %s.new %s\n", name, name);
	fprintf(out, "destroy %s.new\n", name);
}

static void sets_create_line(FILE *out, size_t i, const char *suffix)
{
	fprintf(out, "create %s%s %s family %s maxelem 1048576 -exist\n", sets_all[i].name, suffix,
		sets_all[i].type, sets_all[i].family == AF_INET ? "inet" : "inet6");
}

static void sets_port_create_line(FILE *out, const char *name, const char *suffix)
{
	fprintf(out, "create %s%s bitmap:port range 1-65535 -exist\n", name, suffix);
}

struct sets *sets_open(char *errbuf, size_t errlen)
{
	struct sets *s = calloc(1, sizeof(*s));
	char *script = NULL;
	size_t len = 0;
	FILE *out;

	if (!s) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	ipset_load_types();
	s->ipset = ipset_init();
	if (!s->ipset) {
		snprintf(errbuf, errlen, "ipset: cannot initialise libipset");
		goto err;
	}
	ipset_custom_printf(s->ipset, sets_custom_error, sets_standard_error,
			    sets_print, s);
	out = open_memstream(&script, &len);
	if (!out) {
		snprintf(errbuf, errlen, "out of memory");
		goto err;
	}
	for (size_t i = 0; i < sizeof(sets_all) / sizeof(sets_all[0]); i++)
		sets_create_line(out, i, "");
	for (size_t i = 0; i < sizeof(sets_ports) / sizeof(sets_ports[0]); i++)
		sets_port_create_line(out, sets_ports[i], "");
	fclose(out);
	if (sets_run(s, script, len, errbuf, errlen) < 0)
		goto err;
	free(script);
	return s;
err:
	free(script);
	sets_close(s);
	return NULL;
}

void sets_close(struct sets *s)
{
	if (!s)
		return;
	if (s->ipset)
		ipset_fini(s->ipset);
	free(s);
}

static void sets_entries(FILE *out, size_t set, const struct table_rule *rules,
			 size_t n)
{
	char addr[INET6_ADDRSTRLEN];

	for (size_t r = 0; r < n; r++) {
		const struct table_rule *rule = &rules[r];

		if (rule->family != sets_all[set].family)
			continue;
		inet_ntop(rule->family, rule->addr, addr, sizeof(addr));
		if (sets_all[set].kind == SETS_ADDR) {
			fprintf(out, "add %s.new %s -exist\n", sets_all[set].name, addr);
			continue;
		}
		for (size_t p = 0; p < sizeof(sets_protos) / sizeof(sets_protos[0]); p++) {
			unsigned port = sets_all[set].kind == SETS_IN ?
				rule->shared_port : rule->assigned_port;

			if (rule->protos & sets_protos[p].bit)
				fprintf(out, "add %s.new %s,%s:%u -exist\n", sets_all[set].name,
					addr, sets_protos[p].name, port);
		}
	}
}

int sets_sync(struct sets *s, const struct table_rule *rules, size_t n,
	      char *errbuf, size_t errlen)
{
	char *script = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&script, &len);

	if (!out) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < sizeof(sets_all) / sizeof(sets_all[0]); i++) {
		/* A leftover temporary set from an interrupted sync is reused. */
		sets_create_line(out, i, "");
		sets_create_line(out, i, ".new");
		fprintf(out, "flush %s.new\n", sets_all[i].name);
		sets_entries(out, i, rules, n);
		sets_swap_line(out, sets_all[i].name);
	}
	return sets_run_stream(s, out, &script, &len, errbuf, errlen);
}

/* Fills the port sets names[0..n) with lists[i] each, swapping each in whole. */
static int sets_fill_ports(struct sets *s, const char *const *names,
			   const uint16_t *const *lists, const size_t *counts,
			   size_t n, char *errbuf, size_t errlen)
{
	char *script = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&script, &len);

	if (!out) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		sets_port_create_line(out, names[i], "");
		sets_port_create_line(out, names[i], ".new");
		fprintf(out, "flush %s.new\n", names[i]);
		for (size_t p = 0; p < counts[i]; p++)
			fprintf(out, "add %s.new %u -exist\n", names[i], lists[i][p]);
		sets_swap_line(out, names[i]);
	}
	return sets_run_stream(s, out, &script, &len, errbuf, errlen);
}

int sets_sync_ports(struct sets *s, const uint16_t *vports, size_t nv,
		    const uint16_t *bports, size_t nb, char *errbuf,
		    size_t errlen)
{
	const uint16_t *lists[] = { vports, bports };
	const size_t counts[] = { nv, nb };

	return sets_fill_ports(s, sets_ports, lists, counts, 2, errbuf, errlen);
}

int sets_sync_fanout(struct sets *s, const uint16_t *ports, size_t n,
		     char *errbuf, size_t errlen)
{
	return sets_fill_ports(s, sets_ports + 2, &ports, &n, 1, errbuf, errlen);
}

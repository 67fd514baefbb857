/*
 * metrics: the Prometheus text format (see metrics.h).  Tables name the
 * families: the daemon's own gauges, the per-mapping ones, the totals of
 * control_status, and one table per kind of row (queue, group, backend,
 * contested port, subscriber) whose entries are a field of the row by
 * offset; the renderers walk them, so a new metric is one table entry.
 * A family's samples are written together under its # HELP and # TYPE
 * lines, as the format requires.
 */
#include "metrics.h"
#include "sched.h"
#include "util.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing text buffer; once an allocation fails it stays failed. */
struct metrics_buf {
	char *text;
	size_t len, cap;
	bool failed;
};

static void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	size_t cap;
	char *grown;
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->text + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		cap = b->cap * 2 + (size_t)n;
		grown = realloc(b->text, cap);
		if (grown == NULL) {
			b->failed = true;
			return;
		}
		b->text = grown;
		b->cap = cap;
	}
}

static void metrics_header(struct metrics_buf *b, const char *name,
			   const char *type, const char *help)
{
	metrics_printf(b, "# HELP portshare_%s %s\n# TYPE portshare_%s %s\n",
		       name, help, name, type);
}

/*
 * Writes s as a label value: backslash, double quote and newline escaped,
 * as the format asks.  Addresses never hold them, but the format must
 * hold whatever a row holds.
 */
static void metrics_label(struct metrics_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			metrics_printf(b, "\\%c", *s);
		else if (*s == '\n')
			metrics_printf(b, "\\n");
		else
			metrics_printf(b, "%c", *s);
	}
}

/* ---- the daemon ------------------------------------------------------- */

static int64_t metrics_up(const struct metrics_input *in)
{
	(void)in;
	return 1;
}

static int64_t metrics_healthy(const struct metrics_input *in)
{
	return in->healthy;
}

static int64_t metrics_started(const struct metrics_input *in)
{
	return in->status->started;
}

static int64_t metrics_table_version(const struct metrics_input *in)
{
	return (int64_t)in->status->version;
}

static int64_t metrics_mappings(const struct metrics_input *in)
{
	return (int64_t)in->nrows;
}

static int64_t metrics_queues(const struct metrics_input *in)
{
	return (int64_t)in->status->nqueues;
}

static const struct {
	const char *name;
	const char *help;
	int64_t (*value)(const struct metrics_input *in);
} metrics_daemon[] = {
	{ "up", "1 while portshared answers scrapes.", metrics_up },
	{ "healthy", "1 when every queue worker made progress in the last 5 seconds.",
	  metrics_healthy },
	{ "start_time_seconds", "Start time of portshared, in unix seconds.",
	  metrics_started },
	{ "table_version", "Version of the port-sharing table (the API's ETag).",
	  metrics_table_version },
	{ "mappings", "Mappings in the table, enabled or not.", metrics_mappings },
	{ "queues", "NFQUEUE workers running.", metrics_queues },
};

static void metrics_render_daemon(struct metrics_buf *b,
				  const struct metrics_input *in)
{
	metrics_header(b, "build_info", "gauge",
		       "Always 1; the label carries the release of portshared.");
	metrics_printf(b, "portshare_build_info{version=\"");
	metrics_label(b, in->version);
	metrics_printf(b, "\"} 1\n");
	for (size_t i = 0; i < ARRAY_LEN(metrics_daemon); i++) {
		metrics_header(b, metrics_daemon[i].name, "gauge",
			       metrics_daemon[i].help);
		metrics_printf(b, "portshare_%s %" PRId64 "\n", metrics_daemon[i].name,
			       metrics_daemon[i].value(in));
	}
}

/* ---- fields and per-row families ------------------------------------- */

uint64_t metrics_field_value(const void *base, struct metrics_field f)
{
	const char *p = (const char *)base + f.offset;
	uint32_t v32;
	uint64_t v64;

	if (f.size == sizeof(v64)) {
		memcpy(&v64, p, sizeof(v64));
		return v64;
	}
	if (f.size == sizeof(v32)) {
		memcpy(&v32, p, sizeof(v32));
		return v32;
	}
	return 0;
}

/* A family with one sample per row: a field of the row, under its labels. */
struct metrics_family {
	const char *name;
	const char *type;
	const char *help;
	struct metrics_field f;
};

/* Writes a row's labels, without the braces. */
typedef void metrics_labels_fn(struct metrics_buf *b, const void *row);

/*
 * Renders every family of fams over rows[0..n-1], each row size bytes.
 * Families without rows still get their # HELP and # TYPE lines, so a
 * scrape describes the same families whatever is configured.
 */
static void metrics_render_rows(struct metrics_buf *b,
				const struct metrics_family *fams, size_t nfams,
				const void *rows, size_t size, size_t n,
				metrics_labels_fn *labels)
{
	for (size_t k = 0; k < nfams; k++) {
		metrics_header(b, fams[k].name, fams[k].type, fams[k].help);
		for (size_t i = 0; i < n; i++) {
			const void *row = (const char *)rows + i * size;

			metrics_printf(b, "portshare_%s{", fams[k].name);
			labels(b, row);
			metrics_printf(b, "} %" PRIu64 "\n",
				       metrics_field_value(row, fams[k].f));
		}
	}
}

/* ---- the queues ------------------------------------------------------- */

#define METRICS_QUEUE(member) METRICS_FIELD(struct control_queue_stats, member)

/* Every counter of struct control_queue_stats, and its gauges. */
static const struct metrics_family metrics_queue[] = {
	{ "queue_packets_total", "counter", "Packets received from the kernel.",
	  METRICS_QUEUE(packets) },
	{ "queue_rewritten_total", "counter", "Packets whose port was rewritten.",
	  METRICS_QUEUE(rewritten) },
	{ "queue_passed_total", "counter",
	  "Packets accepted untouched: unmapped or unparsable.", METRICS_QUEUE(passed) },
	{ "queue_truncated_total", "counter",
	  "Packets captured shorter than they were, and dropped.",
	  METRICS_QUEUE(truncated) },
	{ "queue_batches_total", "counter",
	  "Receive batches, each answered by one sendmsg.", METRICS_QUEUE(batches) },
	{ "queue_netlink_errors_total", "counter", "Netlink errors the kernel reported.",
	  METRICS_QUEUE(nl_errors) },
	{ "queue_enobufs_total", "counter",
	  "Receive overruns: netlink messages the kernel dropped.",
	  METRICS_QUEUE(enobufs) },
	{ "queue_kernel_dropped_total", "counter",
	  "Packets the kernel dropped because the queue was full (queue_dropped).",
	  METRICS_QUEUE(kernel_dropped) },
	{ "queue_user_dropped_total", "counter",
	  "Packets the kernel could not hand to portshared (user_dropped).",
	  METRICS_QUEUE(user_dropped) },
	{ "queue_refusals_total", "counter",
	  "Resets and ICMP errors sent to clients a group refused.",
	  METRICS_QUEUE(refusals) },
	{ "queue_flow_packets_total", "counter",
	  "Packets rewritten through the flow table.", METRICS_QUEUE(flow_packets) },
	{ "queue_no_route_total", "counter",
	  "New flows refused because no source rule and no default group took them.",
	  METRICS_QUEUE(no_route) },
	{ "queue_held", "gauge",
	  "Packets of new flows held now, waiting for a backend to free a slot.",
	  METRICS_QUEUE(held) },
	{ "queue_last_progress_timestamp_seconds", "gauge",
	  "When the worker last finished a receive call, in unix seconds.",
	  METRICS_QUEUE(last_progress) },
};

static void metrics_queue_labels(struct metrics_buf *b, const void *row)
{
	const struct control_queue_stats *q = row;

	metrics_printf(b, "queue=\"%u\"", q->queue);
}

static void metrics_render_queues(struct metrics_buf *b,
				  const struct control_status *st)
{
	size_t n = st->nqueues < CONTROL_MAX_QUEUES ? st->nqueues : CONTROL_MAX_QUEUES;

	metrics_render_rows(b, metrics_queue, ARRAY_LEN(metrics_queue), st->queues,
			    sizeof(st->queues[0]), n, metrics_queue_labels);
}

/* ---- the mappings ----------------------------------------------------- */

enum metrics_dir { METRICS_NONE, METRICS_IN, METRICS_OUT };

static uint64_t metrics_packets(const struct control_mapping *cm,
				enum metrics_dir d)
{
	return d == METRICS_IN ? cm->packets_in : cm->packets_out;
}

static uint64_t metrics_bytes(const struct control_mapping *cm,
			      enum metrics_dir d)
{
	return d == METRICS_IN ? cm->bytes_in : cm->bytes_out;
}

static uint64_t metrics_last_hit(const struct control_mapping *cm,
				 enum metrics_dir d)
{
	(void)d;
	return cm->last_hit > 0 ? (uint64_t)cm->last_hit : 0;
}

static uint64_t metrics_enabled(const struct control_mapping *cm,
				enum metrics_dir d)
{
	(void)d;
	return cm->m.enabled;
}

static uint64_t metrics_addresses(const struct control_mapping *cm,
				  enum metrics_dir d)
{
	(void)d;
	return cm->naddrs;
}

static const struct {
	const char *name;
	const char *type;
	bool directions;  /* one sample per direction: in and out */
	const char *help;
	uint64_t (*value)(const struct control_mapping *cm, enum metrics_dir d);
} metrics_mapping[] = {
	{ "mapping_packets_total", "counter", true,
	  "Packets rewritten: in (shared to assigned port) and out (back).",
	  metrics_packets },
	{ "mapping_bytes_total", "counter", true,
	  "Bytes of the packets rewritten, by direction.", metrics_bytes },
	{ "mapping_last_hit_timestamp_seconds", "gauge", false,
	  "When the mapping last rewrote a packet, in unix seconds; 0 for never.",
	  metrics_last_hit },
	{ "mapping_enabled", "gauge", false, "1 when the mapping is enabled.",
	  metrics_enabled },
	{ "mapping_addresses", "gauge", false,
	  "Addresses the mapping matches now; 0 for a name that does not resolve.",
	  metrics_addresses },
};

static const char *const metrics_dir_names[] = {
	[METRICS_IN] = "in",
	[METRICS_OUT] = "out",
};

static void metrics_render_mappings(struct metrics_buf *b,
				    const struct metrics_input *in)
{
	metrics_header(b, "mapping_info", "gauge",
		       "Always 1; the labels describe the mapping with that id.");
	for (size_t i = 0; i < in->nrows; i++) {
		const struct mapping *m = &in->rows[i].m;

		metrics_printf(b, "portshare_mapping_info{id=\"%" PRId64 "\",proto=\"%s\","
			       "address=\"", m->id, mapping_proto_name(m->proto));
		metrics_label(b, m->address);
		metrics_printf(b, "\",shared_port=\"%u\",assigned_port=\"%u\"} 1\n",
			       m->shared_port, m->assigned_port);
	}
	for (size_t k = 0; k < ARRAY_LEN(metrics_mapping); k++) {
		metrics_header(b, metrics_mapping[k].name, metrics_mapping[k].type,
			       metrics_mapping[k].help);
		for (size_t i = 0; i < in->nrows; i++) {
			const struct control_mapping *cm = &in->rows[i];

			if (!metrics_mapping[k].directions) {
				metrics_printf(b, "portshare_%s{id=\"%" PRId64 "\"} %" PRIu64 "\n",
					       metrics_mapping[k].name, cm->m.id,
					       metrics_mapping[k].value(cm, METRICS_NONE));
				continue;
			}
			for (int d = METRICS_IN; d <= METRICS_OUT; d++)
				metrics_printf(b, "portshare_%s{id=\"%" PRId64 "\",direction=\"%s\"} %"
					       PRIu64 "\n", metrics_mapping[k].name, cm->m.id,
					       metrics_dir_names[d],
					       metrics_mapping[k].value(cm, (enum metrics_dir)d));
		}
	}
}

/* ---- application groups and UDP fan-out: the totals ------------------ */

#define METRICS_STATUS(member) METRICS_FIELD(struct control_status, member)

/*
 * What /api/v1/status shows under "groups" and "fanout".  fctl's sums over
 * the configured ports and subscribers (datagrams, copies, errors, drops)
 * fall when a row goes, so they are gauges here: the counters to rate are
 * the per-row ones below, which a removed row takes with it.
 */
static const struct metrics_family metrics_totals[] = {
	{ "groups", "gauge", "Application groups configured.",
	  METRICS_STATUS(groups.groups) },
	{ "backends", "gauge", "Backends of every application group.",
	  METRICS_STATUS(groups.backends) },
	{ "rules", "gauge", "Source rules of the application groups.",
	  METRICS_STATUS(groups.rules) },
	{ "flows", "gauge", "Flows in the flow table now.", METRICS_STATUS(groups.flows) },
	{ "flow_capacity", "gauge", "Flows the flow table can hold.",
	  METRICS_STATUS(groups.flow_limit) },
	{ "flows_refused_total", "counter",
	  "New flows refused because the flow table was full.",
	  METRICS_STATUS(groups.flows_refused) },
	{ "contested_ports", "gauge", "UDP fan-out's contested ports, enabled or not.",
	  METRICS_STATUS(fanout.ports) },
	{ "subscribers", "gauge", "Subscribers of every contested port.",
	  METRICS_STATUS(fanout.subs) },
	{ "fanout_datagrams", "gauge",
	  "Datagrams seen on the contested ports configured now (the sum of "
	  "portshare_contested_datagrams_total).", METRICS_STATUS(fanout.datagrams) },
	{ "fanout_copies", "gauge",
	  "Copies sent to the subscribers configured now (the sum of "
	  "portshare_subscriber_copies_total).", METRICS_STATUS(fanout.copies) },
	{ "fanout_errors", "gauge",
	  "Failed sends to the subscribers configured now (the sum of "
	  "portshare_subscriber_errors_total).", METRICS_STATUS(fanout.errors) },
	{ "fanout_drops", "gauge",
	  "Copies the subscribers configured now could not take (the sum of "
	  "portshare_subscriber_drops_total).", METRICS_STATUS(fanout.drops) },
	{ "fanout_received_total", "counter",
	  "Datagrams the copier received over NFLOG, for a contested port or not.",
	  METRICS_STATUS(copier.datagrams) },
	{ "fanout_unmatched_total", "counter",
	  "Datagrams received for no enabled contested port.",
	  METRICS_STATUS(copier.unmatched) },
	{ "fanout_malformed_total", "counter",
	  "NFLOG messages that held no whole UDP datagram.",
	  METRICS_STATUS(copier.malformed) },
	{ "fanout_nflog_overruns_total", "counter",
	  "NFLOG receive overruns: messages the kernel dropped before the copier read them.",
	  METRICS_STATUS(copier.overruns) },
	{ "registration_requests_total", "counter",
	  "Registration requests answered.", METRICS_STATUS(registration.requests) },
	{ "registration_added_total", "counter", "Subscribers added by registration.",
	  METRICS_STATUS(registration.added) },
	{ "registration_dropped_total", "counter", "Subscribers removed by registration.",
	  METRICS_STATUS(registration.dropped) },
	{ "registration_refused_net_total", "counter",
	  "Requests from outside the allowed networks, left unanswered.",
	  METRICS_STATUS(registration.refused_net) },
	{ "registration_refused_foreign_total", "counter",
	  "Requests naming another address without admin rights.",
	  METRICS_STATUS(registration.refused_foreign) },
	{ "registration_refused_rate_total", "counter",
	  "Requests over the per-source rate limit, left unanswered.",
	  METRICS_STATUS(registration.refused_rate) },
	{ "registration_refused_cap_total", "counter",
	  "Registrations refused because the contested port had its most subscribers.",
	  METRICS_STATUS(registration.refused_cap) },
	{ "registration_malformed_total", "counter",
	  "Datagrams on a registration port that were no request at all.",
	  METRICS_STATUS(registration.malformed) },
	{ "registration_shutdowns_total", "counter",
	  "SHUTDOWN notices sent to subscribers.", METRICS_STATUS(registration.shutdowns) },
};

static void metrics_render_totals(struct metrics_buf *b,
				  const struct control_status *st)
{
	for (size_t k = 0; k < ARRAY_LEN(metrics_totals); k++) {
		metrics_header(b, metrics_totals[k].name, metrics_totals[k].type,
			       metrics_totals[k].help);
		metrics_printf(b, "portshare_%s %" PRIu64 "\n", metrics_totals[k].name,
			       metrics_field_value(st, metrics_totals[k].f));
	}
}

/* ---- application groups and backends ---------------------------------- */

#define METRICS_GROUP(member) METRICS_FIELD(struct gctl_group_view, member)

static const struct metrics_family metrics_group[] = {
	{ "group_active_flows", "gauge", "Open flows on the group's backends.",
	  METRICS_GROUP(active) },
	{ "group_backends", "gauge", "Backends of the group.", METRICS_GROUP(nbackends) },
	{ "group_flows_total", "counter",
	  "New flows the group admitted, at once or after a wait.", METRICS_GROUP(c.flows) },
	{ "group_waits_total", "counter", "New flows that had to wait for a backend.",
	  METRICS_GROUP(c.waits) },
	{ "group_wait_admitted_total", "counter",
	  "Waiting flows admitted before their deadline.", METRICS_GROUP(c.wait_admitted) },
	{ "group_timeouts_total", "counter",
	  "Flows that waited max_wait_ms in vain and were refused.",
	  METRICS_GROUP(c.timeouts) },
	{ "group_refused_total", "counter",
	  "New flows refused without waiting: no wait configured, or the wait "
	  "queue or the flow table full.", METRICS_GROUP(c.refused) },
};

static void metrics_group_labels(struct metrics_buf *b, const void *row)
{
	const struct gctl_group_view *v = row;

	metrics_printf(b, "group=\"");
	metrics_label(b, v->g.name);
	metrics_printf(b, "\"");
}

#define METRICS_BACKEND(member) METRICS_FIELD(struct gctl_backend_view, member)

static const struct metrics_family metrics_backend[] = {
	{ "backend_active_flows", "gauge", "Open flows pinned to the backend.",
	  METRICS_BACKEND(active) },
	{ "backend_max_flows", "gauge", "The backend's flow limit; 0 for none.",
	  METRICS_BACKEND(b.b.max_flows) },
	{ "backend_flows_total", "counter", "Flows the backend was given.",
	  METRICS_BACKEND(flows) },
};

/* A backend is its group and port (unique in the group), in its state. */
static void metrics_backend_labels(struct metrics_buf *b, const void *row)
{
	const struct gctl_backend_view *v = row;

	metrics_printf(b, "group=\"");
	metrics_label(b, v->group);
	metrics_printf(b, "\",port=\"%u\",state=\"%s\"", v->b.b.port,
		       sched_state_name(v->b.b.state));
}

/* ---- contested ports and subscribers ---------------------------------- */

#define METRICS_PORT(member) METRICS_FIELD(struct fctl_port_view, member)

static const struct metrics_family metrics_port[] = {
	{ "contested_datagrams_total", "counter",
	  "Datagrams seen on the contested port.", METRICS_PORT(c.datagrams) },
	{ "contested_bytes_total", "counter",
	  "Payload bytes of the datagrams seen on the contested port.",
	  METRICS_PORT(c.bytes) },
	{ "contested_subscribers", "gauge", "Subscribers of the contested port.",
	  METRICS_PORT(nsubs) },
};

static void metrics_port_labels(struct metrics_buf *b, const void *row)
{
	const struct fctl_port_view *v = row;

	metrics_printf(b, "port=\"%u\"", v->p.port);
}

#define METRICS_SUB(member) METRICS_FIELD(struct fctl_sub_view, member)

static const struct metrics_family metrics_sub[] = {
	{ "subscriber_copies_total", "counter", "Copies sent to the subscriber.",
	  METRICS_SUB(c.copies) },
	{ "subscriber_bytes_total", "counter", "Payload bytes of those copies.",
	  METRICS_SUB(c.bytes) },
	{ "subscriber_errors_total", "counter",
	  "Sends to the subscriber that failed: unreachable, refused, no route.",
	  METRICS_SUB(c.errors) },
	{ "subscriber_drops_total", "counter",
	  "Copies not sent because the subscriber could not take them "
	  "(socket full, TCP not connected).", METRICS_SUB(c.drops) },
	{ "subscriber_last_sent_timestamp_seconds", "gauge",
	  "When the subscriber was last sent a copy, in unix seconds; 0 for never.",
	  METRICS_SUB(c.last_sent) },
};

/*
 * A subscriber is its contested port and target, which is unique there;
 * a framed_unix target is its socket path, with port 0.
 */
static void metrics_sub_labels(struct metrics_buf *b, const void *row)
{
	const struct fctl_sub_view *v = row;
	char addr[INET6_ADDRSTRLEN] = "";

	metrics_printf(b, "contested_port=\"%u\",address=\"", v->contested_port);
	if (v->s.family == AF_UNIX)
		metrics_label(b, v->s.path);
	else if (inet_ntop(v->s.family, v->s.addr, addr, sizeof(addr)) != NULL)
		metrics_label(b, addr);
	metrics_printf(b, "\",port=\"%u\",mode=\"%s\"", v->s.port,
		       fctl_mode_name(v->s.mode));
}

char *metrics_render(const struct metrics_input *in)
{
	struct metrics_buf b = { .cap = 4096 };

	b.text = malloc(b.cap);
	if (b.text == NULL)
		return NULL;
	b.text[0] = '\0';
	metrics_render_daemon(&b, in);
	metrics_render_queues(&b, in->status);
	metrics_render_mappings(&b, in);
	metrics_render_totals(&b, in->status);
	metrics_render_rows(&b, metrics_group, ARRAY_LEN(metrics_group), in->groups,
			    sizeof(*in->groups), in->ngroups, metrics_group_labels);
	metrics_render_rows(&b, metrics_backend, ARRAY_LEN(metrics_backend),
			    in->backends, sizeof(*in->backends), in->nbackends,
			    metrics_backend_labels);
	metrics_render_rows(&b, metrics_port, ARRAY_LEN(metrics_port), in->ports,
			    sizeof(*in->ports), in->nports, metrics_port_labels);
	metrics_render_rows(&b, metrics_sub, ARRAY_LEN(metrics_sub), in->subs,
			    sizeof(*in->subs), in->nsubs, metrics_sub_labels);
	if (b.failed) {
		free(b.text);
		return NULL;
	}
	return b.text;
}

/*
 * metrics: the Prometheus text format (see metrics.h).  Three tables name
 * the families: the daemon's own gauges, the per-queue ones and the
 * per-mapping ones; the renderer walks them, so a new metric is one row.
 * A family's samples are written together under its # HELP and # TYPE
 * lines, as the format requires.
 */
#include "metrics.h"
#include "util.h"

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

/* ---- the queues ------------------------------------------------------- */

/* Every counter of struct control_queue_stats. */
static const struct {
	const char *name;
	const char *help;
	size_t offset;
} metrics_queue_counters[] = {
	{ "queue_packets_total", "Packets received from the kernel.",
	  offsetof(struct control_queue_stats, packets) },
	{ "queue_rewritten_total", "Packets whose port was rewritten.",
	  offsetof(struct control_queue_stats, rewritten) },
	{ "queue_passed_total", "Packets accepted untouched: unmapped or unparsable.",
	  offsetof(struct control_queue_stats, passed) },
	{ "queue_truncated_total", "Packets captured shorter than they were, and dropped.",
	  offsetof(struct control_queue_stats, truncated) },
	{ "queue_batches_total", "Receive batches, each answered by one sendmsg.",
	  offsetof(struct control_queue_stats, batches) },
	{ "queue_netlink_errors_total", "Netlink errors the kernel reported.",
	  offsetof(struct control_queue_stats, nl_errors) },
	{ "queue_enobufs_total", "Receive overruns: netlink messages the kernel dropped.",
	  offsetof(struct control_queue_stats, enobufs) },
	{ "queue_kernel_dropped_total",
	  "Packets the kernel dropped because the queue was full (queue_dropped).",
	  offsetof(struct control_queue_stats, kernel_dropped) },
	{ "queue_user_dropped_total",
	  "Packets the kernel could not hand to portshared (user_dropped).",
	  offsetof(struct control_queue_stats, user_dropped) },
	{ "queue_refusals_total",
	  "Resets and ICMP errors sent to clients a group refused.",
	  offsetof(struct control_queue_stats, refusals) },
	{ "queue_flow_packets_total", "Packets rewritten through the flow table.",
	  offsetof(struct control_queue_stats, flow_packets) },
	{ "queue_no_route_total",
	  "New flows refused because no source rule and no default group took them.",
	  offsetof(struct control_queue_stats, no_route) },
};

static void metrics_render_queues(struct metrics_buf *b,
				  const struct control_status *st)
{
	size_t n = st->nqueues < CONTROL_MAX_QUEUES ? st->nqueues : CONTROL_MAX_QUEUES;

	for (size_t k = 0; k < ARRAY_LEN(metrics_queue_counters); k++) {
		metrics_header(b, metrics_queue_counters[k].name, "counter",
			       metrics_queue_counters[k].help);
		for (size_t i = 0; i < n; i++) {
			uint64_t v;

			memcpy(&v, (const char *)&st->queues[i] +
				       metrics_queue_counters[k].offset, sizeof(v));
			metrics_printf(b, "portshare_%s{queue=\"%u\"} %" PRIu64 "\n",
				       metrics_queue_counters[k].name,
				       st->queues[i].queue, v);
		}
	}
	metrics_header(b, "queue_last_progress_timestamp_seconds", "gauge",
		       "When the worker last finished a receive call, in unix seconds.");
	for (size_t i = 0; i < n; i++)
		metrics_printf(b, "portshare_queue_last_progress_timestamp_seconds"
			       "{queue=\"%u\"} %" PRId64 "\n", st->queues[i].queue,
			       st->queues[i].last_progress);
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
	if (b.failed) {
		free(b.text);
		return NULL;
	}
	return b.text;
}

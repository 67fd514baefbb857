/*
 * sysroutes: health, status, metrics and the API document (see
 * sysroutes.h).
 *
 * DESIGN
 * These run on libmicrohttpd's threads and only read: control_status_get
 * and control_mapping_list copy what they need under control's locks, and
 * everything after that works on the copies.  Health is one rule,
 * sysroutes_healthy, shared by /healthz, /api/v1/status and /metrics so
 * that the three can never disagree.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "control.h"
#include "mapjson.h"
#include "metrics.h"
#include "sysroutes.h"
#include "util.h"

/* The Makefile may pass the release; a plain build reports this one. */
#ifndef PORTSHARE_VERSION
#define PORTSHARE_VERSION "0.1.0"
#endif

/* Workers note progress every second even when idle; 5 s allows for jitter. */
#define SYSROUTES_HEALTH_MAX_AGE 5

/*
 * Returns true when every queue made progress recently; otherwise false
 * with the first reason written to reason.
 */
static bool sysroutes_healthy(const struct control_status *st, int64_t now,
			      char *reason, size_t len)
{
	if (st->nqueues == 0) {
		snprintf(reason, len, "no queue worker is running");
		return false;
	}
	for (size_t i = 0; i < st->nqueues && i < CONTROL_MAX_QUEUES; i++) {
		int64_t age = now - st->queues[i].last_progress;

		if (age > SYSROUTES_HEALTH_MAX_AGE) {
			snprintf(reason, len,
				 "queue %u made no progress for %" PRId64 " seconds",
				 st->queues[i].queue, age);
			return false;
		}
	}
	return true;
}

void sysroutes_health(struct routes_call *c, struct routes_reply *r)
{
	struct control_status st;
	char reason[128];

	control_status_get(c->req->ctl, &st);
	if (sysroutes_healthy(&st, (int64_t)time(NULL), reason, sizeof(reason))) {
		r->status = 200;
		r->body = json_pack("{s:s}", "status", "ok");
	} else {
		r->status = 503;
		r->body = json_pack("{s:s, s:s}", "status", "unhealthy",
				    "reason", reason);
	}
}

/* Every counter of struct control_queue_stats, under its JSON name. */
static const struct {
	const char *name;
	size_t offset;
} sysroutes_queue_counters[] = {
	{ "packets", offsetof(struct control_queue_stats, packets) },
	{ "rewritten", offsetof(struct control_queue_stats, rewritten) },
	{ "passed", offsetof(struct control_queue_stats, passed) },
	{ "truncated", offsetof(struct control_queue_stats, truncated) },
	{ "batches", offsetof(struct control_queue_stats, batches) },
	{ "nl_errors", offsetof(struct control_queue_stats, nl_errors) },
	{ "enobufs", offsetof(struct control_queue_stats, enobufs) },
	{ "kernel_dropped", offsetof(struct control_queue_stats, kernel_dropped) },
	{ "user_dropped", offsetof(struct control_queue_stats, user_dropped) },
	{ "refusals", offsetof(struct control_queue_stats, refusals) },
	{ "flow_packets", offsetof(struct control_queue_stats, flow_packets) },
	{ "no_route", offsetof(struct control_queue_stats, no_route) },
	{ "held", offsetof(struct control_queue_stats, held) },
};

static json_t *sysroutes_queue_json(const struct control_queue_stats *q,
				    int64_t now)
{
	char when[MAPJSON_TIME_LEN];
	json_t *o = json_pack("{s:I, s:s?, s:I, s:f}", "queue", (json_int_t)q->queue,
			      "last_progress",
			      mapjson_iso_time(q->last_progress, when),
			      "last_progress_age_seconds",
			      (json_int_t)(q->last_progress != 0
						   ? now - q->last_progress : -1),
			      "packets_per_second", q->packets_per_second);

	for (size_t i = 0; o != NULL && i < ARRAY_LEN(sysroutes_queue_counters);
	     i++) {
		uint64_t v;

		memcpy(&v, (const char *)q + sysroutes_queue_counters[i].offset,
		       sizeof(v));
		if (json_object_set_new(o, sysroutes_queue_counters[i].name,
					json_integer((json_int_t)v)) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

void sysroutes_status(struct routes_call *c, struct routes_reply *r)
{
	int64_t now = (int64_t)time(NULL);
	struct control_status st;
	json_t *queues = json_array();
	char reason[128];
	bool healthy;

	control_status_get(c->req->ctl, &st);
	healthy = sysroutes_healthy(&st, now, reason, sizeof(reason));
	for (size_t i = 0; queues != NULL && i < st.nqueues &&
			   i < CONTROL_MAX_QUEUES; i++) {
		if (json_array_append_new(queues,
					  sysroutes_queue_json(&st.queues[i], now)) < 0) {
			json_decref(queues);
			queues = NULL;
		}
	}
	r->status = 200;
	routes_reply_etag(r, st.version);
	r->body = json_pack("{s:s, s:I, s:i, s:I, s:I, s:b, s:s?, s:o}",
			    "version", PORTSHARE_VERSION,
			    "uptime_seconds",
			    (json_int_t)(now > st.started ? now - st.started : 0),
			    "schema_version", st.schema_version,
			    "table_version", (json_int_t)st.version,
			    "mappings", (json_int_t)st.mappings,
			    "healthy", (int)healthy,
			    "reason", healthy ? NULL : reason,
			    "queues", queues);
}

void sysroutes_metrics(struct routes_call *c, struct routes_reply *r)
{
	struct control_mapping *rows = NULL;
	struct mapping_error err = { 0 };
	struct control_status st;
	char reason[128];
	size_t n = 0;
	struct metrics_input in = { .version = PORTSHARE_VERSION, .status = &st };

	control_status_get(c->req->ctl, &st);
	if (control_mapping_list(c->req->ctl, &rows, &n, NULL, &err) < 0) {
		routes_reply_merror(r, &err);
		return;
	}
	in.healthy = sysroutes_healthy(&st, (int64_t)time(NULL), reason,
				       sizeof(reason));
	in.rows = rows;
	in.nrows = n;
	r->status = 200;
	r->text = metrics_render(&in);
	r->content_type = METRICS_CONTENT_TYPE;
	free(rows);
}

/*
 * The document is a file of the web directory, written by hand and kept
 * true by the API test; api.c serves it.
 */
void sysroutes_openapi(struct routes_call *c, struct routes_reply *r)
{
	(void)c;
	r->status = 200;
	r->file = "openapi.json";
}

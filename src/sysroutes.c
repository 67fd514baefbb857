/*
 * sysroutes: health, status, metrics and the API document (see
 * sysroutes.h).
 *
 * DESIGN
 * These run on libmicrohttpd's threads and only read: control_status_get,
 * control_mapping_list and the group and fan-out views (gctl and fctl
 * lists, through control_groups_read and control_fanout_read) copy what
 * they need under control's locks, and everything after that works on the
 * copies.  The status document and the metrics name their fields in tables
 * (metrics_field), so both show the same numbers.  Health is one rule,
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
#include "fctl.h"
#include "gctl.h"
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

/* A number of a struct under its JSON name. */
struct sysroutes_field {
	const char *name;
	struct metrics_field f;
};

#define SYSROUTES_QUEUE(name, member) \
	{ name, METRICS_FIELD(struct control_queue_stats, member) }

/* Every counter of struct control_queue_stats. */
static const struct sysroutes_field sysroutes_queue[] = {
	SYSROUTES_QUEUE("packets", packets),
	SYSROUTES_QUEUE("rewritten", rewritten),
	SYSROUTES_QUEUE("passed", passed),
	SYSROUTES_QUEUE("truncated", truncated),
	SYSROUTES_QUEUE("batches", batches),
	SYSROUTES_QUEUE("nl_errors", nl_errors),
	SYSROUTES_QUEUE("enobufs", enobufs),
	SYSROUTES_QUEUE("kernel_dropped", kernel_dropped),
	SYSROUTES_QUEUE("user_dropped", user_dropped),
	SYSROUTES_QUEUE("refusals", refusals),
	SYSROUTES_QUEUE("flow_packets", flow_packets),
	SYSROUTES_QUEUE("no_route", no_route),
	SYSROUTES_QUEUE("held", held),
};

#define SYSROUTES_STATUS(name, member) \
	{ name, METRICS_FIELD(struct control_status, member) }

/* "groups": the application groups and the flow table (gctl_stats). */
static const struct sysroutes_field sysroutes_groups[] = {
	SYSROUTES_STATUS("groups", groups.groups),
	SYSROUTES_STATUS("backends", groups.backends),
	SYSROUTES_STATUS("rules", groups.rules),
	SYSROUTES_STATUS("flows", groups.flows),
	SYSROUTES_STATUS("flow_capacity", groups.flow_limit),
	SYSROUTES_STATUS("flows_refused", groups.flows_refused),
};

/*
 * "fanout": fctl's totals over the configured rows, then the copier's own
 * counters, which no row owns (received counts unmatched ones too).
 */
static const struct sysroutes_field sysroutes_fanout[] = {
	SYSROUTES_STATUS("contested_ports", fanout.ports),
	SYSROUTES_STATUS("subscribers", fanout.subs),
	SYSROUTES_STATUS("datagrams", fanout.datagrams),
	SYSROUTES_STATUS("copies", fanout.copies),
	SYSROUTES_STATUS("errors", fanout.errors),
	SYSROUTES_STATUS("drops", fanout.drops),
	SYSROUTES_STATUS("received", copier.datagrams),
	SYSROUTES_STATUS("nflog_overruns", copier.overruns),
	SYSROUTES_STATUS("malformed", copier.malformed),
	SYSROUTES_STATUS("unmatched", copier.unmatched),
};

/* "fanout": {"registration": ...}: the registrar's counters. */
static const struct sysroutes_field sysroutes_registration[] = {
	SYSROUTES_STATUS("requests", registration.requests),
	SYSROUTES_STATUS("added", registration.added),
	SYSROUTES_STATUS("dropped", registration.dropped),
	SYSROUTES_STATUS("refused_net", registration.refused_net),
	SYSROUTES_STATUS("refused_foreign", registration.refused_foreign),
	SYSROUTES_STATUS("refused_rate", registration.refused_rate),
	SYSROUTES_STATUS("refused_cap", registration.refused_cap),
	SYSROUTES_STATUS("malformed", registration.malformed),
	SYSROUTES_STATUS("shutdowns", registration.shutdowns),
};

/*
 * Adds fields[0..n-1] of the struct at base to o (a new object when o is
 * NULL).  Returns o, or NULL (o released) when out of memory.
 */
static json_t *sysroutes_fields(json_t *o, const void *base,
				const struct sysroutes_field *fields, size_t n)
{
	if (o == NULL)
		o = json_object();
	for (size_t i = 0; o != NULL && i < n; i++) {
		uint64_t v = metrics_field_value(base, fields[i].f);

		if (json_object_set_new(o, fields[i].name,
					json_integer((json_int_t)v)) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

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

	if (o == NULL)
		return NULL;
	return sysroutes_fields(o, q, sysroutes_queue, ARRAY_LEN(sysroutes_queue));
}

/* The "fanout" object, its registrar's counters nested.  NULL when out of memory. */
static json_t *sysroutes_fanout_json(const struct control_status *st)
{
	json_t *reg = sysroutes_fields(NULL, st, sysroutes_registration,
				       ARRAY_LEN(sysroutes_registration));
	json_t *o = sysroutes_fields(NULL, st, sysroutes_fanout,
				     ARRAY_LEN(sysroutes_fanout));

	if (o == NULL || reg == NULL) {
		json_decref(o);
		json_decref(reg);
		return NULL;
	}
	/* json_object_set_new releases reg even when it fails. */
	if (json_object_set_new(o, "registration", reg) < 0) {
		json_decref(o);
		return NULL;
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
	r->body = json_pack("{s:s, s:I, s:i, s:I, s:I, s:b, s:s?, s:o, s:o, s:o}",
			    "version", PORTSHARE_VERSION,
			    "uptime_seconds",
			    (json_int_t)(now > st.started ? now - st.started : 0),
			    "schema_version", st.schema_version,
			    "table_version", (json_int_t)st.version,
			    "mappings", (json_int_t)st.mappings,
			    "healthy", (int)healthy,
			    "reason", healthy ? NULL : reason,
			    "queues", queues,
			    "groups", sysroutes_fields(NULL, &st, sysroutes_groups,
						       ARRAY_LEN(sysroutes_groups)),
			    "fanout", sysroutes_fanout_json(&st));
}

/*
 * What one scrape reads of the groups and of fan-out: views copied under
 * the control lock, rendered after it is released, then freed.
 */
struct sysroutes_scrape {
	struct gctl_group_view *groups;
	size_t ngroups;
	struct gctl_backend_view *backends;
	size_t nbackends;
	struct fctl_port_view *ports;
	size_t nports;
	struct fctl_sub_view *subs;
	size_t nsubs;
};

/* control_groups_fn: every group and every backend. */
static int sysroutes_read_groups(struct gctl *g, void *arg,
				 struct mapping_error *err)
{
	struct sysroutes_scrape *sc = arg;

	if (gctl_group_list(g, &sc->groups, &sc->ngroups, err) < 0)
		return -1;
	return gctl_backend_list(g, 0, &sc->backends, &sc->nbackends, err);
}

/* control_fanout_fn: every contested port and every subscriber. */
static int sysroutes_read_fanout(struct fctl *f, void *arg,
				 struct mapping_error *err)
{
	struct sysroutes_scrape *sc = arg;

	if (fctl_port_list(f, &sc->ports, &sc->nports, err) < 0)
		return -1;
	return fctl_sub_list(f, 0, &sc->subs, &sc->nsubs, err);
}

void sysroutes_metrics(struct routes_call *c, struct routes_reply *r)
{
	struct control_mapping *rows = NULL;
	struct sysroutes_scrape sc = { 0 };
	struct mapping_error err = { 0 };
	struct control_status st;
	char reason[128];
	size_t n = 0;
	struct metrics_input in = { .version = PORTSHARE_VERSION, .status = &st };

	control_status_get(c->req->ctl, &st);
	if (control_mapping_list(c->req->ctl, &rows, &n, NULL, &err) < 0 ||
	    control_groups_read(c->req->ctl, sysroutes_read_groups, &sc, NULL,
				&err) < 0 ||
	    control_fanout_read(c->req->ctl, sysroutes_read_fanout, &sc, NULL,
				&err) < 0) {
		routes_reply_merror(r, &err);
		goto out;
	}
	in.healthy = sysroutes_healthy(&st, (int64_t)time(NULL), reason,
				       sizeof(reason));
	in.rows = rows;
	in.nrows = n;
	in.groups = sc.groups;
	in.ngroups = sc.ngroups;
	in.backends = sc.backends;
	in.nbackends = sc.nbackends;
	in.ports = sc.ports;
	in.nports = sc.nports;
	in.subs = sc.subs;
	in.nsubs = sc.nsubs;
	r->status = 200;
	r->text = metrics_render(&in);
	r->content_type = METRICS_CONTENT_TYPE;
out:
	free(rows);
	free(sc.groups);
	free(sc.backends);
	free(sc.ports);
	free(sc.subs);
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

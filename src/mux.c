/*
 * mux: see mux.h.
 *
 * DESIGN.  Called by one NFQUEUE worker only (see nfq.c); the flow
 * partition, the wait queue and the counters here are that worker's.  The
 * backends' and groups' counters are shared with the other workers and the
 * control plane, and only touched through relaxed atomics (sched_claim and
 * sched_release, and the adds below).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "mux.h"
#include "sched.h"

struct mux {
	struct flow_part *part;
	unsigned worker;
	struct flow_timeouts timeouts;
	struct mux_stats stats;
	struct waitq q;
};

/* What flow_expire's callback needs to release a gone flow's backend. */
struct mux_gone {
	const struct gctl_snap *snap;
};

static void mux_add(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static void mux_group_count(const struct groups_group *gr, size_t field)
{
	if (gr && gr->counters)
		mux_add((uint64_t *)((char *)gr->counters + field));
}

#define MUX_COUNT(gr, name) mux_group_count((gr), offsetof(struct groups_counters, name))

static uint32_t mux_seconds(int64_t now_ms)
{
	return (uint32_t)(now_ms / 1000);
}

struct mux *mux_new(struct flow_part *p, unsigned worker,
		    const struct flow_timeouts *t)
{
	struct mux *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->part = p;
	m->worker = worker;
	m->timeouts = *t;
	waitq_init(&m->q, WAITQ_CAP);
	return m;
}

void mux_free(struct mux *m)
{
	free(m);
}

/* Gives back the slot a flow holds on its backend, if that backend still exists. */
static void mux_release(const struct gctl_snap *snap, uint32_t backend)
{
	const struct sched_backend *b;

	if (!snap)
		return;
	b = groups_find_backend(snap->groups, backend, NULL);
	if (b)
		sched_release(b->active);
}

static void mux_gone_fn(const struct flow_entry *e, void *arg)
{
	const struct mux_gone *g = arg;

	if (e->state != FLOW_CLOSING)
		mux_release(g->snap, e->backend);
}

/* The flow key of a packet: the client is the far end, the service ours. */
static void mux_key(struct flow_key *fk, const struct pkt_key *key,
		    const struct pkt_view *view)
{
	memset(fk, 0, sizeof(*fk));
	fk->family = key->family;
	fk->l4proto = key->l4proto;
	fk->client_port = view->peer_port;
	memcpy(fk->client, view->peer, sizeof(fk->client));
	memcpy(fk->service, key->addr, sizeof(fk->service));
	fk->port = key->port;
}

static enum mux_action mux_refusal(const struct groups_group *gr)
{
	return gr && gr->on_timeout == GROUPS_DROP ? MUX_DROP : MUX_REFUSE;
}

/*
 * Admits a new flow on group gr: picks and claims a backend and records the
 * flow.  Returns the backend port, 0 when no backend has room (nothing is
 * claimed), or -1 when the flow table refused the flow.
 */
static int mux_admit(struct mux *m, const struct gctl_snap *snap,
		     const struct groups_group *gr, const struct flow_key *fk,
		     uint32_t now)
{
	const struct sched_backend *b;
	int i;

	i = sched_admit(gr->policy, gr->backends, gr->nbackends,
			snap->rr[m->worker] + gr->first_backend, fk->client);
	if (i == SCHED_NONE)
		return 0;
	b = &gr->backends[i];
	if (!flow_insert(m->part, fk, b->port, (uint32_t)gr->id, (uint32_t)b->id, now)) {
		sched_release(b->active);
		return -1;
	}
	if (b->flows)
		mux_add(b->flows);
	MUX_COUNT(gr, flows);
	return b->port;
}

/* A new flow: route it, admit it, or hold it. */
static enum mux_action mux_new_flow(struct mux *m, const struct gctl_snap *snap,
				    const struct pkt_key *key,
				    const struct pkt_view *view,
				    const struct flow_key *fk, uint8_t *pkt,
				    size_t len, bool csum_partial,
				    uint32_t packet_id, int64_t now_ms,
				    uint16_t *port)
{
	const struct groups_service *svc;
	const struct groups_group *gr;
	struct waitq_info info;
	int rc;

	svc = groups_find_service(snap->groups, key);
	if (!svc)
		return MUX_PASS;
	gr = groups_route(snap->groups, svc, key->family, view->peer, view->peer_port);
	if (!gr) {
		mux_add(&m->stats.no_route);
		return MUX_REFUSE;
	}
	rc = mux_admit(m, snap, gr, fk, mux_seconds(now_ms));
	if (rc > 0) {
		*port = (uint16_t)rc;
		return MUX_REWRITE;
	}
	if (rc < 0 || gr->max_wait_ms == 0) {
		MUX_COUNT(gr, refused);
		return mux_refusal(gr);
	}
	memset(&info, 0, sizeof(info));
	info.group_id = gr->id;
	info.packet_id = packet_id;
	info.arrival_ms = now_ms;
	info.deadline_ms = now_ms + gr->max_wait_ms;
	info.flow = *fk;
	if (csum_partial)
		pkt_rewrite(pkt, len, view, key->port, true);
	if (waitq_push(&m->q, &info, pkt, len) < 0) {
		/* A retransmitted SYN: the first copy keeps its place. */
		if (errno == EEXIST)
			return MUX_DROP;
		MUX_COUNT(gr, refused);
		return mux_refusal(gr);
	}
	MUX_COUNT(gr, waits);
	__atomic_store_n(&m->stats.held, waitq_count(&m->q), __ATOMIC_RELAXED);
	return MUX_HELD;
}

/*
 * A packet of a flow in the table.  Returns the port to write, or 0 when a
 * bare SYN reopened a closing flow, which the caller then treats as new.
 */
static uint16_t mux_known(struct mux *m, const struct gctl_snap *snap,
			  const struct flow_entry *e, enum pkt_dir dir,
			  const struct pkt_view *view, uint32_t now)
{
	const uint16_t port = dir == PKT_IN ? e->backend_port : e->key.port;

	if (e->key.l4proto != IPPROTO_TCP || view->icmp_error) {
		flow_touch(m->part, e, now);
		return port;
	}
	switch (flow_note_tcp(m->part, e, dir, view->tcp_flags, now)) {
	case FLOW_TCP_CLOSED:
		mux_release(snap, e->backend);
		break;
	case FLOW_TCP_REUSED:
		if (e->state != FLOW_CLOSING)
			mux_release(snap, e->backend);
		flow_remove(m->part, e);
		return 0;
	case FLOW_TCP_GOES_ON:
		break;
	}
	return port;
}

enum mux_action mux_packet(struct mux *m, const struct gctl_snap *snap,
			   enum pkt_dir dir, const struct pkt_key *key,
			   const struct pkt_view *view, uint8_t *pkt,
			   size_t len, bool csum_partial, uint32_t packet_id,
			   int64_t now_ms, uint16_t *port)
{
	const uint32_t now = mux_seconds(now_ms);
	const struct flow_entry *e;
	struct flow_key fk;
	bool opens;

	if (key->l4proto != IPPROTO_TCP && key->l4proto != IPPROTO_UDP)
		return MUX_PASS;
	mux_key(&fk, key, view);
	e = dir == PKT_IN ? flow_lookup_in(m->part, &fk) : flow_lookup_out(m->part, &fk);
	if (e) {
		*port = mux_known(m, snap, e, dir, view, now);
		if (*port) {
			mux_add(&m->stats.flow_packets);
			return MUX_REWRITE;
		}
	}
	if (dir != PKT_IN || view->icmp_error || !snap)
		return MUX_PASS;
	opens = key->l4proto == IPPROTO_UDP ||
		(view->tcp_flags & (FLOW_TCP_SYN | FLOW_TCP_ACK | FLOW_TCP_RST)) == FLOW_TCP_SYN;
	if (!opens)
		return MUX_PASS;
	return mux_new_flow(m, snap, key, view, &fk, pkt, len, csum_partial,
			    packet_id, now_ms, port);
}

/*
 * True when some backend of gr may take a flow now: worth popping one of
 * its held packets for.
 */
static bool mux_has_room(const struct groups_group *gr)
{
	for (size_t i = 0; i < gr->nbackends; i++)
		if (sched_eligible(&gr->backends[i]))
			return true;
	return false;
}

/*
 * Admits the held packet in *l, of group gr.  Returns false when another
 * worker took the last slot first: the caller puts the packet back.
 */
static bool mux_admit_held(struct mux *m, const struct gctl_snap *snap,
			   const struct groups_group *gr, struct mux_late *l,
			   int64_t now_ms)
{
	struct pkt_key key;
	struct pkt_view view;
	int rc;

	/* The packet parsed when it arrived; the copy is the same bytes. */
	if (!pkt_parse(l->e.packet, l->e.len, PKT_IN, &key, &view)) {
		l->action = MUX_DROP;
		return true;
	}
	rc = mux_admit(m, snap, gr, &l->e.info.flow, mux_seconds(now_ms));
	if (rc == 0)
		return false;
	if (rc < 0) {
		MUX_COUNT(gr, refused);
		l->action = mux_refusal(gr);
		return true;
	}
	/* A held packet's checksum is complete (see mux_packet). */
	pkt_rewrite(l->e.packet, l->e.len, &view, (uint16_t)rc, false);
	MUX_COUNT(gr, wait_admitted);
	l->action = MUX_REWRITE;
	return true;
}

size_t mux_late(struct mux *m, const struct gctl_snap *snap, int64_t now_ms,
		struct mux_late *out, size_t max)
{
	size_t n = 0;

	if (waitq_count(&m->q) == 0)
		return 0;
	for (size_t i = 0; snap && i < groups_count(snap->groups) && n < max; i++) {
		const struct groups_group *gr = groups_at(snap->groups, i);

		while (n < max && mux_has_room(gr) &&
		       waitq_pop_ready(&m->q, gr->id, &out[n].e)) {
			if (!mux_admit_held(m, snap, gr, &out[n], now_ms)) {
				/* Lost a race for the slot: wait on, at the back. */
				waitq_push(&m->q, &out[n].e.info, out[n].e.packet, out[n].e.len);
				break;
			}
			n++;
		}
	}
	while (n < max && waitq_pop_expired(&m->q, now_ms, &out[n].e)) {
		const struct groups_group *gr =
			snap ? groups_find(snap->groups, out[n].e.info.group_id) : NULL;

		MUX_COUNT(gr, timeouts);
		out[n].action = mux_refusal(gr);
		n++;
	}
	__atomic_store_n(&m->stats.held, waitq_count(&m->q), __ATOMIC_RELAXED);
	return n;
}

size_t mux_expire(struct mux *m, const struct gctl_snap *snap, int64_t now_ms,
		  size_t budget)
{
	struct mux_gone g = { snap };

	return flow_expire(m->part, mux_seconds(now_ms), &m->timeouts, budget,
			   mux_gone_fn, &g);
}

bool mux_busy(const struct mux *m)
{
	return flow_flush_pending(m->part);
}

bool mux_next_deadline(const struct mux *m, int64_t *ms)
{
	return waitq_next_deadline(&m->q, ms);
}

void mux_stats(const struct mux *m, struct mux_stats *out)
{
	out->flow_packets = __atomic_load_n(&m->stats.flow_packets, __ATOMIC_RELAXED);
	out->no_route = __atomic_load_n(&m->stats.no_route, __ATOMIC_RELAXED);
	out->held = __atomic_load_n(&m->stats.held, __ATOMIC_RELAXED);
}

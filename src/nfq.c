/*
 * nfq: NFQUEUE workers.
 *
 * DESIGN.  One thread per kernel queue, each with its own netlink socket;
 * the threads share nothing but the read-only table snapshot (see table.h)
 * and the stop flag.  A worker loops:
 *
 *   recvmmsg a batch (blocks for the first packet, then takes what is ready)
 *   for each packet: parse -> table lookup -> rewrite in place in the
 *                    receive buffer -> queue a verdict
 *   sendmsg every verdict of the batch at once, in packet-id order
 *
 * One verdict syscall per packet capped a queue at about 100k pps on a
 * 2-core machine; one per batch roughly doubles that.  Verdicts that carry a
 * rewritten packet point into the receive buffer through an iovec, so a 64 KB
 * GSO packet is never copied in user space.  Every packet gets exactly one
 * verdict: unmapped and unparsable packets are accepted untouched, packets
 * the kernel handed over truncated are dropped (they can be neither
 * rewritten nor safely let through); netlink errors and overruns are
 * counted, never fatal.  If the kernel refuses a batch of verdicts, they are
 * sent again one by one, so no packet is left waiting in the queue.
 *
 * Counters are written only by their worker (relaxed atomics, once per
 * batch) and read by the control plane for /api/v1/status.
 *
 * Virtual port multiplexing adds three duties, all the worker's own (see
 * mux.h): packets the static table does not take go to the worker's mux,
 * which may hold a new flow's packet for a late verdict; after every batch,
 * and whenever the receive times out, the worker gives the late verdicts
 * whose time has come (admitted, or refused through a raw socket) and
 * sweeps a slice of its flow partition.  While packets are held it wakes
 * every NFQ_WAIT_POLL_MS, so that a slot another worker frees is taken
 * within that time and a deadline is kept to within it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "control.h"
#include "gctl.h"
#include "log.h"
#include "mux.h"
#include "nfq.h"
#include "pkt.h"
#include "table.h"

/*
 * A receive slot holds one queued packet: up to 64 KB of payload (the copy
 * range) plus the attributes the kernel puts around it.
 */
#define NFQ_RX_SLOT (65536 + 8192)
/* A verdict header: nlmsghdr, nfgenmsg, verdict attribute, payload attribute header. */
#define NFQ_TX_SLOT 64
/* Flush verdicts early when this many payload bytes are pending. */
#define NFQ_TX_FLUSH (2u << 20)
#define NFQ_MAX_BATCH 256
/* At most three iovecs per verdict, and sendmsg takes at most 1024. */
#define NFQ_TX_MAX (1024 / 3)
/* On stop, drain what the kernel holds for at most this long. */
#define NFQ_DRAIN_SECONDS 1.0
#define NFQ_RCVBUF (64 << 20)
/* How often an idle worker wakes: to show progress, see stop and sweep flows. */
#define NFQ_IDLE_POLL_MS 100
/* How often a worker with held packets wakes to admit or refuse them. */
#define NFQ_WAIT_POLL_MS 10
/* Late verdicts handled per round (each holds a copy of its packet). */
#define NFQ_LATE_MAX 64
/*
 * Flow table slots swept per packet received and per idle wake: a
 * partition of half a million slots is swept within about seven seconds
 * when idle, and at 100k pps within a second, for a few nanoseconds per
 * packet.
 */
#define NFQ_SWEEP_PER_PACKET 8
#define NFQ_SWEEP_IDLE 8192
#define NFQ_SWEEP_FLUSH 65536
#define NFQ_SNDBUF (16 << 20)

struct nfq_counters {
	uint64_t packets, rewritten, passed, truncated, batches, nl_errors, enobufs;
	uint64_t refusals; /* resets and ICMP errors sent to refused clients */
	int64_t last_progress;
};

/* A verdict waiting to be sent: its header and its iovecs. */
struct nfq_pending {
	struct nlmsghdr *nlh;
	uint32_t verdict_len; /* the message without the payload attribute */
	uint32_t id;
	uint16_t first_iov;
	uint8_t niov;
};

struct nfq_worker {
	pthread_t thread;
	bool started;
	struct nfq_pool *pool;
	struct mnl_socket *nl;
	unsigned queue;
	unsigned batch;
	bool gso;                /* false for the loopback queue */
	uint8_t *rx;             /* batch receive slots */
	struct mmsghdr *rxmsg;
	struct iovec *rxiov;
	uint8_t *tx;             /* verdict headers, NFQ_TX_MAX slots */
	struct nfq_pending *pending; /* where each verdict sits in txiov */
	size_t npending;
	struct iovec *txiov;     /* up to three per verdict */
	size_t ntxiov;
	size_t txbytes;
	struct nfq_counters c;   /* shared with readers through atomics */
	struct mux *mux;         /* NULL when groups are off */
	struct mux_late *late;   /* NFQ_LATE_MAX late verdicts being sent */
	int poll_ms;             /* the receive timeout now set */
};

struct nfq_pool {
	struct nfq_worker *workers;
	size_t n;
	int stop;
	int refuse_fd[2];
	int nice;
};

static const uint8_t nfq_pad[4];

static void nfq_fmt_err(char *errbuf, size_t errlen, unsigned queue,
			const char *what)
{
	snprintf(errbuf, errlen, "queue %u: %s: %s", queue, what, strerror(errno));
}

static void nfq_add(uint64_t *counter, uint64_t n)
{
	if (n)
		__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/*
 * Sends iov[0..n) as one message; retries briefly while the kernel is short
 * of memory.  Returns 0 or -1 with errno set.
 */
static int nfq_send(struct nfq_worker *w, struct iovec *iov, size_t n)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct msghdr msg = {
		.msg_name = &kernel,
		.msg_namelen = sizeof(kernel),
		.msg_iov = iov,
		.msg_iovlen = n,
	};
	int tries = 0;

	while (sendmsg(mnl_socket_get_fd(w->nl), &msg, 0) < 0) {
		if (errno == EINTR)
			continue;
		if ((errno != ENOBUFS && errno != ENOMEM && errno != EAGAIN) || ++tries > 100)
			return -1;
		usleep(100);
	}
	return 0;
}

/*
 * Sends the pending verdicts in one message.  When the kernel refuses the
 * whole, each verdict is sent on its own, and a rewritten packet that still
 * cannot be sent is dropped instead: a verdict must never be lost, or its
 * packet would hold a queue slot for ever.
 */
static void nfq_flush(struct nfq_worker *w)
{
	if (w->npending == 0)
		return;
	if (nfq_send(w, w->txiov, w->ntxiov) < 0) {
		nfq_add(&w->c.nl_errors, 1);
		for (size_t i = 0; i < w->npending; i++) {
			struct nfq_pending *p = &w->pending[i];
			struct iovec alone;

			if (nfq_send(w, &w->txiov[p->first_iov], p->niov) == 0)
				continue;
			nfq_add(&w->c.nl_errors, 1);
			p->nlh->nlmsg_len = p->verdict_len;
			nfq_nlmsg_verdict_put(p->nlh, (int)p->id, NF_DROP);
			alone = (struct iovec){ p->nlh, p->verdict_len };
			if (nfq_send(w, &alone, 1) < 0)
				nfq_add(&w->c.nl_errors, 1);
		}
	}
	w->npending = 0;
	w->ntxiov = 0;
	w->txbytes = 0;
}

/*
 * Queues a verdict for packet id; when payload is not NULL the rewritten
 * packet goes with it.  Flushes first when the batch of verdicts is full.
 */
static void nfq_verdict(struct nfq_worker *w, uint32_t id, int verdict,
			const uint8_t *payload, size_t plen)
{
	struct nfq_pending *p;
	struct nlmsghdr *nlh;
	struct nlattr *attr;
	char *buf;

	if (w->npending == NFQ_TX_MAX || w->txbytes >= NFQ_TX_FLUSH)
		nfq_flush(w);
	p = &w->pending[w->npending++];
	buf = (char *)w->tx + (p - w->pending) * NFQ_TX_SLOT;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, (int)w->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	*p = (struct nfq_pending){ nlh, nlh->nlmsg_len, id, (uint16_t)w->ntxiov, 1 };
	if (!payload) {
		w->txiov[w->ntxiov++] = (struct iovec){ buf, nlh->nlmsg_len };
		return;
	}
	attr = (struct nlattr *)(buf + nlh->nlmsg_len);
	attr->nla_type = NFQA_PAYLOAD;
	attr->nla_len = (uint16_t)(sizeof(*attr) + plen);
	w->txiov[w->ntxiov++] = (struct iovec){ buf, nlh->nlmsg_len + sizeof(*attr) };
	w->txiov[w->ntxiov++] = (struct iovec){ (void *)payload, plen };
	p->niov = 2;
	if (MNL_ALIGN(plen) != plen) {
		w->txiov[w->ntxiov++] = (struct iovec){ (void *)nfq_pad, MNL_ALIGN(plen) - plen };
		p->niov = 3;
	}
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*attr) + plen);
	w->txbytes += plen;
}

struct nfq_batch {
	const struct table *table;
	const struct gctl_snap *snap;
	int64_t now;    /* CLOCK_REALTIME seconds, for the mappings' last hit */
	int64_t now_ms; /* CLOCK_MONOTONIC milliseconds, for flows and waits */
	uint64_t packets, rewritten, passed, truncated, nl_errors, refusals;
};

/*
 * Sends the client of pkt (a packet as it arrived) the reset or ICMP error
 * that refuses it, through the raw socket of its family.  Counts it when
 * sent; a refusal that cannot be built or sent leaves the client to its own
 * timeout, as a drop would.
 */
static void nfq_refuse(struct nfq_worker *w, struct nfq_batch *b,
		       const uint8_t *pkt, size_t len)
{
	uint8_t out[PKT_REFUSAL_MAX];
	struct sockaddr_storage to = { 0 };
	socklen_t tolen;
	size_t n = pkt_build_refusal(pkt, len, out, sizeof(out));
	int fd;

	if (n == 0)
		return;
	if (out[0] >> 4 == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&to;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, out + 16, 4);
		tolen = sizeof(*sin);
		fd = w->pool->refuse_fd[0];
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, out + 24, 16);
		tolen = sizeof(*sin6);
		fd = w->pool->refuse_fd[1];
	}
	if (fd >= 0 && sendto(fd, out, n, MSG_DONTWAIT, (struct sockaddr *)&to, tolen) == (ssize_t)n)
		b->refusals++;
}

/*
 * Gives the verdict mux decided for a group's packet, rewritten already
 * when it is accepted: accept it with its new bytes, or drop it, refusing
 * its client first when the decision says so.
 */
static void nfq_answer(struct nfq_worker *w, struct nfq_batch *b,
		       enum mux_action action, uint32_t id, const uint8_t *pkt,
		       size_t len)
{
	if (action == MUX_REWRITE) {
		b->rewritten++;
		nfq_verdict(w, id, NF_ACCEPT, pkt, len);
		return;
	}
	if (action == MUX_REFUSE)
		nfq_refuse(w, b, pkt, len);
	nfq_verdict(w, id, NF_DROP, NULL, 0);
}

/*
 * Hands a packet the static table did not take to the mux.  Returns false
 * when it is no group's, for the caller to pass it.
 */
static bool nfq_mux(struct nfq_worker *w, struct nfq_batch *b, uint32_t id,
		    enum pkt_dir dir, const struct pkt_key *key,
		    const struct pkt_view *view, uint8_t *payload, size_t plen,
		    bool csum_partial)
{
	uint16_t port = 0;
	enum mux_action action = mux_packet(w->mux, b->snap, dir, key, view, payload,
					    plen, csum_partial, id, b->now_ms, &port);

	if (action == MUX_PASS)
		return false;
	if (action == MUX_REWRITE)
		pkt_rewrite(payload, plen, view, port, csum_partial);
	/* A held packet gets its verdict late, from nfq_late. */
	if (action != MUX_HELD)
		nfq_answer(w, b, action, id, payload, plen);
	return true;
}

/*
 * Gives the late verdicts whose time has come, then sweeps a slice of the
 * flow partition.  Each round of late verdicts is flushed before the next
 * one reuses the packet copies the verdicts point into.
 */
static void nfq_late(struct nfq_worker *w, struct nfq_batch *b, size_t sweep)
{
	size_t n;

	do {
		n = mux_late(w->mux, b->snap, b->now_ms, w->late, NFQ_LATE_MAX);
		for (size_t i = 0; i < n; i++)
			nfq_answer(w, b, w->late[i].action, w->late[i].e.info.packet_id,
				   w->late[i].e.packet, w->late[i].e.len);
		nfq_flush(w);
	} while (n == NFQ_LATE_MAX);
	mux_expire(w->mux, b->snap, b->now_ms, mux_busy(w->mux) ? NFQ_SWEEP_FLUSH : sweep);
}

/*
 * Handles one queued packet: parse, look up, rewrite, verdict.  The hook
 * tells the direction: packets queued in POSTROUTING leave an assigned
 * port, those queued in PREROUTING or OUTPUT head for a shared port.
 */
static void nfq_packet(struct nfq_worker *w, struct nfq_batch *b,
		       const struct nlmsghdr *nlh)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	const struct table_hit *hit;
	struct pkt_key key;
	struct pkt_view view;
	enum pkt_dir dir;
	uint8_t *payload = NULL;
	uint32_t id, skbinfo = 0;
	size_t plen = 0, caplen;
	bool parsed;

	parsed = nfq_nlmsg_parse(nlh, attr) >= 0;
	if (!attr[NFQA_PACKET_HDR]) {
		/* Without its header a message names no packet to answer. */
		b->nl_errors++;
		return;
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	b->packets++;
	if (!parsed) {
		/* The attributes after the header are unreadable: fail closed. */
		b->nl_errors++;
		nfq_verdict(w, id, NF_DROP, NULL, 0);
		return;
	}
	if (attr[NFQA_PAYLOAD]) {
		payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		plen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	caplen = attr[NFQA_CAP_LEN] ? ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) : plen;
	if (attr[NFQA_SKB_INFO])
		skbinfo = ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO]));
	if (caplen > plen) {
		/*
		 * Sending back a partial copy would cut the packet short, and
		 * letting it through unrewritten would hand it to the wrong
		 * port.  Dropping is what the fail-closed rules do; the sender
		 * retransmits, in smaller pieces once its window has shrunk.
		 */
		b->truncated++;
		nfq_verdict(w, id, NF_DROP, NULL, 0);
		return;
	}
	dir = ph->hook == NF_INET_POST_ROUTING ? PKT_OUT : PKT_IN;
	if (!payload || !pkt_parse(payload, plen, dir, &key, &view))
		goto pass;
	hit = table_lookup(b->table, dir, &key);
	if (!hit) {
		if (w->mux && nfq_mux(w, b, id, dir, &key, &view, payload, plen,
				      (skbinfo & NFQA_SKB_CSUMNOTREADY) != 0))
			return;
		goto pass;
	}
	pkt_rewrite(payload, plen, &view, hit->new_port,
		    (skbinfo & NFQA_SKB_CSUMNOTREADY) != 0);
	table_count(hit, dir, plen, b->now);
	b->rewritten++;
	nfq_verdict(w, id, NF_ACCEPT, payload, plen);
	return;
pass:
	b->passed++;
	nfq_verdict(w, id, NF_ACCEPT, NULL, 0);
}

/* Walks the netlink messages of one datagram from the kernel. */
static void nfq_datagram(struct nfq_worker *w, struct nfq_batch *b,
			 uint8_t *buf, size_t len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int rem = (int)len;

	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (e->error)
				b->nl_errors++;
			continue;
		}
		if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET)
			continue;
		nfq_packet(w, b, nlh);
	}
}

/*
 * Sets the receive timeout: short while packets wait for a late verdict
 * or a flush runs, long otherwise.  Only a change costs a system call.
 */
static void nfq_poll(struct nfq_worker *w)
{
	int64_t deadline;
	int ms = NFQ_IDLE_POLL_MS;
	struct timeval tv;

	if (w->mux && (mux_next_deadline(w->mux, &deadline) || mux_busy(w->mux)))
		ms = NFQ_WAIT_POLL_MS;
	if (ms == w->poll_ms)
		return;
	tv = (struct timeval){ .tv_sec = 0, .tv_usec = ms * 1000 };
	if (setsockopt(mnl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0)
		w->poll_ms = ms;
}

/*
 * Receives and answers one batch, then gives the late verdicts that are
 * due.  Returns the number of datagrams handled, 0 on timeout or when
 * nothing is waiting.
 */
static int nfq_batch(struct nfq_worker *w, int flags)
{
	struct nfq_batch b = { 0 };
	struct timespec ts, mono;
	int n;

	for (unsigned i = 0; i < w->batch; i++) {
		w->rxiov[i] = (struct iovec){ w->rx + (size_t)i * NFQ_RX_SLOT, NFQ_RX_SLOT };
		w->rxmsg[i].msg_hdr = (struct msghdr){ .msg_iov = &w->rxiov[i], .msg_iovlen = 1 };
	}
	nfq_poll(w);
	n = recvmmsg(mnl_socket_get_fd(w->nl), w->rxmsg, w->batch, flags, NULL);
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	__atomic_store_n(&w->c.last_progress, (int64_t)ts.tv_sec, __ATOMIC_RELAXED);
	if (n < 0) {
		if (errno == ENOBUFS)
			nfq_add(&w->c.enobufs, 1);
		else if (errno != EAGAIN && errno != EINTR)
			nfq_add(&w->c.nl_errors, 1);
		n = 0;
	}
	if (n == 0 && !w->mux)
		return 0;
	b.now = ts.tv_sec;
	b.now_ms = (int64_t)mono.tv_sec * 1000 + mono.tv_nsec / 1000000;
	b.table = table_read_begin();
	b.snap = gctl_read();
	for (int i = 0; i < n; i++)
		nfq_datagram(w, &b, w->rx + (size_t)i * NFQ_RX_SLOT, w->rxmsg[i].msg_len);
	nfq_flush(w);
	if (w->mux)
		nfq_late(w, &b, n ? NFQ_SWEEP_PER_PACKET * b.packets : NFQ_SWEEP_IDLE);
	table_read_end();
	nfq_add(&w->c.refusals, b.refusals);
	nfq_add(&w->c.packets, b.packets);
	nfq_add(&w->c.rewritten, b.rewritten);
	nfq_add(&w->c.passed, b.passed);
	nfq_add(&w->c.truncated, b.truncated);
	nfq_add(&w->c.nl_errors, b.nl_errors);
	if (n)
		nfq_add(&w->c.batches, 1);
	return n;
}

static double nfq_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *nfq_worker_run(void *arg)
{
	struct nfq_worker *w = arg;
	double until;

	/* On Linux a nice value is per thread: this one only. */
	if (w->pool->nice != 0 && setpriority(PRIO_PROCESS, (id_t)gettid(), w->pool->nice) < 0)
		log_warn("queue %u: cannot set nice %d", w->queue, w->pool->nice);
	table_reader_register();
	while (!__atomic_load_n(&w->pool->stop, __ATOMIC_ACQUIRE))
		nfq_batch(w, MSG_WAITFORONE);
	/*
	 * Answer what the kernel still holds for us before unbinding, for a
	 * bounded time: under a steady flood the queue never runs empty, and
	 * whatever is left when the socket closes is dropped by the kernel,
	 * which is what the fail-closed rules do anyway.
	 */
	until = nfq_now() + NFQ_DRAIN_SECONDS;
	while (nfq_batch(w, MSG_DONTWAIT) > 0 && nfq_now() < until)
		;
	table_reader_unregister();
	return NULL;
}

/*
 * Data messages that arrive while the queue is being configured get a drop
 * verdict: they were queued before the copy range was set, so they may lack
 * their payload, and dropping is what the fail-closed rules do anyway.
 */
static int nfq_setup_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nfq_worker *w = data;
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	char buf[NFQ_TX_SLOT];
	struct nlmsghdr *v;
	struct nfqnl_msg_packet_hdr *ph;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return MNL_CB_OK;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	v = nfq_nlmsg_put(buf, NFQNL_MSG_VERDICT, (int)w->queue);
	nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id), NF_DROP);
	if (mnl_socket_sendto(w->nl, v, v->nlmsg_len) < 0)
		w->c.nl_errors++;
	return MNL_CB_OK;
}

/* Sends one configuration message and waits for the kernel's answer. */
static int nfq_config_send(struct nfq_worker *w, struct nlmsghdr *nlh)
{
	uint8_t buf[NFQ_RX_SLOT];
	unsigned portid = mnl_socket_get_portid(w->nl);
	uint32_t seq = (uint32_t)time(NULL) ^ w->queue;
	ssize_t r;
	int ret;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(w->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		r = mnl_socket_recvfrom(w->nl, buf, sizeof(buf));
		if (r < 0)
			return -1;
		ret = mnl_cb_run(buf, (size_t)r, 0, portid, nfq_setup_data_cb, w);
	} while (ret == MNL_CB_OK);
	return ret < 0 ? -1 : 0;
}

static int nfq_worker_open(struct nfq_worker *w, const struct nfq_config *cfg,
			   char *errbuf, size_t errlen)
{
	char buf[256];
	struct nlmsghdr *nlh;
	struct timeval tv = { .tv_sec = 0, .tv_usec = NFQ_IDLE_POLL_MS * 1000 };
	int fd, one = 1, rcv = NFQ_RCVBUF, snd = NFQ_SNDBUF;

	w->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!w->nl) {
		nfq_fmt_err(errbuf, errlen, w->queue, "netlink socket");
		return -1;
	}
	if (mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		nfq_fmt_err(errbuf, errlen, w->queue, "netlink bind");
		return -1;
	}
	fd = mnl_socket_get_fd(w->nl);
	/* Big buffers absorb bursts; the FORCE variants need CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0) {
		log_warn("queue %u: SO_RCVBUFFORCE, falling back to the rmem_max limit", w->queue);
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	}
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0) {
		/* A small send buffer only means verdicts go out one by one. */
		log_warn("queue %u: SO_SNDBUFFORCE, falling back to the wmem_max limit", w->queue);
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	}

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, (int)w->queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if (nfq_config_send(w, nlh) < 0) {
		nfq_fmt_err(errbuf, errlen, w->queue,
			    "bind (is another process using this queue?)");
		return -1;
	}
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, (int)w->queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, cfg->queue_maxlen);
	/*
	 * F_GSO: take GSO packets whole instead of having the kernel segment
	 * them first (about four times the TCP throughput).  Their checksums
	 * may be partial, which pkt_rewrite handles.  Not on the loopback
	 * queue: loopback GSO packets grow past the 65531 bytes a queue can
	 * hand over, so the kernel must segment them first.  F_FAIL_OPEN
	 * stays off: a full queue must drop, not let packets reach the wrong
	 * port.
	 */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(w->gso ? NFQA_CFG_F_GSO : 0));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
	if (nfq_config_send(w, nlh) < 0) {
		nfq_fmt_err(errbuf, errlen, w->queue, "configure");
		return -1;
	}
	/* Overruns are visible in the kernel's queue counters; never fail the socket. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0)
		log_warn("queue %u: NETLINK_NO_ENOBUFS", w->queue);
	/* Wake up regularly so an idle worker still shows progress and sees stop. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		nfq_fmt_err(errbuf, errlen, w->queue, "SO_RCVTIMEO");
		return -1;
	}
	w->poll_ms = NFQ_IDLE_POLL_MS;
	return 0;
}

static int nfq_worker_alloc(struct nfq_worker *w)
{
	w->rx = malloc((size_t)w->batch * NFQ_RX_SLOT);
	w->rxmsg = calloc(w->batch, sizeof(*w->rxmsg));
	w->rxiov = calloc(w->batch, sizeof(*w->rxiov));
	w->tx = malloc((size_t)NFQ_TX_MAX * NFQ_TX_SLOT);
	w->pending = calloc(NFQ_TX_MAX, sizeof(*w->pending));
	w->txiov = calloc((size_t)NFQ_TX_MAX * 3, sizeof(*w->txiov));
	w->late = calloc(NFQ_LATE_MAX, sizeof(*w->late));
	if (!w->rx || !w->rxmsg || !w->rxiov || !w->tx || !w->pending || !w->txiov ||
	    !w->late) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static void nfq_worker_free(struct nfq_worker *w)
{
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w->rx);
	free(w->rxmsg);
	free(w->rxiov);
	free(w->tx);
	free(w->pending);
	free(w->txiov);
	free(w->late);
	mux_free(w->mux);
}

struct nfq_pool *nfq_start(const struct nfq_config *cfg, char *errbuf,
			   size_t errlen)
{
	struct nfq_pool *pool = calloc(1, sizeof(*pool));

	if (!pool || cfg->nqueues == 0 || cfg->batch == 0 || cfg->batch > NFQ_MAX_BATCH ||
	    (cfg->flows && flow_partitions(cfg->flows) != cfg->nqueues + 1)) {
		snprintf(errbuf, errlen, "invalid queue configuration");
		free(pool);
		return NULL;
	}
	pool->nice = cfg->nice;
	pool->refuse_fd[0] = cfg->refuse_fd[0];
	pool->refuse_fd[1] = cfg->refuse_fd[1];
	/* The queue after the network queues takes loopback traffic. */
	pool->workers = calloc(cfg->nqueues + 1, sizeof(*pool->workers));
	if (!pool->workers) {
		snprintf(errbuf, errlen, "out of memory");
		goto err;
	}
	for (unsigned i = 0; i <= cfg->nqueues; i++) {
		struct nfq_worker *w = &pool->workers[i];

		pool->n++;
		w->pool = pool;
		w->queue = cfg->first_queue + i;
		w->gso = i < cfg->nqueues;
		w->batch = cfg->batch;
		w->c.last_progress = time(NULL);
		if (nfq_worker_alloc(w) < 0) {
			nfq_fmt_err(errbuf, errlen, w->queue, "buffers");
			goto err;
		}
		if (cfg->flows) {
			w->mux = mux_new(flow_partition(cfg->flows, i), i, &cfg->timeouts);
			if (!w->mux) {
				nfq_fmt_err(errbuf, errlen, w->queue, "flow state");
				goto err;
			}
		}
		if (nfq_worker_open(w, cfg, errbuf, errlen) < 0)
			goto err;
	}
	for (size_t i = 0; i < pool->n; i++) {
		struct nfq_worker *w = &pool->workers[i];

		errno = pthread_create(&w->thread, NULL, nfq_worker_run, w);
		if (errno) {
			nfq_fmt_err(errbuf, errlen, w->queue, "thread");
			goto err;
		}
		w->started = true;
	}
	return pool;
err:
	nfq_stop(pool);
	return NULL;
}

void nfq_stop(struct nfq_pool *pool)
{
	if (!pool)
		return;
	__atomic_store_n(&pool->stop, 1, __ATOMIC_RELEASE);
	for (size_t i = 0; i < pool->n; i++) {
		if (pool->workers[i].started)
			pthread_join(pool->workers[i].thread, NULL);
		nfq_worker_free(&pool->workers[i]);
	}
	free(pool->workers);
	free(pool);
}

size_t nfq_stats(struct nfq_pool *pool, struct control_queue_stats *out,
		 size_t max)
{
	size_t n = pool->n < max ? pool->n : max;

	for (size_t i = 0; i < n; i++) {
		const struct nfq_counters *c = &pool->workers[i].c;

		memset(&out[i], 0, sizeof(out[i]));
		out[i].queue = pool->workers[i].queue;
		out[i].packets = __atomic_load_n(&c->packets, __ATOMIC_RELAXED);
		out[i].rewritten = __atomic_load_n(&c->rewritten, __ATOMIC_RELAXED);
		out[i].passed = __atomic_load_n(&c->passed, __ATOMIC_RELAXED);
		out[i].truncated = __atomic_load_n(&c->truncated, __ATOMIC_RELAXED);
		out[i].batches = __atomic_load_n(&c->batches, __ATOMIC_RELAXED);
		out[i].nl_errors = __atomic_load_n(&c->nl_errors, __ATOMIC_RELAXED);
		out[i].enobufs = __atomic_load_n(&c->enobufs, __ATOMIC_RELAXED);
		out[i].refusals = __atomic_load_n(&c->refusals, __ATOMIC_RELAXED);
		out[i].last_progress = __atomic_load_n(&c->last_progress, __ATOMIC_RELAXED);
		if (pool->workers[i].mux) {
			struct mux_stats ms;

			mux_stats(pool->workers[i].mux, &ms);
			out[i].flow_packets = ms.flow_packets;
			out[i].no_route = ms.no_route;
			out[i].held = ms.held;
		}
	}
	return n;
}

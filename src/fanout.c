/*
 * fanout: see fanout.h.
 *
 * DESIGN.  One thread, the copier, owns everything here: the NFLOG socket,
 * the state of each subscriber (its source address, its TCP connection and
 * that connection's output buffer) and the send batches.  It loops:
 *
 *   poll the NFLOG socket and the subscribers' TCP connections (100 ms)
 *   read what NFLOG holds (a few netlink datagrams, each with many packets)
 *   inside one RCU read-side section: read the fctl snapshot, bring the
 *     subscribers' state in line with it, and queue each datagram's copies
 *   send the queued copies: one sendmmsg per raw socket and one for the
 *     Unix socket; TCP copies go into their connection's buffer
 *   flush TCP buffers that can take more, finish connects, reconnect
 *
 * Copies to IP subscribers leave through the raw sockets with headers built
 * here (fanpkt.h): one socket reaches every subscriber of every family, a
 * spoofed copy keeps its origin, and the others come from the registration
 * port, as the seed has it.  Nothing blocks: a subscriber whose socket or
 * buffer is full loses that copy (its drops counter), and a send that fails
 * costs only its own copy (its errors counter), never the others'.  The
 * control plane's threads only publish snapshots; counters are added to
 * with relaxed atomics.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <urcu/urcu-memb.h>

#include "fanframe.h"
#include "fanout.h"
#include "fanpkt.h"
#include "fctl.h"
#include "log.h"
#include "util.h"

/* NFLOG datagrams read per round, each up to FANOUT_RX bytes. */
#define FANOUT_RX_BATCH 8
#define FANOUT_RX (256 * 1024)
#define FANOUT_RCVBUF (64 << 20)
#define FANOUT_POLL_MS 100
/* Copies queued per socket before they are sent. */
#define FANOUT_TX_MAX 512
/* A TCP subscriber's buffer: copies that do not fit are dropped whole. */
#define FANOUT_TCP_BUF (1 << 20)
#define FANOUT_RECONNECT_MS 1000
/* Subscriber states: a power of two well above fctl's limits in practice. */
#define FANOUT_SUBS_CAP 4096
/* The kernel batches up to this many packets, or 10 ms, per message. */
#define FANOUT_QTHRESH 64
#define FANOUT_FLUSH_CS 1

/* What the copier keeps per subscriber, keyed by id. */
struct fanout_sub {
	int64_t id;                /* 0: a free slot */
	uint32_t gen;              /* the round it was last seen in a snapshot */
	struct fctl_sub target;    /* as last seen: a change resets the state */
	uint16_t regport;          /* its contested port's registration port, as last seen */
	struct fanpkt_end src;     /* for raw and framed_udp: local address, registration port */
	bool src_ok;
	int fd;                    /* framed_tcp: the connection, -1 without */
	bool connecting;
	int64_t retry_ms;          /* when to connect again */
	uint8_t *buf;              /* framed_tcp: bytes not yet written */
	size_t len;
};

/* A batch of copies for one socket. */
struct fanout_tx {
	int fd;
	size_t n;
	struct mmsghdr msg[FANOUT_TX_MAX];
	struct iovec iov[FANOUT_TX_MAX][3];
	struct sockaddr_storage to[FANOUT_TX_MAX];
	uint8_t hdr[FANOUT_TX_MAX][FANPKT_HDR_MAX];
	uint8_t frame[FANOUT_TX_MAX][FANFRAME_HDR_LEN];
	struct fctl_sub_counters *c[FANOUT_TX_MAX];
	size_t bytes[FANOUT_TX_MAX];
};

enum { FANOUT_TX_RAW4, FANOUT_TX_RAW6, FANOUT_TX_UNIX, FANOUT_TX_COUNT };

struct fanout {
	pthread_t thread;
	bool started;
	int stop;
	struct fanout_config cfg;
	struct mnl_socket *nl;
	int unix_fd;
	uint8_t *rx;
	size_t rxlen[FANOUT_RX_BATCH];
	struct fanout_tx *tx[FANOUT_TX_COUNT];
	struct fanout_sub subs[FANOUT_SUBS_CAP];
	uint32_t gen;
	int64_t now_ms, now_s;
	struct fanout_stats stats;
};

static void fanout_add(uint64_t *counter, uint64_t n)
{
	if (n)
		__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static int64_t fanout_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- NFLOG ------------------------------------------------------------- */

/* Sends one configuration message for the group and waits for its ack. */
static int fanout_nl_config(struct fanout *f, struct nlmsghdr *nlh)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned portid = mnl_socket_get_portid(f->nl);
	ssize_t r;
	int ret;

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(f->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		r = mnl_socket_recvfrom(f->nl, buf, sizeof(buf));
		if (r < 0)
			return -1;
		ret = mnl_cb_run(buf, (size_t)r, nlh->nlmsg_seq, portid, NULL, NULL);
	} while (ret > 0);
	return ret < 0 ? -1 : 0;
}

static struct nlmsghdr *fanout_nl_put(char *buf, uint16_t group, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	return nlh;
}

static int fanout_nl_open(struct fanout *f, char *errbuf, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfulnl_msg_config_cmd cmd = { NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = { htonl(0xffff), NFULNL_COPY_PACKET, 0 };
	const uint16_t group = (uint16_t)f->cfg.nflog_group;
	struct nlmsghdr *nlh;
	int rcv = FANOUT_RCVBUF;

	f->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!f->nl || mnl_socket_bind(f->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(errbuf, errlen, "nflog socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(mnl_socket_get_fd(f->nl), SOL_SOCKET, SO_RCVBUFFORCE, &rcv,
		       sizeof(rcv)) < 0)
		setsockopt(mnl_socket_get_fd(f->nl), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	nlh = fanout_nl_put(buf, group, AF_UNSPEC);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	if (fanout_nl_config(f, nlh) < 0) {
		snprintf(errbuf, errlen, "nflog group %u: bind: %s (is another process using it?)",
			 group, strerror(errno));
		return -1;
	}
	nlh = fanout_nl_put(buf, group, AF_UNSPEC);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(FANOUT_RX / 2));
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(FANOUT_QTHRESH));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(FANOUT_FLUSH_CS));
	if (fanout_nl_config(f, nlh) < 0) {
		snprintf(errbuf, errlen, "nflog group %u: configure: %s", group, strerror(errno));
		return -1;
	}
	/*
	 * NETLINK_NO_ENOBUFS stays off: an overrun is reported as ENOBUFS,
	 * which fanout_receive counts, and never breaks the socket.
	 */
	return 0;
}

/* ---- subscribers' state ------------------------------------------------ */

static struct fanout_sub *fanout_sub_find(struct fanout *f, int64_t id, bool add)
{
	size_t i = (size_t)util_fnv1a(&id, sizeof(id)) & (FANOUT_SUBS_CAP - 1);

	for (size_t probe = 0; probe < FANOUT_SUBS_CAP; probe++) {
		struct fanout_sub *s = &f->subs[(i + probe) & (FANOUT_SUBS_CAP - 1)];

		if (s->id == id)
			return s;
		if (s->id == 0 && add) {
			memset(s, 0, sizeof(*s));
			s->id = id;
			s->fd = -1;
			return s;
		}
	}
	return NULL;
}

static void fanout_sub_reset(struct fanout_sub *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	s->fd = -1;
	s->buf = NULL;
	s->len = 0;
	s->connecting = false;
	s->src_ok = false;
	s->retry_ms = 0;
}

static void fanout_sockaddr(const struct fctl_sub *t, struct sockaddr_storage *ss,
			    socklen_t *len, bool raw)
{
	memset(ss, 0, sizeof(*ss));
	if (t->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = raw ? 0 : htons(t->port);
		memcpy(&sin->sin_addr, t->addr, 4);
		*len = sizeof(*sin);
	} else if (t->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = raw ? 0 : htons(t->port);
		memcpy(&sin6->sin6_addr, t->addr, 16);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_un *sun = (struct sockaddr_un *)ss;

		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", t->path);
		*len = sizeof(*sun);
	}
}

/*
 * The local address that routing picks toward t: the source of copies
 * that come from the registration port.  A connected UDP socket asks the
 * routing table without sending anything.
 */
static bool fanout_source(const struct fctl_sub *t, uint16_t regport,
			  struct fanpkt_end *src)
{
	struct sockaddr_storage to, me;
	socklen_t tolen, melen = sizeof(me);
	int fd = socket(t->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	if (fd < 0)
		return false;
	fanout_sockaddr(t, &to, &tolen, false);
	if (connect(fd, (struct sockaddr *)&to, tolen) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &melen) == 0) {
		memset(src, 0, sizeof(*src));
		src->family = t->family;
		src->port = regport;
		if (t->family == AF_INET)
			memcpy(src->addr, &((struct sockaddr_in *)&me)->sin_addr, 4);
		else
			memcpy(src->addr, &((struct sockaddr_in6 *)&me)->sin6_addr, 16);
		ok = true;
	}
	close(fd);
	return ok;
}

/* Starts a non-blocking connect to a framed_tcp subscriber. */
static void fanout_tcp_connect(struct fanout *f, struct fanout_sub *s)
{
	struct sockaddr_storage to;
	socklen_t tolen;

	s->retry_ms = f->now_ms + FANOUT_RECONNECT_MS;
	s->fd = socket(s->target.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return;
	fanout_sockaddr(&s->target, &to, &tolen, false);
	if (connect(s->fd, (struct sockaddr *)&to, tolen) == 0)
		return;
	if (errno == EINPROGRESS) {
		s->connecting = true;
		return;
	}
	close(s->fd);
	s->fd = -1;
}

/*
 * Brings the subscribers' state in line with the snapshot: new ones get
 * their source address (and, for framed_tcp, a buffer), changed ones start
 * over, and those gone are closed.
 */
static void fanout_sync(struct fanout *f, const struct fctl_snap *snap)
{
	bool removed = false;

	f->gen++;
	for (size_t i = 0; snap && i < snap->nports; i++) {
		const struct fctl_snap_port *p = &snap->ports[i];

		for (size_t k = 0; k < p->nsubs; k++) {
			const struct fctl_sub *t = &p->subs[k].s;
			struct fanout_sub *s = fanout_sub_find(f, t->id, true);

			if (!s)
				continue;
			if (memcmp(&s->target, t, sizeof(*t)) != 0 ||
			    s->regport != p->p.registration_port) {
				fanout_sub_reset(s);
				s->target = *t;
				s->regport = p->p.registration_port;
				if (t->family != AF_UNIX)
					s->src_ok = fanout_source(t, p->p.registration_port, &s->src);
				if (t->mode == FCTL_FRAMED_TCP)
					s->buf = malloc(FANOUT_TCP_BUF);
			}
			s->gen = f->gen;
		}
	}
	for (size_t i = 0; i < FANOUT_SUBS_CAP; i++) {
		struct fanout_sub *s = &f->subs[i];

		if (s->id != 0 && s->gen != f->gen) {
			fanout_sub_reset(s);
			s->id = 0;
			removed = true;
		}
	}
	/* Free slots in the middle of a probe run would hide later entries. */
	for (size_t i = 0; removed && i < FANOUT_SUBS_CAP; i++) {
		struct fanout_sub tmp, *s = &f->subs[i];

		if (s->id == 0)
			continue;
		tmp = *s;
		s->id = 0;
		*fanout_sub_find(f, tmp.id, true) = tmp;
	}
}

/* ---- queueing and sending ---------------------------------------------- */

static void fanout_count(struct fctl_sub_counters *c, uint64_t *field, size_t bytes,
			 int64_t now)
{
	fanout_add(field, 1);
	if (field == &c->copies) {
		fanout_add(&c->bytes, bytes);
		__atomic_store_n(&c->last_sent, now, __ATOMIC_RELAXED);
	}
}

/* Sends what tx holds; a failed copy costs only itself. */
static void fanout_flush(struct fanout *f, struct fanout_tx *tx)
{
	size_t done = 0;

	while (done < tx->n) {
		int r = sendmmsg(tx->fd, tx->msg + done, (unsigned)(tx->n - done), MSG_DONTWAIT);

		if (r > 0) {
			for (size_t i = done; i < done + (size_t)r; i++)
				fanout_count(tx->c[i], &tx->c[i]->copies, tx->bytes[i], f->now_s);
			done += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* The copy at done failed: count it and go on with the next. */
		if (errno == EAGAIN || errno == ENOBUFS)
			fanout_count(tx->c[done], &tx->c[done]->drops, 0, f->now_s);
		else
			fanout_count(tx->c[done], &tx->c[done]->errors, 0, f->now_s);
		done++;
	}
	tx->n = 0;
}

/* Appends one message to tx, flushing first when it is full; returns its slot. */
static size_t fanout_slot(struct fanout *f, struct fanout_tx *tx,
			  struct fctl_sub_counters *c, size_t bytes)
{
	size_t i;

	if (tx->n == FANOUT_TX_MAX)
		fanout_flush(f, tx);
	i = tx->n++;
	tx->c[i] = c;
	tx->bytes[i] = bytes;
	memset(&tx->msg[i], 0, sizeof(tx->msg[i]));
	tx->msg[i].msg_hdr.msg_iov = tx->iov[i];
	tx->msg[i].msg_hdr.msg_name = &tx->to[i];
	return i;
}

/*
 * A copy to an IP subscriber through the raw socket of its family, framed
 * by h when h is not NULL.
 */
static void fanout_queue_ip(struct fanout *f, const struct fanout_sub *s,
			    struct fctl_sub_counters *c, const struct fanpkt_udp *d,
			    const struct fanframe_hdr *h)
{
	const bool spoof = s->target.mode == FCTL_SPOOF;
	struct fanpkt_end dst = { .family = s->target.family, .port = s->target.port };
	struct fanout_tx *tx = f->tx[s->target.family == AF_INET ? FANOUT_TX_RAW4 : FANOUT_TX_RAW6];
	const uint8_t *parts[2];
	size_t lens[2], n = 0, i, hlen;
	socklen_t tolen;

	if (tx->fd < 0 || (!spoof && !s->src_ok) || (spoof && d->src.family != dst.family)) {
		/* No raw socket, no route to it, or an origin of another family. */
		fanout_count(c, &c->errors, 0, f->now_s);
		return;
	}
	memcpy(dst.addr, s->target.addr, 16);
	i = fanout_slot(f, tx, c, d->len);
	if (h) {
		fanframe_encode(h, tx->frame[i]);
		parts[n] = tx->frame[i];
		lens[n++] = FANFRAME_HDR_LEN;
	}
	parts[n] = d->payload;
	lens[n++] = d->len;
	hlen = fanpkt_build(spoof ? &d->src : &s->src, &dst, parts, lens, n, tx->hdr[i]);
	if (hlen == 0) {
		tx->n--;
		fanout_count(c, &c->errors, 0, f->now_s);
		return;
	}
	tx->iov[i][0] = (struct iovec){ tx->hdr[i], hlen };
	for (size_t k = 0; k < n; k++)
		tx->iov[i][k + 1] = (struct iovec){ (void *)parts[k], lens[k] };
	tx->msg[i].msg_hdr.msg_iovlen = n + 1;
	fanout_sockaddr(&s->target, &tx->to[i], &tolen, true);
	tx->msg[i].msg_hdr.msg_namelen = tolen;
}

static void fanout_queue_unix(struct fanout *f, const struct fanout_sub *s,
			      struct fctl_sub_counters *c, const struct fanpkt_udp *d,
			      const struct fanframe_hdr *h)
{
	struct fanout_tx *tx = f->tx[FANOUT_TX_UNIX];
	socklen_t tolen;
	size_t i;

	if (tx->fd < 0) {
		fanout_count(c, &c->errors, 0, f->now_s);
		return;
	}
	i = fanout_slot(f, tx, c, d->len);
	fanframe_encode(h, tx->frame[i]);
	tx->iov[i][0] = (struct iovec){ tx->frame[i], FANFRAME_HDR_LEN };
	tx->iov[i][1] = (struct iovec){ (void *)d->payload, d->len };
	tx->msg[i].msg_hdr.msg_iovlen = 2;
	fanout_sockaddr(&s->target, &tx->to[i], &tolen, false);
	tx->msg[i].msg_hdr.msg_namelen = tolen;
}

static void fanout_queue_tcp(struct fanout *f, struct fanout_sub *s,
			     struct fctl_sub_counters *c, const struct fanpkt_udp *d,
			     const struct fanframe_hdr *h)
{
	if (!s->buf || s->fd < 0 || s->connecting ||
	    FANOUT_TCP_BUF - s->len < FANFRAME_HDR_LEN + d->len) {
		/* Not connected, or the connection is behind: this copy is lost. */
		fanout_count(c, &c->drops, 0, f->now_s);
		return;
	}
	fanframe_encode(h, s->buf + s->len);
	memcpy(s->buf + s->len + FANFRAME_HDR_LEN, d->payload, d->len);
	s->len += FANFRAME_HDR_LEN + d->len;
	/* Counted as sent once buffered: the stream delivers it or breaks. */
	fanout_count(c, &c->copies, d->len, f->now_s);
}

/*
 * The contested port a datagram was sent to: of the enabled ports with its
 * port number, the first by id that takes any address or its address.
 */
static const struct fctl_snap_port *fanout_port(const struct fctl_snap *snap,
						const struct fanpkt_udp *d)
{
	size_t lo = 0, hi = snap ? snap->nbyport : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (snap->byport[mid]->p.port < d->dst.port)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; snap && lo < snap->nbyport && snap->byport[lo]->p.port == d->dst.port; lo++) {
		const struct fctl_port *p = &snap->byport[lo]->p;

		if (p->family == 0 ||
		    (p->family == d->dst.family && memcmp(p->addr, d->dst.addr, 16) == 0))
			return snap->byport[lo];
	}
	return NULL;
}

/* Queues the copies of one datagram. */
static void fanout_datagram(struct fanout *f, const struct fctl_snap *snap,
			    const uint8_t *pkt, size_t len)
{
	const struct fctl_snap_port *p;
	struct fanframe_hdr h;
	struct fanpkt_udp d;
	uint64_t seq;

	if (!fanpkt_parse(pkt, len, &d)) {
		fanout_add(&f->stats.malformed, 1);
		return;
	}
	fanout_add(&f->stats.datagrams, 1);
	p = fanout_port(snap, &d);
	if (!p) {
		fanout_add(&f->stats.unmatched, 1);
		return;
	}
	seq = __atomic_add_fetch(&p->c->datagrams, 1, __ATOMIC_RELAXED);
	fanout_add(&p->c->bytes, d.len);
	h = (struct fanframe_hdr){ .family = d.src.family == AF_INET ? 4 : 6,
				   .origin_port = d.src.port, .contested_port = d.dst.port,
				   .len = (uint32_t)d.len };
	memcpy(h.addr, d.src.addr, 16);
	for (size_t k = 0; k < p->nsubs; k++) {
		const struct fctl_snap_sub *ss = &p->subs[k];
		struct fanout_sub *s;

		/* 1 in N: the same datagrams for every subscriber with the same N. */
		if (ss->s.sample_every > 1 && seq % ss->s.sample_every != 0)
			continue;
		s = fanout_sub_find(f, ss->s.id, false);
		if (!s) {
			fanout_count(ss->c, &ss->c->drops, 0, f->now_s);
			continue;
		}
		switch (ss->s.mode) {
		case FCTL_RAW:
		case FCTL_SPOOF:
			fanout_queue_ip(f, s, ss->c, &d, NULL);
			break;
		case FCTL_FRAMED_UDP:
			fanout_queue_ip(f, s, ss->c, &d, &h);
			break;
		case FCTL_FRAMED_TCP:
			fanout_queue_tcp(f, s, ss->c, &d, &h);
			break;
		case FCTL_FRAMED_UNIX:
			fanout_queue_unix(f, s, ss->c, &d, &h);
			break;
		case FCTL_MODE_COUNT:
			break;
		}
	}
}

static int fanout_nl_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= NFULA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

/* Walks one netlink datagram of NFLOG packets. */
static void fanout_nl_datagram(struct fanout *f, const struct fctl_snap *snap,
			       const uint8_t *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int rem = (int)len;

	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		const struct nlattr *tb[NFULA_MAX + 1] = { 0 };

		if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFULNL_MSG_PACKET)
			continue;
		if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), fanout_nl_attr, tb) < 0 ||
		    !tb[NFULA_PAYLOAD]) {
			fanout_add(&f->stats.malformed, 1);
			continue;
		}
		fanout_datagram(f, snap, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
				mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]));
	}
}

/* ---- TCP subscribers --------------------------------------------------- */

/* Writes what a connection can take; a broken one is closed and retried later. */
static void fanout_tcp_write(struct fanout *f, struct fanout_sub *s)
{
	ssize_t w;

	if (s->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0)
			goto broken;
		s->connecting = false;
	}
	while (s->len > 0) {
		w = send(s->fd, s->buf, s->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (w <= 0)
			goto broken;
		memmove(s->buf, s->buf + w, s->len - (size_t)w);
		s->len -= (size_t)w;
	}
	return;
broken:
	close(s->fd);
	s->fd = -1;
	s->connecting = false;
	/* A frame cut in half would garble the stream: start afresh. */
	s->len = 0;
	s->retry_ms = f->now_ms + FANOUT_RECONNECT_MS;
}

/*
 * Fills pfd with the TCP connections to watch after the NFLOG socket and
 * (re)connects those that are due.  Returns how many it added; idx maps
 * them back to subscribers.
 */
static size_t fanout_tcp_poll(struct fanout *f, struct pollfd *pfd, size_t *idx,
			      size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < FANOUT_SUBS_CAP && n < max; i++) {
		struct fanout_sub *s = &f->subs[i];

		if (s->id == 0 || s->target.mode != FCTL_FRAMED_TCP || !s->buf)
			continue;
		if (s->fd < 0 && f->now_ms >= s->retry_ms)
			fanout_tcp_connect(f, s);
		if (s->fd < 0 || (!s->connecting && s->len == 0))
			continue;
		pfd[n] = (struct pollfd){ .fd = s->fd, .events = POLLOUT };
		idx[n++] = i;
	}
	return n;
}

/* ---- the thread -------------------------------------------------------- */

/* Reads what NFLOG holds, without waiting; returns how many datagrams. */
static size_t fanout_receive(struct fanout *f)
{
	size_t n = 0;

	while (n < FANOUT_RX_BATCH) {
		ssize_t r = recv(mnl_socket_get_fd(f->nl), f->rx + n * FANOUT_RX, FANOUT_RX,
				 MSG_DONTWAIT);

		if (r < 0) {
			if (errno == ENOBUFS) {
				fanout_add(&f->stats.overruns, 1);
				continue;
			}
			break;
		}
		f->rxlen[n++] = (size_t)r;
	}
	return n;
}

static void *fanout_run(void *arg)
{
	struct fanout *f = arg;
	struct pollfd pfd[1 + 64];
	size_t idx[64];

	urcu_memb_register_thread();
	while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
		const struct fctl_snap *snap;
		size_t ntcp, nrx;

		f->now_ms = fanout_clock_ms();
		f->now_s = time(NULL);
		pfd[0] = (struct pollfd){ .fd = mnl_socket_get_fd(f->nl), .events = POLLIN };
		ntcp = fanout_tcp_poll(f, pfd + 1, idx, ARRAY_LEN(idx));
		if (poll(pfd, 1 + ntcp, FANOUT_POLL_MS) < 0 && errno != EINTR)
			break;
		nrx = pfd[0].revents ? fanout_receive(f) : 0;
		urcu_memb_read_lock();
		snap = fctl_read();
		fanout_sync(f, snap);
		for (size_t i = 0; i < nrx; i++)
			fanout_nl_datagram(f, snap, f->rx + i * FANOUT_RX, f->rxlen[i]);
		for (size_t t = 0; t < FANOUT_TX_COUNT; t++)
			fanout_flush(f, f->tx[t]);
		urcu_memb_read_unlock();
		for (size_t i = 0; i < ntcp; i++)
			if (pfd[1 + i].revents)
				fanout_tcp_write(f, &f->subs[idx[i]]);
		for (size_t i = 0; i < FANOUT_SUBS_CAP; i++)
			if (f->subs[i].id && f->subs[i].fd >= 0 && f->subs[i].len && !f->subs[i].connecting)
				fanout_tcp_write(f, &f->subs[i]);
	}
	urcu_memb_unregister_thread();
	return NULL;
}

struct fanout *fanout_start(const struct fanout_config *cfg, char *errbuf,
			    size_t errlen)
{
	struct fanout *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	f->cfg = *cfg;
	f->unix_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	f->rx = malloc((size_t)FANOUT_RX_BATCH * FANOUT_RX);
	for (size_t t = 0; t < FANOUT_TX_COUNT; t++) {
		f->tx[t] = calloc(1, sizeof(*f->tx[t]));
		if (!f->tx[t])
			break;
	}
	for (size_t i = 0; i < FANOUT_SUBS_CAP; i++)
		f->subs[i].fd = -1;
	if (!f->rx || !f->tx[FANOUT_TX_COUNT - 1]) {
		snprintf(errbuf, errlen, "out of memory");
		goto err;
	}
	f->tx[FANOUT_TX_RAW4]->fd = cfg->raw_fd[0];
	f->tx[FANOUT_TX_RAW6]->fd = cfg->raw_fd[1];
	f->tx[FANOUT_TX_UNIX]->fd = f->unix_fd;
	if (fanout_nl_open(f, errbuf, errlen) < 0)
		goto err;
	errno = pthread_create(&f->thread, NULL, fanout_run, f);
	if (errno) {
		snprintf(errbuf, errlen, "fan-out thread: %s", strerror(errno));
		goto err;
	}
	f->started = true;
	return f;
err:
	fanout_stop(f);
	return NULL;
}

void fanout_stop(struct fanout *f)
{
	if (!f)
		return;
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
	if (f->started)
		pthread_join(f->thread, NULL);
	for (size_t i = 0; i < FANOUT_SUBS_CAP; i++)
		if (f->subs[i].id)
			fanout_sub_reset(&f->subs[i]);
	if (f->nl)
		mnl_socket_close(f->nl);
	if (f->unix_fd >= 0)
		close(f->unix_fd);
	for (size_t t = 0; t < FANOUT_TX_COUNT; t++)
		free(f->tx[t]);
	free(f->rx);
	free(f);
}

void fanout_stats(struct fanout *f, struct fanout_stats *out)
{
	out->datagrams = __atomic_load_n(&f->stats.datagrams, __ATOMIC_RELAXED);
	out->unmatched = __atomic_load_n(&f->stats.unmatched, __ATOMIC_RELAXED);
	out->malformed = __atomic_load_n(&f->stats.malformed, __ATOMIC_RELAXED);
	out->overruns = __atomic_load_n(&f->stats.overruns, __ATOMIC_RELAXED);
}

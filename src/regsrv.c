/*
 * regsrv: see regsrv.h.
 *
 * DESIGN.  One thread, the registrar, owns the registration sockets: one
 * dual-stack UDP socket per registration port, bound to every local address,
 * opened and closed as contested ports come and go (it follows the fctl
 * snapshot).  It may block on a name lookup or on the control plane's
 * sqlite write, which is why registration is not the copier's work.  The
 * control plane tells it about removed ports through regsrv_gone, on the
 * writer's thread: that only appends to a queue under a mutex, and the
 * registrar sends the SHUTDOWNs on its next round, from the registration
 * port (a socket is bound again for the purpose when the port's own is
 * already closed).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <urcu/urcu-memb.h>

#include "control.h"
#include "groupjson.h"
#include "log.h"
#include "regproto.h"
#include "regsrv.h"
#include "util.h"

#define REGSRV_SOCKS_MAX 64
#define REGSRV_POLL_MS 200
#define REGSRV_LOG_SECONDS 10
/* Requests read from one socket per round, so one busy port cannot starve the rest. */
#define REGSRV_READS 64
/* Sources whose request rate is tracked; a newcomer evicts a collision. */
#define REGSRV_RATE_SLOTS 1024
/* SHUTDOWNs waiting to be sent. */
#define REGSRV_PENDING_MAX 4096

struct regsrv_sock {
	uint16_t port; /* the registration port; 0: a free slot */
	int fd;
	bool seen;
};

/* A SHUTDOWN to send: to whom, and what it names. */
struct regsrv_notice {
	struct fctl_sub to;
	struct fctl_port from;
};

struct regsrv_bucket {
	uint8_t addr[16];
	double tokens;
	int64_t last_ms;
};

struct regsrv {
	struct regsrv_config cfg;
	struct control *ctl;
	pthread_t thread;
	bool started;
	int stop;
	struct regsrv_sock socks[REGSRV_SOCKS_MAX];
	pthread_mutex_t lock; /* guards pending */
	struct regsrv_notice *pending;
	size_t npending;
	struct regsrv_bucket buckets[REGSRV_RATE_SLOTS];
	struct regsrv_stats stats;
	struct regsrv_stats logged; /* the refusals as last logged */
	int64_t next_log;
};

static void regsrv_add(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static int64_t regsrv_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool regsrv_net_parse(const char *s, struct regsrv_net *net)
{
	struct mapping_error err;

	memset(net, 0, sizeof(*net));
	return groupjson_cidr_parse(s, "", &net->family, net->addr, &net->prefix_len, &err);
}

static bool regsrv_in_nets(const struct regsrv_net *nets, size_t n, uint8_t family,
			   const uint8_t addr[16])
{
	for (size_t i = 0; i < n; i++)
		if (nets[i].family == family && util_prefix_eq(nets[i].addr, addr, nets[i].prefix_len))
			return true;
	return false;
}

/*
 * A source address as its family sees it: an IPv4 client of a dual-stack
 * socket arrives as ::ffff:a.b.c.d.
 */
static void regsrv_addr(const struct sockaddr_storage *ss, uint8_t *family,
			uint8_t addr[16], uint16_t *port)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(addr, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		*family = AF_INET;
		memcpy(addr, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return;
	}
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

	*port = ntohs(sin6->sin6_port);
	if (memcmp(&sin6->sin6_addr, mapped, 12) == 0) {
		*family = AF_INET;
		memcpy(addr, (const uint8_t *)&sin6->sin6_addr + 12, 4);
	} else {
		*family = AF_INET6;
		memcpy(addr, &sin6->sin6_addr, 16);
	}
}

/* A destination for a dual-stack socket: IPv4 as a mapped address. */
static socklen_t regsrv_sockaddr(uint8_t family, const uint8_t addr[16], uint16_t port,
				 int sock_family, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (sock_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	if (family == AF_INET) {
		((uint8_t *)&sin6->sin6_addr)[10] = 0xff;
		((uint8_t *)&sin6->sin6_addr)[11] = 0xff;
		memcpy((uint8_t *)&sin6->sin6_addr + 12, addr, 4);
	} else {
		memcpy(&sin6->sin6_addr, addr, 16);
	}
	return sizeof(*sin6);
}

/* A token bucket per source address: rate per second, bursts of twice that. */
static bool regsrv_rate_ok(struct regsrv *r, const uint8_t addr[16], int64_t now)
{
	struct regsrv_bucket *b =
		&r->buckets[util_fnv1a(addr, 16) & (REGSRV_RATE_SLOTS - 1)];
	const double burst = 2.0 * r->cfg.rate;

	if (memcmp(b->addr, addr, 16) != 0 || b->last_ms == 0) {
		memcpy(b->addr, addr, 16);
		b->tokens = burst;
		b->last_ms = now;
	}
	b->tokens += (double)(now - b->last_ms) * r->cfg.rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last_ms = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

/* ---- sockets ----------------------------------------------------------- */

/* A UDP socket bound to port on every local address, dual-stack when possible. */
static int regsrv_bind(uint16_t port, bool reuse)
{
	struct sockaddr_storage ss;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int zero = 0, one = 1;
	socklen_t len;

	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		len = regsrv_sockaddr(AF_INET6, (const uint8_t[16]){ 0 }, port, AF_INET6, &ss);
	} else {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		len = regsrv_sockaddr(AF_INET, (const uint8_t[16]){ 0 }, port, AF_INET, &ss);
	}
	if (reuse)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int regsrv_sock_family(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 ? ss.ss_family : AF_INET;
}

static struct regsrv_sock *regsrv_sock(struct regsrv *r, uint16_t port)
{
	for (size_t i = 0; i < REGSRV_SOCKS_MAX; i++)
		if (r->socks[i].port == port)
			return &r->socks[i];
	return NULL;
}

/* Opens the sockets of new registration ports and closes those gone. */
static void regsrv_sync(struct regsrv *r, const struct fctl_snap *snap)
{
	for (size_t i = 0; i < REGSRV_SOCKS_MAX; i++)
		r->socks[i].seen = false;
	for (size_t i = 0; snap && i < snap->nports; i++) {
		const struct fctl_port *p = &snap->ports[i].p;
		struct regsrv_sock *s;

		if (!p->enabled)
			continue;
		s = regsrv_sock(r, p->registration_port);
		if (!s) {
			int fd = regsrv_bind(p->registration_port, false);

			s = fd >= 0 ? regsrv_sock(r, 0) : NULL;
			if (!s) {
				/* Logged each round until it works: rare, and worth seeing. */
				log_warn("registration port %u for port %u", p->registration_port, p->port);
				if (fd >= 0)
					close(fd);
				continue;
			}
			*s = (struct regsrv_sock){ p->registration_port, fd, false };
		}
		s->seen = true;
	}
	for (size_t i = 0; i < REGSRV_SOCKS_MAX; i++) {
		if (r->socks[i].port && !r->socks[i].seen) {
			close(r->socks[i].fd);
			r->socks[i].port = 0;
		}
	}
}

/* ---- SHUTDOWN ---------------------------------------------------------- */

/* The local address routing picks toward (family, addr), as text. */
static void regsrv_local_toward(uint8_t family, const uint8_t addr[16], char *out,
				size_t cap)
{
	struct sockaddr_storage to, me;
	socklen_t len = sizeof(me);
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(out, cap, "%s", family == AF_INET ? "0.0.0.0" : "::");
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&to,
		    regsrv_sockaddr(family, addr, 9, family, &to)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&me, &len) == 0)
		inet_ntop(family, family == AF_INET ? (void *)&((struct sockaddr_in *)&me)->sin_addr
						    : (void *)&((struct sockaddr_in6 *)&me)->sin6_addr,
			  out, (socklen_t)cap);
	close(fd);
}

static void regsrv_send_shutdown(struct regsrv *r, const struct regsrv_notice *n)
{
	char text[REGPROTO_MAX], addr[INET6_ADDRSTRLEN];
	struct sockaddr_storage to;
	struct regsrv_sock *s;
	size_t len;
	int fd = -1;
	bool own = false;

	if (n->to.mode == FCTL_FRAMED_TCP)
		return; /* its connection closing is its notice */
	if (n->from.family)
		inet_ntop(n->from.family, n->from.addr, addr, sizeof(addr));
	else if (n->to.family == AF_UNIX)
		snprintf(addr, sizeof(addr), "127.0.0.1");
	else
		regsrv_local_toward(n->to.family, n->to.addr, addr, sizeof(addr));
	len = regproto_format_shutdown(addr, n->from.port, text, sizeof(text));
	if (len == 0)
		return;
	if (n->to.family == AF_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&to;

		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		memset(&to, 0, sizeof(to));
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", n->to.path);
		if (fd >= 0 && sendto(fd, text, len, 0, (struct sockaddr *)&to, sizeof(*sun)) >= 0)
			regsrv_add(&r->stats.shutdowns);
		if (fd >= 0)
			close(fd);
		return;
	}
	s = regsrv_sock(r, n->from.registration_port);
	if (s) {
		fd = s->fd;
	} else {
		fd = regsrv_bind(n->from.registration_port, true);
		own = true;
	}
	if (fd < 0)
		return;
	if (sendto(fd, text, len, 0, (struct sockaddr *)&to,
		   regsrv_sockaddr(n->to.family, n->to.addr, n->to.port, regsrv_sock_family(fd),
				   &to)) >= 0)
		regsrv_add(&r->stats.shutdowns);
	if (own)
		close(fd);
}

void regsrv_gone(const struct fctl_port *p, const struct fctl_sub *subs,
		 size_t n, void *arg)
{
	struct regsrv *r = arg;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < n && r->npending < REGSRV_PENDING_MAX; i++)
		r->pending[r->npending++] = (struct regsrv_notice){ subs[i], *p };
	pthread_mutex_unlock(&r->lock);
}

/* Sends the queued SHUTDOWNs; the queue is swapped out under the lock. */
static void regsrv_send_pending(struct regsrv *r)
{
	struct regsrv_notice *batch;
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->npending;
	if (n == 0) {
		pthread_mutex_unlock(&r->lock);
		return;
	}
	batch = malloc(n * sizeof(*batch));
	if (batch)
		memcpy(batch, r->pending, n * sizeof(*batch));
	r->npending = 0;
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; batch && i < n; i++)
		regsrv_send_shutdown(r, &batch[i]);
	free(batch);
}

/* ---- requests ---------------------------------------------------------- */

/* What a request's control-plane callback works on. */
struct regsrv_op {
	uint16_t contested;   /* the port number the request named */
	uint16_t regport;     /* the registration port it came to */
	struct fctl_sub sub;  /* the subscriber it names */
	unsigned max_subs;
	enum regproto_reply reply;
	struct fctl_port port; /* filled on success: the contested port */
};

/* Finds the contested port the request is about, served on this registration port. */
static int regsrv_find_port(struct fctl *f, struct regsrv_op *op, struct mapping_error *err)
{
	struct fctl_port_view v;
	int64_t id;

	if (fctl_port_by_number(f, op->contested, &id, err) < 0 ||
	    fctl_port_get(f, id, &v, err) < 0 || v.p.registration_port != op->regport ||
	    !v.p.enabled) {
		op->reply = REGPROTO_R_PORT_MISSING;
		return -1;
	}
	op->port = v.p;
	op->sub.port_id = id;
	return 0;
}

static int regsrv_do_add(struct fctl *f, void *arg, struct mapping_error *err)
{
	struct regsrv_op *op = arg;
	struct fctl_port_view v;

	if (regsrv_find_port(f, op, err) < 0)
		return -1;
	if (fctl_port_get(f, op->sub.port_id, &v, err) == 0 && v.nsubs >= op->max_subs) {
		int64_t id;

		/* Already there counts before full: a re-ADD is answered as one. */
		op->reply = fctl_sub_find(f, op->sub.port_id, &op->sub, &id, err) == 0
				    ? REGPROTO_R_ALREADY : REGPROTO_R_TOO_MANY;
		return -1;
	}
	if (fctl_sub_create(f, &op->sub, err) < 0 && err->status != 503) {
		op->reply = err->status == 409 && strcmp(err->code, "too_many") == 0
				    ? REGPROTO_R_TOO_MANY
			    : err->status == 409 ? REGPROTO_R_ALREADY
						 : REGPROTO_R_INVALID_ADDR;
		return -1;
	}
	op->reply = REGPROTO_R_OK_ADD;
	return 0;
}

static int regsrv_do_drop(struct fctl *f, void *arg, struct mapping_error *err)
{
	struct regsrv_op *op = arg;
	int64_t id;

	if (regsrv_find_port(f, op, err) < 0)
		return -1;
	if (fctl_sub_find(f, op->sub.port_id, &op->sub, &id, err) < 0) {
		op->reply = REGPROTO_R_NOT_IN_LIST;
		return -1;
	}
	if (fctl_sub_delete(f, id, err) < 0 && err->status != 503) {
		op->reply = REGPROTO_R_NOT_IN_LIST;
		return -1;
	}
	op->reply = REGPROTO_R_OK;
	return 0;
}

/* Resolves host for a requester of family; literals need no lookup. */
static bool regsrv_resolve(const char *host, uint8_t family, uint8_t *out_family,
			   uint8_t out[16])
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL, *ai;
	bool ok = false;

	memset(out, 0, 16);
	if (inet_pton(AF_INET, host, out) == 1) {
		*out_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, host, out) == 1) {
		*out_family = AF_INET6;
		return true;
	}
	if (host[0] == '\0' || getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	/* The requester's own family first: its own name most likely means it. */
	for (int pass = 0; pass < 2 && !ok; pass++) {
		for (ai = res; ai && !ok; ai = ai->ai_next) {
			if ((pass == 0) != (ai->ai_family == family))
				continue;
			if (ai->ai_family == AF_INET) {
				memcpy(out, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
				ok = true;
			} else if (ai->ai_family == AF_INET6) {
				memcpy(out, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
				ok = true;
			}
			if (ok)
				*out_family = (uint8_t)ai->ai_family;
		}
	}
	freeaddrinfo(res);
	return ok;
}

/*
 * Decides one request from (family, addr, sport) that arrived on regport
 * at local address local.  Returns the reply's length in out, or 0 when
 * the request gets no answer.
 */
static size_t regsrv_request(struct regsrv *r, uint16_t regport, const char *msg,
			     size_t len, uint8_t family, const uint8_t addr[16],
			     uint16_t sport, const char *local, char *out, size_t cap)
{
	struct regproto_request req;
	struct regsrv_op op = { .regport = regport, .max_subs = r->cfg.max_subs };
	struct mapping_error err = { 0 };
	char primary[INET6_ADDRSTRLEN];
	bool admin;
	int rc;

	if (!regsrv_in_nets(r->cfg.allow, r->cfg.nallow, family, addr)) {
		regsrv_add(&r->stats.refused_net);
		return 0;
	}
	if (!regsrv_rate_ok(r, addr, regsrv_ms())) {
		regsrv_add(&r->stats.refused_rate);
		return 0;
	}
	if (!regproto_parse_request(msg, len, &req)) {
		regsrv_add(&r->stats.malformed);
		return 0;
	}
	regsrv_add(&r->stats.requests);
	/* What the text alone decides (unknown verb, bad host, no port) comes first. */
	if (!regproto_request_check(&req, &op.reply))
		return regproto_format_reply(op.reply, NULL, 0, out, cap);
	op.reply = REGPROTO_R_OK;
	op.contested = req.port;
	op.sub.mode = FCTL_RAW;
	op.sub.sample_every = 1;
	op.sub.registered = true;
	op.sub.port = req.has_delivery ? req.delivery_port : sport;
	if (!regsrv_resolve(req.host, family, &op.sub.family, op.sub.addr))
		return regproto_format_reply(REGPROTO_R_INVALID_ADDR, NULL, 0, out, cap);
	admin = regsrv_in_nets(r->cfg.admin, r->cfg.nadmin, family, addr);
	if (!admin && (op.sub.family != family || memcmp(op.sub.addr, addr, 16) != 0)) {
		/* Copies to someone else's address: the amplifier this refuses. */
		regsrv_add(&r->stats.refused_foreign);
		return regproto_format_reply(REGPROTO_R_NOT_PERMITTED, NULL, 0, out, cap);
	}
	rc = control_fanout_write(r->ctl, req.cmd == REGPROTO_ADD ? regsrv_do_add : regsrv_do_drop,
				  &op, NULL, &err);
	if (rc < 0 && op.reply == REGPROTO_R_OK)
		return 0; /* the control plane failed before deciding: say nothing */
	if (op.reply == REGPROTO_R_TOO_MANY)
		regsrv_add(&r->stats.refused_cap);
	if (op.reply == REGPROTO_R_OK_ADD)
		regsrv_add(&r->stats.added);
	if (op.reply == REGPROTO_R_OK)
		regsrv_add(&r->stats.dropped);
	if (op.port.family)
		inet_ntop(op.port.family, op.port.addr, primary, sizeof(primary));
	else
		snprintf(primary, sizeof(primary), "%s", local);
	return regproto_format_reply(op.reply, primary, op.contested, out, cap);
}

/* The local address a datagram arrived on, from its packet info, as text. */
static void regsrv_local(struct msghdr *mh, char *out, size_t cap)
{
	snprintf(out, cap, "0.0.0.0");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			inet_ntop(AF_INET, &pi.ipi_addr, out, (socklen_t)cap);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr))
				inet_ntop(AF_INET, (uint8_t *)&pi.ipi6_addr + 12, out, (socklen_t)cap);
			else
				inet_ntop(AF_INET6, &pi.ipi6_addr, out, (socklen_t)cap);
		}
	}
}

/* Reads and answers what one registration socket holds. */
static void regsrv_serve(struct regsrv *r, struct regsrv_sock *s)
{
	for (int i = 0; i < REGSRV_READS; i++) {
		char msg[REGPROTO_MAX + 1], reply[REGPROTO_MAX], local[INET6_ADDRSTRLEN];
		union {
			struct cmsghdr align;
			char buf[256];
		} ctl;
		struct sockaddr_storage from;
		struct iovec iov = { msg, sizeof(msg) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		uint8_t family, addr[16];
		uint16_t sport;
		ssize_t n = recvmsg(s->fd, &mh, MSG_DONTWAIT);
		size_t len;

		if (n < 0)
			return;
		regsrv_local(&mh, local, sizeof(local));
		regsrv_addr(&from, &family, addr, &sport);
		len = regsrv_request(r, s->port, msg, (size_t)n, family, addr, sport, local,
				     reply, sizeof(reply));
		if (len > 0)
			sendto(s->fd, reply, len, 0, (struct sockaddr *)&from, mh.msg_namelen);
	}
}

/* Logs the refusals of the last interval, if there were any. */
static void regsrv_log(struct regsrv *r, int64_t now)
{
	struct regsrv_stats st;

	if (now < r->next_log)
		return;
	r->next_log = now + REGSRV_LOG_SECONDS;
	regsrv_stats(r, &st);
	if (st.refused_net == r->logged.refused_net &&
	    st.refused_foreign == r->logged.refused_foreign &&
	    st.refused_rate == r->logged.refused_rate && st.refused_cap == r->logged.refused_cap)
		return;
	log_warnx("registration refused in the last %d s: %" PRIu64 " from outside the allowed "
		  "networks, %" PRIu64 " naming another address, %" PRIu64 " over the rate limit, %"
		  PRIu64 " over the subscriber cap", REGSRV_LOG_SECONDS,
		  st.refused_net - r->logged.refused_net,
		  st.refused_foreign - r->logged.refused_foreign,
		  st.refused_rate - r->logged.refused_rate, st.refused_cap - r->logged.refused_cap);
	r->logged = st;
}

/* Queues a SHUTDOWN for every subscriber of every enabled port (the daemon stops). */
static void regsrv_farewell(struct regsrv *r)
{
	const struct fctl_snap *snap;

	urcu_memb_read_lock();
	snap = fctl_read();
	for (size_t i = 0; snap && i < snap->nports; i++) {
		const struct fctl_snap_port *p = &snap->ports[i];

		if (!p->p.enabled)
			continue;
		for (size_t k = 0; k < p->nsubs; k++) {
			struct regsrv_notice n = { p->subs[k].s, p->p };

			regsrv_send_shutdown(r, &n);
		}
	}
	urcu_memb_read_unlock();
}

static void *regsrv_run(void *arg)
{
	struct regsrv *r = arg;

	urcu_memb_register_thread();
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd[REGSRV_SOCKS_MAX];
		size_t idx[REGSRV_SOCKS_MAX], n = 0;

		/* The notices first: they may need the sockets regsrv_sync closes. */
		regsrv_send_pending(r);
		urcu_memb_read_lock();
		regsrv_sync(r, fctl_read());
		urcu_memb_read_unlock();
		for (size_t i = 0; i < REGSRV_SOCKS_MAX; i++) {
			if (!r->socks[i].port)
				continue;
			pfd[n] = (struct pollfd){ .fd = r->socks[i].fd, .events = POLLIN };
			idx[n++] = i;
		}
		if (poll(pfd, n, REGSRV_POLL_MS) < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < n; i++)
			if (pfd[i].revents)
				regsrv_serve(r, &r->socks[idx[i]]);
		regsrv_log(r, time(NULL));
	}
	regsrv_send_pending(r);
	regsrv_farewell(r);
	urcu_memb_unregister_thread();
	return NULL;
}

struct regsrv *regsrv_new(const struct regsrv_config *cfg)
{
	struct regsrv *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->pending = calloc(REGSRV_PENDING_MAX, sizeof(*r->pending));
	if (!r->pending) {
		free(r);
		return NULL;
	}
	r->cfg = *cfg;
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

int regsrv_start(struct regsrv *r, struct control *ctl, char *errbuf, size_t errlen)
{
	r->ctl = ctl;
	errno = pthread_create(&r->thread, NULL, regsrv_run, r);
	if (errno) {
		snprintf(errbuf, errlen, "registration thread: %s", strerror(errno));
		return -1;
	}
	r->started = true;
	return 0;
}

void regsrv_stop(struct regsrv *r)
{
	if (!r)
		return;
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	if (r->started)
		pthread_join(r->thread, NULL);
	for (size_t i = 0; i < REGSRV_SOCKS_MAX; i++)
		if (r->socks[i].port)
			close(r->socks[i].fd);
	pthread_mutex_destroy(&r->lock);
	free(r->pending);
	free(r);
}

void regsrv_stats(struct regsrv *r, struct regsrv_stats *out)
{
	const uint64_t *in = (const uint64_t *)&r->stats;
	uint64_t *o = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		o[i] = __atomic_load_n(&in[i], __ATOMIC_RELAXED);
}

/*
 * nfqbare: the bare NFQUEUE consumer the benchmark measures portshared
 * against.  It is the ceiling of the NFQUEUE path on the machine: what is
 * left when a consumer does nothing but take packets and give verdicts.
 *
 * DESIGN.  One thread per queue (-q FIRST:COUNT), each with its own
 * netlink socket, sharing nothing but the stop flag.  A thread loops:
 * recvmmsg a batch of up to -b datagrams (blocking for the first), parse
 * every packet message, and send all verdicts of the batch in one sendmsg,
 * concatenated.  Queue setup is the daemon's (src/nfq.c): copy the whole
 * packet, queue length 8192, F_GSO, 64 MiB receive buffer,
 * NETLINK_NO_ENOBUFS.
 *
 * --rewrite IN:OUT makes it the minimal batched rewriter: TCP and UDP
 * datagrams to port IN queued in PREROUTING/OUTPUT get destination port
 * OUT, and those from OUT queued in POSTROUTING get source port IN, with
 * the checksum patched incrementally (or, for a packet whose checksum
 * the kernel left partial, computed whole: the kernel marks a mangled
 * packet's checksum as done).  The rewritten packet goes back with its
 * verdict through an iovec that points into the receive buffer.
 *
 * On SIGTERM it prints one line: packets=N rewritten=M batches=B.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define BARE_RX_SLOT (65536 + 8192)
#define BARE_TX_SLOT 64
#define BARE_MAX_BATCH 256
#define BARE_MAX_QUEUES 16

struct bare_opts {
	unsigned first, count, batch;
	bool rewrite;
	uint16_t in_port, out_port;
};

struct bare_worker {
	pthread_t tid;
	unsigned queue;
	const struct bare_opts *o;
	struct mnl_socket *nl;
	uint8_t *rx;
	struct mmsghdr rxmsg[BARE_MAX_BATCH];
	struct iovec rxiov[BARE_MAX_BATCH];
	/* A batch may hold more packets than datagrams: size for the worst. */
	uint8_t tx[1024][BARE_TX_SLOT];
	struct iovec txiov[1024];
	size_t ntx, niov;
	uint64_t packets, rewritten, batches;
};

static volatile sig_atomic_t bare_stop;
static const uint8_t bare_pad[4];

static void bare_on_signal(int sig)
{
	(void)sig;
	bare_stop = 1;
}

static uint16_t bare_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void bare_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). */
static uint16_t bare_csum_patch(uint16_t csum, uint16_t old, uint16_t new)
{
	uint32_t s = (uint16_t)~csum + (uint16_t)~old + new;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t bare_sum(const uint8_t *p, size_t len, uint32_t s)
{
	for (; len > 1; p += 2, len -= 2)
		s += bare_get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	return s;
}

/* The whole L4 checksum, pseudo header included. */
static uint16_t bare_csum_full(size_t alen, const uint8_t *src,
			       const uint8_t *dst, uint8_t proto, const uint8_t *l4,
			       size_t l4len)
{
	uint32_t s = bare_sum(src, alen, 0);

	s = bare_sum(dst, alen, s);
	s += proto + (uint32_t)l4len;
	s = bare_sum(l4, l4len, s);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * Rewrites the port of one packet when the rule says so.  Returns true
 * when the packet was changed.  IPv6 extension headers and IPv4 fragments
 * are left alone: the bare rewriter only needs the benchmark's traffic.
 */
static bool bare_rewrite(const struct bare_opts *o, uint8_t *p, size_t len, bool out,
			 bool partial)
{
	size_t l4off, alen, csoff;
	const uint8_t *src, *dst;
	uint8_t proto;
	uint8_t *port;
	uint16_t old, new;

	if (len < 20)
		return false;
	if (p[0] >> 4 == 4) {
		l4off = (size_t)(p[0] & 15) * 4;
		if ((bare_get16(p + 6) & 0x3fff) != 0)
			return false;
		proto = p[9];
		src = p + 12;
		dst = p + 16;
		alen = 4;
	} else if (p[0] >> 4 == 6 && len >= 40) {
		l4off = 40;
		proto = p[6];
		src = p + 8;
		dst = p + 24;
		alen = 16;
	} else {
		return false;
	}
	if (proto == IPPROTO_UDP)
		csoff = 6;
	else if (proto == IPPROTO_TCP)
		csoff = 16;
	else
		return false;
	if (len < l4off + csoff + 2)
		return false;
	port = p + l4off + (out ? 0 : 2);
	old = bare_get16(port);
	if (old != (out ? o->out_port : o->in_port))
		return false;
	new = out ? o->in_port : o->out_port;
	bare_put16(port, new);
	if (proto == IPPROTO_UDP && alen == 4 && bare_get16(p + l4off + 6) == 0)
		return true; /* no checksum */
	if (partial) {
		uint16_t c;

		bare_put16(p + l4off + csoff, 0);
		c = bare_csum_full(alen, src, dst, proto, p + l4off, len - l4off);
		if (c == 0 && proto == IPPROTO_UDP)
			c = 0xffff;
		bare_put16(p + l4off + csoff, c);
	} else {
		uint16_t c = bare_csum_patch(bare_get16(p + l4off + csoff), old, new);

		if (c == 0 && proto == IPPROTO_UDP)
			c = 0xffff;
		bare_put16(p + l4off + csoff, c);
	}
	return true;
}

static void bare_flush(struct bare_worker *w)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct msghdr msg = {
		.msg_name = &kernel,
		.msg_namelen = sizeof(kernel),
		.msg_iov = w->txiov,
		.msg_iovlen = w->niov,
	};
	int tries = 0;

	if (w->ntx == 0)
		return;
	while (sendmsg(mnl_socket_get_fd(w->nl), &msg, 0) < 0) {
		if (errno == EINTR)
			continue;
		if ((errno != ENOBUFS && errno != ENOMEM && errno != EAGAIN) || ++tries > 100)
			break;
		usleep(100);
	}
	w->ntx = 0;
	w->niov = 0;
}

static void bare_verdict(struct bare_worker *w, uint32_t id, uint8_t *payload, size_t plen)
{
	struct nlmsghdr *nlh;
	struct nlattr *attr;

	if (w->ntx == 1024 || w->niov + 3 > 1024)
		bare_flush(w);
	nlh = nfq_nlmsg_put((char *)w->tx[w->ntx++], NFQNL_MSG_VERDICT, (int)w->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, NF_ACCEPT);
	if (!payload) {
		w->txiov[w->niov++] = (struct iovec){ nlh, nlh->nlmsg_len };
		return;
	}
	attr = (struct nlattr *)((char *)nlh + nlh->nlmsg_len);
	attr->nla_type = NFQA_PAYLOAD;
	attr->nla_len = (uint16_t)(sizeof(*attr) + plen);
	w->txiov[w->niov++] = (struct iovec){ nlh, nlh->nlmsg_len + sizeof(*attr) };
	w->txiov[w->niov++] = (struct iovec){ payload, plen };
	if (MNL_ALIGN(plen) != plen)
		w->txiov[w->niov++] = (struct iovec){ (void *)bare_pad, MNL_ALIGN(plen) - plen };
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*attr) + plen);
}

static void bare_packet(struct bare_worker *w, const struct nlmsghdr *nlh)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	struct nfqnl_msg_packet_hdr *ph;
	uint8_t *payload;
	size_t plen;
	uint32_t skbinfo = 0;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	w->packets++;
	if (w->o->rewrite && attr[NFQA_PAYLOAD]) {
		payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		plen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
		if (attr[NFQA_SKB_INFO])
			skbinfo = ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO]));
		if (bare_rewrite(w->o, payload, plen, ph->hook == NF_INET_POST_ROUTING,
				 (skbinfo & NFQA_SKB_CSUMNOTREADY) != 0)) {
			w->rewritten++;
			bare_verdict(w, ntohl(ph->packet_id), payload, plen);
			return;
		}
	}
	bare_verdict(w, ntohl(ph->packet_id), NULL, 0);
}

static void *bare_run(void *arg)
{
	struct bare_worker *w = arg;
	int fd = mnl_socket_get_fd(w->nl);

	for (unsigned i = 0; i < w->o->batch; i++) {
		w->rxiov[i] = (struct iovec){ w->rx + (size_t)i * BARE_RX_SLOT, BARE_RX_SLOT };
		w->rxmsg[i].msg_hdr = (struct msghdr){ .msg_iov = &w->rxiov[i], .msg_iovlen = 1 };
	}
	while (!bare_stop) {
		int n = recvmmsg(fd, w->rxmsg, w->o->batch, MSG_WAITFORONE, NULL);

		for (int i = 0; i < n; i++) {
			struct nlmsghdr *nlh = (struct nlmsghdr *)w->rxiov[i].iov_base;
			int rem = (int)w->rxmsg[i].msg_len;

			for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem))
				if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFQNL_MSG_PACKET)
					bare_packet(w, nlh);
		}
		bare_flush(w);
		if (n > 0)
			w->batches++;
	}
	return NULL;
}

/* Sends one configuration message and reads the kernel's acknowledgement. */
static int bare_config(struct bare_worker *w, struct nlmsghdr *nlh)
{
	uint8_t buf[8192];
	ssize_t r;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(w->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	r = mnl_socket_recvfrom(w->nl, buf, sizeof(buf));
	if (r < 0)
		return -1;
	return mnl_cb_run(buf, (size_t)r, 0, mnl_socket_get_portid(w->nl), NULL, NULL) < 0 ? -1 : 0;
}

static int bare_open(struct bare_worker *w)
{
	char buf[256];
	struct nlmsghdr *nlh;
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
	int fd, one = 1, rcv = 64 << 20, snd = 16 << 20;

	w->rx = malloc((size_t)w->o->batch * BARE_RX_SLOT);
	w->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!w->rx || !w->nl || mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -1;
	fd = mnl_socket_get_fd(w->nl);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd));
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, (int)w->queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	if (bare_config(w, nlh) < 0)
		return -1;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, (int)w->queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 8192);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO));
	if (bare_config(w, nlh) < 0)
		return -1;
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	/* Wake regularly to see the stop flag. */
	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void bare_usage(FILE *f)
{
	fprintf(f, "usage: nfqbare [-q FIRST:COUNT] [-b BATCH] [--rewrite IN:OUT]\n"
		   "  -q FIRST:COUNT   queues, one thread each (default 0:2)\n"
		   "  -b BATCH         datagrams per recvmmsg, 1-%d (default 64)\n"
		   "  --rewrite IN:OUT port IN -> OUT on the way in, OUT -> IN on the way out\n",
		BARE_MAX_BATCH);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rewrite", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bare_opts o = { .first = 0, .count = 2, .batch = 64 };
	struct sigaction sa = { .sa_handler = bare_on_signal };
	static struct bare_worker w[BARE_MAX_QUEUES];
	uint64_t packets = 0, rewritten = 0, batches = 0;
	unsigned in, out;
	int c;

	while ((c = getopt_long(argc, argv, "q:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (sscanf(optarg, "%u:%u", &o.first, &o.count) != 2)
				o.count = 0;
			break;
		case 'b':
			o.batch = (unsigned)atoi(optarg);
			break;
		case 'R':
			if (sscanf(optarg, "%u:%u", &in, &out) != 2 || !in || !out || in > 65535 ||
			    out > 65535) {
				bare_usage(stderr);
				return 2;
			}
			o.rewrite = true;
			o.in_port = (uint16_t)in;
			o.out_port = (uint16_t)out;
			break;
		case 'h':
			bare_usage(stdout);
			return 0;
		default:
			bare_usage(stderr);
			return 2;
		}
	}
	if (o.count < 1 || o.count > BARE_MAX_QUEUES || o.batch < 1 || o.batch > BARE_MAX_BATCH) {
		bare_usage(stderr);
		return 2;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (unsigned i = 0; i < o.count; i++) {
		w[i].queue = o.first + i;
		w[i].o = &o;
		if (bare_open(&w[i]) < 0) {
			fprintf(stderr, "nfqbare: queue %u: %s\n", w[i].queue, strerror(errno));
			return 1;
		}
	}
	for (unsigned i = 0; i < o.count; i++) {
		if (pthread_create(&w[i].tid, NULL, bare_run, &w[i]) != 0) {
			perror("nfqbare: pthread_create");
			return 1;
		}
	}
	for (unsigned i = 0; i < o.count; i++) {
		pthread_join(w[i].tid, NULL);
		packets += w[i].packets;
		rewritten += w[i].rewritten;
		batches += w[i].batches;
		mnl_socket_close(w[i].nl);
	}
	printf("packets=%llu rewritten=%llu batches=%llu\n", (unsigned long long)packets,
	       (unsigned long long)rewritten, (unsigned long long)batches);
	return 0;
}

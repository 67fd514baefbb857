/*
 * gen: paced UDP traffic generator for the benchmark.
 *
 * DESIGN.  -t threads, each with one UDP socket per source address (-B),
 * send sendmmsg batches to one destination.  NFQUEUE's --queue-balance
 * hashes the addresses only (not the ports), so several source addresses
 * are what spreads the load over the queues; each socket also gets its own
 * source port.  Each thread paces itself with a token bucket on
 * CLOCK_MONOTONIC at rate/threads and sleeps between batches (no busy
 * polling, which would steal the CPU the path under test needs).  The
 * bucket holds at most 20 ms of tokens: enough to make up for the
 * scheduling delays of a busy 2-CPU machine, too little for a burst that
 * an 8192-packet queue could not absorb.
 *
 * --sweep N sends every datagram from a new (address, port): ports
 * sport..sport+N-1 of every -B address in turn, through a raw socket with
 * a hand-built IPv4 header (UDP checksum 0, which IPv4 allows), since a
 * bound socket per tuple would cost a descriptor each.  This measures the
 * rate of new flows through an application group.
 *
 * Each payload carries a 64-bit sequence number, the thread number and a
 * pattern derived from the sequence (see bench_pattern in sink.c), so the
 * sink can tell a datagram that was damaged on the way.
 *
 * Output, one line on stdout: sent=N seconds=S pps=R.  Threads share
 * nothing but the stop flag; each adds its count at the end.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GEN_BATCH 64
#define GEN_MAX_ADDRS 32
#define GEN_MAX_THREADS 16
#define GEN_BUCKET_S 0.020

struct gen_opts {
	struct in_addr dst;
	uint16_t port;
	double rate;      /* datagrams per second in all; 0: as fast as possible */
	double seconds;
	size_t size;      /* UDP payload bytes */
	unsigned threads;
	struct in_addr src[GEN_MAX_ADDRS];
	unsigned nsrc;
	uint16_t sport;   /* first source port; 0: ephemeral */
	unsigned sweep;   /* ports per address in sweep mode; 0: off */
};

struct gen_thread {
	pthread_t tid;
	unsigned idx;
	const struct gen_opts *o;
	uint64_t sent;
	int err;
};

static volatile sig_atomic_t gen_stop;

static void gen_on_signal(int sig)
{
	(void)sig;
	gen_stop = 1;
}

static double gen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void gen_sleep(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* Fills a payload: sequence, thread, then the pattern the sink checks. */
static void gen_fill(uint8_t *p, size_t size, uint64_t seq, unsigned thread)
{
	uint8_t hdr[12];

	memcpy(hdr, &seq, 8);
	memcpy(hdr + 8, &thread, 4);
	memcpy(p, hdr, size < 12 ? size : 12);
	for (size_t i = 12; i < size; i++)
		p[i] = (uint8_t)(seq * 7 + i);
}

static int gen_udp_socket(const struct gen_opts *o, unsigned thread, unsigned a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, snd = 4 << 20;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd));
	if (o->nsrc) {
		sin.sin_addr = o->src[a];
		if (o->sport)
			sin.sin_port = htons((uint16_t)(o->sport + thread * o->nsrc + a));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			close(fd);
			return -1;
		}
	}
	sin = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr = o->dst,
				    .sin_port = htons(o->port) };
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes an IPv4 + UDP header for the sweep's raw socket. */
static void gen_headers(uint8_t *b, const struct gen_opts *o, struct in_addr src,
			uint16_t sport)
{
	struct iphdr ip = {
		.version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_UDP,
		.tot_len = htons((uint16_t)(28 + o->size)),
		.saddr = src.s_addr, .daddr = o->dst.s_addr,
	};
	uint16_t udp[4] = { htons(sport), htons(o->port), htons((uint16_t)(8 + o->size)), 0 };

	memcpy(b, &ip, 20);
	memcpy(b + 20, udp, 8);
}

static void *gen_run(void *arg)
{
	struct gen_thread *t = arg;
	const struct gen_opts *o = t->o;
	unsigned nfd = o->sweep ? 1 : (o->nsrc ? o->nsrc : 1);
	int fds[GEN_MAX_ADDRS];
	size_t hdr = o->sweep ? 28 : 0, slot = hdr + o->size;
	uint8_t *buf = calloc(GEN_BATCH, slot);
	struct mmsghdr msgs[GEN_BATCH];
	struct iovec iov[GEN_BATCH];
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr = o->dst };
	double rate = o->rate / o->threads, start, end, due;
	uint64_t seq = 0;
	/* Sweeping threads take disjoint tuples: each its own block. */
	uint64_t tuple = o->sweep ? t->idx * ((uint64_t)o->nsrc * o->sweep / o->threads) : 0;
	unsigned next_fd = 0, want;

	if (!buf) {
		t->err = ENOMEM;
		return NULL;
	}
	for (unsigned i = 0; i < nfd; i++) {
		fds[i] = o->sweep ? socket(AF_INET, SOCK_RAW, IPPROTO_RAW)
				  : gen_udp_socket(o, t->idx, i);
		if (fds[i] < 0) {
			t->err = errno;
			return NULL;
		}
	}
	memset(msgs, 0, sizeof(msgs));
	for (unsigned i = 0; i < GEN_BATCH; i++) {
		iov[i] = (struct iovec){ buf + i * slot, slot };
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		if (o->sweep) {
			msgs[i].msg_hdr.msg_name = &dst;
			msgs[i].msg_hdr.msg_namelen = sizeof(dst);
		}
	}
	/* Batches of about a millisecond of traffic, so pacing stays smooth. */
	want = rate > 0 ? (unsigned)(rate / 1000) : GEN_BATCH;
	if (want < 1)
		want = 1;
	if (want > GEN_BATCH)
		want = GEN_BATCH;
	start = gen_now();
	end = start + o->seconds;
	for (;;) {
		double now = gen_now();
		unsigned n = GEN_BATCH;
		int r;

		if (gen_stop || now >= end)
			break;
		if (rate > 0) {
			due = (now - start) * rate - (double)t->sent;
			if (due > rate * GEN_BUCKET_S + GEN_BATCH) {
				/* Behind by more than the bucket: forget the debt. */
				start = now - ((double)t->sent + rate * GEN_BUCKET_S) / rate;
				due = rate * GEN_BUCKET_S;
			}
			if (due < want) {
				gen_sleep((want - due) / rate);
				continue;
			}
			n = due < GEN_BATCH ? (unsigned)due : GEN_BATCH;
		}
		for (unsigned i = 0; i < n; i++) {
			uint8_t *p = buf + i * slot;

			if (o->sweep) {
				unsigned a = (unsigned)(tuple % o->nsrc);
				uint16_t sp = (uint16_t)(o->sport + (tuple / o->nsrc) % o->sweep);

				gen_headers(p, o, o->src[a], sp);
				tuple += 1;
			}
			gen_fill(p + hdr, o->size, seq + i, t->idx);
		}
		r = sendmmsg(fds[next_fd], msgs, n, 0);
		if (r < 0) {
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR &&
			    errno != ECONNREFUSED) {
				t->err = errno;
				break;
			}
			r = 0;
		}
		/* A sweep must not skip tuples it did not send. */
		if (o->sweep && (unsigned)r < n)
			tuple -= n - (unsigned)r;
		seq += (uint64_t)r;
		t->sent += (uint64_t)r;
		next_fd = (next_fd + 1) % nfd;
	}
	for (unsigned i = 0; i < nfd; i++)
		close(fds[i]);
	free(buf);
	return NULL;
}

static void gen_usage(FILE *f)
{
	fprintf(f, "usage: gen -d DST -p PORT [-r PPS] [-T SECONDS] [-s BYTES] [-t THREADS]\n"
		   "           [-B SRC,SRC,...] [-P SPORT] [--sweep PORTS]\n"
		   "  -r PPS      total target rate (0: unpaced; default 0)\n"
		   "  -T SECONDS  duration bound (default 2)\n"
		   "  -s BYTES    UDP payload size, at least 12 (default 64)\n"
		   "  -t THREADS  sender threads (default 2)\n"
		   "  -B LIST     source addresses; each thread opens one socket per address\n"
		   "  -P SPORT    first source port (default: ephemeral; sweep: 1024)\n"
		   "  --sweep N   every datagram from a new (address, port) among\n"
		   "              -B x [SPORT, SPORT+N) (raw socket; needs -B)\n");
}

static bool gen_parse_addrs(struct gen_opts *o, char *list)
{
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		if (o->nsrc == GEN_MAX_ADDRS || inet_pton(AF_INET, tok, &o->src[o->nsrc]) != 1) {
			fprintf(stderr, "gen: bad or too many source addresses at '%s'\n", tok);
			return false;
		}
		o->nsrc++;
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sweep", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen_opts o = { .seconds = 2, .size = 64, .threads = 2 };
	struct gen_thread th[GEN_MAX_THREADS];
	struct sigaction sa = { .sa_handler = gen_on_signal };
	bool have_dst = false;
	uint64_t sent = 0;
	double t0, took;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "d:p:r:T:s:t:B:P:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			have_dst = inet_pton(AF_INET, optarg, &o.dst) == 1;
			break;
		case 'p':
			o.port = (uint16_t)atoi(optarg);
			break;
		case 'r':
			o.rate = atof(optarg);
			break;
		case 'T':
			o.seconds = atof(optarg);
			break;
		case 's':
			o.size = (size_t)atoi(optarg);
			break;
		case 't':
			o.threads = (unsigned)atoi(optarg);
			break;
		case 'B':
			if (!gen_parse_addrs(&o, optarg))
				return 2;
			break;
		case 'P':
			o.sport = (uint16_t)atoi(optarg);
			break;
		case 'W':
			o.sweep = (unsigned)atoi(optarg);
			break;
		case 'h':
			gen_usage(stdout);
			return 0;
		default:
			gen_usage(stderr);
			return 2;
		}
	}
	if (!have_dst || o.port == 0 || o.size < 12 || o.size > 65000 || o.threads < 1 ||
	    o.threads > GEN_MAX_THREADS || o.seconds <= 0 || o.rate < 0 ||
	    (o.sweep && (o.nsrc == 0 || o.sweep > 64000))) {
		gen_usage(stderr);
		return 2;
	}
	if (o.sweep && o.sport == 0)
		o.sport = 1024;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	t0 = gen_now();
	for (unsigned i = 0; i < o.threads; i++) {
		th[i] = (struct gen_thread){ .idx = i, .o = &o };
		if (pthread_create(&th[i].tid, NULL, gen_run, &th[i]) != 0) {
			perror("gen: pthread_create");
			return 1;
		}
	}
	for (unsigned i = 0; i < o.threads; i++) {
		pthread_join(th[i].tid, NULL);
		sent += th[i].sent;
		if (th[i].err) {
			fprintf(stderr, "gen: thread %u: %s\n", i, strerror(th[i].err));
			rc = 1;
		}
	}
	took = gen_now() - t0;
	printf("sent=%llu seconds=%.3f pps=%.0f\n", (unsigned long long)sent, took,
	       took > 0 ? (double)sent / took : 0.0);
	return rc;
}

/*
 * sink: UDP receiver for the benchmark.
 *
 * One thread, one socket bound to -p PORT (any address), recvmmsg batches
 * of 64 into a receive buffer forced to 32 MiB, so that the sink is never
 * where a datagram is lost.  Every datagram is checked against the
 * pattern gen writes (payload byte i, from 12 on, is seq * 7 + i, seq
 * being the 64-bit number in bytes 0-7) and its size (-s): a datagram
 * that fails either is counted as bad, so a rewriter that damaged the
 * payload shows up.
 *
 * It runs until SIGTERM or SIGINT, or -T seconds, drains what the socket
 * still holds, and prints one line: rx=N bad=M bytes=B.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SINK_BATCH 64
#define SINK_SLOT 2048

static volatile sig_atomic_t sink_stop;

static void sink_on_signal(int sig)
{
	(void)sig;
	sink_stop = 1;
}

/* True when the datagram has the expected size and gen's pattern. */
static bool sink_intact(const uint8_t *p, size_t len, size_t want)
{
	uint64_t seq;

	if ((want && len != want) || len < 12)
		return false;
	memcpy(&seq, p, 8);
	for (size_t i = 12; i < len && i < SINK_SLOT; i++)
		if (p[i] != (uint8_t)(seq * 7 + i))
			return false;
	return true;
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sigaction sa = { .sa_handler = sink_on_signal };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	static uint8_t buf[SINK_BATCH][SINK_SLOT];
	struct mmsghdr msgs[SINK_BATCH];
	struct iovec iov[SINK_BATCH];
	uint64_t rx = 0, bad = 0, bytes = 0;
	double seconds = 600;
	size_t want = 0;
	int port = 0, fd, c, rcv = 32 << 20, off = 0, drain = 4096;
	struct timespec t0, now;

	while ((c = getopt(argc, argv, "p:s:T:h")) != -1) {
		switch (c) {
		case 'p':
			port = atoi(optarg);
			break;
		case 's':
			want = (size_t)atoi(optarg);
			break;
		case 'T':
			seconds = atof(optarg);
			break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: sink -p PORT [-s BYTES] [-T SECONDS]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "sink: -p PORT is required\n");
		return 2;
	}
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("sink: socket");
		return 1;
	}
	/* Dual stack: IPv4 datagrams arrive as mapped addresses. */
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	sin6.sin6_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) {
		perror("sink: bind");
		return 1;
	}
	/* No SA_RESTART: a signal interrupts the blocking receive. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (int i = 0; i < SINK_BATCH; i++) {
		iov[i] = (struct iovec){ buf[i], SINK_SLOT };
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int flags = sink_stop ? MSG_DONTWAIT : MSG_WAITFORONE;
		int n = recvmmsg(fd, msgs, SINK_BATCH, flags, NULL);

		/* Drain what is queued, but not for ever under a live flood. */
		if (sink_stop && drain-- == 0)
			break;
		if (n < 0) {
			if (sink_stop)
				break; /* drained */
			if (errno != EINTR && errno != EAGAIN) {
				perror("sink: recvmmsg");
				return 1;
			}
		}
		for (int i = 0; i < n; i++) {
			rx++;
			bytes += msgs[i].msg_len;
			if (!sink_intact(buf[i], msgs[i].msg_len, want))
				bad++;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9 > seconds)
			sink_stop = 1;
	}
	printf("rx=%llu bad=%llu bytes=%llu\n", (unsigned long long)rx,
	       (unsigned long long)bad, (unsigned long long)bytes);
	return 0;
}

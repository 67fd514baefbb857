/*
 * sub: portshare-sub, a subscriber of UDP fan-out: the seed's secondary
 * application (003, FIG. 5).  It registers with the registration port of
 * each target (ADD), receives the copies of the contested port's datagrams
 * and writes their payloads to stdout or forwards them to a local UDP port,
 * registers again after a SHUTDOWN notice or when a registered target
 * stops answering the ADD it resends every --refresh seconds, and
 * deregisters (DROP) on SIGINT, SIGTERM or after --count datagrams.  The
 * command line is parsed by subarg, without I/O; this file resolves and
 * does the rest.
 *
 * DESIGN.  One thread and one poll loop.  There is one UDP socket per
 * address family the targets use; each sends the ADD and DROP requests
 * and receives the replies and the copies, since the daemon sends copies
 * to the port a request came from.  A target is either due an ADD at a
 * deadline, or registered and due its keepalive ADD at one; the loop sends
 * what is due, then waits in ppoll at most until the next deadline.
 * SIGINT and SIGTERM are blocked except inside ppoll, so a signal either
 * interrupts that wait or is taken at the next one, never lost between
 * the check and the wait.
 *
 * The keepalive.  A daemon that dies without SHUTDOWN, or an admin who
 * deletes the subscriber over REST, would otherwise leave us registered
 * in our own eyes only.  So every --refresh seconds a registered target
 * is sent its ADD again: "200 ERROR. Already Added" or "100 OK" (the
 * daemon had forgotten us and has just registered us anew) confirms it.
 * Until then it is probing: SUB_PROBE_TRIES ADDs spread over one --retry
 * interval, since UDP may lose one; no answer by its end makes the target
 * unregistered, and the ordinary ADD retries take over.  While probing, a
 * datagram that reads as such a reply is taken as the answer, not a copy.
 */
#define _GNU_SOURCE /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fanframe.h"
#include "regproto.h"
#include "subarg.h"

/* How long SIGINT or SIGTERM waits for the DROP replies, all targets together. */
#define SUB_DROP_WAIT_MS 1000
/* Larger than any UDP payload, so no datagram is cut. */
#define SUB_BUF_LEN 65536
/* Datagrams taken from one socket per wake-up, so that due ADDs still go out. */
#define SUB_BATCH 256
/* The keepalive ADDs sent, one --retry interval in all, before giving up. */
#define SUB_PROBE_TRIES 3

enum { SUB_V4, SUB_V6, SUB_FAMILIES };

struct sub_target {
	char name[SUBARG_NAME_MAX];      /* "HOST/CONTESTED_PORT", for messages */
	struct sockaddr_storage reg;     /* the registration port */
	socklen_t reg_len;
	int fam;                         /* SUB_V4 or SUB_V6 */
	uint16_t contested;
	bool registered;
	bool ever_registered;            /* a later registration is a re-registration */
	bool dropping;                   /* DROP sent, its reply awaited */
	bool bad_frames_told;
	char self[REGPROTO_HOST_MAX];    /* the address the last ADD named */
	char primary[REGPROTO_HOST_MAX]; /* from 100 OK; "" after 200 Already Added */
	uint16_t primary_port;
	int64_t add_due_ms;
	int64_t refresh_due_ms;          /* registered: the next keepalive ADD */
	int64_t probe_until_ms;          /* 0, or when an unanswered keepalive gives up */
	unsigned probe_tries;            /* keepalive ADDs sent since the last answer */
	unsigned adds_unanswered;        /* ADDs sent since the last reply */
	unsigned late_replies;           /* replies to those still to come... */
	int64_t late_until_ms;           /* ...until then */
	int told_reply;                  /* the error reply last reported, or -1 */
	int told_errno;                  /* the send error last reported, or 0 */
};

struct sub {
	struct subarg_opts o;
	struct sockaddr_storage bind;    /* --bind, resolved */
	socklen_t bind_len;              /* 0: no --bind */
	struct sockaddr_storage forward; /* --forward, resolved */
	socklen_t forward_len;           /* 0: no --forward */
	struct sub_target *t;
	size_t nt;
	int fd[SUB_FAMILIES];            /* -1 when no target has that family */
	int fwd;                         /* the --forward socket, or -1 */
	unsigned long received;
	bool stopping;                   /* DROPs sent: only their replies count */
};

static volatile sig_atomic_t sub_stop;

static void sub_on_signal(int sig)
{
	(void)sig;
	sub_stop = 1;
}

static int64_t sub_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sub_fam(int family)
{
	return family == AF_INET6 ? SUB_V6 : SUB_V4;
}

/* Resolves host and port for a UDP socket; flags as for getaddrinfo. */
static bool sub_resolve(const char *host, uint16_t port, int flags,
			struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = flags | AI_NUMERICSERV };
	struct addrinfo *ai;
	char service[8];
	int rc;

	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "portshare-sub: %s: %s\n", host, gai_strerror(rc));
		return false;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return true;
}

static void sub_usage(FILE *f)
{
	static char text[4096];

	if (subarg_usage(text, sizeof(text)) > 0)
		fputs(text, f);
}

/*
 * Fills t from a TARGET, resolving its host.  Returns false, having said
 * why, for a malformed or unresolvable target.
 */
static bool sub_parse_target(const char *spec, struct sub_target *t)
{
	struct subarg_target a;
	const char *why;

	if (!subarg_target(spec, &a, &why)) {
		fprintf(stderr, "portshare-sub: invalid target '%s' (%s)\n", spec, why);
		return false;
	}
	if (!sub_resolve(a.host, a.regport, 0, &t->reg, &t->reg_len))
		return false;
	t->fam = sub_fam(t->reg.ss_family);
	t->contested = a.contested;
	memcpy(t->name, a.name, sizeof(t->name));
	t->told_reply = -1;
	return true;
}

static bool sub_same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

static uint16_t sub_port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port :
			((const struct sockaddr_in6 *)ss)->sin6_port);
}

/*
 * The target a datagram came from: the one whose registration address and
 * port it came from or, failing that, the only one with that registration
 * port.  The fallback is for a daemon whose replies and copies leave from
 * another of its addresses than the one the target names (a wildcard-bound
 * registration socket on a host with several, or copies sent from the
 * contested address).  Returns NULL for anything else, which is ignored.
 */
static struct sub_target *sub_find(struct sub *s, const struct sockaddr_storage *from)
{
	struct sub_target *by_port = NULL;
	size_t same_port = 0;

	for (size_t i = 0; i < s->nt; i++) {
		struct sub_target *t = &s->t[i];

		if (sub_port_of(&t->reg) != sub_port_of(from) || t->reg.ss_family != from->ss_family)
			continue;
		if (sub_same_addr(&t->reg, from))
			return t;
		by_port = t;
		same_port++;
	}
	return same_port == 1 ? by_port : NULL;
}

/*
 * The address the daemon will see requests come from: --address, else a
 * specific --bind address of the target's family, else the local address
 * the kernel picks toward the target (a scratch socket's, after connect).
 * A link-local IPv6 address comes with its scope ("fe80::1%eth0").
 * Returns false with errno set when there is no route.
 */
static bool sub_self(struct sub *s, struct sub_target *t, char *out, size_t cap)
{
	struct sockaddr_storage local, any = { .ss_family = s->bind.ss_family };
	socklen_t len = sizeof(local);
	int fd, rc;

	if (s->o.address != NULL) {
		snprintf(out, cap, "%s", s->o.address);
		return true;
	}
	if (s->bind_len > 0 && sub_fam(s->bind.ss_family) == t->fam &&
	    !sub_same_addr(&s->bind, &any)) {
		local = s->bind;
		len = s->bind_len;
	} else {
		fd = socket(t->reg.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return false;
		rc = connect(fd, (struct sockaddr *)&t->reg, t->reg_len);
		if (rc == 0)
			rc = getsockname(fd, (struct sockaddr *)&local, &len);
		close(fd);
		if (rc < 0)
			return false;
	}
	if (getnameinfo((struct sockaddr *)&local, len, out, (socklen_t)cap, NULL, 0,
			NI_NUMERICHOST) != 0) {
		errno = EINVAL;
		return false;
	}
	return true;
}

/* Reports a send error once, until it changes or the target registers. */
static void sub_tell_errno(struct sub_target *t, const char *what, int err)
{
	if (t->told_errno == err)
		return;
	t->told_errno = err;
	fprintf(stderr, "portshare-sub: %s: %s: %s\n", t->name, what, strerror(err));
}

/* Sends ADD or DROP for t.  Failures are reported, and the ADD retried. */
static void sub_send(struct sub *s, struct sub_target *t, enum regproto_cmd cmd)
{
	char msg[REGPROTO_MAX];
	size_t n;

	if (cmd == REGPROTO_ADD && !sub_self(s, t, t->self, sizeof(t->self))) {
		sub_tell_errno(t, "no local address toward the target", errno);
		return;
	}
	n = regproto_format_request(cmd, t->self, t->contested, 0, msg, sizeof(msg));
	if (n == 0) {
		fprintf(stderr, "portshare-sub: %s: cannot name address '%s' in a request\n",
			t->name, t->self);
		return;
	}
	if (sendto(s->fd[t->fam], msg, n, 0, (struct sockaddr *)&t->reg, t->reg_len) < 0)
		sub_tell_errno(t, cmd == REGPROTO_ADD ? "ADD" : "DROP", errno);
	else if (cmd == REGPROTO_ADD)
		t->adds_unanswered++;
}

/*
 * A reply to an ADD, the first ones or a keepalive's.  100 OK or 200
 * Already Added registers the target or confirms it; any other error is
 * reported once, until it changes, and unregisters a registered target,
 * since the daemon refuses to keep it.  When several ADDs went out before
 * this answer, the answers to the others may follow (a daemon that was
 * slow, not gone); for one retry interval that many replies are taken as
 * such, not as copies.
 */
static void sub_on_reply(struct sub *s, struct sub_target *t,
			 const struct regproto_message *msg, int64_t now)
{
	bool refreshed = t->registered;
	char text[REGPROTO_MAX];

	/* "100 OK" alone answers a DROP: a late one, not ours to act on. */
	if (msg->reply == REGPROTO_R_OK)
		return;
	if (t->adds_unanswered > 0) {
		t->late_replies = t->adds_unanswered - 1;
		t->late_until_ms = now + s->o.retry_ms;
		t->adds_unanswered = 0;
	}
	t->probe_until_ms = 0;
	t->probe_tries = 0;
	if (msg->reply == REGPROTO_R_OK_ADD || msg->reply == REGPROTO_R_ALREADY) {
		/* Already Added names no primary: a keepalive keeps the 100 OK's. */
		if (!refreshed || msg->reply == REGPROTO_R_OK_ADD) {
			snprintf(t->primary, sizeof(t->primary), "%s", msg->addr);
			t->primary_port = msg->port;
		}
		t->registered = true;
		t->refresh_due_ms = now + s->o.refresh_ms;
		t->told_reply = -1;
		t->told_errno = 0;
		if (!refreshed)
			fprintf(stderr, "portshare-sub: %s with %s\n",
				t->ever_registered ? "re-registered" : "registered", t->name);
		else if (msg->reply == REGPROTO_R_OK_ADD)
			fprintf(stderr, "portshare-sub: re-registered with %s (the primary had "
				"dropped it)\n", t->name);
		t->ever_registered = true;
		return;
	}
	if (refreshed) {
		t->registered = false;
		t->add_due_ms = now + s->o.retry_ms;
	}
	if (t->told_reply == (int)msg->reply)
		return;
	t->told_reply = (int)msg->reply;
	regproto_format_reply(msg->reply, NULL, 0, text, sizeof(text));
	fprintf(stderr, "portshare-sub: %s: the primary answered \"%s\"; retrying every %u ms\n",
		t->name, text, s->o.retry_ms);
}

/*
 * A SHUTDOWN notice for a registered target.  It counts only when it names
 * the address and port of the 100 OK (Table 3 says it repeats them), so a
 * raw copy that happens to read "SHUTDOWN ..." is no notice; after 200
 * Already Added those are unknown and any notice counts.  As the seed's
 * secondaries do, wait one retry interval for the primary to go, then
 * register again.  Returns false when the datagram is no notice for t.
 */
static bool sub_on_shutdown(struct sub *s, struct sub_target *t,
			    const struct regproto_message *msg, int64_t now)
{
	if (t->primary[0] != '\0' &&
	    (strcmp(t->primary, msg->addr) != 0 || t->primary_port != msg->port))
		return false;
	fprintf(stderr, "portshare-sub: %s: SHUTDOWN %s %u: registering again\n", t->name,
		msg->addr, msg->port);
	t->registered = false;
	t->probe_until_ms = 0;
	t->probe_tries = 0;
	t->add_due_ms = now + s->o.retry_ms;
	return true;
}

/*
 * Sends what is due for t: while it is unregistered, an ADD every retry
 * interval; while it is registered, a keepalive ADD every refresh interval,
 * resent until answered, SUB_PROBE_TRIES times over one retry interval.
 * A keepalive unanswered that long unregisters t.  Returns when t next
 * needs a look, INT64_MAX for never.
 */
static int64_t sub_tick(struct sub *s, struct sub_target *t, int64_t now)
{
	if (t->registered && s->o.refresh_ms == 0)
		return INT64_MAX;
	if (t->registered && t->probe_until_ms != 0 && now >= t->probe_until_ms) {
		fprintf(stderr, "portshare-sub: %s: no answer to the keepalive ADD in %u ms: "
			"registering again\n", t->name, s->o.retry_ms);
		t->registered = false;
		t->probe_until_ms = 0;
		t->probe_tries = 0;
		t->add_due_ms = now;
	}
	if (!t->registered) {
		if (t->add_due_ms <= now) {
			sub_send(s, t, REGPROTO_ADD);
			t->add_due_ms = now + s->o.retry_ms;
		}
		return t->add_due_ms;
	}
	if (t->refresh_due_ms <= now) {
		if (t->probe_until_ms == 0)
			t->probe_until_ms = now + s->o.retry_ms;
		sub_send(s, t, REGPROTO_ADD);
		t->probe_tries++;
		t->refresh_due_ms = t->probe_until_ms;
		if (t->probe_tries < SUB_PROBE_TRIES &&
		    now + s->o.retry_ms / SUB_PROBE_TRIES < t->probe_until_ms)
			t->refresh_due_ms = now + s->o.retry_ms / SUB_PROBE_TRIES;
	}
	return t->refresh_due_ms;
}

/*
 * Delivers one copy: strips and checks the frame header with --framed,
 * then forwards the payload or writes it out.  Returns 1 when delivered,
 * 0 for a bad frame (dropped, said once), or -1 when stdout fails (the
 * caller stops).
 */
static int sub_deliver(struct sub *s, struct sub_target *t, const uint8_t *buf, size_t len)
{
	static char line[SUBARG_HEXLINE_MAX(SUB_BUF_LEN)];
	const uint8_t *payload = buf;
	struct fanframe_hdr h = { 0 };
	char origin[INET6_ADDRSTRLEN] = "";

	if (s->o.framed) {
		if (!fanframe_decode(buf, len, &h) || h.len != len - FANFRAME_HDR_LEN) {
			if (!t->bad_frames_told)
				fprintf(stderr, "portshare-sub: %s: dropping datagrams that are not "
					"one whole frame (is the subscriber framed_udp?)\n", t->name);
			t->bad_frames_told = true;
			return 0;
		}
		payload = buf + FANFRAME_HDR_LEN;
		len = h.len;
		inet_ntop(h.family == 4 ? AF_INET : AF_INET6, h.addr, origin, sizeof(origin));
	}
	/* UDP is best effort: a local receiver that is not there loses the copy. */
	if (s->fwd >= 0) {
		(void)send(s->fwd, payload, len, 0);
		return 1;
	}
	if (!s->o.hex) {
		fwrite(payload, 1, len, stdout);
	} else {
		subarg_hexline(s->o.framed ? origin : NULL, h.origin_port, payload, len, line);
		fputs(line, stdout);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "portshare-sub: stdout: %s\n", strerror(errno));
		return -1;
	}
	return 1;
}

/*
 * Handles one datagram.  From a target awaiting its ADD's reply, the
 * first ADD's or a keepalive's, a reply is a reply; from a registered
 * one, a matching SHUTDOWN is a notice.
 * Anything else from a target is a copy, since copies come from the same
 * port as replies.  Once stopping, only the replies to DROP count (100 OK,
 * or 200 Not in List: gone already).  Returns -1 when the loop must stop
 * with an error.
 */
static int sub_datagram(struct sub *s, const uint8_t *buf, size_t len,
			const struct sockaddr_storage *from, int64_t now)
{
	struct sub_target *t = sub_find(s, from);
	struct regproto_message msg;
	bool is_msg;
	int rc;

	if (t == NULL)
		return 0;
	is_msg = regproto_parse_message((const char *)buf, len, &msg);
	if (s->stopping) {
		if (is_msg && !msg.shutdown &&
		    (msg.reply == REGPROTO_R_OK || msg.reply == REGPROTO_R_NOT_IN_LIST))
			t->dropping = false;
		return 0;
	}
	/* Unregistered, or a keepalive out: a reply is the answer awaited. */
	if (is_msg && !msg.shutdown && (!t->registered || t->probe_until_ms != 0)) {
		sub_on_reply(s, t, &msg, now);
		return 0;
	}
	if (is_msg && msg.shutdown && !t->registered)
		return 0;
	if (is_msg && !msg.shutdown && t->late_replies > 0 && now < t->late_until_ms) {
		t->late_replies--;
		return 0;
	}
	if (is_msg && msg.shutdown && sub_on_shutdown(s, t, &msg, now))
		return 0;
	rc = sub_deliver(s, t, buf, len);
	if (rc < 0)
		return -1;
	s->received += (unsigned)rc;
	if (s->o.count > 0 && s->received >= s->o.count)
		sub_stop = 1;
	return 0;
}

/*
 * Waits up to timeout_ms for the sockets (with the signal mask mask, or
 * the current one when NULL), then hands what they hold to sub_datagram.
 * Returns -1 when that does, else 0.
 */
static int sub_poll(struct sub *s, int timeout_ms, const sigset_t *mask)
{
	static uint8_t buf[SUB_BUF_LEN];
	struct pollfd pfd[SUB_FAMILIES];
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };
	nfds_t n = 0;

	for (int f = 0; f < SUB_FAMILIES; f++)
		if (s->fd[f] >= 0)
			pfd[n++] = (struct pollfd){ .fd = s->fd[f], .events = POLLIN };
	if (ppoll(pfd, n, &ts, mask) <= 0)
		return 0;
	for (nfds_t i = 0; i < n; i++) {
		for (int k = 0; k < SUB_BATCH && (pfd[i].revents & (POLLIN | POLLERR)); k++) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t r;

			/* --count is reached: what is still queued is not ours to write. */
			if (sub_stop && !s->stopping)
				return 0;
			r = recvfrom(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			/* ICMP errors of earlier sends surface here; the retry covers them. */
			if (r < 0)
				continue;
			if (sub_datagram(s, buf, (size_t)r, &from, sub_now_ms()) < 0)
				return -1;
		}
	}
	return 0;
}

/*
 * Sends DROP to every registered target and waits, SUB_DROP_WAIT_MS at
 * most, for their replies.  A primary that does not answer in time purges
 * us on its own when it shuts down.  Signals stay blocked meanwhile.
 */
static void sub_drop_all(struct sub *s)
{
	int64_t deadline = sub_now_ms() + SUB_DROP_WAIT_MS, now;
	bool waiting = false;

	s->stopping = true;
	for (size_t i = 0; i < s->nt; i++) {
		if (!s->t[i].registered)
			continue;
		sub_send(s, &s->t[i], REGPROTO_DROP);
		s->t[i].dropping = true;
		waiting = true;
	}
	while (waiting && (now = sub_now_ms()) < deadline) {
		sub_poll(s, (int)(deadline - now), NULL);
		waiting = false;
		for (size_t i = 0; i < s->nt; i++)
			waiting |= s->t[i].dropping;
	}
}

/* Opens the socket of one family: bound as --bind says, IPv6 only for IPv6. */
static int sub_socket(const struct sub *s, int family)
{
	struct sockaddr_storage a = { .ss_family = (sa_family_t)family };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) :
					    sizeof(struct sockaddr_in6);
	uint16_t port = s->bind_len > 0 ? htons(sub_port_of(&s->bind)) : 0;
	int one = 1, fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		goto err;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto err;
	/* --bind names one family's address; the other family keeps its port. */
	if (s->bind_len > 0 && s->bind.ss_family == family) {
		a = s->bind;
		len = s->bind_len;
	} else if (family == AF_INET) {
		((struct sockaddr_in *)&a)->sin_port = port;
	} else {
		((struct sockaddr_in6 *)&a)->sin6_port = port;
	}
	if (bind(fd, (struct sockaddr *)&a, len) < 0)
		goto err;
	return fd;
err:
	fprintf(stderr, "portshare-sub: %s socket: %s\n", family == AF_INET ? "IPv4" : "IPv6",
		strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * Reads the options into s, resolving --bind and --forward.  Returns 0,
 * or -1 having said why.  --help prints the usage and exits.
 */
static int sub_parse(int argc, char **argv, struct sub *s)
{
	struct option longopts[SUBARG_NOPTS + 2] = { 0 };
	char shortopts[2 * SUBARG_NOPTS + 2] = "h";
	const struct subarg_option *opt;
	const char *why;
	size_t sp = 1;
	int c;

	for (size_t i = 0; i < SUBARG_NOPTS; i++) {
		opt = &subarg_options[i];
		longopts[i] = (struct option){ opt->name, opt->arg ? required_argument : no_argument,
					       NULL, opt->short_name };
		shortopts[sp++] = (char)opt->short_name;
		if (opt->arg)
			shortopts[sp++] = ':';
	}
	longopts[SUBARG_NOPTS] = (struct option){ "help", no_argument, NULL, 'h' };
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			sub_usage(stdout);
			exit(0);
		}
		opt = subarg_option_find(c);
		if (opt == NULL) {
			sub_usage(stderr);
			return -1;
		}
		if (!opt->set(&s->o, optarg)) {
			fprintf(stderr, "portshare-sub: invalid value for --%s: '%s' (expected %s)\n",
				opt->name, optarg, opt->arg);
			return -1;
		}
	}
	if (optind == argc) {
		sub_usage(stderr);
		return -1;
	}
	if (!subarg_check(&s->o, &why)) {
		fprintf(stderr, "portshare-sub: %s\n", why);
		return -1;
	}
	if (s->o.has_bind && !sub_resolve(s->o.bind.host, s->o.bind.port,
					  AI_NUMERICHOST | AI_PASSIVE, &s->bind, &s->bind_len))
		return -1;
	if (s->o.has_forward && !sub_resolve(s->o.forward.host, s->o.forward.port, 0,
					     &s->forward, &s->forward_len))
		return -1;
	return 0;
}

/*
 * Reads the targets, refusing two with one registration port and address:
 * replies and copies from it could not be told apart.  Returns 0, or -1
 * having said why.
 */
static int sub_targets(struct sub *s, int n, char **specs)
{
	s->t = calloc((size_t)n, sizeof(*s->t));
	if (s->t == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		struct sub_target *t = &s->t[s->nt];

		if (!sub_parse_target(specs[i], t))
			return -1;
		for (size_t j = 0; j < s->nt; j++) {
			if (sub_same_addr(&s->t[j].reg, &t->reg) &&
			    sub_port_of(&s->t[j].reg) == sub_port_of(&t->reg)) {
				fprintf(stderr, "portshare-sub: %s and %s share a registration port\n",
					s->t[j].name, t->name);
				return -1;
			}
		}
		s->nt++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sub s = { .o = SUBARG_OPTS_INIT, .fd = { -1, -1 }, .fwd = -1 };
	struct sigaction sa = { .sa_handler = sub_on_signal };
	sigset_t block, waitmask;
	int rc = 1;

	if (sub_parse(argc, argv, &s) < 0)
		return 2;
	if (sub_targets(&s, argc - optind, argv + optind) < 0) {
		rc = 2;
		goto out;
	}
	for (size_t i = 0; i < s.nt; i++) {
		int f = s.t[i].fam;

		if (s.fd[f] < 0 && (s.fd[f] = sub_socket(&s, s.t[i].reg.ss_family)) < 0)
			goto out;
	}
	if (s.bind_len > 0 && s.fd[sub_fam(s.bind.ss_family)] < 0) {
		fprintf(stderr, "portshare-sub: no target has the family of --bind\n");
		goto out;
	}
	if (s.forward_len > 0) {
		s.fwd = socket(s.forward.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s.fwd < 0 || connect(s.fwd, (struct sockaddr *)&s.forward, s.forward_len) < 0) {
			fprintf(stderr, "portshare-sub: --forward: %s\n", strerror(errno));
			goto out;
		}
	}

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed stdout shows as a write error, so we still deregister. */
	signal(SIGPIPE, SIG_IGN);

	rc = 0;
	while (!sub_stop) {
		int64_t now = sub_now_ms(), next = now + s.o.retry_ms;

		/* Nothing due (no keepalive) still wakes once a retry interval. */
		for (size_t i = 0; i < s.nt; i++) {
			int64_t due = sub_tick(&s, &s.t[i], now);

			if (due < next)
				next = due;
		}
		if (sub_poll(&s, (int)(next > now ? next - now : 0), &waitmask) < 0) {
			rc = 1;
			break;
		}
	}
	sub_drop_all(&s);
out:
	for (int f = 0; f < SUB_FAMILIES; f++)
		if (s.fd[f] >= 0)
			close(s.fd[f]);
	if (s.fwd >= 0)
		close(s.fwd);
	free(s.t);
	return rc;
}

/*
 * sub: portshare-sub, a subscriber of UDP fan-out: the seed's secondary
 * application (003, FIG. 5).  It registers with the registration port of
 * each target (ADD), receives the copies of the contested port's datagrams
 * and writes their payloads to stdout or forwards them to a local UDP port,
 * registers again after a SHUTDOWN notice, and deregisters (DROP) on
 * SIGINT, SIGTERM or after --count datagrams.
 *
 * DESIGN.  One thread and one poll loop.  There is one UDP socket per
 * address family the targets use; each sends the ADD and DROP requests
 * and receives the replies and the copies, since the daemon sends copies
 * to the port a request came from.  A target is either registered or due
 * an ADD at a deadline; the loop sends what is due, then waits in ppoll at
 * most until the next deadline.  SIGINT and SIGTERM are blocked except
 * inside ppoll, so a signal either interrupts that wait or is taken at the
 * next one, never lost between the check and the wait.
 */
#define _GNU_SOURCE /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
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
#include "util.h"

/* The registration port of contested port p unless given: the seed's Table 1. */
#define SUB_REG_OFFSET 13000
/* How long SIGINT or SIGTERM waits for the DROP replies, all targets together. */
#define SUB_DROP_WAIT_MS 1000
/* Larger than any UDP payload, so no datagram is cut. */
#define SUB_BUF_LEN 65536
/* Datagrams taken from one socket per wake-up, so that due ADDs still go out. */
#define SUB_BATCH 256
/* A HOST/PORT name for messages: host, brackets, slash and port. */
#define SUB_NAME_MAX (REGPROTO_HOST_MAX + 8)

enum { SUB_V4, SUB_V6, SUB_FAMILIES };

struct sub_target {
	char name[SUB_NAME_MAX];         /* "HOST/CONTESTED_PORT", for messages */
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
	unsigned adds_unanswered;        /* ADDs sent since the last reply */
	unsigned late_replies;           /* replies to those still to come... */
	int64_t late_until_ms;           /* ...until then */
	int told_reply;                  /* the error reply last reported, or -1 */
	int told_errno;                  /* the send error last reported, or 0 */
};

struct sub_opts {
	struct sockaddr_storage bind;
	socklen_t bind_len;              /* 0: no --bind */
	const char *address;
	struct sockaddr_storage forward;
	socklen_t forward_len;           /* 0: no --forward */
	unsigned retry_ms;
	unsigned long count;             /* 0: no limit */
	bool hex;
	bool framed;
};

struct sub {
	struct sub_opts o;
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

/* A decimal number 1..max and nothing else; false otherwise. */
static bool sub_number(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && *v > 0 && *v <= max;
}

static bool sub_port(const char *s, uint16_t *port)
{
	unsigned long v;

	if (!sub_number(s, 65535, &v))
		return false;
	*port = (uint16_t)v;
	return true;
}

/*
 * Splits "HOST", "HOST:PORT", "[V6]" or "[V6]:PORT" into host (cap bytes)
 * and *port, which stays NULL without one.  An unbracketed host with more
 * than one colon is an IPv6 address without a port.  Returns false for an
 * empty host, an unclosed bracket, junk after it, or a host too long.
 */
static bool sub_split(const char *s, char *host, size_t cap, const char **port)
{
	const char *end, *colon = strchr(s, ':');
	size_t n;

	*port = NULL;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return false;
		if (end[1] == ':')
			*port = end + 2;
		s++;
	} else if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		end = colon;
		*port = colon + 1;
	} else {
		end = s + strlen(s);
	}
	n = (size_t)(end - s);
	if (n == 0 || n >= cap)
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	return true;
}

/* Resolves host and port for a UDP socket; flags as for getaddrinfo. */
static bool sub_resolve(const char *host, const char *port, int flags,
			struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = flags | AI_NUMERICSERV };
	struct addrinfo *ai;
	int rc = getaddrinfo(host, port, &hints, &ai);

	if (rc != 0) {
		fprintf(stderr, "portshare-sub: %s: %s\n", host, gai_strerror(rc));
		return false;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return true;
}

static bool sub_opt_bind(struct sub_opts *o, const char *arg)
{
	char host[REGPROTO_HOST_MAX];
	const char *port;
	uint16_t p;

	return sub_split(arg, host, sizeof(host), &port) && (port == NULL || sub_port(port, &p)) &&
	       sub_resolve(host, port ? port : "0", AI_NUMERICHOST | AI_PASSIVE, &o->bind,
			   &o->bind_len);
}

static bool sub_opt_address(struct sub_opts *o, const char *arg)
{
	o->address = arg;
	return regproto_host_valid(arg);
}

static bool sub_opt_retry(struct sub_opts *o, const char *arg)
{
	char *end;
	double s = strtod(arg, &end);

	if (end == arg || *end != '\0' || !(s >= 0.05 && s <= 3600))
		return false;
	o->retry_ms = (unsigned)(s * 1000 + 0.5);
	return true;
}

static bool sub_opt_hex(struct sub_opts *o, const char *arg)
{
	(void)arg;
	o->hex = true;
	return true;
}

static bool sub_opt_framed(struct sub_opts *o, const char *arg)
{
	(void)arg;
	o->framed = true;
	return true;
}

static bool sub_opt_forward(struct sub_opts *o, const char *arg)
{
	char host[REGPROTO_HOST_MAX];
	const char *port;
	uint16_t p;

	return sub_split(arg, host, sizeof(host), &port) && port != NULL && sub_port(port, &p) &&
	       sub_resolve(host, port, 0, &o->forward, &o->forward_len);
}

static bool sub_opt_count(struct sub_opts *o, const char *arg)
{
	return sub_number(arg, ULONG_MAX - 1, &o->count);
}

/* The option table drives getopt_long and the usage text alike. */
static const struct {
	const char *name;
	int has_arg;
	int short_name;
	const char *arg;
	const char *help;
	bool (*set)(struct sub_opts *o, const char *arg);
} sub_options[] = {
	{ "bind", required_argument, 'b', "ADDR[:PORT]", "local address and port to receive on (default: any address, an ephemeral port)", sub_opt_bind },
	{ "address", required_argument, 'a', "ADDR", "the address to name in ADD and DROP (default: the --bind address, else the local address toward each target)", sub_opt_address },
	{ "retry", required_argument, 'r', "SECONDS", "send ADD this often until it is answered, 0.05-3600 (default 2)", sub_opt_retry },
	{ "hex", no_argument, 'x', NULL, "print one line of hex per datagram instead of its bytes", sub_opt_hex },
	{ "framed", no_argument, 'f', NULL, "copies carry the framed header (mode framed_udp): strip it; with --hex print ORIGIN_ADDR ORIGIN_PORT LEN HEX", sub_opt_framed },
	{ "forward", required_argument, 'F', "HOST:PORT", "send each payload to this UDP port instead of stdout", sub_opt_forward },
	{ "count", required_argument, 'c', "N", "deregister and exit after N datagrams", sub_opt_count },
};

#define SUB_NOPTS ARRAY_LEN(sub_options)

static void sub_usage(FILE *f)
{
	fprintf(f, "usage: portshare-sub [options] TARGET...\n"
		"  TARGET is HOST/CONTESTED_PORT or HOST:REGPORT/CONTESTED_PORT, an IPv6 HOST\n"
		"  in brackets ([::1]:13162/162); REGPORT defaults to CONTESTED_PORT + %d.\n",
		SUB_REG_OFFSET);
	for (size_t i = 0; i < SUB_NOPTS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", sub_options[i].name,
			 sub_options[i].arg ? " " : "", sub_options[i].arg ? sub_options[i].arg : "");
		fprintf(f, "  -%c, %-22s %s\n", sub_options[i].short_name, left,
			sub_options[i].help);
	}
	fprintf(f, "  -h, --help\n");
}

/*
 * Fills t from "HOST[:REGPORT]/CONTESTED_PORT", resolving HOST.  Returns
 * false, having said why, for a malformed or unresolvable target.
 */
static bool sub_parse_target(const char *spec, struct sub_target *t)
{
	char text[SUB_NAME_MAX], host[REGPROTO_HOST_MAX], regport[8];
	const char *slash = strrchr(spec, '/'), *port;
	uint16_t reg;

	if (slash == NULL || (size_t)(slash - spec) >= sizeof(text) ||
	    !sub_port(slash + 1, &t->contested))
		goto bad;
	memcpy(text, spec, (size_t)(slash - spec));
	text[slash - spec] = '\0';
	if (!sub_split(text, host, sizeof(host), &port))
		goto bad;
	if (port != NULL && !sub_port(port, &reg))
		goto bad;
	if (port == NULL && t->contested > 65535 - SUB_REG_OFFSET) {
		fprintf(stderr, "portshare-sub: %s: no default registration port above %u; "
			"give HOST:REGPORT/%u\n", spec, 65535 - SUB_REG_OFFSET, t->contested);
		return false;
	}
	if (port == NULL)
		reg = (uint16_t)(t->contested + SUB_REG_OFFSET);
	snprintf(regport, sizeof(regport), "%u", reg);
	if (!sub_resolve(host, regport, 0, &t->reg, &t->reg_len))
		return false;
	t->fam = sub_fam(t->reg.ss_family);
	snprintf(t->name, sizeof(t->name), strchr(host, ':') ? "[%s]/%u" : "%s/%u", host,
		 t->contested);
	t->told_reply = -1;
	return true;
bad:
	fprintf(stderr, "portshare-sub: invalid target '%s' (expected HOST[:REGPORT]/PORT)\n",
		spec);
	return false;
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
	struct sockaddr_storage local, any = { .ss_family = s->o.bind.ss_family };
	socklen_t len = sizeof(local);
	int fd, rc;

	if (s->o.address != NULL) {
		snprintf(out, cap, "%s", s->o.address);
		return true;
	}
	if (s->o.bind_len > 0 && sub_fam(s->o.bind.ss_family) == t->fam &&
	    !sub_same_addr(&s->o.bind, &any)) {
		local = s->o.bind;
		len = s->o.bind_len;
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
 * A reply to an ADD: registered, or an error to report once.  When several
 * ADDs went out before this answer, the answers to the others may follow
 * (a daemon that was slow, not gone); for one retry interval that many
 * replies are taken as such, not as copies.
 */
static void sub_on_reply(struct sub *s, struct sub_target *t,
			 const struct regproto_message *msg, int64_t now)
{
	char text[REGPROTO_MAX];

	if (t->adds_unanswered > 0) {
		t->late_replies = t->adds_unanswered - 1;
		t->late_until_ms = now + s->o.retry_ms;
		t->adds_unanswered = 0;
	}
	if (msg->reply == REGPROTO_R_OK_ADD || msg->reply == REGPROTO_R_ALREADY) {
		t->registered = true;
		snprintf(t->primary, sizeof(t->primary), "%s", msg->addr);
		t->primary_port = msg->port;
		t->told_reply = -1;
		t->told_errno = 0;
		fprintf(stderr, "portshare-sub: %s with %s\n",
			t->ever_registered ? "re-registered" : "registered", t->name);
		t->ever_registered = true;
		return;
	}
	/* "100 OK" alone answers a DROP: a late one, not ours to act on. */
	if (msg->reply == REGPROTO_R_OK || t->told_reply == (int)msg->reply)
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
	t->add_due_ms = now + s->o.retry_ms;
	return true;
}

/* Writes len bytes as lowercase hex, then a newline; out has 2 * len + 2. */
static void sub_hex(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		*out++ = digits[p[i] >> 4];
		*out++ = digits[p[i] & 15];
	}
	*out++ = '\n';
	*out = '\0';
}

/*
 * Delivers one copy: strips and checks the frame header with --framed,
 * then forwards the payload or writes it out.  Returns 1 when delivered,
 * 0 for a bad frame (dropped, said once), or -1 when stdout fails (the
 * caller stops).
 */
static int sub_deliver(struct sub *s, struct sub_target *t, const uint8_t *buf, size_t len)
{
	static char line[2 * SUB_BUF_LEN + 80];
	const uint8_t *payload = buf;
	struct fanframe_hdr h = { 0 };
	char origin[INET6_ADDRSTRLEN] = "";
	size_t n = 0;

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
		if (s->o.framed)
			n = (size_t)snprintf(line, sizeof(line), "%s %u %zu%s", origin, h.origin_port,
					     len, len > 0 ? " " : "");
		sub_hex(payload, len, line + n);
		fputs(line, stdout);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "portshare-sub: stdout: %s\n", strerror(errno));
		return -1;
	}
	return 1;
}

/*
 * Handles one datagram.  From a target awaiting its ADD's reply, a reply
 * is a reply; from a registered one, a matching SHUTDOWN is a notice.
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
	if (is_msg && !t->registered) {
		if (!msg.shutdown)
			sub_on_reply(s, t, &msg, now);
		return 0;
	}
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
static int sub_socket(const struct sub_opts *o, int family)
{
	struct sockaddr_storage a = { .ss_family = (sa_family_t)family };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) :
					    sizeof(struct sockaddr_in6);
	uint16_t port = o->bind_len > 0 ? htons(sub_port_of(&o->bind)) : 0;
	int one = 1, fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		goto err;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto err;
	/* --bind names one family's address; the other family keeps its port. */
	if (o->bind_len > 0 && o->bind.ss_family == family) {
		a = o->bind;
		len = o->bind_len;
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

static int sub_parse(int argc, char **argv, struct sub_opts *o)
{
	struct option longopts[SUB_NOPTS + 2] = { 0 };
	char shortopts[3 * SUB_NOPTS + 2] = "h";
	size_t sp = 1;
	int c;

	for (size_t i = 0; i < SUB_NOPTS; i++) {
		longopts[i] = (struct option){ sub_options[i].name, sub_options[i].has_arg,
					       NULL, sub_options[i].short_name };
		shortopts[sp++] = (char)sub_options[i].short_name;
		if (sub_options[i].has_arg)
			shortopts[sp++] = ':';
	}
	longopts[SUB_NOPTS] = (struct option){ "help", no_argument, NULL, 'h' };
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		size_t i;

		if (c == 'h') {
			sub_usage(stdout);
			exit(0);
		}
		for (i = 0; i < SUB_NOPTS && sub_options[i].short_name != c; i++)
			;
		if (i == SUB_NOPTS) {
			sub_usage(stderr);
			return -1;
		}
		if (!sub_options[i].set(o, optarg)) {
			fprintf(stderr, "portshare-sub: invalid value for --%s: '%s' (expected %s)\n",
				sub_options[i].name, optarg, sub_options[i].arg);
			return -1;
		}
	}
	if (optind == argc) {
		sub_usage(stderr);
		return -1;
	}
	if (o->hex && o->forward_len > 0) {
		fprintf(stderr, "portshare-sub: --hex and --forward exclude each other\n");
		return -1;
	}
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
	struct sub s = { .o = { .retry_ms = 2000 }, .fd = { -1, -1 }, .fwd = -1 };
	struct sigaction sa = { .sa_handler = sub_on_signal };
	sigset_t block, waitmask;
	int rc = 1;

	if (sub_parse(argc, argv, &s.o) < 0)
		return 2;
	if (sub_targets(&s, argc - optind, argv + optind) < 0) {
		rc = 2;
		goto out;
	}
	for (size_t i = 0; i < s.nt; i++) {
		int f = s.t[i].fam;

		if (s.fd[f] < 0 && (s.fd[f] = sub_socket(&s.o, s.t[i].reg.ss_family)) < 0)
			goto out;
	}
	if (s.o.bind_len > 0 && s.fd[sub_fam(s.o.bind.ss_family)] < 0) {
		fprintf(stderr, "portshare-sub: no target has the family of --bind\n");
		goto out;
	}
	if (s.o.forward_len > 0) {
		s.fwd = socket(s.o.forward.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s.fwd < 0 ||
		    connect(s.fwd, (struct sockaddr *)&s.o.forward, s.o.forward_len) < 0) {
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
		int64_t now = sub_now_ms(), wait = s.o.retry_ms;

		for (size_t i = 0; i < s.nt; i++) {
			struct sub_target *t = &s.t[i];

			if (t->registered)
				continue;
			if (t->add_due_ms <= now) {
				sub_send(&s, t, REGPROTO_ADD);
				t->add_due_ms = now + s.o.retry_ms;
			}
			if (t->add_due_ms - now < wait)
				wait = t->add_due_ms - now;
		}
		if (sub_poll(&s, (int)wait, &waitmask) < 0) {
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

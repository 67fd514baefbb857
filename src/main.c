/*
 * main: portshared's command line and life cycle.
 *
 * DESIGN.  The main thread parses options, opens the flow table, the raw
 * sockets, the control plane (store, first snapshots, ipsets) and the HTTP
 * listener, gives the daemon's files to --user, drops its privileges,
 * starts the NFQUEUE workers, the fan-out copier and registrar and the
 * HTTP server, then only waits for signals and feeds the systemd watchdog
 * while the workers keep making progress.  Every other thread blocks the
 * signals, so SIGTERM reaches the main thread, which stops the HTTP server
 * first, then the registrar (its subscribers hear SHUTDOWN), the copier,
 * the workers (they answer what they hold), and last the control plane.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "api.h"
#include "control.h"
#include "fanout.h"
#include "flow.h"
#include "log.h"
#include "nfq.h"
#include "priv.h"
#include "regsrv.h"
#include "store.h"
#include "util.h"

#ifndef PORTSHARE_WEBDIR
#define PORTSHARE_WEBDIR "/usr/local/share/portshare/web"
#endif

/* A worker that has not finished a receive call for this long is stuck. */
#define MAIN_STALL_SECONDS 5
/* The flow table's default capacity, shared by all workers. */
#define MAIN_FLOWS_DEFAULT (1u << 20)
/* Who may use the registration protocol unless --reg-allow says otherwise. */
#define MAIN_REG_ALLOW "127.0.0.0/8,::1/128"
/* The mark of refusals, which the installer exempts from conntrack. */
#define MAIN_REFUSE_MARK 0x10000000

struct main_opts {
	const char *db;
	const char *http;
	const char *web;
	const char *token_file; /* NULL: api.token beside the database */
	const char *tls_cert, *tls_key;
	const char *user;       /* NULL: keep the user id */
	const char *flow_file;  /* NULL: the database's path + ".flows" */
	unsigned flows;         /* flow table capacity, all workers together */
	struct nfq_config nfq;
	unsigned nflog_group;   /* fan-out: where the installer copies contested ports */
	struct regsrv_config reg;
	unsigned resolve_interval;
	enum log_level level;
	bool use_syslog;
	bool check_only;
};

static bool main_uint(const char *s, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool main_opt_db(struct main_opts *o, const char *arg)
{
	o->db = arg;
	return true;
}

static bool main_opt_http(struct main_opts *o, const char *arg)
{
	o->http = arg;
	return true;
}

static bool main_opt_web(struct main_opts *o, const char *arg)
{
	o->web = arg;
	return true;
}

static bool main_opt_token_file(struct main_opts *o, const char *arg)
{
	o->token_file = arg;
	return true;
}

static bool main_opt_tls_cert(struct main_opts *o, const char *arg)
{
	o->tls_cert = arg;
	return true;
}

static bool main_opt_tls_key(struct main_opts *o, const char *arg)
{
	o->tls_key = arg;
	return true;
}

static bool main_opt_user(struct main_opts *o, const char *arg)
{
	o->user = arg;
	return true;
}

static bool main_opt_queues(struct main_opts *o, const char *arg)
{
	char first[16], *colon = strchr(arg, ':');
	size_t len = colon ? (size_t)(colon - arg) : 0;

	if (!colon || len == 0 || len >= sizeof(first))
		return false;
	memcpy(first, arg, len);
	first[len] = '\0';
	return main_uint(first, 65535, &o->nfq.first_queue) &&
	       main_uint(colon + 1, CONTROL_MAX_QUEUES - 1, &o->nfq.nqueues) &&
	       o->nfq.nqueues > 0 && o->nfq.first_queue + o->nfq.nqueues <= 65535;
}

static bool main_opt_maxlen(struct main_opts *o, const char *arg)
{
	return main_uint(arg, 1u << 20, &o->nfq.queue_maxlen) && o->nfq.queue_maxlen > 0;
}

static bool main_opt_batch(struct main_opts *o, const char *arg)
{
	return main_uint(arg, 256, &o->nfq.batch) && o->nfq.batch > 0;
}

static bool main_opt_resolve(struct main_opts *o, const char *arg)
{
	return main_uint(arg, 86400, &o->resolve_interval) && o->resolve_interval > 0;
}

static bool main_opt_flows(struct main_opts *o, const char *arg)
{
	return main_uint(arg, 1u << 26, &o->flows) && o->flows >= 1024;
}

static bool main_opt_flow_file(struct main_opts *o, const char *arg)
{
	o->flow_file = arg;
	return true;
}

/* The timeouts by name, for --flow-timeouts. */
static const struct {
	const char *name;
	size_t offset;
} main_timeouts[] = {
	{ "tcp_syn", offsetof(struct flow_timeouts, tcp_syn) },
	{ "tcp_established", offsetof(struct flow_timeouts, tcp_established) },
	{ "tcp_fin_wait", offsetof(struct flow_timeouts, tcp_fin_wait) },
	{ "tcp_close", offsetof(struct flow_timeouts, tcp_close) },
	{ "udp", offsetof(struct flow_timeouts, udp) },
};

/* "name=seconds,..." over the defaults; every timeout 1..7 days. */
static bool main_opt_flow_timeouts(struct main_opts *o, const char *arg)
{
	char buf[256], *save = NULL, *item;

	if (strlen(arg) >= sizeof(buf))
		return false;
	strcpy(buf, arg);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		unsigned v;
		size_t i;

		if (!eq)
			return false;
		*eq = '\0';
		for (i = 0; i < ARRAY_LEN(main_timeouts) && strcmp(item, main_timeouts[i].name); i++)
			;
		if (i == ARRAY_LEN(main_timeouts) || !main_uint(eq + 1, 7 * 86400, &v) || v == 0)
			return false;
		memcpy((char *)&o->nfq.timeouts + main_timeouts[i].offset, &v, sizeof(uint32_t));
	}
	return true;
}

static bool main_opt_worker_nice(struct main_opts *o, const char *arg)
{
	unsigned v;

	if (arg[0] == '-')
		return main_uint(arg + 1, 20, &v) && (o->nfq.nice = -(int)v, true);
	return main_uint(arg, 19, &v) && (o->nfq.nice = (int)v, true);
}

/*
 * Lets the workers take the nice value --worker-nice asks for: a negative
 * one needs RLIMIT_NICE of 20 - nice, which only a privileged process may
 * raise, so it is raised here, before the privileges go.
 */
static void main_nice_limit(int nice)
{
	struct rlimit rl;

	if (nice >= 0 || getrlimit(RLIMIT_NICE, &rl) < 0 || rl.rlim_cur >= (rlim_t)(20 - nice))
		return;
	rl.rlim_cur = (rlim_t)(20 - nice);
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur;
	if (setrlimit(RLIMIT_NICE, &rl) < 0)
		log_warn("RLIMIT_NICE: the workers keep their nice value (set LimitNICE=)");
}

static bool main_opt_nflog(struct main_opts *o, const char *arg)
{
	return main_uint(arg, 65535, &o->nflog_group);
}

/* "CIDR,CIDR,...": at most REGSRV_NETS_MAX networks into nets[0..*n). */
static bool main_nets(const char *arg, struct regsrv_net *nets, size_t *n)
{
	char buf[1024], *save = NULL, *item;

	if (strlen(arg) >= sizeof(buf))
		return false;
	strcpy(buf, arg);
	*n = 0;
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (*n == REGSRV_NETS_MAX || !regsrv_net_parse(item, &nets[*n]))
			return false;
		(*n)++;
	}
	return true;
}

static bool main_opt_reg_allow(struct main_opts *o, const char *arg)
{
	return main_nets(arg, o->reg.allow, &o->reg.nallow);
}

static bool main_opt_reg_admin(struct main_opts *o, const char *arg)
{
	return main_nets(arg, o->reg.admin, &o->reg.nadmin);
}

static bool main_opt_reg_max(struct main_opts *o, const char *arg)
{
	return main_uint(arg, FCTL_MAX_SUBS, &o->reg.max_subs) && o->reg.max_subs > 0;
}

static bool main_opt_reg_rate(struct main_opts *o, const char *arg)
{
	return main_uint(arg, 100000, &o->reg.rate) && o->reg.rate > 0;
}

static bool main_opt_level(struct main_opts *o, const char *arg)
{
	return log_level_parse(arg, &o->level);
}

static bool main_opt_syslog(struct main_opts *o, const char *arg)
{
	(void)arg;
	o->use_syslog = true;
	return true;
}

static bool main_opt_check(struct main_opts *o, const char *arg)
{
	(void)arg;
	o->check_only = true;
	return true;
}

/* The option table drives getopt_long and the usage text alike. */
static const struct {
	const char *name;
	int has_arg;
	int short_name;
	const char *arg;
	const char *help;
	bool (*set)(struct main_opts *o, const char *arg);
} main_options[] = {
	{ "db", required_argument, 'd', "PATH", "sqlite database (default /var/lib/portshare/portshare.db)", main_opt_db },
	{ "http", required_argument, 'l', "ADDR:PORT", "HTTP API listener (default 127.0.0.1:8080)", main_opt_http },
	{ "queues", required_argument, 'q', "FIRST:COUNT", "NFQUEUE queues, one worker each, plus queue FIRST+COUNT for loopback (default 0:2)", main_opt_queues },
	{ "queue-maxlen", required_argument, 'm', "N", "packets the kernel holds per queue (default 8192)", main_opt_maxlen },
	{ "batch", required_argument, 'b', "N", "packets per receive batch, 1-256 (default 64)", main_opt_batch },
	{ "web", required_argument, 'w', "DIR", "dashboard files (default " PORTSHARE_WEBDIR ")", main_opt_web },
	{ "token-file", required_argument, 't', "PATH", "API bearer token, created on first start (default api.token beside the database)", main_opt_token_file },
	{ "tls-cert", required_argument, 'C', "FILE", "serve HTTPS with this PEM certificate chain (needs --tls-key)", main_opt_tls_cert },
	{ "tls-key", required_argument, 'K', "FILE", "the PEM private key of --tls-cert", main_opt_tls_key },
	{ "user", required_argument, 'u', "NAME", "started as root, run as this user, which gets the database and token files (default: keep the user)", main_opt_user },
	{ "flows", required_argument, 'F', "N", "flow table capacity for application groups, at least 1024 (default 1048576)", main_opt_flows },
	{ "flow-file", required_argument, 'f', "PATH", "where the flow table lives, so flows survive a restart (default: the database path + .flows)", main_opt_flow_file },
	{ "flow-timeouts", required_argument, 'T', "NAME=S,...", "idle timeouts in seconds: tcp_syn, tcp_established, tcp_fin_wait, tcp_close, udp (default 60,7440,120,10,300)", main_opt_flow_timeouts },
	{ "worker-nice", required_argument, 'N', "N", "nice value of the NFQUEUE workers, -20..19 (default 0: unchanged)", main_opt_worker_nice },
	{ "nflog-group", required_argument, 'g', "N", "NFLOG group the installer copies contested UDP ports to (default 7)", main_opt_nflog },
	{ "reg-allow", required_argument, 'A', "CIDR,...", "networks that may use the registration protocol (default 127.0.0.0/8,::1/128)", main_opt_reg_allow },
	{ "reg-admin", required_argument, 'M', "CIDR,...", "networks that may register addresses other than their own (default none)", main_opt_reg_admin },
	{ "reg-max-subs", required_argument, 'S', "N", "subscribers per contested port the protocol may add, 1-256 (default 64)", main_opt_reg_max },
	{ "reg-rate", required_argument, 'R', "N", "registration requests per second per source address (default 10)", main_opt_reg_rate },
	{ "resolve-interval", required_argument, 'r', "SECONDS", "re-resolve domain names this often (default 30)", main_opt_resolve },
	{ "log-level", required_argument, 'v', "LEVEL", "error, warn, info or debug (default info)", main_opt_level },
	{ "syslog", no_argument, 's', NULL, "log to syslog instead of stderr", main_opt_syslog },
	{ "check", no_argument, 'n', NULL, "check the configuration and the database, then exit", main_opt_check },
};

#define MAIN_NOPTS ARRAY_LEN(main_options)

static void main_usage(FILE *f)
{
	fprintf(f, "usage: portshared [options]\n");
	for (size_t i = 0; i < MAIN_NOPTS; i++)
		fprintf(f, "  -%c, --%s%s%-*s %s\n", main_options[i].short_name,
			main_options[i].name, main_options[i].arg ? " " : "",
			(int)(28 - strlen(main_options[i].name)),
			main_options[i].arg ? main_options[i].arg : "", main_options[i].help);
	fprintf(f, "  -h, --help\n");
}

static int main_parse(int argc, char **argv, struct main_opts *o)
{
	struct option longopts[MAIN_NOPTS + 2] = { 0 };
	char shortopts[3 * MAIN_NOPTS + 2] = "h";
	size_t sp = 1;
	int c;

	for (size_t i = 0; i < MAIN_NOPTS; i++) {
		longopts[i] = (struct option){ main_options[i].name, main_options[i].has_arg,
					       NULL, main_options[i].short_name };
		shortopts[sp++] = (char)main_options[i].short_name;
		if (main_options[i].has_arg)
			shortopts[sp++] = ':';
	}
	longopts[MAIN_NOPTS] = (struct option){ "help", no_argument, NULL, 'h' };
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		size_t i;

		if (c == 'h') {
			main_usage(stdout);
			exit(0);
		}
		for (i = 0; i < MAIN_NOPTS && main_options[i].short_name != c; i++)
			;
		if (i == MAIN_NOPTS) {
			main_usage(stderr);
			return -1;
		}
		if (!main_options[i].set(o, optarg)) {
			fprintf(stderr, "portshared: invalid value for --%s: '%s' (expected %s)\n",
				main_options[i].name, optarg, main_options[i].arg);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "portshared: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/*
 * Opens the raw socket of one family that carries what the daemon sends
 * with headers of its own making: refusals of application groups, and
 * fan-out copies.  It needs CAP_NET_RAW, held only until the privilege
 * drop; without it, refusals become silent drops (the client's own timeout
 * ends its wait) and only framed_tcp and framed_unix subscribers get
 * copies.  The mark (CAP_NET_ADMIN) lets the installer's rule exempt these
 * packets from conntrack and from being copied again.  Returns the socket
 * or -1.
 */
static int main_raw_socket(int family)
{
	int mark = MAIN_REFUSE_MARK;
	int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0) {
		log_warn("raw IPv%d socket: no resets for refused clients, no fan-out copies over IP",
			 family == AF_INET ? 4 : 6);
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
		log_warn("SO_MARK on the raw IPv%d socket", family == AF_INET ? 4 : 6);
	return fd;
}

/*
 * Opens (or restores) the flow table: one partition per worker, the
 * network queues' and the loopback queue's.  Returns NULL with errbuf
 * filled.
 */
static struct flow_table *main_flows(const struct main_opts *o, const char *path,
				     char *errbuf, size_t errlen)
{
	static const char *const status[] = {
		[FLOW_OPEN_NEW] = "new",
		[FLOW_OPEN_RESTORED] = "restored",
		[FLOW_OPEN_LAYOUT] = "reinitialised (another layout)",
		[FLOW_OPEN_REBOOT] = "reinitialised (another boot)",
	};
	const unsigned parts = o->nfq.nqueues + 1;
	char boot[FLOW_BOOT_ID_SIZE];
	struct flow_open_info info;
	struct flow_table *t;

	if (flow_boot_id(boot) < 0) {
		snprintf(errbuf, errlen, "cannot read the boot id: %s", strerror(errno));
		return NULL;
	}
	t = flow_open(path, parts, (o->flows + parts - 1) / parts, boot, &info);
	if (!t) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	log_info("flow table %s: %s, %zu flows, %zu dropped, %zu bytes", path,
		 status[info.status], info.flows, info.dropped, info.bytes);
	return t;
}

/* What the HTTP server takes of the options. */
static struct api_config main_api_config(const struct main_opts *o)
{
	return (struct api_config){ .listen = o->http, .webdir = o->web,
				    .token_file = o->token_file, .db = o->db,
				    .tls_cert = o->tls_cert, .tls_key = o->tls_key };
}

/* True when every worker finished a receive call within MAIN_STALL_SECONDS. */
static bool main_workers_alive(struct control *ctl)
{
	struct control_status st;
	time_t now = time(NULL);

	control_status_get(ctl, &st);
	for (size_t i = 0; i < st.nqueues; i++)
		if (now - st.queues[i].last_progress > MAIN_STALL_SECONDS)
			return false;
	return true;
}

/* Writes the directory of the database path db into dir. */
static void main_db_dir_path(const char *db, char *dir, size_t len)
{
	const char *slash = strrchr(db, '/');

	if (slash == NULL)
		snprintf(dir, len, ".");
	else if (slash == db)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - db), db);
}

/* Creates the database's directory when it is missing (first start). */
static void main_db_dir(const char *db)
{
	char dir[4096];

	main_db_dir_path(db, dir, sizeof(dir));
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		log_warn("cannot create %s", dir);
}

/* The last component of path. */
static const char *main_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/*
 * Gives user what the daemon writes after the switch: the database's
 * directory (sqlite creates and removes its -wal and -shm files there),
 * the database and those files, and the token file.  Returns 0, or -1
 * with errbuf filled.
 */
static int main_give_files(const char *db, const char *token_file,
			   const char *flow_file, const struct priv_user *user,
			   char *errbuf, size_t errlen)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	const char *const own[] = { main_base(db), main_base(token_file) };
	char path[4096 + 8];

	main_db_dir_path(db, path, sizeof(path));
	if (priv_give_dir(path, own, ARRAY_LEN(own), user, errbuf, errlen) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
		snprintf(path, sizeof(path), "%s%s", db, suffixes[i]);
		if (priv_give(path, i > 0, user, errbuf, errlen) < 0)
			return -1;
	}
	if (priv_give(flow_file, true, user, errbuf, errlen) < 0)
		return -1;
	return priv_give(token_file, false, user, errbuf, errlen);
}

/*
 * Looks up --user into *user.  Started as anyone but root, the daemon
 * cannot switch users and does not try: --user must then name itself.
 * Returns 0 with *want true when a switch is due, or -1 with errbuf filled.
 */
static int main_user(const char *name, struct priv_user *user, bool *want,
		     char *errbuf, size_t errlen)
{
	*want = false;
	if (name == NULL)
		return 0;
	if (priv_user_lookup(name, user, errbuf, errlen) < 0)
		return -1;
	if (geteuid() == 0) {
		*want = user->uid != 0;
		return 0;
	}
	if (getuid() != user->uid) {
		snprintf(errbuf, errlen, "--user %s needs the daemon started as root "
			 "(it runs as uid %u)", name, (unsigned)getuid());
		return -1;
	}
	return 0;
}

/*
 * portshared -n: everything that can be checked without changing anything.
 * The options and the listener were checked by the caller; the database is
 * opened read-only.  Returns the exit status.
 */
static int main_check(const struct main_opts *o)
{
	char errbuf[512];
	size_t nrows;
	int st = store_check(o->db, &nrows, errbuf, sizeof(errbuf));

	if (st < 0) {
		log_warnx("%s", errbuf);
		return 1;
	}
	printf("portshared: configuration OK (%s: %s, queues %u:%u, http %s)\n", o->db,
	       st == 1 ? "not created yet" : "readable", o->nfq.first_queue, o->nfq.nqueues,
	       o->http);
	if (st == 0)
		printf("portshared: %zu mappings, all valid\n", nrows);
	return 0;
}

int main(int argc, char **argv)
{
	struct main_opts o = {
		.db = "/var/lib/portshare/portshare.db",
		.http = "127.0.0.1:8080",
		.web = PORTSHARE_WEBDIR,
		.nfq = { .first_queue = 0, .nqueues = 2, .queue_maxlen = 8192, .batch = 64,
			 .timeouts = flow_timeouts_default, .refuse_fd = { -1, -1 } },
		.flows = MAIN_FLOWS_DEFAULT,
		.nflog_group = 7,
		.reg = { .max_subs = 64, .rate = 10 },
		.resolve_interval = 30,
		.level = LOG_LVL_INFO,
	};
	struct control *ctl = NULL;
	struct nfq_pool *pool = NULL;
	struct flow_table *flows = NULL;
	struct fanout *fan = NULL;
	struct regsrv *reg = NULL;
	char flow_path[4096 + 8];
	struct api *api = NULL;
	struct api_config api_cfg;
	struct priv_user user;
	bool switching;
	char errbuf[512];
	uint64_t wd_usec = 0;
	sigset_t sigs;
	int rc = 1;

	main_nets(MAIN_REG_ALLOW, o.reg.allow, &o.reg.nallow);
	if (main_parse(argc, argv, &o) < 0)
		return 2;
	api_cfg = main_api_config(&o);
	log_init("portshared", o.level, o.use_syslog);

	/* Threads inherit this mask, so only the main thread takes signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (main_user(o.user, &user, &switching, errbuf, sizeof(errbuf)) < 0 ||
	    (o.check_only && !api_check(&api_cfg, errbuf, sizeof(errbuf)))) {
		log_warnx("%s", errbuf);
		return 1;
	}
	if (o.check_only)
		return main_check(&o);
	main_db_dir(o.db);
	snprintf(flow_path, sizeof(flow_path), "%s", o.flow_file ? o.flow_file : o.db);
	if (!o.flow_file)
		strncat(flow_path, ".flows", sizeof(flow_path) - strlen(flow_path) - 1);
	flows = main_flows(&o, flow_path, errbuf, sizeof(errbuf));
	if (!flows) {
		log_warnx("%s", errbuf);
		goto out;
	}
	o.nfq.flows = flows;
	o.nfq.refuse_fd[0] = main_raw_socket(AF_INET);
	o.nfq.refuse_fd[1] = main_raw_socket(AF_INET6);
	reg = regsrv_new(&o.reg);
	if (!reg) {
		log_warnx("out of memory");
		goto out;
	}
	ctl = control_open(o.db, o.resolve_interval, flows, o.nfq.nqueues + 1, regsrv_gone,
			   reg, errbuf, sizeof(errbuf));
	if (!ctl) {
		log_warnx("%s: %s", o.db, errbuf);
		goto out;
	}
	/* The listener, the token and the TLS files may need privileges. */
	api = api_open(&api_cfg, errbuf, sizeof(errbuf));
	if (!api) {
		log_warnx("http %s: %s", o.http, errbuf);
		goto out;
	}
	if (switching && main_give_files(o.db, api_token_file(api), flow_path, &user,
					 errbuf, sizeof(errbuf)) < 0) {
		log_warnx("%s", errbuf);
		goto out;
	}
	/*
	 * From here on the daemon needs only CAP_NET_ADMIN (queues and
	 * ipsets).  Threads copy the capabilities of the thread that creates
	 * them, so the drop comes before the first one, a worker, starts.
	 */
	main_nice_limit(o.nfq.nice);
	if (priv_drop(priv_needed(), switching ? &user : NULL, errbuf,
		      sizeof(errbuf)) < 0) {
		log_warnx("%s", errbuf);
		goto out;
	}
	pool = nfq_start(&o.nfq, errbuf, sizeof(errbuf));
	if (!pool) {
		log_warnx("%s", errbuf);
		goto out;
	}
	{
		struct fanout_config fc = { o.nflog_group,
					    { o.nfq.refuse_fd[0], o.nfq.refuse_fd[1] } };

		fan = fanout_start(&fc, errbuf, sizeof(errbuf));
	}
	if (!fan) {
		log_warnx("%s", errbuf);
		goto out;
	}
	if (regsrv_start(reg, ctl, errbuf, sizeof(errbuf)) < 0) {
		log_warnx("%s", errbuf);
		goto out;
	}
	if (control_start(ctl, pool, fan, reg) < 0) {
		log_warn("cannot start the resolver thread");
		goto out;
	}
	if (api_start(api, ctl, errbuf, sizeof(errbuf)) < 0) {
		log_warnx("http %s: %s", o.http, errbuf);
		goto out;
	}
	log_info("running: queues %u-%u, loopback queue %u, http %s, database %s",
		 o.nfq.first_queue, o.nfq.first_queue + o.nfq.nqueues - 1,
		 o.nfq.first_queue + o.nfq.nqueues, o.http, o.db);
	sd_notify(0, "READY=1");
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;

	for (;;) {
		struct timespec tick = { .tv_sec = 1 };
		int sig = sigtimedwait(&sigs, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT) {
			log_info("signal %d: stopping", sig);
			break;
		}
		control_tick(ctl);
		/* A stuck worker stops the watchdog pings, so systemd restarts us. */
		if (wd_usec && main_workers_alive(ctl))
			sd_notify(0, "WATCHDOG=1");
	}
	sd_notify(0, "STOPPING=1");
	rc = 0;
out:
	api_stop(api);
	/* Subscribers hear SHUTDOWN before their copies stop. */
	regsrv_stop(reg);
	fanout_stop(fan);
	nfq_stop(pool);
	control_close(ctl);
	flow_close(flows);
	for (size_t i = 0; i < ARRAY_LEN(o.nfq.refuse_fd); i++)
		if (o.nfq.refuse_fd[i] >= 0)
			close(o.nfq.refuse_fd[i]);
	return rc;
}

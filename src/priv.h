/*
 * priv: drops portshared's privileges to the one capability it needs at
 * run time, early in its start-up, right after it has opened what needs
 * more: its database, its ipset session, its HTTP listening socket (a port
 * below 1024 needs CAP_NET_BIND_SERVICE only to be bound), its token and
 * TLS files.
 *
 * At run time the daemon still needs CAP_NET_ADMIN: the NFQUEUE workers
 * bind their queues and send verdicts, and the control plane updates the
 * ipsets, over netlink, and the kernel checks the capability on every such
 * message.  Everything else goes: the effective and permitted sets keep
 * only CAP_NET_ADMIN, the inheritable and ambient sets are emptied, every
 * other capability leaves the bounding set (when the process may change
 * it) and no_new_privs is set, so no later execve can give anything back.
 *
 * Capabilities belong to each thread, and a new thread copies those of the
 * thread that creates it.  priv_drop therefore has to run while the process
 * still has a single thread; it refuses to run otherwise, so that no thread
 * is left holding what the others gave up.
 *
 * Started as root with --user, the daemon also becomes that user: the
 * database's directory and files and the token file are given to it
 * (priv_give), then priv_drop switches the user and group ids, keeping
 * CAP_NET_ADMIN across the switch.  Without --user, it keeps its user id:
 * started as root, it stays uid 0 without CAP_DAC_OVERRIDE.  The systemd
 * unit needs neither: systemd starts it as a dynamic user with ambient
 * CAP_NET_ADMIN.
 */
#ifndef PORTSHARE_PRIV_H
#define PORTSHARE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Capabilities as bits of a mask: bit N is capability number N. */
#define PRIV_CAP(n) (UINT64_C(1) << (n))
#define PRIV_SETGID PRIV_CAP(6)
#define PRIV_SETUID PRIV_CAP(7)
#define PRIV_SETPCAP PRIV_CAP(8)
#define PRIV_NET_ADMIN PRIV_CAP(12)

/* The three per-thread capability sets that capget and capset exchange. */
struct priv_sets {
	uint64_t effective;
	uint64_t permitted;
	uint64_t inheritable;
};

/* The user the daemon switches to (--user). */
struct priv_user {
	char name[64];
	uid_t uid;
	gid_t gid; /* the user's primary group; supplementary groups are dropped */
};

/*
 * The capabilities the daemon needs at run time: CAP_NET_ADMIN.  Binding
 * the HTTP port happens before the drop, so no port asks for more.
 */
uint64_t priv_needed(void);

/*
 * Computes the sets to install so that only keep remains.  A switch of
 * user ids (switching) also needs CAP_SETUID and CAP_SETGID until it is
 * done.  Returns false, with *missing set to what the process needs but
 * does not hold (it cannot gain it), when that is not a subset of
 * now->permitted.  Pure.
 */
bool priv_plan(const struct priv_sets *now, uint64_t keep, bool switching,
	       struct priv_sets *out, uint64_t *missing);

/* Looks name up in the user database.  Returns 0, or -1 with errbuf filled. */
int priv_user_lookup(const char *name, struct priv_user *u, char *errbuf,
		     size_t errlen);

/*
 * Says why a file (or a directory, when dir) of the given mode and owner
 * must not be given to user id to, or returns NULL when it may: it must
 * belong to root or to that user already, and a directory must not be
 * shared (writable by others, or sticky, like /tmp).  Pure.
 */
const char *priv_give_refusal(bool dir, unsigned mode, unsigned owner,
			      unsigned to);

/*
 * Gives the regular file path to u: its owner and group become u's.  A
 * path that does not exist is skipped when optional.  Returns 0, or -1
 * with errbuf filled.
 */
int priv_give(const char *path, bool optional, const struct priv_user *u,
	      char *errbuf, size_t errlen);

/*
 * Gives the directory dir to u, as priv_give does a file, but only when
 * it is the daemon's own: every entry in it must start with one of the n
 * names in own (the database's and the token file's), so that a database
 * put in a shared place such as /var/lib never hands that place over.
 * Returns 0, or -1 with errbuf filled.
 */
int priv_give_dir(const char *dir, const char *const *own, size_t n,
		  const struct priv_user *u, char *errbuf, size_t errlen);

/*
 * Writes the names of the capabilities in mask ("cap_net_admin,...", or
 * "none") into buf, truncated to len.  Returns buf.
 */
char *priv_names(uint64_t mask, char *buf, size_t len);

/*
 * Keeps only the capabilities in keep, as described above, becoming user
 * (when not NULL) on the way, and logs what it kept.  Call it before the
 * process starts its first thread.  Returns 0, or -1 with errbuf filled (a
 * capability of keep not held, a second thread already running, or a
 * system call refused).
 */
int priv_drop(uint64_t keep, const struct priv_user *user, char *errbuf,
	      size_t errlen);

#endif

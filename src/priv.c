/*
 * priv: see priv.h.  The capability sets are read and written with the raw
 * capget/capset system calls (version 3, two 32-bit words per set) and the
 * bounding and ambient sets with prctl, so the daemon needs no libcap.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

_Static_assert(PRIV_NET_ADMIN == PRIV_CAP(CAP_NET_ADMIN), "PRIV_NET_ADMIN");
_Static_assert(PRIV_SETPCAP == PRIV_CAP(CAP_SETPCAP), "PRIV_SETPCAP");
_Static_assert(PRIV_SETUID == PRIV_CAP(CAP_SETUID), "PRIV_SETUID");
_Static_assert(PRIV_SETGID == PRIV_CAP(CAP_SETGID), "PRIV_SETGID");

/* Capability numbers are bits of a 64-bit mask. */
#define PRIV_MAX_CAPS 64

/* The names capsh and /proc/PID/status decoders use, by number. */
static const char *const priv_cap_names[] = {
	[CAP_CHOWN] = "cap_chown",
	[CAP_DAC_OVERRIDE] = "cap_dac_override",
	[CAP_DAC_READ_SEARCH] = "cap_dac_read_search",
	[CAP_FOWNER] = "cap_fowner",
	[CAP_FSETID] = "cap_fsetid",
	[CAP_KILL] = "cap_kill",
	[CAP_SETGID] = "cap_setgid",
	[CAP_SETUID] = "cap_setuid",
	[CAP_SETPCAP] = "cap_setpcap",
	[CAP_LINUX_IMMUTABLE] = "cap_linux_immutable",
	[CAP_NET_BIND_SERVICE] = "cap_net_bind_service",
	[CAP_NET_BROADCAST] = "cap_net_broadcast",
	[CAP_NET_ADMIN] = "cap_net_admin",
	[CAP_NET_RAW] = "cap_net_raw",
	[CAP_IPC_LOCK] = "cap_ipc_lock",
	[CAP_IPC_OWNER] = "cap_ipc_owner",
	[CAP_SYS_MODULE] = "cap_sys_module",
	[CAP_SYS_RAWIO] = "cap_sys_rawio",
	[CAP_SYS_CHROOT] = "cap_sys_chroot",
	[CAP_SYS_PTRACE] = "cap_sys_ptrace",
	[CAP_SYS_PACCT] = "cap_sys_pacct",
	[CAP_SYS_ADMIN] = "cap_sys_admin",
	[CAP_SYS_BOOT] = "cap_sys_boot",
	[CAP_SYS_NICE] = "cap_sys_nice",
	[CAP_SYS_RESOURCE] = "cap_sys_resource",
	[CAP_SYS_TIME] = "cap_sys_time",
	[CAP_SYS_TTY_CONFIG] = "cap_sys_tty_config",
	[CAP_MKNOD] = "cap_mknod",
	[CAP_LEASE] = "cap_lease",
	[CAP_AUDIT_WRITE] = "cap_audit_write",
	[CAP_AUDIT_CONTROL] = "cap_audit_control",
	[CAP_SETFCAP] = "cap_setfcap",
	[CAP_MAC_OVERRIDE] = "cap_mac_override",
	[CAP_MAC_ADMIN] = "cap_mac_admin",
	[CAP_SYSLOG] = "cap_syslog",
	[CAP_WAKE_ALARM] = "cap_wake_alarm",
	[CAP_BLOCK_SUSPEND] = "cap_block_suspend",
	[CAP_AUDIT_READ] = "cap_audit_read",
	[CAP_PERFMON] = "cap_perfmon",
	[CAP_BPF] = "cap_bpf",
	[CAP_CHECKPOINT_RESTORE] = "cap_checkpoint_restore",
};

#define PRIV_NNAMES (sizeof(priv_cap_names) / sizeof(priv_cap_names[0]))

uint64_t priv_needed(void)
{
	return PRIV_NET_ADMIN;
}

bool priv_plan(const struct priv_sets *now, uint64_t keep, bool switching,
	       struct priv_sets *out, uint64_t *missing)
{
	uint64_t need = keep | (switching ? PRIV_SETUID | PRIV_SETGID : 0);

	*missing = need & ~now->permitted;
	if (*missing)
		return false;
	/*
	 * Permitted bounds effective, and a capability left out of both can
	 * never come back; an empty inheritable set also empties the ambient
	 * set, so nothing survives an execve either.
	 */
	out->effective = keep;
	out->permitted = keep;
	out->inheritable = 0;
	return true;
}

int priv_user_lookup(const char *name, struct priv_user *u, char *errbuf,
		     size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		snprintf(errbuf, errlen, "user %s: %s", name,
			 errno != 0 ? strerror(errno) : "no such user");
		return -1;
	}
	if ((size_t)snprintf(u->name, sizeof(u->name), "%s", name) >= sizeof(u->name)) {
		snprintf(errbuf, errlen, "user name %s is too long", name);
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

const char *priv_give_refusal(bool dir, unsigned mode, unsigned owner,
			      unsigned to)
{
	if (owner != 0 && owner != to)
		return "it belongs to another user";
	/*
	 * A directory others may write to is shared (a /tmp), and is not
	 * the daemon's to take: the database needs a directory of its own.
	 */
	if (dir && (mode & (S_IWGRP | S_IWOTH | S_ISVTX)) != 0)
		return "it is shared with other users (writable by them, or sticky); "
		       "give the database a directory of its own";
	return NULL;
}

/*
 * Checks and chowns path, which must be a directory when dir and a regular
 * file otherwise.  Returns 0, 1 when it does not exist, or -1 with errbuf
 * filled.
 */
static int priv_chown(const char *path, bool dir, const struct priv_user *u,
		      char *errbuf, size_t errlen)
{
	const char *why;
	struct stat sb;

	if (stat(path, &sb) < 0) {
		snprintf(errbuf, errlen, "cannot give %s to user %s: %s", path,
			 u->name, strerror(errno));
		return errno == ENOENT ? 1 : -1;
	}
	if (dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode))
		why = dir ? "it is not a directory" : "it is not a regular file";
	else
		why = priv_give_refusal(dir, sb.st_mode, sb.st_uid, u->uid);
	if (why == NULL && chown(path, u->uid, u->gid) == 0)
		return 0;
	if (why != NULL)
		snprintf(errbuf, errlen, "will not give %s to user %s: %s", path,
			 u->name, why);
	else
		snprintf(errbuf, errlen, "cannot give %s to user %s: %s", path,
			 u->name, strerror(errno));
	return -1;
}

int priv_give(const char *path, bool optional, const struct priv_user *u,
	      char *errbuf, size_t errlen)
{
	int rc = priv_chown(path, false, u, errbuf, errlen);

	return rc == 1 && optional ? 0 : rc == 0 ? 0 : -1;
}

int priv_give_dir(const char *dir, const char *const *own, size_t n,
		  const struct priv_user *u, char *errbuf, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = -1;

	if (d == NULL) {
		snprintf(errbuf, errlen, "cannot give %s to user %s: %s", dir,
			 u->name, strerror(errno));
		return -1;
	}
	while ((errno = 0, e = readdir(d)) != NULL) {
		bool mine = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;

		for (size_t i = 0; !mine && i < n; i++)
			mine = strncmp(e->d_name, own[i], strlen(own[i])) == 0;
		if (!mine) {
			snprintf(errbuf, errlen, "will not give %s to user %s: it holds "
				 "%s, which is not the daemon's; give the database a "
				 "directory of its own", dir, u->name, e->d_name);
			goto out;
		}
	}
	if (errno != 0) {
		snprintf(errbuf, errlen, "cannot read %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = priv_chown(dir, true, u, errbuf, errlen) == 0 ? 0 : -1;
out:
	closedir(d);
	return rc;
}

char *priv_names(uint64_t mask, char *buf, size_t len)
{
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (mask == 0) {
		snprintf(buf, len, "none");
		return buf;
	}
	for (unsigned c = 0; c < PRIV_MAX_CAPS && used < len; c++) {
		const char *sep = used ? "," : "";
		int n;

		if (!(mask & PRIV_CAP(c)))
			continue;
		if (c < PRIV_NNAMES && priv_cap_names[c])
			n = snprintf(buf + used, len - used, "%s%s", sep, priv_cap_names[c]);
		else
			n = snprintf(buf + used, len - used, "%scap_%u", sep, c);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

/*
 * Counts the threads of this process in /proc/self/task.  Returns the
 * count, or -1 with errno set when /proc cannot be read.
 */
static int priv_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Reads the calling thread's sets.  Returns 0, or -1 with errno set. */
static int priv_get(struct priv_sets *s)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	s->effective = (uint64_t)data[1].effective << 32 | data[0].effective;
	s->permitted = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	s->inheritable = (uint64_t)data[1].inheritable << 32 | data[0].inheritable;
	return 0;
}

/* Installs s for the calling thread.  Returns 0, or -1 with errno set. */
static int priv_set(const struct priv_sets *s)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {
		{ (uint32_t)s->effective, (uint32_t)s->permitted, (uint32_t)s->inheritable },
		{ (uint32_t)(s->effective >> 32), (uint32_t)(s->permitted >> 32),
		  (uint32_t)(s->inheritable >> 32) },
	};

	return (int)syscall(SYS_capset, &hdr, data);
}

/* The bounding set; the kernel answers EINVAL past its last capability. */
static uint64_t priv_bounding(void)
{
	uint64_t mask = 0;

	for (unsigned c = 0; c < PRIV_MAX_CAPS; c++) {
		int r = prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0);

		if (r < 0)
			break;
		if (r == 1)
			mask |= PRIV_CAP(c);
	}
	return mask;
}

/*
 * Becomes u: group ids first, while CAP_SETGID is still effective, then
 * the user ids.  PR_SET_KEEPCAPS keeps the permitted set across the
 * switch away from uid 0, which otherwise empties it; the effective set is
 * emptied anyway, and the capset that follows raises what is kept.
 * Returns 0, or -1 with errbuf filled.
 */
static int priv_become(const struct priv_user *u, char *errbuf, size_t errlen)
{
	const char *what = "PR_SET_KEEPCAPS";

	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
		goto err;
	what = "setgroups";
	if (setgroups(0, NULL) < 0)
		goto err;
	what = "setresgid";
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		goto err;
	what = "setresuid";
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		goto err;
	/* Only this switch needed it; a later one must not keep anything. */
	what = "PR_SET_KEEPCAPS";
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0)
		goto err;
	return 0;
err:
	snprintf(errbuf, errlen, "becoming user %s (uid %u): %s: %s", u->name,
		 (unsigned)u->uid, what, strerror(errno));
	return -1;
}

int priv_drop(uint64_t keep, const struct priv_user *user, char *errbuf,
	      size_t errlen)
{
	struct priv_sets now, want;
	uint64_t missing, bounding, dropped = 0;
	char kept[512], bnd[512];
	bool may_shrink;
	int threads, rc = -1;

	threads = priv_threads();
	if (threads < 0) {
		snprintf(errbuf, errlen, "cannot count threads in /proc/self/task: %s",
			 strerror(errno));
		goto out;
	}
	if (threads != 1) {
		snprintf(errbuf, errlen,
			 "privileges must be dropped before any thread starts (%d running)",
			 threads);
		goto out;
	}
	if (priv_get(&now) < 0) {
		snprintf(errbuf, errlen, "capget: %s", strerror(errno));
		goto out;
	}
	if (!priv_plan(&now, keep, user != NULL, &want, &missing)) {
		snprintf(errbuf, errlen, "cannot %s %s: the process does not hold it",
			 missing & keep ? "keep" : "switch users without",
			 priv_names(missing, kept, sizeof(kept)));
		goto out;
	}
	/*
	 * Only a process with CAP_SETPCAP may shrink the bounding set, so it
	 * goes first.  A process started without it (a non-root service with
	 * ambient capabilities) received its bounding set from the service
	 * manager, and no_new_privs keeps it harmless.
	 */
	bounding = priv_bounding();
	may_shrink = now.effective & PRIV_SETPCAP;
	if (may_shrink) {
		for (unsigned c = 0; c < PRIV_MAX_CAPS; c++) {
			if (!(bounding & PRIV_CAP(c)) || (keep & PRIV_CAP(c)))
				continue;
			if (prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0) < 0) {
				snprintf(errbuf, errlen, "dropping %s from the bounding set: %s",
					 priv_names(PRIV_CAP(c), kept, sizeof(kept)),
					 strerror(errno));
				goto out;
			}
			dropped |= PRIV_CAP(c);
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		snprintf(errbuf, errlen, "clearing the ambient set: %s", strerror(errno));
		goto out;
	}
	if (user != NULL && priv_become(user, errbuf, errlen) < 0)
		goto out;
	if (priv_set(&want) < 0) {
		snprintf(errbuf, errlen, "capset: %s", strerror(errno));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(errbuf, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		goto out;
	}
	/* The kernel is the judge of what was kept, not the plan. */
	if (priv_get(&now) < 0) {
		snprintf(errbuf, errlen, "capget: %s", strerror(errno));
		goto out;
	}
	if (now.effective != keep || now.permitted != keep || now.inheritable) {
		snprintf(errbuf, errlen, "capset left %s in effect",
			 priv_names(now.effective | now.permitted | now.inheritable,
				    kept, sizeof(kept)));
		goto out;
	}
	log_info("privileges dropped: uid %u gid %u%s%s keeps %s; bounding set %s%s; "
		 "no_new_privs", (unsigned)getuid(), (unsigned)getgid(),
		 user != NULL ? " as user " : "", user != NULL ? user->name : "",
		 priv_names(keep, kept, sizeof(kept)),
		 priv_names(bounding & ~dropped, bnd, sizeof(bnd)),
		 may_shrink ? "" : " (as the service manager set it)");
	rc = 0;
out:
	return rc;
}

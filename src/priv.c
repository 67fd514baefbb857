/*
 * priv: see priv.h.  The capability sets are read and written with the raw
 * capget/capset system calls (version 3, two 32-bit words per set) and the
 * bounding and ambient sets with prctl, so the daemon needs no libcap.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

_Static_assert(PRIV_NET_ADMIN == PRIV_CAP(CAP_NET_ADMIN), "PRIV_NET_ADMIN");
_Static_assert(PRIV_NET_BIND_SERVICE == PRIV_CAP(CAP_NET_BIND_SERVICE),
	       "PRIV_NET_BIND_SERVICE");
_Static_assert(PRIV_SETPCAP == PRIV_CAP(CAP_SETPCAP), "PRIV_SETPCAP");

/* Ports below this one need CAP_NET_BIND_SERVICE to bind. */
#define PRIV_FIRST_FREE_PORT 1024

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

uint64_t priv_needed(const char *http_listen)
{
	const char *colon = strrchr(http_listen, ':');
	unsigned long port;
	char *end;

	if (colon == NULL || colon[1] < '0' || colon[1] > '9')
		return PRIV_NET_ADMIN;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port == 0 || port >= PRIV_FIRST_FREE_PORT)
		return PRIV_NET_ADMIN;
	return PRIV_NET_ADMIN | PRIV_NET_BIND_SERVICE;
}

bool priv_plan(const struct priv_sets *now, uint64_t keep,
	       struct priv_sets *out, uint64_t *missing)
{
	*missing = keep & ~now->permitted;
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

int priv_drop(uint64_t keep, char *errbuf, size_t errlen)
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
	if (!priv_plan(&now, keep, &want, &missing)) {
		snprintf(errbuf, errlen, "cannot keep %s: the process does not hold it",
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
	log_info("privileges dropped: uid %u keeps %s; bounding set %s%s; no_new_privs",
		 (unsigned)getuid(), priv_names(keep, kept, sizeof(kept)),
		 priv_names(bounding & ~dropped, bnd, sizeof(bnd)),
		 may_shrink ? "" : " (as the service manager set it)");
	rc = 0;
out:
	return rc;
}

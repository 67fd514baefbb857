/*
 * Unit tests for priv: the capabilities the daemon keeps, the plan of
 * capability sets, their names, which files may be given to --user, and
 * priv_drop itself, with and without a switch of user (in check's forked
 * child, so the test runner keeps its own privileges).
 */
#include <check.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

START_TEST(test_needed)
{
	/* The HTTP port is bound before the drop, whatever its number. */
	ck_assert_uint_eq(priv_needed(), PRIV_NET_ADMIN);
}
END_TEST

START_TEST(test_plan)
{
	struct priv_sets root = { ~UINT64_C(0) >> 23, ~UINT64_C(0) >> 23, 0 };
	struct priv_sets ambient = { PRIV_NET_ADMIN, PRIV_NET_ADMIN, PRIV_NET_ADMIN };
	struct priv_sets out;
	uint64_t missing;

	ck_assert(priv_plan(&root, PRIV_NET_ADMIN, false, &out, &missing));
	ck_assert_uint_eq(missing, 0);
	ck_assert_uint_eq(out.effective, PRIV_NET_ADMIN);
	ck_assert_uint_eq(out.permitted, PRIV_NET_ADMIN);
	ck_assert_uint_eq(out.inheritable, 0);

	/* Root may switch users, and keeps no more for it. */
	ck_assert(priv_plan(&root, PRIV_NET_ADMIN, true, &out, &missing));
	ck_assert_uint_eq(out.effective, PRIV_NET_ADMIN);
	ck_assert_uint_eq(out.permitted, PRIV_NET_ADMIN);

	/* A non-root service with ambient CAP_NET_ADMIN loses the inheritable bit. */
	ck_assert(priv_plan(&ambient, PRIV_NET_ADMIN, false, &out, &missing));
	ck_assert_uint_eq(out.permitted, PRIV_NET_ADMIN);
	ck_assert_uint_eq(out.inheritable, 0);

	/* A capability the process does not hold cannot be kept. */
	ck_assert(!priv_plan(&ambient, PRIV_NET_ADMIN | PRIV_CAP(CAP_NET_BIND_SERVICE),
			     false, &out, &missing));
	ck_assert_uint_eq(missing, PRIV_CAP(CAP_NET_BIND_SERVICE));

	/* Nor can it switch users without CAP_SETUID and CAP_SETGID. */
	ck_assert(!priv_plan(&ambient, PRIV_NET_ADMIN, true, &out, &missing));
	ck_assert_uint_eq(missing, PRIV_SETUID | PRIV_SETGID);

	/* Permitted is what counts: a permitted capability may be raised. */
	ambient.effective = 0;
	ck_assert(priv_plan(&ambient, PRIV_NET_ADMIN, false, &out, &missing));
	ck_assert_uint_eq(out.effective, PRIV_NET_ADMIN);
}
END_TEST

/* Only root's or the user's own files, and no shared directory, are given away. */
START_TEST(test_give_refusal)
{
	ck_assert_ptr_null(priv_give_refusal(true, S_IFDIR | 0700, 0, 65534));
	ck_assert_ptr_null(priv_give_refusal(true, S_IFDIR | 0755, 65534, 65534));
	ck_assert_ptr_null(priv_give_refusal(false, S_IFREG | 0644, 0, 65534));
	ck_assert_ptr_null(priv_give_refusal(false, S_IFREG | 0666, 0, 65534));
	ck_assert_ptr_nonnull(strstr(priv_give_refusal(false, S_IFREG | 0600, 1000, 65534),
				     "another user"));
	ck_assert_ptr_nonnull(strstr(priv_give_refusal(true, S_IFDIR | 0700, 1000, 65534),
				     "another user"));
	ck_assert_ptr_nonnull(strstr(priv_give_refusal(true, S_IFDIR | 01777, 0, 65534),
				     "shared"));
	ck_assert_ptr_nonnull(strstr(priv_give_refusal(true, S_IFDIR | 0777, 0, 65534),
				     "shared"));
	ck_assert_ptr_nonnull(strstr(priv_give_refusal(true, S_IFDIR | 0770, 0, 65534),
				     "shared"));
	ck_assert_ptr_nonnull(strstr(priv_give_refusal(true, S_IFDIR | 01755, 0, 65534),
				     "shared"));
}
END_TEST

START_TEST(test_names)
{
	char buf[128];

	ck_assert_str_eq(priv_names(0, buf, sizeof(buf)), "none");
	ck_assert_str_eq(priv_names(PRIV_NET_ADMIN, buf, sizeof(buf)), "cap_net_admin");
	ck_assert_str_eq(priv_names(PRIV_NET_ADMIN | PRIV_CAP(CAP_NET_BIND_SERVICE), buf,
				    sizeof(buf)), "cap_net_bind_service,cap_net_admin");
	ck_assert_str_eq(priv_names(PRIV_CAP(0) | PRIV_CAP(40) | PRIV_CAP(63), buf, sizeof(buf)),
			 "cap_chown,cap_checkpoint_restore,cap_63");
	/* Truncation keeps the buffer terminated and never overruns it. */
	ck_assert_str_eq(priv_names(PRIV_NET_ADMIN, buf, 8), "cap_net");
	ck_assert_str_eq(priv_names(~UINT64_C(0), buf, 16), "cap_chown,cap_d");
}
END_TEST

/* Waits until its pipe is closed, so the test can join it. */
static void *test_idle(void *arg)
{
	char c;

	while (read(*(int *)arg, &c, 1) > 0)
		;
	return NULL;
}

START_TEST(test_drop_refuses_threads)
{
	pthread_t t;
	char err[256] = "";
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, test_idle, &p[0]), 0);
	ck_assert_int_eq(priv_drop(PRIV_NET_ADMIN, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "before any thread starts"));
	close(p[1]);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	close(p[0]);
}
END_TEST

/* Reads one "Name:\tHEX" line of /proc/self/status; UINT64_MAX if absent. */
static uint64_t test_status_mask(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long v = UINT64_MAX;
	size_t n = strlen(name);

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			sscanf(line + n + 1, "%llx", &v);
	fclose(f);
	return v;
}

START_TEST(test_drop)
{
	uint64_t before = test_status_mask("CapEff");
	char err[256] = "";
	int rc = priv_drop(PRIV_NET_ADMIN, NULL, err, sizeof(err));

	if (!(before & PRIV_NET_ADMIN)) {
		/* Run by a user without CAP_NET_ADMIN: refused, and says why. */
		ck_assert_int_eq(rc, -1);
		ck_assert_ptr_nonnull(strstr(err, "cap_net_admin"));
		return;
	}
	ck_assert_msg(rc == 0, "priv_drop: %s", err);
	ck_assert_uint_eq(test_status_mask("CapEff"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(test_status_mask("CapPrm"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(test_status_mask("CapInh"), 0);
	ck_assert_uint_eq(test_status_mask("CapAmb"), 0);
	ck_assert_uint_eq(test_status_mask("NoNewPrivs"), 1);
	/* Holding CAP_SETPCAP at the start, it shrinks the bounding set too. */
	if (before & PRIV_SETPCAP)
		ck_assert_uint_eq(test_status_mask("CapBnd"), PRIV_NET_ADMIN);
}
END_TEST

/*
 * Root switches to nobody and keeps CAP_NET_ADMIN across the switch.
 * Anyone else is refused, saying it cannot switch users.
 */
START_TEST(test_drop_user)
{
	uint64_t before = test_status_mask("CapEff");
	struct priv_user nobody;
	char err[256] = "";
	int rc;

	ck_assert_int_eq(priv_user_lookup("no-such-user-portshare", &nobody, err,
					  sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no-such-user-portshare"));
	ck_assert_msg(priv_user_lookup("nobody", &nobody, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(nobody.name, "nobody");
	rc = priv_drop(PRIV_NET_ADMIN, &nobody, err, sizeof(err));
	if ((before & (PRIV_NET_ADMIN | PRIV_SETUID | PRIV_SETGID)) !=
	    (PRIV_NET_ADMIN | PRIV_SETUID | PRIV_SETGID)) {
		ck_assert_int_eq(rc, -1);
		return;
	}
	ck_assert_msg(rc == 0, "priv_drop: %s", err);
	ck_assert_uint_eq(getuid(), nobody.uid);
	ck_assert_uint_eq(geteuid(), nobody.uid);
	ck_assert_uint_eq(getgid(), nobody.gid);
	ck_assert_int_eq(getgroups(0, NULL), 0);
	ck_assert_uint_eq(test_status_mask("CapEff"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(test_status_mask("CapPrm"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(test_status_mask("NoNewPrivs"), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("priv");
	TCase *tc = tcase_create("priv");
	SRunner *sr;
	int failed;

	log_init("test_priv", LOG_LVL_WARN, false);
	tcase_add_test(tc, test_needed);
	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_give_refusal);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_drop_refuses_threads);
	tcase_add_test(tc, test_drop);
	tcase_add_test(tc, test_drop_user);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/*
 * Unit tests for priv: which capabilities a listen address needs, the plan
 * of capability sets, their names, and priv_drop itself (in check's forked
 * child, so the test runner keeps its own privileges).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"

START_TEST(test_needed)
{
	const uint64_t both = PRIV_NET_ADMIN | PRIV_NET_BIND_SERVICE;

	ck_assert_uint_eq(priv_needed("127.0.0.1:8080"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(priv_needed("127.0.0.1:1024"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(priv_needed("127.0.0.1:1023"), both);
	ck_assert_uint_eq(priv_needed("0.0.0.0:80"), both);
	ck_assert_uint_eq(priv_needed("[::1]:443"), both);
	ck_assert_uint_eq(priv_needed("[::1]:8080"), PRIV_NET_ADMIN);
	/* Addresses api_start refuses need nothing more. */
	ck_assert_uint_eq(priv_needed("nowhere"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(priv_needed("127.0.0.1:"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(priv_needed("127.0.0.1:-80"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(priv_needed("127.0.0.1:80x"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(priv_needed("127.0.0.1:0"), PRIV_NET_ADMIN);
	ck_assert_uint_eq(priv_needed("127.0.0.1:99999999999999999999999"), PRIV_NET_ADMIN);
}
END_TEST

START_TEST(test_plan)
{
	struct priv_sets root = { ~UINT64_C(0) >> 23, ~UINT64_C(0) >> 23, 0 };
	struct priv_sets ambient = { PRIV_NET_ADMIN, PRIV_NET_ADMIN, PRIV_NET_ADMIN };
	struct priv_sets out;
	uint64_t missing;

	ck_assert(priv_plan(&root, PRIV_NET_ADMIN, &out, &missing));
	ck_assert_uint_eq(missing, 0);
	ck_assert_uint_eq(out.effective, PRIV_NET_ADMIN);
	ck_assert_uint_eq(out.permitted, PRIV_NET_ADMIN);
	ck_assert_uint_eq(out.inheritable, 0);

	/* A non-root service with ambient CAP_NET_ADMIN loses the inheritable bit. */
	ck_assert(priv_plan(&ambient, PRIV_NET_ADMIN, &out, &missing));
	ck_assert_uint_eq(out.permitted, PRIV_NET_ADMIN);
	ck_assert_uint_eq(out.inheritable, 0);

	/* A capability the process does not hold cannot be kept. */
	ck_assert(!priv_plan(&ambient, PRIV_NET_ADMIN | PRIV_NET_BIND_SERVICE, &out, &missing));
	ck_assert_uint_eq(missing, PRIV_NET_BIND_SERVICE);

	/* Permitted is what counts: a permitted capability may be raised. */
	ambient.effective = 0;
	ck_assert(priv_plan(&ambient, PRIV_NET_ADMIN, &out, &missing));
	ck_assert_uint_eq(out.effective, PRIV_NET_ADMIN);
}
END_TEST

START_TEST(test_names)
{
	char buf[128];

	ck_assert_str_eq(priv_names(0, buf, sizeof(buf)), "none");
	ck_assert_str_eq(priv_names(PRIV_NET_ADMIN, buf, sizeof(buf)), "cap_net_admin");
	ck_assert_str_eq(priv_names(PRIV_NET_ADMIN | PRIV_NET_BIND_SERVICE, buf, sizeof(buf)),
			 "cap_net_bind_service,cap_net_admin");
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
	ck_assert_int_eq(priv_drop(PRIV_NET_ADMIN, err, sizeof(err)), -1);
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
	int rc = priv_drop(PRIV_NET_ADMIN, err, sizeof(err));

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

int main(void)
{
	Suite *s = suite_create("priv");
	TCase *tc = tcase_create("priv");
	SRunner *sr;
	int failed;

	log_init("test_priv", LOG_LVL_WARN, false);
	tcase_add_test(tc, test_needed);
	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_drop_refuses_threads);
	tcase_add_test(tc, test_drop);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/*
 * Unit tests for metrics: the exposition text for a made-up daemon with
 * two queues and two mappings.  Exact sample lines are checked, and the
 * whole text against the format's rules: every sample belongs to the
 * family whose # HELP and # TYPE lines come just before it, every family
 * is described once, names carry the prefix, and counters end in _total.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

static struct control_status status;
static struct control_mapping rows[2];

static char *render(bool healthy, size_t nrows)
{
	struct metrics_input in = {
		.version = "1.2.3", .healthy = healthy, .status = &status,
		.rows = rows, .nrows = nrows,
	};
	char *text;

	memset(&status, 0, sizeof(status));
	status.version = 1234567;
	status.started = 1700000000;
	status.nqueues = 2;
	status.queues[0] = (struct control_queue_stats){
		.queue = 0, .packets = 10, .rewritten = 7, .passed = 3,
		.truncated = 1, .batches = 4, .nl_errors = 2, .enobufs = 5,
		.kernel_dropped = 6, .user_dropped = 8, .last_progress = 1700000100,
	};
	status.queues[1] = (struct control_queue_stats){ .queue = 2, .packets = 99 };
	memset(rows, 0, sizeof(rows));
	rows[0].m = (struct mapping){ .id = 1, .proto = MAPPING_TCP,
				      .address = "192.0.2.10", .shared_port = 80,
				      .assigned_port = 8081, .enabled = true };
	rows[0].packets_in = 11;
	rows[0].bytes_in = 1100;
	rows[0].packets_out = 12;
	rows[0].bytes_out = 2400;
	rows[0].last_hit = 1700000200;
	rows[0].naddrs = 1;
	rows[1].m = (struct mapping){ .id = 42, .proto = MAPPING_BOTH,
				      .address = "we\"ird\\name\n", .shared_port = 53,
				      .assigned_port = 5353, .enabled = false };
	text = metrics_render(&in);
	ck_assert_ptr_nonnull(text);
	return text;
}

static void has_line(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	ck_assert_msg(strstr(text, want) != NULL, "missing line: %s", line);
}

START_TEST(samples)
{
	char *text = render(true, 2);

	has_line(text, "portshare_up 1");
	has_line(text, "portshare_healthy 1");
	has_line(text, "portshare_build_info{version=\"1.2.3\"} 1");
	has_line(text, "portshare_start_time_seconds 1700000000");
	has_line(text, "portshare_table_version 1234567");
	has_line(text, "portshare_mappings 2");
	has_line(text, "portshare_queues 2");
	has_line(text, "portshare_queue_packets_total{queue=\"0\"} 10");
	has_line(text, "portshare_queue_packets_total{queue=\"2\"} 99");
	has_line(text, "portshare_queue_rewritten_total{queue=\"0\"} 7");
	has_line(text, "portshare_queue_passed_total{queue=\"0\"} 3");
	has_line(text, "portshare_queue_truncated_total{queue=\"0\"} 1");
	has_line(text, "portshare_queue_batches_total{queue=\"0\"} 4");
	has_line(text, "portshare_queue_netlink_errors_total{queue=\"0\"} 2");
	has_line(text, "portshare_queue_enobufs_total{queue=\"0\"} 5");
	has_line(text, "portshare_queue_kernel_dropped_total{queue=\"0\"} 6");
	has_line(text, "portshare_queue_user_dropped_total{queue=\"0\"} 8");
	has_line(text, "portshare_queue_last_progress_timestamp_seconds{queue=\"0\"} 1700000100");
	has_line(text, "portshare_mapping_packets_total{id=\"1\",direction=\"in\"} 11");
	has_line(text, "portshare_mapping_packets_total{id=\"1\",direction=\"out\"} 12");
	has_line(text, "portshare_mapping_bytes_total{id=\"1\",direction=\"in\"} 1100");
	has_line(text, "portshare_mapping_bytes_total{id=\"1\",direction=\"out\"} 2400");
	has_line(text, "portshare_mapping_last_hit_timestamp_seconds{id=\"1\"} 1700000200");
	has_line(text, "portshare_mapping_last_hit_timestamp_seconds{id=\"42\"} 0");
	has_line(text, "portshare_mapping_enabled{id=\"1\"} 1");
	has_line(text, "portshare_mapping_enabled{id=\"42\"} 0");
	has_line(text, "portshare_mapping_addresses{id=\"1\"} 1");
	has_line(text, "portshare_mapping_info{id=\"1\",proto=\"tcp\",address=\"192.0.2.10\","
		 "shared_port=\"80\",assigned_port=\"8081\"} 1");
	/* Label values are escaped as the format says. */
	has_line(text, "portshare_mapping_info{id=\"42\",proto=\"both\","
		 "address=\"we\\\"ird\\\\name\\n\",shared_port=\"53\",assigned_port=\"5353\"} 1");
	has_line(text, "# TYPE portshare_queue_packets_total counter");
	has_line(text, "# TYPE portshare_mapping_last_hit_timestamp_seconds gauge");
	ck_assert(text[strlen(text) - 1] == '\n');
	free(text);
}
END_TEST

START_TEST(unhealthy_and_empty)
{
	char *text = render(false, 0);

	has_line(text, "portshare_healthy 0");
	has_line(text, "portshare_mappings 0");
	/* Families without samples still say what they are. */
	has_line(text, "# TYPE portshare_mapping_packets_total counter");
	ck_assert_ptr_null(strstr(text, "portshare_mapping_packets_total{"));
	free(text);
}
END_TEST

/* The grammar of the whole text, line by line. */
START_TEST(format_rules)
{
	char *text = render(true, 2);
	char family[128] = "", type[16] = "";
	char seen[64][128];
	size_t nseen = 0;
	bool help_next = false;

	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char name[128];

		if (strncmp(line, "# HELP ", 7) == 0) {
			ck_assert_int_eq(sscanf(line + 7, "%127s", family), 1);
			ck_assert_msg(strncmp(family, "portshare_", 10) == 0, "%s", line);
			for (size_t i = 0; i < nseen; i++)
				ck_assert_msg(strcmp(seen[i], family) != 0,
					      "%s described twice", family);
			ck_assert_uint_lt(nseen, ARRAY_LEN(seen));
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", family);
			help_next = true;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			ck_assert(help_next);
			ck_assert_int_eq(sscanf(line + 7, "%127s %15s", name, type), 2);
			ck_assert_str_eq(name, family);
			ck_assert_msg(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0,
				      "%s", line);
			/* Counters, and only counters, end in _total. */
			ck_assert_msg((strcmp(type, "counter") == 0) ==
				      (strlen(name) > 6 &&
				       strcmp(name + strlen(name) - 6, "_total") == 0),
				      "%s", line);
			help_next = false;
			continue;
		}
		ck_assert_msg(line[0] != '#', "stray comment %s", line);
		/* A sample: its family's name, then labels or a blank. */
		ck_assert_msg(strncmp(line, family, strlen(family)) == 0 &&
			      (line[strlen(family)] == '{' || line[strlen(family)] == ' '),
			      "%s outside its family %s", line, family);
		/* No label names a client. */
		ck_assert_ptr_null(strstr(line, "client"));
		ck_assert_ptr_null(strstr(line, "peer"));
	}
	ck_assert_uint_ge(nseen, 20);
	free(text);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, samples);
	tcase_add_test(tc, unhealthy_and_empty);
	tcase_add_test(tc, format_rules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

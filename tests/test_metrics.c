/*
 * Unit tests for metrics: the exposition text for a made-up daemon with
 * two queues, two mappings, two application groups with three backends,
 * and a contested port with three subscribers.  Exact sample lines are
 * checked, and the whole text against the format's rules: every sample
 * belongs to the family whose # HELP and # TYPE lines come just before
 * it, every family is described once, names carry the prefix, and
 * counters end in _total.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "metrics.h"
#include "util.h"

static struct control_status status;
static struct control_mapping rows[2];
static struct gctl_group_view groups[2];
static struct gctl_backend_view backends[3];
static struct fctl_port_view ports[1];
static struct fctl_sub_view subs[3];

/* The groups, backends, contested port and subscribers, with their counters. */
static void fill_views(void)
{
	memset(groups, 0, sizeof(groups));
	memset(backends, 0, sizeof(backends));
	memset(ports, 0, sizeof(ports));
	memset(subs, 0, sizeof(subs));
	snprintf(groups[0].g.name, sizeof(groups[0].g.name), "web");
	groups[0].c = (struct groups_counters){ .flows = 40, .waits = 5,
						.wait_admitted = 3, .timeouts = 2,
						.refused = 7 };
	groups[0].active = 4;
	groups[0].nbackends = 2;
	/* Names never hold a quote, but the format must hold whatever a row holds. */
	snprintf(groups[1].g.name, sizeof(groups[1].g.name), "od\"d");
	groups[1].nbackends = 1;
	snprintf(backends[0].group, sizeof(backends[0].group), "web");
	backends[0].b.b.port = 9001;
	backends[0].b.b.state = SCHED_ACTIVE;
	backends[0].b.b.max_flows = 100;
	backends[0].active = 3;
	backends[0].flows = 30;
	snprintf(backends[1].group, sizeof(backends[1].group), "web");
	backends[1].b.b.port = 9002;
	backends[1].b.b.state = SCHED_DRAIN;
	backends[1].active = 1;
	backends[1].flows = 10;
	snprintf(backends[2].group, sizeof(backends[2].group), "od\"d");
	backends[2].b.b.port = 9003;
	backends[2].b.b.state = SCHED_DOWN;
	ports[0].p.port = 162;
	ports[0].c = (struct fctl_port_counters){ .datagrams = 200, .bytes = 14000 };
	ports[0].nsubs = 3;
	subs[0].contested_port = 162;
	subs[0].s.mode = FCTL_RAW;
	subs[0].s.family = AF_INET;
	inet_pton(AF_INET, "198.19.1.10", subs[0].s.addr);
	subs[0].s.port = 9162;
	subs[0].c = (struct fctl_sub_counters){ .copies = 200, .bytes = 14000,
						.errors = 1, .drops = 2,
						.last_sent = 1700000300 };
	subs[1].contested_port = 162;
	subs[1].s.mode = FCTL_SPOOF;
	subs[1].s.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::10", subs[1].s.addr);
	subs[1].s.port = 9163;
	subs[1].c.copies = 199;
	subs[2].contested_port = 162;
	subs[2].s.mode = FCTL_FRAMED_UNIX;
	subs[2].s.family = AF_UNIX;
	snprintf(subs[2].s.path, sizeof(subs[2].s.path), "/run/fan\"out.sock");
	subs[2].c.drops = 5;
}

static char *render(bool healthy, size_t nrows)
{
	struct metrics_input in = {
		.version = "1.2.3", .healthy = healthy, .status = &status,
		.rows = rows, .nrows = nrows,
	};
	char *text;

	/* With rows, the groups and fan-out too; without, nothing configured. */
	fill_views();
	if (nrows > 0) {
		in.groups = groups;
		in.ngroups = ARRAY_LEN(groups);
		in.backends = backends;
		in.nbackends = ARRAY_LEN(backends);
		in.ports = ports;
		in.nports = ARRAY_LEN(ports);
		in.subs = subs;
		in.nsubs = ARRAY_LEN(subs);
	}

	memset(&status, 0, sizeof(status));
	status.version = 1234567;
	status.started = 1700000000;
	status.nqueues = 2;
	status.queues[0] = (struct control_queue_stats){
		.queue = 0, .packets = 10, .rewritten = 7, .passed = 3,
		.truncated = 1, .batches = 4, .nl_errors = 2, .enobufs = 5,
		.kernel_dropped = 6, .user_dropped = 8, .refusals = 9,
		.flow_packets = 13, .no_route = 14, .held = 15,
		.last_progress = 1700000100,
	};
	status.queues[1] = (struct control_queue_stats){ .queue = 2, .packets = 99 };
	status.groups = (struct gctl_stats){ .groups = 2, .backends = 3, .rules = 4,
					     .flows = 5, .flow_limit = 65536,
					     .flows_refused = 6 };
	status.fanout = (struct fctl_stats){ .ports = 1, .subs = 3, .datagrams = 200,
					     .copies = 399, .errors = 1, .drops = 7 };
	status.copier = (struct fanout_stats){ .datagrams = 230, .unmatched = 30,
					       .malformed = 3, .overruns = 4 };
	status.registration = (struct regsrv_stats){
		.requests = 21, .added = 22, .dropped = 23, .refused_net = 24,
		.refused_foreign = 25, .refused_rate = 26, .refused_cap = 27,
		.malformed = 28, .shutdowns = 29,
	};
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
	has_line(text, "portshare_queue_refusals_total{queue=\"0\"} 9");
	has_line(text, "portshare_queue_flow_packets_total{queue=\"0\"} 13");
	has_line(text, "portshare_queue_no_route_total{queue=\"0\"} 14");
	has_line(text, "portshare_queue_held{queue=\"0\"} 15");
	has_line(text, "portshare_queue_held{queue=\"2\"} 0");
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
	has_line(text, "# TYPE portshare_backend_active_flows gauge");
	ck_assert_ptr_null(strstr(text, "portshare_backend_active_flows{"));
	has_line(text, "# TYPE portshare_group_waits_total counter");
	ck_assert_ptr_null(strstr(text, "portshare_group_waits_total{"));
	has_line(text, "# TYPE portshare_subscriber_copies_total counter");
	ck_assert_ptr_null(strstr(text, "portshare_subscriber_copies_total{"));
	has_line(text, "# TYPE portshare_contested_datagrams_total counter");
	ck_assert_ptr_null(strstr(text, "portshare_contested_datagrams_total{"));
	/* The totals are there whatever is configured. */
	has_line(text, "portshare_groups 2");
	has_line(text, "portshare_registration_requests_total 21");
	free(text);
}
END_TEST

START_TEST(totals)
{
	char *text = render(true, 2);

	has_line(text, "portshare_groups 2");
	has_line(text, "portshare_backends 3");
	has_line(text, "portshare_rules 4");
	has_line(text, "portshare_flows 5");
	has_line(text, "portshare_flow_capacity 65536");
	has_line(text, "portshare_flows_refused_total 6");
	has_line(text, "portshare_contested_ports 1");
	has_line(text, "portshare_subscribers 3");
	/* fctl's sums fall when a row goes: gauges, not counters. */
	has_line(text, "# TYPE portshare_fanout_copies gauge");
	has_line(text, "portshare_fanout_datagrams 200");
	has_line(text, "portshare_fanout_copies 399");
	has_line(text, "portshare_fanout_errors 1");
	has_line(text, "portshare_fanout_drops 7");
	has_line(text, "portshare_fanout_received_total 230");
	has_line(text, "portshare_fanout_unmatched_total 30");
	has_line(text, "portshare_fanout_malformed_total 3");
	has_line(text, "portshare_fanout_nflog_overruns_total 4");
	has_line(text, "portshare_registration_requests_total 21");
	has_line(text, "portshare_registration_added_total 22");
	has_line(text, "portshare_registration_dropped_total 23");
	has_line(text, "portshare_registration_refused_net_total 24");
	has_line(text, "portshare_registration_refused_foreign_total 25");
	has_line(text, "portshare_registration_refused_rate_total 26");
	has_line(text, "portshare_registration_refused_cap_total 27");
	has_line(text, "portshare_registration_malformed_total 28");
	has_line(text, "portshare_registration_shutdowns_total 29");
	free(text);
}
END_TEST

START_TEST(groups_and_backends)
{
	char *text = render(true, 2);

	has_line(text, "portshare_group_flows_total{group=\"web\"} 40");
	has_line(text, "portshare_group_waits_total{group=\"web\"} 5");
	has_line(text, "portshare_group_wait_admitted_total{group=\"web\"} 3");
	has_line(text, "portshare_group_timeouts_total{group=\"web\"} 2");
	has_line(text, "portshare_group_refused_total{group=\"web\"} 7");
	has_line(text, "portshare_group_active_flows{group=\"web\"} 4");
	has_line(text, "portshare_group_backends{group=\"web\"} 2");
	has_line(text, "portshare_group_waits_total{group=\"od\\\"d\"} 0");
	has_line(text, "portshare_backend_active_flows{group=\"web\",port=\"9001\","
		 "state=\"active\"} 3");
	has_line(text, "portshare_backend_flows_total{group=\"web\",port=\"9001\","
		 "state=\"active\"} 30");
	has_line(text, "portshare_backend_max_flows{group=\"web\",port=\"9001\","
		 "state=\"active\"} 100");
	has_line(text, "portshare_backend_active_flows{group=\"web\",port=\"9002\","
		 "state=\"drain\"} 1");
	has_line(text, "portshare_backend_max_flows{group=\"web\",port=\"9002\","
		 "state=\"drain\"} 0");
	has_line(text, "portshare_backend_flows_total{group=\"od\\\"d\",port=\"9003\","
		 "state=\"down\"} 0");
	free(text);
}
END_TEST

START_TEST(contested_and_subscribers)
{
	char *text = render(true, 2);

	has_line(text, "portshare_contested_datagrams_total{port=\"162\"} 200");
	has_line(text, "portshare_contested_bytes_total{port=\"162\"} 14000");
	has_line(text, "portshare_contested_subscribers{port=\"162\"} 3");
	has_line(text, "portshare_subscriber_copies_total{contested_port=\"162\","
		 "address=\"198.19.1.10\",port=\"9162\",mode=\"raw\"} 200");
	has_line(text, "portshare_subscriber_bytes_total{contested_port=\"162\","
		 "address=\"198.19.1.10\",port=\"9162\",mode=\"raw\"} 14000");
	has_line(text, "portshare_subscriber_errors_total{contested_port=\"162\","
		 "address=\"198.19.1.10\",port=\"9162\",mode=\"raw\"} 1");
	has_line(text, "portshare_subscriber_drops_total{contested_port=\"162\","
		 "address=\"198.19.1.10\",port=\"9162\",mode=\"raw\"} 2");
	has_line(text, "portshare_subscriber_last_sent_timestamp_seconds{contested_port=\"162\","
		 "address=\"198.19.1.10\",port=\"9162\",mode=\"raw\"} 1700000300");
	has_line(text, "portshare_subscriber_copies_total{contested_port=\"162\","
		 "address=\"2001:db8::10\",port=\"9163\",mode=\"spoof\"} 199");
	/* A Unix target is its path, escaped, with port 0. */
	has_line(text, "portshare_subscriber_drops_total{contested_port=\"162\","
		 "address=\"/run/fan\\\"out.sock\",port=\"0\",mode=\"framed_unix\"} 5");
	free(text);
}
END_TEST

/* Fields of 4 and 8 bytes, as the status tables name them. */
START_TEST(field_values)
{
	struct gctl_backend_view v = { .active = 0xfffffffeu, .flows = UINT64_MAX };
	struct metrics_field active = METRICS_FIELD(struct gctl_backend_view, active);
	struct metrics_field flows = METRICS_FIELD(struct gctl_backend_view, flows);
	struct metrics_field odd = { 0, 3 };

	ck_assert_uint_eq(metrics_field_value(&v, active), 0xfffffffeu);
	ck_assert_uint_eq(metrics_field_value(&v, flows), UINT64_MAX);
	ck_assert_uint_eq(metrics_field_value(&v, odd), 0);
}
END_TEST

/* The grammar of the whole text, line by line. */
START_TEST(format_rules)
{
	char *text = render(true, 2);
	char family[128] = "", type[16] = "";
	char seen[128][128];
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
	ck_assert_uint_ge(nseen, 60);
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
	tcase_add_test(tc, totals);
	tcase_add_test(tc, groups_and_backends);
	tcase_add_test(tc, contested_and_subscribers);
	tcase_add_test(tc, field_values);
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

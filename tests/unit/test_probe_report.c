// SPDX-License-Identifier: MIT
/*
 * fvmm-probe report: verdict (--max-loss / --max-gap-ms), JSON document
 * keys and types, text report smoke test, per-datagram CSV.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../tools/fvmm-probe/report.c"
#include "../../tools/fvmm-probe/stats.c"

#define MS 1000000ll

/* 100 datagrams at 1 ms, 20..39 lost, RTT 100 us. */
static void make_summary(struct probe_summary *sum)
{
	struct probe_stats st;

	assert_int_equal(probe_stats_init(&st, 100, MS), 0);
	for (uint64_t i = 0; i < 100; i++)
		probe_stats_sent(&st, i, (int64_t)i * MS);
	for (uint64_t i = 0; i < 100; i++)
		if (i < 20 || i >= 40)
			probe_stats_reply(&st, i, (int64_t)i * MS,
					  (int64_t)i * MS + 100000);
	probe_stats_end_sending(&st, 99 * MS);
	assert_int_equal(probe_stats_finish(&st, 5, sum), 0);
	probe_stats_free(&st);
}

static void make_run(struct probe_run *r)
{
	memset(r, 0, sizeof(*r));
	r->version = "test";
	strcpy(r->target, "127.0.0.1:7");
	r->run_id = 0x12345678;
	r->rate_pps = 1000;
	r->count = 100;
	r->size = 64;
	r->wait_ms = 500;
	r->start_unix_us = 1796323439191523;
	r->bursts_max = 5;
}

static void test_verdict(void **state)
{
	struct probe_summary sum;
	struct probe_run r;
	char why[160];

	make_summary(&sum);
	make_run(&r);
	assert_int_equal(sum.lost, 20);
	/* 19.1 -> 40.1 ms */
	assert_int_equal(sum.gap_max_ns, 21 * MS);

	assert_int_equal(probe_verdict(&r, &sum, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	r.has_max_loss = true;
	r.max_loss = 20;
	assert_int_equal(probe_verdict(&r, &sum, why, sizeof(why)), 0);
	r.max_loss = 19;
	assert_int_equal(probe_verdict(&r, &sum, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "lost 20"));
	r.has_max_loss = false;
	r.has_max_gap = true;
	r.max_gap_ms = 21;
	assert_int_equal(probe_verdict(&r, &sum, why, sizeof(why)), 0);
	r.max_gap_ms = 20.5;
	assert_int_equal(probe_verdict(&r, &sum, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "longest gap"));
	probe_summary_free(&sum);
}

static void test_json(void **state)
{
	static const char *const keys[] = {
		"tool", "version", "target", "run_id", "rate_pps", "count",
		"size", "wait_ms", "start_unix_us", "interrupted", "send_time_s",
		"achieved_rate_pps", "send_late_avg_us", "send_late_max_us",
		"send_errors", "rx_drops", "sent", "received", "lost", "duplicates",
		"reordered", "invalid", "corrupt", "loss_pct", "rtt_min_us",
		"rtt_p50_us", "rtt_p90_us", "rtt_p99_us", "rtt_p99_9_us",
		"rtt_max_us", "longest_gap_ms", "longest_gap_start_ms",
		"longest_outage_ms", "longest_outage_start_ms",
		"burst_count", "bursts_max", "bursts", "max_loss",
		"max_gap_ms", "result", "reason", "exit_code",
	};
	struct probe_summary sum;
	struct probe_run r;
	json_t *root, *b;

	make_summary(&sum);
	make_run(&r);
	r.has_max_loss = true;
	r.max_loss = 0;
	root = probe_report_json(&r, &sum, 1);
	assert_non_null(root);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(json_object_get(root, keys[i]));
	assert_int_equal(json_object_size(root), sizeof(keys) / sizeof(keys[0]));
	assert_int_equal(json_integer_value(json_object_get(root, "sent")), 100);
	/* An exact integer: a double printed with 12 digits would not be. */
	assert_true(json_integer_value(json_object_get(root, "start_unix_us")) ==
		    1796323439191523);
	assert_int_equal(json_integer_value(json_object_get(root, "lost")), 20);
	assert_true(json_real_value(json_object_get(root, "loss_pct")) == 20.0);
	assert_true(json_real_value(json_object_get(root, "rtt_p50_us")) == 100.0);
	assert_true(json_real_value(json_object_get(root, "longest_gap_ms")) == 21.0);
	/* seq 20 (sent at 20 ms) waits for seq 40's reply at 40.1 ms */
	assert_true(json_real_value(json_object_get(root, "longest_outage_ms")) == 20.1);
	assert_true(json_real_value(json_object_get(root, "longest_outage_start_ms")) == 20.0);
	assert_string_equal(json_string_value(json_object_get(root, "result")),
			    "limit-exceeded");
	assert_true(json_is_null(json_object_get(root, "max_gap_ms")));
	assert_int_equal(json_integer_value(json_object_get(root, "max_loss")), 0);
	b = json_object_get(root, "bursts");
	assert_int_equal(json_array_size(b), 1);
	b = json_array_get(b, 0);
	assert_int_equal(json_integer_value(json_object_get(b, "first_seq")), 20);
	assert_int_equal(json_integer_value(json_object_get(b, "last_seq")), 39);
	assert_int_equal(json_integer_value(json_object_get(b, "count")), 20);
	assert_true(json_real_value(json_object_get(b, "start_ms")) == 20.0);
	assert_true(json_real_value(json_object_get(b, "duration_ms")) == 20.0);
	json_decref(root);
	probe_summary_free(&sum);
}

static void test_json_no_replies(void **state)
{
	struct probe_summary sum;
	struct probe_run r;
	struct probe_stats st;
	json_t *root;

	assert_int_equal(probe_stats_init(&st, 3, MS), 0);
	for (uint64_t i = 0; i < 3; i++)
		probe_stats_sent(&st, i, (int64_t)i * MS);
	probe_stats_end_sending(&st, 2 * MS);
	assert_int_equal(probe_stats_finish(&st, 0, &sum), 0);
	make_run(&r);
	r.interrupted = true;
	root = probe_report_json(&r, &sum, 130);
	assert_non_null(root);
	assert_true(json_is_null(json_object_get(root, "rtt_min_us")));
	assert_true(json_is_null(json_object_get(root, "rtt_p99_9_us")));
	assert_int_equal(json_array_size(json_object_get(root, "bursts")), 0);
	assert_int_equal(json_integer_value(json_object_get(root, "burst_count")), 1);
	assert_string_equal(json_string_value(json_object_get(root, "result")),
			    "interrupted");
	json_decref(root);
	probe_summary_free(&sum);
	probe_stats_free(&st);
}

static void test_text(void **state)
{
	struct probe_summary sum;
	struct probe_run r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	make_summary(&sum);
	make_run(&r);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	probe_report_text(f, &r, &sum);
	fclose(f);
	assert_non_null(strstr(buf, "lost        20 (20.000 %)"));
	assert_non_null(strstr(buf, "longest gap 21.000 ms"));
	assert_non_null(strstr(buf, "outage      20.100 ms (from 20.000 ms)"));
	assert_non_null(strstr(buf, "loss bursts 1"));
	free(buf);
	probe_summary_free(&sum);
}

static void test_csv(void **state)
{
	struct probe_stats st;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(probe_stats_init(&st, 3, MS), 0);
	for (uint64_t i = 0; i < 3; i++)
		probe_stats_sent(&st, i, (int64_t)i * MS);
	probe_stats_reply(&st, 0, 0, 250000);
	probe_stats_reply(&st, 2, 2 * MS, 2 * MS + 100000);
	probe_stats_reply(&st, 2, 2 * MS, 2 * MS + 300000);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(probe_stats_csv(f, &st), 0);
	fclose(f);
	/* the lost datagram has an empty RTT; duplicates count in replies;
	 * seq 1 waits for seq 2's first reply (at 2.1 ms) */
	assert_string_equal(buf, "seq,send_ms,rtt_us,replies,wait_ms\n"
				 "0,0.000,250.0,1,0.250\n"
				 "1,1.000,,0,1.100\n"
				 "2,2.000,100.0,2,0.100\n");
	free(buf);
	probe_stats_free(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_no_replies),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_csv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

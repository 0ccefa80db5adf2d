// SPDX-License-Identifier: MIT
/*
 * fvmm-probe statistics and payload codec, with hand-made inputs:
 * percentiles, loss bursts, duplicates, reordering, gaps, invalid and
 * corrupt replies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../tools/fvmm-probe/payload.c"
#include "../../tools/fvmm-probe/stats.c"

#define MS 1000000ll

/* A run of @n datagrams sent every millisecond (seq i at i ms). */
static void setup_run(struct probe_stats *st, uint64_t n)
{
	assert_int_equal(probe_stats_init(st, n, MS), 0);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(probe_stats_sent(st, i, (int64_t)i * MS), 0);
}

/* Reply to @seq with the given RTT in microseconds. */
static enum probe_reply reply(struct probe_stats *st, uint64_t seq,
			      int64_t rtt_us)
{
	return probe_stats_reply(st, seq, (int64_t)seq * MS,
				 (int64_t)seq * MS + rtt_us * 1000);
}

static void test_percentile(void **state)
{
	uint32_t v[100], one = 7;

	for (unsigned i = 0; i < 100; i++)
		v[i] = i + 1;
	assert_int_equal(probe_percentile(v, 100, 5000), 50);
	assert_int_equal(probe_percentile(v, 100, 9000), 90);
	assert_int_equal(probe_percentile(v, 100, 9900), 99);
	assert_int_equal(probe_percentile(v, 100, 9990), 100);
	assert_int_equal(probe_percentile(v, 100, 10000), 100);
	assert_int_equal(probe_percentile(v, 100, 0), 1);
	/* n = 10: p50 is the 5th value, p90 the 9th, p99 and p99.9 the 10th */
	assert_int_equal(probe_percentile(v, 10, 5000), 5);
	assert_int_equal(probe_percentile(v, 10, 9000), 9);
	assert_int_equal(probe_percentile(v, 10, 9900), 10);
	assert_int_equal(probe_percentile(v, 10, 9990), 10);
	assert_int_equal(probe_percentile(&one, 1, 9990), 7);
	assert_int_equal(probe_percentile(v, 0, 5000), 0);
}

static void test_rtt_summary(void **state)
{
	struct probe_stats st;
	struct probe_summary sum;

	setup_run(&st, 10);
	/* RTTs 100, 90, ..., 10 us: the percentiles sort them */
	for (uint64_t i = 0; i < 10; i++)
		assert_int_equal(reply(&st, i, (int64_t)(10 - i) * 10),
				 PROBE_REPLY_FIRST);
	probe_stats_end_sending(&st, 9 * MS);
	assert_int_equal(probe_stats_finish(&st, 10, &sum), 0);
	assert_int_equal(sum.sent, 10);
	assert_int_equal(sum.received, 10);
	assert_int_equal(sum.lost, 0);
	assert_true(sum.loss_pct == 0.0);
	assert_true(sum.have_rtt);
	assert_int_equal(sum.rtt_min_ns, 10000);
	assert_int_equal(sum.rtt_p50_ns, 50000);
	assert_int_equal(sum.rtt_p90_ns, 90000);
	assert_int_equal(sum.rtt_p99_ns, 100000);
	assert_int_equal(sum.rtt_p999_ns, 100000);
	assert_int_equal(sum.rtt_max_ns, 100000);
	assert_int_equal(sum.burst_total, 0);
	assert_int_equal(sum.burst_listed, 0);
	assert_int_equal(sum.duplicates, 0);
	assert_int_equal(sum.reordered, 0);
	probe_summary_free(&sum);
	probe_stats_free(&st);
}

static void test_no_reply(void **state)
{
	struct probe_stats st;
	struct probe_summary sum;

	setup_run(&st, 4);
	probe_stats_end_sending(&st, 3 * MS);
	assert_int_equal(probe_stats_finish(&st, 10, &sum), 0);
	assert_false(sum.have_rtt);
	assert_int_equal(sum.lost, 4);
	assert_true(sum.loss_pct == 100.0);
	assert_int_equal(sum.burst_total, 1);
	assert_int_equal(sum.bursts[0].first_seq, 0);
	assert_int_equal(sum.bursts[0].last_seq, 3);
	assert_int_equal(sum.bursts[0].count, 4);
	assert_int_equal(sum.bursts[0].duration_ns, 4 * MS);
	/* no reply at all: the gap is the whole send window */
	assert_int_equal(sum.gap_max_ns, 3 * MS);
	assert_int_equal(sum.gap_at_ns, 0);
	probe_summary_free(&sum);
	probe_stats_free(&st);
}

static void test_duplicates(void **state)
{
	struct probe_stats st;
	struct probe_summary sum;

	setup_run(&st, 5);
	for (uint64_t i = 0; i < 5; i++)
		assert_int_equal(reply(&st, i, 100), PROBE_REPLY_FIRST);
	assert_int_equal(reply(&st, 2, 300), PROBE_REPLY_DUP);
	assert_int_equal(reply(&st, 2, 400), PROBE_REPLY_DUP);
	assert_int_equal(reply(&st, 4, 500), PROBE_REPLY_DUP);
	assert_int_equal(probe_stats_finish(&st, 10, &sum), 0);
	assert_int_equal(sum.received, 5);
	assert_int_equal(sum.duplicates, 3);
	assert_int_equal(sum.lost, 0);
	assert_int_equal(sum.reordered, 0);	/* duplicates are not reorders */
	assert_int_equal(sum.rtt_max_ns, 100000);	/* first replies only */
	probe_summary_free(&sum);
	probe_stats_free(&st);
}

static void test_reordering(void **state)
{
	static const uint64_t order[] = { 0, 2, 1, 3, 7, 4, 5, 6, 8 };
	struct probe_stats st;
	struct probe_summary sum;

	setup_run(&st, 10);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		assert_int_equal(reply(&st, order[i], 50), PROBE_REPLY_FIRST);
	assert_int_equal(probe_stats_finish(&st, 10, &sum), 0);
	/* 1 after 2; 4, 5 and 6 after 7 */
	assert_int_equal(sum.reordered, 4);
	assert_int_equal(sum.received, 9);
	assert_int_equal(sum.lost, 1);		/* 9 never came */
	assert_int_equal(sum.burst_total, 1);
	assert_int_equal(sum.bursts[0].first_seq, 9);
	probe_summary_free(&sum);
	probe_stats_free(&st);
}

static void test_bursts(void **state)
{
	struct probe_stats st;
	struct probe_summary sum;

	/* lost: 3..5 (3), 10 (1), 12 (1), 15..19 (5, at the tail) */
	setup_run(&st, 20);
	for (uint64_t i = 0; i < 20; i++) {
		if ((i >= 3 && i <= 5) || i == 10 || i == 12 || i >= 15)
			continue;
		reply(&st, i, 100);
	}
	probe_stats_end_sending(&st, 19 * MS);
	assert_int_equal(probe_stats_finish(&st, 10, &sum), 0);
	assert_int_equal(sum.lost, 10);
	assert_true(sum.loss_pct == 50.0);
	assert_int_equal(sum.burst_total, 4);
	assert_int_equal(sum.burst_listed, 4);
	/* largest first, equal sizes by sequence */
	assert_int_equal(sum.bursts[0].first_seq, 15);
	assert_int_equal(sum.bursts[0].last_seq, 19);
	assert_int_equal(sum.bursts[0].count, 5);
	assert_int_equal(sum.bursts[0].start_ns, 15 * MS);
	assert_int_equal(sum.bursts[0].duration_ns, 5 * MS);
	assert_int_equal(sum.bursts[1].first_seq, 3);
	assert_int_equal(sum.bursts[1].last_seq, 5);
	assert_int_equal(sum.bursts[1].count, 3);
	assert_int_equal(sum.bursts[1].start_ns, 3 * MS);
	assert_int_equal(sum.bursts[1].duration_ns, 3 * MS);
	assert_int_equal(sum.bursts[2].first_seq, 10);
	assert_int_equal(sum.bursts[2].count, 1);
	assert_int_equal(sum.bursts[2].duration_ns, 1 * MS);
	assert_int_equal(sum.bursts[3].first_seq, 12);
	probe_summary_free(&sum);

	/* listing limit: the largest two, but all are counted */
	assert_int_equal(probe_stats_finish(&st, 2, &sum), 0);
	assert_int_equal(sum.burst_total, 4);
	assert_int_equal(sum.burst_listed, 2);
	assert_int_equal(sum.bursts[0].first_seq, 15);
	assert_int_equal(sum.bursts[1].first_seq, 3);
	probe_summary_free(&sum);

	assert_int_equal(probe_stats_finish(&st, 0, &sum), 0);
	assert_int_equal(sum.burst_total, 4);
	assert_int_equal(sum.burst_listed, 0);
	assert_null(sum.bursts);
	probe_summary_free(&sum);
	probe_stats_free(&st);
}

/* Burst duration follows the actual send times, not the nominal rate. */
static void test_burst_late_sender(void **state)
{
	struct probe_stats st;
	struct probe_summary sum;

	assert_int_equal(probe_stats_init(&st, 6, MS), 0);
	probe_stats_sent(&st, 0, 0);
	probe_stats_sent(&st, 1, 1 * MS);
	probe_stats_sent(&st, 2, 50 * MS);	/* sender stalled */
	probe_stats_sent(&st, 3, 51 * MS);
	probe_stats_sent(&st, 4, 52 * MS);
	probe_stats_sent(&st, 5, 53 * MS);
	probe_stats_reply(&st, 0, 0, MS / 10);
	probe_stats_reply(&st, 5, 53 * MS, 53 * MS + MS / 10);
	assert_int_equal(probe_stats_finish(&st, 4, &sum), 0);
	assert_int_equal(sum.burst_total, 1);
	assert_int_equal(sum.bursts[0].first_seq, 1);
	assert_int_equal(sum.bursts[0].last_seq, 4);
	assert_int_equal(sum.bursts[0].start_ns, 1 * MS);
	assert_int_equal(sum.bursts[0].duration_ns, 52 * MS);
	probe_summary_free(&sum);
	probe_stats_free(&st);
}

/* The top-N selection agrees with a full sort on many bursts. */
static void test_burst_topn(void **state)
{
	enum { N = 3000, TOP = 7 };
	struct probe_stats st;
	struct probe_summary all, top;
	uint64_t seq = 0, x = 12345;

	assert_int_equal(probe_stats_init(&st, N, MS), 0);
	for (uint64_t i = 0; i < N; i++)
		probe_stats_sent(&st, i, (int64_t)i * MS);
	/* pseudo-random lengths of received and lost runs */
	while (seq < N) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		seq += 1 + (x >> 60) % 3;		/* lost run */
		for (uint64_t k = 0; k < 1 + ((x >> 40) % 2) && seq < N; k++)
			reply(&st, seq++, 10);		/* received run */
	}
	assert_int_equal(probe_stats_finish(&st, N, &all), 0);
	assert_int_equal(probe_stats_finish(&st, TOP, &top), 0);
	assert_int_equal(all.burst_total, top.burst_total);
	assert_int_equal(all.burst_listed, all.burst_total);
	assert_int_equal(top.burst_listed, TOP);
	for (size_t i = 0; i < TOP; i++) {
		assert_int_equal(top.bursts[i].first_seq, all.bursts[i].first_seq);
		assert_int_equal(top.bursts[i].count, all.bursts[i].count);
	}
	for (size_t i = 1; i < all.burst_listed; i++)
		assert_true(all.bursts[i - 1].count > all.bursts[i].count ||
			    (all.bursts[i - 1].count == all.bursts[i].count &&
			     all.bursts[i - 1].first_seq < all.bursts[i].first_seq));
	probe_summary_free(&all);
	probe_summary_free(&top);
	probe_stats_free(&st);
}

static void test_gap(void **state)
{
	static const int64_t at[] = { 1, 2, 3, 10, 11 };
	struct probe_gap g;
	int64_t max, start;

	/* between replies: 3 -> 10 */
	probe_gap_init(&g, 0);
	for (size_t i = 0; i < 5; i++)
		probe_gap_feed(&g, at[i] * MS);
	probe_gap_end(&g, 12 * MS);
	probe_gap_result(&g, 0, &max, &start);
	assert_int_equal(max, 7 * MS);
	assert_int_equal(start, 3 * MS);

	/* last reply -> end of sending: 11 -> 20; later replies ignored */
	probe_gap_init(&g, 0);
	for (size_t i = 0; i < 5; i++)
		probe_gap_feed(&g, at[i] * MS);
	probe_gap_end(&g, 20 * MS);
	probe_gap_feed(&g, 25 * MS);
	probe_gap_result(&g, 0, &max, &start);
	assert_int_equal(max, 9 * MS);
	assert_int_equal(start, 11 * MS);

	/* start -> first reply */
	probe_gap_init(&g, 0);
	probe_gap_feed(&g, 15 * MS);
	probe_gap_feed(&g, 16 * MS);
	probe_gap_end(&g, 17 * MS);
	probe_gap_result(&g, 0, &max, &start);
	assert_int_equal(max, 15 * MS);
	assert_int_equal(start, 0);

	/* out-of-order stamps make no gap and no negative numbers */
	probe_gap_init(&g, 0);
	probe_gap_feed(&g, 5 * MS);
	probe_gap_feed(&g, 4 * MS);
	probe_gap_feed(&g, 6 * MS);
	probe_gap_end(&g, 6 * MS);
	probe_gap_result(&g, 0, &max, &start);
	assert_int_equal(max, 5 * MS);
	assert_int_equal(start, 0);

	/* still open: measured up to "now" */
	probe_gap_init(&g, 0);
	probe_gap_feed(&g, 1 * MS);
	probe_gap_result(&g, 30 * MS, &max, &start);
	assert_int_equal(max, 29 * MS);
	assert_int_equal(start, 1 * MS);

	/* equal gaps: the first one is reported */
	probe_gap_init(&g, 0);
	probe_gap_feed(&g, 2 * MS);
	probe_gap_feed(&g, 4 * MS);
	probe_gap_end(&g, 6 * MS);
	probe_gap_result(&g, 0, &max, &start);
	assert_int_equal(max, 2 * MS);
	assert_int_equal(start, 0);
}

/* The gap through the stats API: duplicates count as signs of life,
 * invalid and corrupt replies do not. */
static void test_gap_via_stats(void **state)
{
	struct probe_stats st;
	struct probe_summary sum;

	/* replies arrive in time order, 200 us after each send */
	setup_run(&st, 1000);
	for (uint64_t i = 0; i < 300; i++)
		reply(&st, i, 200);
	/* a late duplicate at 500.2 ms splits the 400 ms outage */
	assert_int_equal(reply(&st, 100, 400200), PROBE_REPLY_DUP);
	/* a corrupt reply at 650 ms does not */
	assert_int_equal(probe_stats_reply(&st, 5, 3 * MS, 650 * MS),
			 PROBE_REPLY_CORRUPT);
	for (uint64_t i = 700; i < 1000; i++)
		reply(&st, i, 200);
	probe_stats_end_sending(&st, 999 * MS);
	assert_int_equal(probe_stats_finish(&st, 10, &sum), 0);
	assert_int_equal(sum.lost, 400);
	assert_int_equal(sum.burst_total, 1);
	assert_int_equal(sum.bursts[0].count, 400);
	assert_int_equal(sum.bursts[0].start_ns, 300 * MS);
	assert_int_equal(sum.bursts[0].duration_ns, 400 * MS);
	/* 299.2 -> 500.2 ms vs 500.2 -> 700.2 ms: the first */
	assert_int_equal(sum.gap_max_ns, 201 * MS);
	assert_int_equal(sum.gap_at_ns, 299 * MS + 200000);
	assert_int_equal(sum.corrupt, 1);
	probe_summary_free(&sum);
	probe_stats_free(&st);
}

/* Send @n datagrams at the given ms offsets. */
static void sent_at(struct probe_stats *st, const int64_t *at_ms, uint64_t n)
{
	assert_int_equal(probe_stats_init(st, n, MS), 0);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(probe_stats_sent(st, i, at_ms[i] * MS), 0);
}

static void reply_at(struct probe_stats *st, uint64_t seq, int64_t at_us)
{
	assert_int_equal(probe_stats_reply(st, seq,
					   (int64_t)st->send_us[seq] * 1000,
					   at_us * 1000), PROBE_REPLY_FIRST);
}

/* End sending at @end_ms and summarise; the stats are freed. */
static void summarize(struct probe_stats *st, int64_t end_ms,
		      struct probe_summary *sum)
{
	probe_stats_end_sending(st, end_ms * MS);
	assert_int_equal(probe_stats_finish(st, 10, sum), 0);
	probe_stats_free(st);
}

static void test_outage(void **state)
{
	/* the sender pauses 5 ms after seq 2; every reply takes 100 us */
	static const int64_t late[] = { 0, 1, 2, 7, 8, 9 };
	/* seq 2..4 lost, seq 6's reply is held until 12.5 ms */
	static const int64_t even[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct probe_stats st;
	struct probe_summary sum;

	sent_at(&st, late, 6);
	for (uint64_t i = 0; i < 6; i++)
		reply_at(&st, i, late[i] * 1000 + 100);
	summarize(&st, 9, &sum);
	assert_int_equal(sum.gap_max_ns, 5 * MS);	/* the sender's pause */
	assert_int_equal(sum.outage_max_ns, 100000);	/* the path: one RTT */
	probe_summary_free(&sum);

	sent_at(&st, even, 9);
	reply_at(&st, 0, 100);
	reply_at(&st, 1, 1100);
	reply_at(&st, 5, 5100);
	reply_at(&st, 7, 7100);
	reply_at(&st, 6, 12500);
	reply_at(&st, 8, 8100);
	summarize(&st, 8, &sum);
	/* seq 2 waits for seq 5's reply: 3.1 ms; seq 6 waits for seq 7's */
	assert_int_equal(sum.outage_max_ns, 3100000);
	assert_int_equal(sum.outage_at_ns, 2 * MS);
	probe_summary_free(&sum);

	/* the last two never answered: they wait until the end of sending */
	sent_at(&st, even, 5);
	reply_at(&st, 0, 100);
	reply_at(&st, 1, 1100);
	reply_at(&st, 2, 2100);
	summarize(&st, 4, &sum);
	assert_int_equal(sum.outage_max_ns, 1 * MS);
	assert_int_equal(sum.outage_at_ns, 3 * MS);
	probe_summary_free(&sum);
}

static void test_invalid(void **state)
{
	struct probe_stats st;
	struct probe_summary sum;

	assert_int_equal(probe_stats_init(&st, 0, MS), -EINVAL);
	assert_int_equal(probe_stats_init(&st, 4, 0), -EINVAL);
	assert_int_equal(probe_stats_init(&st, 2, MS), 0);
	assert_int_equal(probe_stats_sent(&st, 1, 0), -EINVAL); /* skips 0 */
	assert_int_equal(probe_stats_sent(&st, 0, 0), 0);
	assert_int_equal(probe_stats_sent(&st, 1, MS), 0);
	assert_int_equal(probe_stats_sent(&st, 2, 2 * MS), -ENOSPC);

	/* unknown sequence numbers, huge ones included */
	assert_int_equal(probe_stats_reply(&st, 2, 0, MS), PROBE_REPLY_INVALID);
	assert_int_equal(probe_stats_reply(&st, UINT64_MAX, 0, MS),
			 PROBE_REPLY_INVALID);
	/* a send time that is not the recorded one */
	assert_int_equal(probe_stats_reply(&st, 1, 5 * MS, 6 * MS),
			 PROBE_REPLY_CORRUPT);
	assert_int_equal(probe_stats_reply(&st, 1, INT64_MIN, 6 * MS),
			 PROBE_REPLY_CORRUPT);
	assert_int_equal(probe_stats_reply(&st, 0, INT64_MIN, INT64_MAX),
			 PROBE_REPLY_CORRUPT);
	probe_stats_bad(&st, false);
	probe_stats_bad(&st, true);
	/* an RTT beyond 4.29 s saturates */
	assert_int_equal(probe_stats_reply(&st, 1, MS, MS + 10000 * MS),
			 PROBE_REPLY_FIRST);
	assert_int_equal(probe_stats_finish(&st, 10, &sum), 0);
	assert_int_equal(sum.invalid, 3);
	assert_int_equal(sum.corrupt, 4);
	assert_int_equal(sum.received, 1);
	assert_int_equal(sum.rtt_max_ns, UINT32_MAX);
	probe_summary_free(&sum);
	probe_stats_free(&st);
}

static void test_payload(void **state)
{
	uint8_t buf[100];
	struct probe_hdr h;

	probe_payload_build(buf, sizeof(buf), 0xdeadbeef, 42, 1);
	probe_payload_set_time(buf, 123456789012345ull);
	assert_memory_equal(buf, "FVPR", 4);
	assert_int_equal(probe_payload_check(buf, sizeof(buf), sizeof(buf),
					     0xdeadbeef, &h), PROBE_OK);
	assert_int_equal(h.run_id, 0xdeadbeef);
	assert_int_equal(h.seq, 42);
	assert_int_equal(h.send_ns, 123456789012345ull);
	/* little-endian on the wire */
	assert_int_equal(buf[8], 42);
	assert_int_equal(buf[4], 0xef);

	/* another run, size or magic: invalid */
	assert_int_equal(probe_payload_check(buf, sizeof(buf), sizeof(buf),
					     0xdeadbeee, &h), PROBE_INVALID);
	assert_int_equal(probe_payload_check(buf, 99, sizeof(buf),
					     0xdeadbeef, &h), PROBE_INVALID);
	assert_int_equal(probe_payload_check(buf, 10, 10, 0xdeadbeef, &h),
			 PROBE_INVALID);
	assert_int_equal(probe_payload_check(buf, 0, 0, 0xdeadbeef, &h),
			 PROBE_INVALID);
	buf[0] = 'X';
	assert_int_equal(probe_payload_check(buf, sizeof(buf), sizeof(buf),
					     0xdeadbeef, &h), PROBE_INVALID);
	buf[0] = 'F';

	/* a flipped body byte, or the body of another datagram: corrupt */
	buf[77] ^= 0x01;
	assert_int_equal(probe_payload_check(buf, sizeof(buf), sizeof(buf),
					     0xdeadbeef, &h), PROBE_CORRUPT);
	buf[77] ^= 0x01;
	buf[8] = 43;
	assert_int_equal(probe_payload_check(buf, sizeof(buf), sizeof(buf),
					     0xdeadbeef, &h), PROBE_CORRUPT);

	/* header only: nothing to verify beyond it */
	probe_payload_build(buf, PROBE_HDR_SIZE, 1, 2, 3);
	assert_int_equal(probe_payload_check(buf, PROBE_HDR_SIZE,
					     PROBE_HDR_SIZE, 1, &h), PROBE_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentile),
		cmocka_unit_test(test_rtt_summary),
		cmocka_unit_test(test_no_reply),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_reordering),
		cmocka_unit_test(test_bursts),
		cmocka_unit_test(test_burst_late_sender),
		cmocka_unit_test(test_burst_topn),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_gap_via_stats),
		cmocka_unit_test(test_outage),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

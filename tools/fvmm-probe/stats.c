// SPDX-License-Identifier: MIT
/*
 * fvmm-probe statistics.  Pure logic: no I/O, no clock, no global state, no
 * libm (the unit tests include this file and do not link -lm).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* ---- gap tracker ------------------------------------------------------ */

void probe_gap_init(struct probe_gap *g, int64_t start_ns)
{
	memset(g, 0, sizeof(*g));
	g->start_ns = start_ns;
	g->max_at_ns = start_ns;
}

void probe_gap_feed(struct probe_gap *g, int64_t t)
{
	int64_t from = g->have_last ? g->last_ns : g->start_ns;

	if (g->ended && t > g->end_ns)
		return;		/* late reply, outside the send window */
	if (t < from)
		t = from;	/* out-of-order timestamps never make a gap */
	if (t - from > g->max_ns) {
		g->max_ns = t - from;
		g->max_at_ns = from;
	}
	g->last_ns = t;
	g->have_last = true;
}

void probe_gap_end(struct probe_gap *g, int64_t end_ns)
{
	if (g->ended)
		return;
	if (end_ns < g->start_ns)
		end_ns = g->start_ns;
	g->ended = true;
	g->end_ns = end_ns;
}

void probe_gap_result(const struct probe_gap *g, int64_t now_ns,
		      int64_t *max_ns, int64_t *at_ns)
{
	int64_t end = g->ended ? g->end_ns : now_ns;
	int64_t from = g->have_last ? g->last_ns : g->start_ns;
	int64_t tail = end > from ? end - from : 0;

	if (tail > g->max_ns) {
		*max_ns = tail;
		*at_ns = from;
	} else {
		*max_ns = g->max_ns;
		*at_ns = g->max_at_ns;
	}
}

/* ---- per-sequence accounting ------------------------------------------ */

int probe_stats_init(struct probe_stats *st, uint64_t capacity,
		     int64_t interval_ns)
{
	memset(st, 0, sizeof(*st));
	if (capacity == 0 || interval_ns <= 0 || capacity > SIZE_MAX / 4)
		return -EINVAL;
	st->send_us = calloc(capacity, sizeof(*st->send_us));
	st->rtt_ns = calloc(capacity, sizeof(*st->rtt_ns));
	st->replies = calloc(capacity, sizeof(*st->replies));
	if (!st->send_us || !st->rtt_ns || !st->replies) {
		probe_stats_free(st);
		return -ENOMEM;
	}
	st->capacity = capacity;
	st->interval_ns = interval_ns;
	probe_gap_init(&st->gap, 0);
	return 0;
}

void probe_stats_free(struct probe_stats *st)
{
	free(st->send_us);
	free(st->rtt_ns);
	free(st->replies);
	st->send_us = NULL;
	st->rtt_ns = NULL;
	st->replies = NULL;
	st->capacity = 0;
}

static uint32_t ns_to_us_u32(int64_t ns)
{
	if (ns <= 0)
		return 0;
	if (ns / 1000 >= UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)(ns / 1000);
}

int probe_stats_sent(struct probe_stats *st, uint64_t seq, int64_t send_ns)
{
	if (seq != st->sent)
		return -EINVAL;
	if (seq >= st->capacity)
		return -ENOSPC;
	st->send_us[seq] = ns_to_us_u32(send_ns);
	st->sent++;
	return 0;
}

enum probe_reply probe_stats_reply(struct probe_stats *st, uint64_t seq,
				   int64_t send_ns, int64_t arrival_ns)
{
	int64_t rtt;

	if (seq >= st->sent) {
		st->invalid++;
		return PROBE_REPLY_INVALID;
	}
	if (send_ns < 0 || send_ns / 1000 != (int64_t)st->send_us[seq]) {
		st->corrupt++;
		return PROBE_REPLY_CORRUPT;
	}
	probe_gap_feed(&st->gap, arrival_ns);
	if (st->replies[seq]) {
		if (st->replies[seq] < UINT8_MAX)
			st->replies[seq]++;
		st->duplicates++;
		return PROBE_REPLY_DUP;
	}
	st->replies[seq] = 1;
	st->received++;
	/* 0 <= send_ns < 2^32 us here, so this cannot overflow */
	rtt = arrival_ns > send_ns ? arrival_ns - send_ns : 0;
	st->rtt_ns[seq] = rtt >= UINT32_MAX ? UINT32_MAX : (uint32_t)rtt;
	if (st->any_reply && seq < st->max_seq)
		st->reordered++;
	if (!st->any_reply || seq > st->max_seq)
		st->max_seq = seq;
	st->any_reply = true;
	return PROBE_REPLY_FIRST;
}

void probe_stats_bad(struct probe_stats *st, bool corrupt)
{
	if (corrupt)
		st->corrupt++;
	else
		st->invalid++;
}

void probe_stats_end_sending(struct probe_stats *st, int64_t end_ns)
{
	probe_gap_end(&st->gap, end_ns);
}

/* ---- summary ---------------------------------------------------------- */

uint32_t probe_percentile(const uint32_t *v, size_t n, unsigned per10000)
{
	uint64_t rank;

	if (n == 0)
		return 0;
	if (per10000 > 10000)
		per10000 = 10000;
	/* nearest rank: the smallest value with at least p% at or below it */
	rank = ((uint64_t)per10000 * n + 9999) / 10000;
	if (rank == 0)
		rank = 1;
	return v[rank - 1];
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* a ranks before b: larger count first, then earlier first_seq */
static bool burst_before(const struct probe_burst *a,
			 const struct probe_burst *b)
{
	if (a->count != b->count)
		return a->count > b->count;
	return a->first_seq < b->first_seq;
}

/* Keep the @max highest-ranked bursts in @list (sorted, @n used). */
static void burst_keep(struct probe_burst *list, size_t *n, size_t max,
		       const struct probe_burst *b)
{
	size_t lo = 0, hi = *n, pos;

	if (max == 0)
		return;
	if (*n == max && !burst_before(b, &list[max - 1]))
		return;
	/* binary search for the first entry that b ranks before */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (burst_before(b, &list[mid]))
			hi = mid;
		else
			lo = mid + 1;
	}
	pos = lo;
	if (*n < max)
		(*n)++;
	memmove(&list[pos + 1], &list[pos],
		(*n - 1 - pos) * sizeof(*list));
	list[pos] = *b;
}

static void find_bursts(const struct probe_stats *st, size_t max,
			struct probe_summary *sum)
{
	uint64_t seq = 0;

	while (seq < st->sent) {
		struct probe_burst b;

		if (st->replies[seq]) {
			seq++;
			continue;
		}
		b.first_seq = seq;
		while (seq < st->sent && !st->replies[seq])
			seq++;
		b.last_seq = seq - 1;
		b.count = b.last_seq - b.first_seq + 1;
		b.start_ns = (int64_t)st->send_us[b.first_seq] * 1000;
		b.duration_ns = ((int64_t)st->send_us[b.last_seq] -
				 (int64_t)st->send_us[b.first_seq]) * 1000 +
				st->interval_ns;
		sum->burst_total++;
		burst_keep(sum->bursts, &sum->burst_listed, max, &b);
	}
}

static int rtt_percentiles(const struct probe_stats *st,
			   struct probe_summary *sum)
{
	uint32_t *v;
	size_t n = 0;

	if (st->received == 0)
		return 0;
	v = malloc(st->received * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint64_t seq = 0; seq < st->sent && n < st->received; seq++)
		if (st->replies[seq])
			v[n++] = st->rtt_ns[seq];
	qsort(v, n, sizeof(*v), cmp_u32);
	sum->have_rtt = true;
	sum->rtt_min_ns = v[0];
	sum->rtt_p50_ns = probe_percentile(v, n, 5000);
	sum->rtt_p90_ns = probe_percentile(v, n, 9000);
	sum->rtt_p99_ns = probe_percentile(v, n, 9900);
	sum->rtt_p999_ns = probe_percentile(v, n, 9990);
	sum->rtt_max_ns = v[n - 1];
	free(v);
	return 0;
}

int64_t probe_stats_window_end(const struct probe_stats *st)
{
	return st->gap.ended ? st->gap.end_ns : st->gap.last_ns;
}

/*
 * A datagram's wait: the time from its sending until the first reply to it
 * or to any datagram sent after it.  Unlike the gap, this does not grow
 * when the probe's own sender runs late (nothing was asked of the path
 * then): on a busy or virtualised host the sender alone can pause for
 * milliseconds, which the gap counts as silence.  A path that drops or
 * holds traffic for T shows as about T plus one RTT.  Datagrams no later
 * reply answers wait until the send window's end.  One backward pass.
 */
void probe_stats_waits(const struct probe_stats *st,
		       void (*fn)(void *ctx, uint64_t seq, int64_t wait_ns),
		       void *ctx)
{
	int64_t end = probe_stats_window_end(st);
	int64_t first_after = INT64_MAX;	/* earliest arrival, seq >= i */

	for (uint64_t i = st->sent; i-- > 0;) {
		int64_t sent = (int64_t)st->send_us[i] * 1000;
		int64_t until;

		if (st->replies[i] && sent + st->rtt_ns[i] < first_after)
			first_after = sent + st->rtt_ns[i];
		until = first_after != INT64_MAX ? first_after : end;
		fn(ctx, i, until > sent ? until - sent : 0);
	}
}

struct outage_scan {
	const struct probe_stats *st;
	struct probe_summary *sum;
};

/* The longest outage: the longest wait over the run. */
static void outage_max(void *ctx, uint64_t seq, int64_t wait)
{
	struct outage_scan *o = ctx;

	if (wait >= o->sum->outage_max_ns) {	/* ties: the earliest */
		o->sum->outage_max_ns = wait;
		o->sum->outage_at_ns = (int64_t)o->st->send_us[seq] * 1000;
	}
}

int probe_stats_finish(const struct probe_stats *st, size_t bursts_max,
		       struct probe_summary *sum)
{
	struct outage_scan scan = { st, sum };

	memset(sum, 0, sizeof(*sum));
	sum->sent = st->sent;
	sum->received = st->received;
	sum->lost = st->sent - st->received;
	sum->duplicates = st->duplicates;
	sum->reordered = st->reordered;
	sum->invalid = st->invalid;
	sum->corrupt = st->corrupt;
	sum->loss_pct = st->sent ? 100.0 * (double)sum->lost / (double)st->sent
				 : 0.0;
	probe_gap_result(&st->gap, probe_stats_window_end(st), &sum->gap_max_ns,
			 &sum->gap_at_ns);
	probe_stats_waits(st, outage_max, &scan);

	if (bursts_max > st->sent / 2 + 1)
		bursts_max = st->sent / 2 + 1;	/* more cannot exist */
	if (bursts_max) {
		sum->bursts = calloc(bursts_max, sizeof(*sum->bursts));
		if (!sum->bursts)
			return -ENOMEM;
	}
	find_bursts(st, bursts_max, sum);
	if (rtt_percentiles(st, sum) < 0) {
		probe_summary_free(sum);
		return -ENOMEM;
	}
	return 0;
}

void probe_summary_free(struct probe_summary *sum)
{
	free(sum->bursts);
	sum->bursts = NULL;
	sum->burst_listed = 0;
}

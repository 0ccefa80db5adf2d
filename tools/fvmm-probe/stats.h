/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PROBE_STATS_H
#define FVMM_PROBE_STATS_H

/*
 * fvmm-probe statistics: the pure part of the tool (no I/O, no clocks, no
 * globals), unit-tested by tests/unit/test_probe_stats.c.
 *
 * All times are int64 nanoseconds relative to the start of the run (the
 * scheduled send time of sequence 0).  Memory is O(capacity), allocated
 * once: per sequence number a send time (u32 microseconds), the RTT of its
 * first valid reply (u32 ns, saturating at ~4.29 s) and a reply count (u8,
 * saturating; duplicates are counted exactly in a separate counter):
 * 9 bytes per packet.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Longest interval without replies, on the receive side.  The window is
 * [start, end of sending]; the candidates are start -> first arrival, every
 * pair of consecutive arrivals, and last arrival -> end.  Arrivals after the
 * window (late replies in the wait phase) do not count.
 */
struct probe_gap {
	int64_t start_ns;
	int64_t end_ns;
	bool ended;
	bool have_last;
	int64_t last_ns;
	int64_t max_ns;		/* longest closed gap so far */
	int64_t max_at_ns;	/* where it began */
};

void probe_gap_init(struct probe_gap *g, int64_t start_ns);
void probe_gap_feed(struct probe_gap *g, int64_t arrival_ns);
void probe_gap_end(struct probe_gap *g, int64_t end_ns);
/* Longest gap including the open one up to end (or @now_ns if not ended). */
void probe_gap_result(const struct probe_gap *g, int64_t now_ns,
		      int64_t *max_ns, int64_t *at_ns);

/* A run of consecutive sequence numbers without a valid reply. */
struct probe_burst {
	uint64_t first_seq;
	uint64_t last_seq;
	uint64_t count;
	int64_t start_ns;	/* send time of first_seq */
	int64_t duration_ns;	/* send(last) - send(first) + one interval */
};

struct probe_stats {
	uint64_t capacity;
	int64_t interval_ns;	/* nominal send interval */
	uint32_t *send_us;	/* [capacity] send time, microseconds */
	uint32_t *rtt_ns;	/* [capacity] RTT of the first valid reply */
	uint8_t *replies;	/* [capacity] valid replies, saturating */
	uint64_t sent;		/* sequences [0, sent) have been sent */
	uint64_t received;	/* sequences with at least one valid reply */
	uint64_t duplicates;	/* valid replies beyond the first */
	uint64_t reordered;	/* first replies arriving after a higher seq */
	uint64_t invalid;	/* not ours: source, size, magic, run id, seq */
	uint64_t corrupt;	/* ours but damaged: pattern or send time */
	bool any_reply;
	uint64_t max_seq;	/* highest seq with a first reply so far */
	struct probe_gap gap;
};

enum probe_reply {
	PROBE_REPLY_FIRST,
	PROBE_REPLY_DUP,
	PROBE_REPLY_INVALID,
	PROBE_REPLY_CORRUPT,
};

struct probe_summary {
	uint64_t sent;
	uint64_t received;
	uint64_t lost;
	uint64_t duplicates;
	uint64_t reordered;
	uint64_t invalid;
	uint64_t corrupt;
	double loss_pct;
	bool have_rtt;		/* the rtt_* fields are valid */
	uint64_t rtt_min_ns;
	uint64_t rtt_p50_ns;
	uint64_t rtt_p90_ns;
	uint64_t rtt_p99_ns;
	uint64_t rtt_p999_ns;
	uint64_t rtt_max_ns;
	int64_t gap_max_ns;
	int64_t gap_at_ns;
	int64_t outage_max_ns;	/* the longest probe_stats_waits() wait */
	int64_t outage_at_ns;	/* send time of the datagram that waited */
	uint64_t burst_total;	/* bursts found */
	size_t burst_listed;	/* entries in bursts[] (<= bursts_max) */
	struct probe_burst *bursts;	/* largest first, ties by first_seq */
};

/* 0, -EINVAL (capacity 0 or interval <= 0), -ENOMEM. */
int probe_stats_init(struct probe_stats *st, uint64_t capacity,
		     int64_t interval_ns);
void probe_stats_free(struct probe_stats *st);

/* Record that @seq (must be the next one, == st->sent) was sent at @t.
 * 0, -EINVAL (out of order), -ENOSPC (capacity reached). */
int probe_stats_sent(struct probe_stats *st, uint64_t seq, int64_t send_ns);
/* Where the send window ends (the gap's and the waits' end), ns. */
int64_t probe_stats_window_end(const struct probe_stats *st);
/*
 * Each datagram's wait for a reply to it or to a later one (see stats.c),
 * last datagram first; its maximum is the summary's outage.
 */
void probe_stats_waits(const struct probe_stats *st,
		       void (*fn)(void *ctx, uint64_t seq, int64_t wait_ns),
		       void *ctx);

/*
 * A reply whose payload checked out: @seq and @send_ns as carried in the
 * payload, @arrival_ns when it was received.  Unknown seq -> INVALID; a
 * send time that differs from the recorded one -> CORRUPT.
 */
enum probe_reply probe_stats_reply(struct probe_stats *st, uint64_t seq,
				   int64_t send_ns, int64_t arrival_ns);

/* A datagram that failed the payload check (not ours / damaged). */
void probe_stats_bad(struct probe_stats *st, bool corrupt);

/* Sending is over at @end_ns: closes the gap window. */
void probe_stats_end_sending(struct probe_stats *st, int64_t end_ns);

/* Nearest-rank percentile of sorted @v[n]: @per10000 = 9990 for p99.9. */
uint32_t probe_percentile(const uint32_t *v, size_t n, unsigned per10000);

/*
 * Compute the summary, listing at most @bursts_max bursts.  The stats are
 * not modified.  0 or -ENOMEM.  Free with probe_summary_free().
 */
int probe_stats_finish(const struct probe_stats *st, size_t bursts_max,
		       struct probe_summary *sum);
void probe_summary_free(struct probe_summary *sum);

#endif

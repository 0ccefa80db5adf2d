/* SPDX-License-Identifier: MIT */
#ifndef FVMM_PROBE_REPORT_H
#define FVMM_PROBE_REPORT_H

/* fvmm-probe report: text, JSON and the pass/fail verdict.  No I/O besides
 * the FILE handed in; unit-tested by tests/unit/test_probe_report.c. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stats.h"

/* Exit codes of fvmm-probe. */
enum {
	PROBE_EXIT_OK = 0,		/* run completed, within limits */
	PROBE_EXIT_LIMIT = 1,		/* --max-loss / --max-gap-ms exceeded */
	PROBE_EXIT_USAGE = 2,		/* bad option, host or combination */
	PROBE_EXIT_ERROR = 3,		/* runtime error (socket, memory, I/O) */
	PROBE_EXIT_INTERRUPTED = 130,	/* SIGINT/SIGTERM; report still made */
};

/* What was asked for and how the sender did: everything but the stats. */
struct probe_run {
	const char *version;
	char target[80];		/* numeric "addr:port" / "[v6]:port" */
	uint32_t run_id;
	double rate_pps;
	uint64_t count;			/* planned datagrams */
	uint64_t size;			/* payload bytes */
	double wait_ms;
	int64_t start_unix_us;		/* seq 0's scheduled send, wall clock */
	uint64_t bursts_max;
	bool interrupted;
	double send_time_s;		/* first send -> last send */
	double achieved_pps;		/* (sent - 1) / send_time_s */
	double send_late_avg_us;	/* actual send time - deadline */
	double send_late_max_us;
	uint64_t send_errors;		/* datagrams the kernel refused */
	uint64_t rx_drops;		/* replies our socket buffer dropped */
	/* limits (exit 1 when exceeded) */
	bool has_max_loss;
	uint64_t max_loss;
	bool has_max_gap;
	double max_gap_ms;
};

/*
 * Check the limits.  Returns PROBE_EXIT_OK or PROBE_EXIT_LIMIT and writes a
 * one-line reason ("" when ok) into @why.
 */
int probe_verdict(const struct probe_run *run, const struct probe_summary *sum,
		  char *why, size_t why_size);

void probe_report_text(FILE *f, const struct probe_run *run,
		       const struct probe_summary *sum);

/* New reference, NULL on allocation failure.  Schema: see report.c. */
json_t *probe_report_json(const struct probe_run *run,
			  const struct probe_summary *sum, int exit_code);

/*
 * Per-datagram record, CSV with a header line: seq, send_ms (offset from
 * the start), rtt_us (empty when lost), replies (valid ones, saturating at
 * 255), wait_ms (its wait for a reply to it or to a later one: the longest
 * is the outage).  0, -ENOMEM or -EIO.
 */
int probe_stats_csv(FILE *f, const struct probe_stats *st);

#endif

// SPDX-License-Identifier: MIT
/*
 * fvmm-probe report: verdict, text report and JSON document.
 *
 * JSON schema (one object; all keys snake_case; times as JSON numbers in the
 * unit named by the suffix; integers are exact counts):
 *
 *   tool                 "fvmm-probe"
 *   version              tool version string
 *   target               numeric destination, "127.0.0.1:7" or "[::1]:7"
 *   run_id               random 32-bit id carried in every datagram
 *   rate_pps             requested send rate (datagrams per second)
 *   count                planned number of datagrams
 *   size                 UDP payload bytes per datagram
 *   wait_ms              listening time for late replies after the last send
 *   start_unix_us        wall-clock time (integer us since 1970) of the
 *                        offset 0 that every *_ms offset below and the CSV's
 *                        send_ms count from: ties the run to outside events
 *   interrupted          true if SIGINT/SIGTERM cut the run short
 *   send_time_s          first send -> last send
 *   achieved_rate_pps    (sent - 1) / send_time_s
 *   send_late_avg_us     mean of (actual send time - scheduled deadline)
 *   send_late_max_us     maximum of the same
 *   send_errors          datagrams the kernel refused to send (e.g. no route);
 *                        they are part of sent and normally lost
 *   rx_drops             replies dropped by the probe's own receive buffer
 *                        (SO_RXQ_OVFL); they count as lost, but the loss is
 *                        the probe's, not the network's.  Should be 0.
 *   sent                 datagrams sent (sequence numbers 0 .. sent-1)
 *   received             sequence numbers with at least one valid reply
 *   lost                 sent - received
 *   duplicates           valid replies beyond the first for a sequence
 *   reordered            first replies that arrived after a higher sequence
 *   invalid              datagrams that are not replies of this run: wrong
 *                        source, size, magic, run id or unknown sequence
 *   corrupt              replies of this run with a damaged payload (pattern
 *                        or send time); they do not count as received
 *   loss_pct             100 * lost / sent
 *   rtt_min_us, rtt_p50_us, rtt_p90_us, rtt_p99_us, rtt_p99_9_us, rtt_max_us
 *                        round-trip time of first valid replies, nearest-rank
 *                        percentiles; null when nothing was received
 *   longest_gap_ms       longest interval without any valid reply inside the
 *                        send window: start -> first reply, consecutive
 *                        replies, last reply -> last send
 *   longest_gap_start_ms where that interval began (offset from start)
 *   longest_outage_ms    longest time from sending a datagram until a reply
 *                        to it or to a later datagram (to the last send if
 *                        none came): the path's outage, not counting pauses
 *                        of the probe's own sender, which the gap includes
 *   longest_outage_start_ms  send time of that datagram (offset from start)
 *   burst_count          number of loss bursts (runs of consecutive lost
 *                        sequence numbers) in the whole run
 *   bursts_max           listing limit (--bursts-max)
 *   bursts               array, largest first (ties: earlier first), at most
 *                        bursts_max entries, each:
 *                          first_seq, last_seq, count   sequence numbers
 *                          start_ms     send time of first_seq (offset)
 *                          duration_ms  send(last) - send(first) + 1 interval
 *   max_loss             --max-loss limit or null
 *   max_gap_ms           --max-gap-ms limit or null
 *   result               "ok", "limit-exceeded" or "interrupted"
 *   reason               why the limits failed, "" otherwise
 *   exit_code            the process exit code (0, 1 or 130)
 *
 * Offsets ("start") are relative to the scheduled send time of sequence 0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static double ns_ms(int64_t ns)
{
	return (double)ns / 1e6;
}

static double ns_us(uint64_t ns)
{
	return (double)ns / 1e3;
}

int probe_verdict(const struct probe_run *run, const struct probe_summary *sum,
		  char *why, size_t why_size)
{
	double gap_ms = ns_ms(sum->gap_max_ns);

	if (why_size)
		why[0] = '\0';
	if (run->has_max_loss && sum->lost > run->max_loss) {
		snprintf(why, why_size, "lost %llu > --max-loss %llu",
			 (unsigned long long)sum->lost,
			 (unsigned long long)run->max_loss);
		return PROBE_EXIT_LIMIT;
	}
	if (run->has_max_gap && gap_ms > run->max_gap_ms) {
		snprintf(why, why_size, "longest gap %.3f ms > --max-gap-ms %g",
			 gap_ms, run->max_gap_ms);
		return PROBE_EXIT_LIMIT;
	}
	return PROBE_EXIT_OK;
}

void probe_report_text(FILE *f, const struct probe_run *run,
		       const struct probe_summary *sum)
{
	fprintf(f, "fvmm-probe %s -> %s  rate %g pps  size %llu  run %08x%s\n",
		run->version, run->target, run->rate_pps,
		(unsigned long long)run->size, run->run_id,
		run->interrupted ? "  (interrupted)" : "");
	fprintf(f, "sent        %llu in %.3f s (%.1f pps, send late avg %.1f us max %.1f us, errors %llu)\n",
		(unsigned long long)sum->sent, run->send_time_s,
		run->achieved_pps, run->send_late_avg_us,
		run->send_late_max_us, (unsigned long long)run->send_errors);
	fprintf(f, "received    %llu (probe rx drops %llu)\n",
		(unsigned long long)sum->received,
		(unsigned long long)run->rx_drops);
	fprintf(f, "lost        %llu (%.3f %%)\n",
		(unsigned long long)sum->lost, sum->loss_pct);
	fprintf(f, "duplicates  %llu\n", (unsigned long long)sum->duplicates);
	fprintf(f, "reordered   %llu\n", (unsigned long long)sum->reordered);
	fprintf(f, "invalid     %llu\n", (unsigned long long)sum->invalid);
	fprintf(f, "corrupt     %llu\n", (unsigned long long)sum->corrupt);
	if (sum->have_rtt)
		fprintf(f, "rtt us      min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
			ns_us(sum->rtt_min_ns), ns_us(sum->rtt_p50_ns),
			ns_us(sum->rtt_p90_ns), ns_us(sum->rtt_p99_ns),
			ns_us(sum->rtt_p999_ns), ns_us(sum->rtt_max_ns));
	else
		fprintf(f, "rtt us      - (no replies)\n");
	fprintf(f, "longest gap %.3f ms (from %.3f ms)\n",
		ns_ms(sum->gap_max_ns), ns_ms(sum->gap_at_ns));
	fprintf(f, "outage      %.3f ms (from %.3f ms)\n",
		ns_ms(sum->outage_max_ns), ns_ms(sum->outage_at_ns));
	fprintf(f, "loss bursts %llu", (unsigned long long)sum->burst_total);
	if (sum->burst_listed < sum->burst_total)
		fprintf(f, " (largest %zu listed)", sum->burst_listed);
	fprintf(f, "\n");
	if (sum->burst_listed)
		fprintf(f, "  %12s %12s %10s %12s %12s\n", "first_seq",
			"last_seq", "count", "start_ms", "duration_ms");
	for (size_t i = 0; i < sum->burst_listed; i++) {
		const struct probe_burst *b = &sum->bursts[i];

		fprintf(f, "  %12llu %12llu %10llu %12.3f %12.3f\n",
			(unsigned long long)b->first_seq,
			(unsigned long long)b->last_seq,
			(unsigned long long)b->count,
			ns_ms(b->start_ns), ns_ms(b->duration_ns));
	}
}

static json_t *rtt_json(const struct probe_summary *sum, uint64_t ns)
{
	return sum->have_rtt ? json_real(ns_us(ns)) : json_null();
}

static json_t *bursts_json(const struct probe_summary *sum)
{
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < sum->burst_listed; i++) {
		const struct probe_burst *b = &sum->bursts[i];
		json_t *o = json_pack("{s:I, s:I, s:I, s:f, s:f}",
			"first_seq", (json_int_t)b->first_seq,
			"last_seq", (json_int_t)b->last_seq,
			"count", (json_int_t)b->count,
			"start_ms", ns_ms(b->start_ns),
			"duration_ms", ns_ms(b->duration_ns));

		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *probe_report_json(const struct probe_run *run,
			  const struct probe_summary *sum, int exit_code)
{
	char why[160];
	const char *result;
	json_t *root;

	probe_verdict(run, sum, why, sizeof(why));
	if (run->interrupted)
		result = "interrupted";
	else if (why[0])
		result = "limit-exceeded";
	else
		result = "ok";

	/* jansson >= 2.11: "o" arguments are stolen even when packing fails,
	 * and a NULL "o" argument makes the pack fail. */
	root = json_pack("{s:s, s:s, s:s, s:I, s:f, s:I, s:I, s:f, s:I, s:b}",
		"tool", "fvmm-probe",
		"version", run->version,
		"target", run->target,
		"run_id", (json_int_t)run->run_id,
		"rate_pps", run->rate_pps,
		"count", (json_int_t)run->count,
		"size", (json_int_t)run->size,
		"wait_ms", run->wait_ms,
		"start_unix_us", (json_int_t)run->start_unix_us,
		"interrupted", run->interrupted);
	if (!root)
		return NULL;
	if (json_object_update_new(root, json_pack(
		"{s:f, s:f, s:f, s:f, s:I, s:I}",
		"send_time_s", run->send_time_s,
		"achieved_rate_pps", run->achieved_pps,
		"send_late_avg_us", run->send_late_avg_us,
		"send_late_max_us", run->send_late_max_us,
		"send_errors", (json_int_t)run->send_errors,
		"rx_drops", (json_int_t)run->rx_drops)) < 0)
		goto fail;
	if (json_object_update_new(root, json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}",
		"sent", (json_int_t)sum->sent,
		"received", (json_int_t)sum->received,
		"lost", (json_int_t)sum->lost,
		"duplicates", (json_int_t)sum->duplicates,
		"reordered", (json_int_t)sum->reordered,
		"invalid", (json_int_t)sum->invalid,
		"corrupt", (json_int_t)sum->corrupt,
		"loss_pct", sum->loss_pct)) < 0)
		goto fail;
	if (json_object_update_new(root, json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:f, s:f, s:f, s:f}",
		"rtt_min_us", rtt_json(sum, sum->rtt_min_ns),
		"rtt_p50_us", rtt_json(sum, sum->rtt_p50_ns),
		"rtt_p90_us", rtt_json(sum, sum->rtt_p90_ns),
		"rtt_p99_us", rtt_json(sum, sum->rtt_p99_ns),
		"rtt_p99_9_us", rtt_json(sum, sum->rtt_p999_ns),
		"rtt_max_us", rtt_json(sum, sum->rtt_max_ns),
		"longest_gap_ms", ns_ms(sum->gap_max_ns),
		"longest_gap_start_ms", ns_ms(sum->gap_at_ns),
		"longest_outage_ms", ns_ms(sum->outage_max_ns),
		"longest_outage_start_ms", ns_ms(sum->outage_at_ns))) < 0)
		goto fail;
	if (json_object_update_new(root, json_pack(
		"{s:I, s:I, s:o, s:o, s:o, s:s, s:s, s:i}",
		"burst_count", (json_int_t)sum->burst_total,
		"bursts_max", (json_int_t)run->bursts_max,
		"bursts", bursts_json(sum),
		"max_loss", run->has_max_loss ?
			json_integer((json_int_t)run->max_loss) : json_null(),
		"max_gap_ms", run->has_max_gap ?
			json_real(run->max_gap_ms) : json_null(),
		"result", result,
		"reason", why,
		"exit_code", exit_code)) < 0)
		goto fail;
	return root;

fail:
	json_decref(root);
	return NULL;
}

static void store_wait(void *ctx, uint64_t seq, int64_t wait_ns)
{
	((int64_t *)ctx)[seq] = wait_ns;
}

int probe_stats_csv(FILE *f, const struct probe_stats *st)
{
	int64_t *wait = calloc(st->sent ? st->sent : 1, sizeof(*wait));
	int ret = -EIO;

	if (!wait)
		return -ENOMEM;
	probe_stats_waits(st, store_wait, wait);
	if (fprintf(f, "seq,send_ms,rtt_us,replies,wait_ms\n") < 0)
		goto free_wait;
	for (uint64_t i = 0; i < st->sent; i++) {
		int n;

		if (st->replies[i])
			n = fprintf(f, "%llu,%.3f,%.1f,%u,%.3f\n",
				    (unsigned long long)i,
				    st->send_us[i] / 1e3, st->rtt_ns[i] / 1e3,
				    st->replies[i], wait[i] / 1e6);
		else
			n = fprintf(f, "%llu,%.3f,,0,%.3f\n",
				    (unsigned long long)i,
				    st->send_us[i] / 1e3, wait[i] / 1e6);
		if (n < 0)
			goto free_wait;
	}
	ret = 0;
free_wait:
	free(wait);
	return ret;
}

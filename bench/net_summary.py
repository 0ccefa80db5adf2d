#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Summarise a bench/net CSV: medians per VMM, ratios, and paired rounds.

Usage: bench/net_summary.py FILE.csv

Why paired rounds: the two VMMs take turns, so a round's fvmm and QEMU runs
meet the same host minutes apart, while host noise on a small machine moves
a figure by 2x from one round to the next.  "ahead k/n" counts the rounds
in which fvmm's figure was at least as good as QEMU's in the same round; it
says whether a median ratio near 1 is a steady difference or a coin flip.
"""
import csv
import statistics
import sys

FIGURES = [("rtt", rate, key, "RTT %s @%d pps (us)" % (name, rate))
	   for rate in (1000, 10000)
	   for key, name in (("rtt_p50_us", "p50"), ("rtt_p99_us", "p99"))]


def per_round(rows, vmm, test, rate, key):
	"""{round: value} for one VMM's figure; rounds without it are left out."""
	out = {}
	for r in rows:
		if (r["vmm"], r["test"], r["rate_pps"]) != (vmm, test, str(rate)):
			continue
		if r.get(key) not in ("", None):
			out[r["round"]] = float(r[key])
	return out


def best_rate(rows, vmm):
	"""{round: highest rate with < 0.1% loss} (its row keeps it in rate_pps)."""
	return {r["round"]: float(r["rate_pps"]) for r in rows
		if r["vmm"] == vmm and r["test"] == "maxrate_best"}


def fmt(v):
	return "-" if v is None else ("%g" % v)


def line(name, a, b, lower_better):
	ma = statistics.median(a.values()) if a else None
	mb = statistics.median(b.values()) if b else None
	ratio = None
	if ma and mb:
		ratio = mb / ma if lower_better else ma / mb
	both = sorted(set(a) & set(b), key=int)
	ahead = sum(1 for k in both
		    if (a[k] <= b[k] if lower_better else a[k] >= b[k]))
	verdict = "-" if ratio is None else ("met" if ratio >= 1 else "NOT met")
	print("%-22s %10s %10s %8s %8s  %s" % (
		name, fmt(ma), fmt(mb), "%.2fx" % ratio if ratio else "-",
		"%d/%d" % (ahead, len(both)) if both else "-", verdict))


def main(path):
	rows = list(csv.DictReader(open(path)))
	print("medians over the rounds:")
	print("%-22s %10s %10s %8s %8s  %s" % ("figure", "fvmm", "qemu",
					       "ratio", "ahead", "target"))
	rounds = []
	for test, rate, key, name in FIGURES:
		a = per_round(rows, "fvmm", test, rate, key)
		b = per_round(rows, "qemu", test, rate, key)
		line(name, a, b, True)
		rounds.append((name, a, b))
	line("max rate <0.1% loss", best_rate(rows, "fvmm"),
	     best_rate(rows, "qemu"), False)
	print("(ratio > 1 means fvmm is faster; ahead: rounds in which fvmm "
	      "was at least as good as QEMU in the same round)")
	print("per round (fvmm / qemu):")
	for name, a, b in rounds:
		keys = sorted(set(a) | set(b), key=int)
		print("  %-24s %s" % (name, "  ".join(
			"%s/%s" % (fmt(a.get(k)), fmt(b.get(k))) for k in keys)))
	print("raw results: %s" % path)


if __name__ == "__main__":
	if len(sys.argv) != 2:
		sys.exit("usage: net_summary.py FILE.csv")
	try:
		main(sys.argv[1])
	except (OSError, KeyError, ValueError) as e:
		sys.exit("net_summary: %s: %s" % (sys.argv[1], e))

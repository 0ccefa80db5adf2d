#!/usr/bin/env bash
# Shared helpers for the script tiers (kvm, e2e).  A test script sources
# this, calls pass/fail per check, and ends with `finish`.  Output lines:
#   PASS: name          FAIL: name: reason          SKIP: name: reason
# The runner (tests/run) counts these.

set -uo pipefail

FVMM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FVMM=${FVMM:-$FVMM_ROOT/build/fvmm}
GUEST=${GUEST:-$FVMM_ROOT/build/fvmm-guest.elf}
TEST_TMP=$(mktemp -d /tmp/fvmm-test.XXXXXX)
_failed=0
_cleanups=()

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; _failed=1; }
skip() { echo "SKIP: $1: $2"; }

# Run on exit, last registered first, even when the script fails.
on_exit() { _cleanups=("$*" "${_cleanups[@]}"); }
_run_cleanups() {
	local c
	for c in "${_cleanups[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
	# A failed script's consoles and reports are what explain the failure.
	# They go into the checkout's build/test-logs, which is also where a
	# script run inside tools/kvmbox leaves them for the host to read.
	# TEST_KEEP=1 keeps them after a pass too (debugging).
	if [[ $_failed -ne 0 || ${TEST_KEEP:-0} == 1 ]]; then
		local keep
		keep=$FVMM_ROOT/build/test-logs/$(basename "$(dirname "$0")")-$(basename "$0" .sh).files
		rm -rf "$keep" && mkdir -p "$keep" &&
			find "$TEST_TMP" -maxdepth 1 -type f -exec cp {} "$keep"/ \; &&
			echo "test files kept in $keep"
	fi
	rm -rf "$TEST_TMP"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

require_kvm() {
	if [[ ! -c /dev/kvm ]]; then
		echo "SKIP: $(basename "$0"): /dev/kvm not present"
		exit 77
	fi
}

finish() { exit "$_failed"; }

# check NAME COND_STATUS REASON: pass or fail on a previous command status.
check() {
	local name=$1 status=$2 reason=$3
	if [[ $status -eq 0 ]]; then pass "$name"; else fail "$name" "$reason"; fi
}

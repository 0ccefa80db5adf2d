#!/usr/bin/env bash
# End-to-end: faults in the middle of a live migration, with the guest's
# RAM pattern running and a peer checking the VM answers:
#  1. The connection is cut while RAM moves (the source's socket killed,
#     `ss -K`): the source fails at once with the reason and runs on; the
#     destination exits non-zero with one line.
#  2. A record corrupted on the way (a proxy inverts one byte inside RAM):
#     the destination refuses it (CRC32C), the refusal reaches the source's
#     error-desc, the source runs on with its RAM intact.
#  3. After both, a migration works and carries the pattern.
source "$(dirname "$0")/lib.sh"
require_kvm
require_root
source "$(dirname "$0")/migration_lib.sh"
mig_net_up

# shellcheck disable=SC2046
e2e_fvmm src src $(vm_args src src)
e2e_wait_console src '^READY ' 20 || { fail boot "no READY: $(tail -c 300 "$TEST_TMP/src.err")"; finish; }
wait_until 10 peer_ping "$G0" 1
check reachable $? "peer cannot ping the guest"
reply=$(memtest src start "$PATTERN_MIB" "$PATTERN_RATE")
[[ $reply == "memtest: writing"* ]]
check memtest-starts $? "${reply:-no reply}"

# source_runs_on WHAT: still running, answering, the pattern intact.
source_runs_on() {
	[[ $(status_of src) == running ]] && wait_until 5 peer_ping "$G0" 1
	check "$1-source-runs-on" $? "source is $(status_of src)"
	reply=$(memtest src check)
	[[ $reply == "memtest: ok"* ]]
	check "$1-pattern-intact" $? "${reply:-no reply}"
}

# 1. The connection cut mid-way.
qmp src migrate-set-parameters max-bandwidth=2000000 >/dev/null
# shellcheck disable=SC2046
e2e_fvmm cut dst $(vm_args cut dst) --incoming "tcp:10.99.0.3:4446"
wait_until 5 bash -c "ip netns exec ${NS_HOST[dst]} ss -ltn | grep -q ':4446 '"
start_mig src "tcp:10.99.0.3:4446"
wait_mig src active 20
check cut-reaches-active $? "status $(mig_status src)"
sleep 0.5
t0=$SECONDS
in_host src ss -K dst 10.99.0.3 dport = 4446 >/dev/null 2>&1
wait_until 10 bash -c "[[ \$($CTL --json $TEST_TMP/src.qmp query-migrate | grep -c '\"failed\"') -ge 1 ]]"
check cut-fails $? "status $(mig_status src)"
(( SECONDS - t0 <= 10 ))
check cut-fails-promptly $? "took $(( SECONDS - t0 )) s"
qmp_json src query-migrate | grep -qE '"error-desc": *"[^"]+"'
check cut-error-desc $? "$(qmp_json src query-migrate)"
source_runs_on cut
wait_until 40 bash -c "! kill -0 ${FVMM_PID[cut]}"
wait "${FVMM_PID[cut]}"
check cut-dest-exits-nonzero $(( $? == 0 )) "destination exit status 0"
grep -q 'incoming migration failed' "$TEST_TMP/cut.err"
check cut-dest-says-why $? "$(tail -n 2 "$TEST_TMP/cut.err")"

# 2. One byte inverted 200 KiB into the stream: inside a RAM batch.
qmp src migrate-set-parameters max-bandwidth=134217728 >/dev/null
start_dest bad dst
python3 "$(dirname "$0")/flip_proxy.py" "$TEST_TMP/proxy.mig" \
	"$TEST_TMP/bad.mig" --flip 204800 >"$TEST_TMP/proxy.out" 2>&1 &
proxy=$!
on_exit kill -9 "$proxy"
wait_until 5 test -S "$TEST_TMP/proxy.mig"
migrate_to src proxy
check corrupt-migration-fails $(( $? == 0 )) "the migration completed"
qmp_json src query-migrate >"$TEST_TMP/corrupt-final"
grep -q '"status": *"failed"' "$TEST_TMP/corrupt-final" &&
	grep -q 'destination refused' "$TEST_TMP/corrupt-final"
check corrupt-refused-with-reason $? "$(cat "$TEST_TMP/corrupt-final")"
source_runs_on corrupt
wait "${FVMM_PID[bad]}"
check corrupt-dest-exits-nonzero $(( $? == 0 )) "destination exit status 0"
grep -q 'incoming migration failed' "$TEST_TMP/bad.err"
check corrupt-dest-says-why $? "$(tail -n 2 "$TEST_TMP/bad.err")"
wait "$proxy" 2>/dev/null

# 3. A migration after the faults works.
start_dest good dst
migrate_to src good
check migrate-after-faults $? "$(tail -n 3 "$TEST_TMP/ctl-src")"
reply=$(memtest good stop)
[[ $reply == "memtest: ok (stopped, every byte)"* ]]
check pattern-after-faults $? "${reply:-no reply}"
wait_until 5 peer_ping "$G0" 1
check reachable-after-faults $? "peer cannot ping the guest"
qmp src quit >/dev/null
e2e_console_cmd good poweroff
wait "${FVMM_PID[good]}"
check poweroff-exit-0 $? "exit status"

finish

#!/usr/bin/env bash
# End-to-end: live migration of a running guest between two fvmm processes
# on two host namespaces (src, dst) of one fabric, with a peer talking to
# the guest throughout; then the ways a migration can go wrong.
source "$(dirname "$0")/lib.sh"
require_kvm
require_root

source "$(dirname "$0")/migration_lib.sh"
mig_net_up

# 1. Boot on the source; it answers the peer.
# shellcheck disable=SC2046
e2e_fvmm src src $(vm_args src src)
if ! e2e_wait_console src '^READY ' 20; then
	fail boot "no READY line: $(tail -c 300 "$TEST_TMP/src.err")"
	finish
fi
wait_until 10 peer_ping "$G0" 1
check source-reachable $? "peer cannot ping the guest on the source"

# 2. Parameters: QEMU's names and defaults, settable.
qmp_json src query-migrate-parameters >"$TEST_TMP/params0"
grep -q '"downtime-limit": *300' "$TEST_TMP/params0" &&
	grep -q '"max-bandwidth": *134217728' "$TEST_TMP/params0"
check params-defaults $? "$(cat "$TEST_TMP/params0")"
qmp src migrate-set-parameters downtime-limit=100 >/dev/null &&
	qmp_json src query-migrate-parameters | grep -q '"downtime-limit": *100'
check params-set $? "downtime-limit did not change"
! qmp src migrate-set-parameters downtime-limit=-5 >/dev/null 2>&1
check params-refuse-negative $? "a negative downtime-limit was accepted"

# 3. A destination that does not match is refused with the first difference,
#    and the source goes on.
e2e_fvmm bad dst --memory 512M --cpus "$MIG_CPUS" --incoming "unix:$TEST_TMP/bad.mig" \
	--netdev "tap,id=n0,ifname=fvd-$E2E_ID" \
	--device "virtio-net-pci,netdev=n0,id=net0,mac=$MAC" --append "ip=$G0/24"
wait_until 5 test -S "$TEST_TMP/bad.mig"
start_mig src "unix:$TEST_TMP/bad.mig"
! wait_mig src completed 30
check mismatch-fails $? "migration to a 512M destination did not fail"
qmp_json src query-migrate | grep -q '"error-desc": *"[^"]*destination refused'
check mismatch-error-desc $? "$(qmp_json src query-migrate)"
wait "${FVMM_PID[bad]}"
check mismatch-dest-exit-1 $(( $? != 1 )) "destination exit status not 1"
grep -q 'RAM size differs: 268435456 on the source, 536870912 here' "$TEST_TMP/bad.err"
check mismatch-names-difference $? "$(grep -i incoming "$TEST_TMP/bad.err")"
[[ $(status_of src) == running ]] && wait_until 5 peer_ping "$G0" 1
check mismatch-source-runs-on $? "source is $(status_of src) after a refused migration"

# 4. Cancel: a slow migration (max-bandwidth 100 kB/s: its 64Ki zero-page entries alone take 5 s) cancelled mid-way; the
#    source keeps running, the destination gives up with a clear line.
qmp src migrate-set-parameters max-bandwidth=100000 >/dev/null
# shellcheck disable=SC2046
e2e_fvmm cdst dst $(vm_args cdst dst) --incoming "unix:$TEST_TMP/cdst.mig"
wait_until 5 test -S "$TEST_TMP/cdst.mig"
start_mig src "unix:$TEST_TMP/cdst.mig"
wait_mig src active 10
check cancel-goes-active $? "status $(mig_status src)"
sleep 0.5
qmp src migrate_cancel >/dev/null
wait_mig src cancelled 10
check cancel-ends-cancelled $? "status $(mig_status src)"
[[ $(status_of src) == running ]] && wait_until 5 peer_ping "$G0" 1
check cancel-source-runs-on $? "source is $(status_of src) after cancel"
wait_until 10 bash -c "! kill -0 ${FVMM_PID[cdst]}"
check cancel-dest-exits $? "destination still running after cancel"
grep -q 'incoming migration failed' "$TEST_TMP/cdst.err"
check cancel-dest-says-why $? "$(tail -n 2 "$TEST_TMP/cdst.err")"

# 5. A destination that dies mid-way: the migration fails, the VM stays here.
# shellcheck disable=SC2046
e2e_fvmm kdst dst $(vm_args kdst dst) --incoming "tcp:10.99.0.3:4444"
wait_until 5 bash -c "ip netns exec ${NS_HOST[dst]} ss -ltn | grep -q ':4444 '"
start_mig src "tcp:10.99.0.3:4444"
wait_mig src active 10
kill -9 "${FVMM_PID[kdst]}"
{ wait "${FVMM_PID[kdst]}"; } 2>/dev/null
! wait_mig src completed 40
check dead-dest-fails $? "status $(mig_status src)"
[[ $(mig_status src) == failed ]]
check dead-dest-status-failed $? "status $(mig_status src)"
[[ $(status_of src) == running ]] && wait_until 5 peer_ping "$G0" 1
check dead-dest-source-runs-on $? "source is $(status_of src)"

# 5b. Cancel while connecting (setup): a destination address nobody
#     answers; the cancel is prompt, not the connect timeout.
start_mig src "tcp:10.99.0.99:4444"
[[ $(mig_status src) == setup ]]
check cancel-setup-in-setup $? "status $(mig_status src)"
t0=$SECONDS
qmp src migrate_cancel >/dev/null
wait_mig src cancelled 3
check cancel-setup-cancelled $? "status $(mig_status src)"
(( SECONDS - t0 <= 3 ))
check cancel-setup-prompt $? "took $(( SECONDS - t0 )) s"
[[ $(status_of src) == running ]] && wait_until 5 peer_ping "$G0" 1
check cancel-setup-source-runs-on $? "source is $(status_of src)"

# 5c. Cancel in the device phase: the VM is paused and its last dirty
#     pages are on their way over a slow link (20 Mbit/s, the source
#     host's uplink); the cancel resumes it here with its RAM intact.
reply=$(memtest src start 16 0)
[[ $reply == "memtest: writing 16 MiB"* ]]
check cancel-device-memtest $? "${reply:-no reply}"
in_host src tc qdisc add dev eth0 root tbf rate 20mbit burst 32kb latency 400ms
qmp src migrate-set-parameters max-bandwidth=134217728 x-max-passes=1 >/dev/null
# shellcheck disable=SC2046
e2e_fvmm ddst dst $(vm_args ddst dst) --incoming "tcp:10.99.0.3:4445"
wait_until 5 bash -c "ip netns exec ${NS_HOST[dst]} ss -ltn | grep -q ':4445 '"
start_mig src "tcp:10.99.0.3:4445"
wait_mig src device 60
check cancel-device-reaches-device $? "status $(mig_status src)"
[[ $(status_of src) == paused ]]
check device-phase-vm-paused $? "source is $(status_of src) in the device phase"
qmp src migrate_cancel >/dev/null
wait_mig src cancelled 10
check cancel-device-cancelled $? "status $(mig_status src)"
in_host src tc qdisc del dev eth0 root
[[ $(status_of src) == running ]] && wait_until 5 peer_ping "$G0" 1
check cancel-device-source-runs-on $? "source is $(status_of src)"
reply=$(memtest src stop)
[[ $reply == "memtest: ok (stopped, every byte)"* ]]
check cancel-device-memtest-intact $? "${reply:-no reply}"
wait_until 10 bash -c "! kill -0 ${FVMM_PID[ddst]}"
check cancel-device-dest-exits $? "destination still running after cancel"
qmp src migrate-set-parameters x-max-passes=64 >/dev/null

# 6. The real thing, under traffic: UDP echo from the peer all along, and
#    a vCPU rewriting its RAM pattern (64 MiB at 16 MiB/s; less in the box).
qmp src migrate-set-parameters max-bandwidth=134217728 downtime-limit=300 >/dev/null
reply=$(memtest src start "$PATTERN_MIB" "$PATTERN_RATE")
[[ $reply == "memtest: writing $PATTERN_MIB MiB"* ]]
check memtest-starts $? "${reply:-no reply}"
e2e_console_cmd src uptime
wait_until 5 grep -q 'up [0-9]' "$TEST_TMP/src.out"
before=$(uptime_ms src)
# shellcheck disable=SC2046
e2e_fvmm dst dst $(vm_args dst dst) --incoming defer
wait_until 5 test -S "$TEST_TMP/dst.qmp"
[[ $(status_of dst) == inmigrate ]]
check dest-inmigrate $? "destination status $(status_of dst)"
qmp dst migrate-incoming "uri=unix:$TEST_TMP/dst.mig" >/dev/null &&
	wait_until 5 test -S "$TEST_TMP/dst.mig"
check migrate-incoming-defer $? "migrate-incoming did not listen"
"$CTL" --json --timeout 30 "$TEST_TMP/src.qmp" events >"$TEST_TMP/events" 2>&1 &
events=$!
in_peer "$PROBE" --rate 500 --duration 8 --quiet \
	--json "$TEST_TMP/probe.json" "$G0" >"$TEST_TMP/probe" 2>&1 &
probe=$!
sleep 2
rss0=$(rss_kib "${FVMM_PID[src]}")
t0=$(date +%s%N)
"$CTL" --timeout 60 "$TEST_TMP/src.qmp" migrate "unix:$TEST_TMP/dst.mig" \
	>"$TEST_TMP/ctl-migrate" 2>&1
check ctl-migrate-completes $? "$(tail -n 5 "$TEST_TMP/ctl-migrate")"
rss1=$(rss_kib "${FVMM_PID[src]}")
# No copy of guest RAM, and the guest's untouched pages stay untouched:
# the source's memory grows by its bitmaps and buffers only.
[[ -n $rss0 && -n $rss1 ]] && (( rss1 - rss0 <= MAX_MIG_RSS_GROWTH_KIB ))
check source-memory-bounded $? "the source grew by $(( ${rss1:-0} - ${rss0:-0} )) KiB (at most $MAX_MIG_RSS_GROWTH_KIB) for a $MIG_MEM guest"
echo "migration took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
wait "$probe"
kill "$events" 2>/dev/null
grep -q '"MIGRATION_PASS"' "$TEST_TMP/events" &&
	grep -q '"status": *"completed"' "$TEST_TMP/events"
check migration-events $? "$(grep -c MIGRATION "$TEST_TMP/events") MIGRATION events"
[[ $(mig_status src) == completed ]]
check source-completed $? "status $(mig_status src)"
[[ $(status_of src) == postmigrate ]]
check source-postmigrate $? "source is $(status_of src)"
[[ $(status_of dst) == running ]]
check dest-running $? "destination is $(status_of dst): $(tail -n 3 "$TEST_TMP/dst.err")"
qmp_json src query-migrate >"$TEST_TMP/final"
grep -q '"downtime": *[0-9]' "$TEST_TMP/final" &&
	grep -qE '"duplicate": *[1-9]' "$TEST_TMP/final" &&
	grep -qE '"dirty-sync-count": *[1-9]' "$TEST_TMP/final"
check query-migrate-figures $? "$(cat "$TEST_TMP/final")"
lost=$(probe_num "$TEST_TMP/probe.json" lost)
max_lost=$(( MAX_MIG_LOST_MS * 500 / 1000 ))
[[ -n $lost ]] && (( lost <= max_lost ))
check traffic-survives-migration $? "lost ${lost:-?} datagrams of 4000 (at most $max_lost)"
echo "lost $lost datagrams at 500/s; $(grep -E '^(downtime|total time):' "$TEST_TMP/ctl-migrate" | tr '\n' ' ')"
wait_until 5 peer_ping "$G0" 1
check dest-reachable $? "peer cannot ping the guest after migration"
e2e_console_cmd dst uptime
wait_until 5 grep -q 'up [0-9]' "$TEST_TMP/dst.out"
after=$(uptime_ms dst)
[[ -n $before && -n $after ]] && (( after >= before ))
check guest-time-monotonic $? "uptime ${before:-?} ms before, ${after:-?} ms after"
in_peer "$PROBE" --rate 1000 --duration 2 --max-loss 0 --quiet \
	--json "$TEST_TMP/probe2.json" "$G0" >"$TEST_TMP/probe2" 2>&1
check dest-echo-no-loss $? "$(tail -n 3 "$TEST_TMP/probe2")"
reply=$(memtest dst check)
[[ $reply == "memtest: ok"* ]]
check memtest-after-migration $? "${reply:-no reply}"

# 7. The source stays stopped (its vCPUs never run again) until told:
#    its guest console does not answer.
lines=$(wc -l <"$TEST_TMP/src.out")
e2e_console_cmd src uptime
sleep 1
(( $(wc -l <"$TEST_TMP/src.out") == lines )) && [[ $(status_of src) == postmigrate ]]
check source-stays-stopped $? "the source's guest answered its console"
qmp src quit >/dev/null
wait "${FVMM_PID[src]}"
check source-quit $? "source exit status"

# 8. Back to the first host, onto a destination started with -S: every
#    byte of RAM equals the stopped source's; then it runs on.
start_dest back src -S
check paused-dest-listens $? "$(tail -n 2 "$TEST_TMP/back.err")"
migrate_to dst back
check migrate-back-completes $? "$(tail -n 3 "$TEST_TMP/ctl-dst")"
[[ $(status_of back) == paused ]]
check dash-S-stays-paused $? "destination is $(status_of back)"
d_src=$(ram_digest dst) d_dst=$(ram_digest back)
[[ -n $d_src && $d_src == "$d_dst" ]]
check ram-identical $? "RAM digest ${d_src:-?} on the source, ${d_dst:-?} on the destination"
qmp back cont >/dev/null && wait_until 5 peer_ping "$G0" 1
check cont-after-dash-S $? "status $(status_of back), peer cannot ping"
! qmp back x-query-ram-digest >/dev/null 2>&1
check digest-refused-while-running $? "x-query-ram-digest answered a running VM"
qmp dst quit >/dev/null
wait "${FVMM_PID[dst]}"
reply=$(memtest back stop)
[[ $reply == "memtest: ok (stopped, every byte)"* ]]
check memtest-every-byte $? "${reply:-no reply}"
# The check can fail: damaged RAM is found and named.
memtest back corrupt word >/dev/null
reply=$(memtest back check)
[[ $reply == "memtest: FAIL at "*"word differs"* ]]
check memtest-finds-damage $? "${reply:-no reply}"

# 9. The migrated guest powers off normally.
e2e_console_cmd back poweroff
wait "${FVMM_PID[back]}"
check dest-poweroff-exit-0 $? "destination exit status after poweroff"

finish

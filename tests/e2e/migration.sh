#!/usr/bin/env bash
# End-to-end: live migration of a running guest between two fvmm processes
# on two host namespaces (src, dst) of one fabric, with a peer talking to
# the guest throughout; then the ways a migration can go wrong.
source "$(dirname "$0")/lib.sh"
require_kvm
require_root

PROBE=$FVMM_ROOT/build/fvmm-probe
CTL=$FVMM_ROOT/build/fvmm-ctl
G0=10.99.0.10
MAC=52:54:00:99:00:10
# Loss allowed over a migration, as time at the probe's rate: the stop-and-
# copy downtime plus the fabric relearning the port (fvmm announces).
MAX_MIG_LOST_MS=${MAX_MIG_LOST_MS:-500}
[[ -n ${KVMBOX:-} ]] && MAX_MIG_LOST_MS=${MAX_MIG_LOST_MS_BOX:-3000}

e2e_net_up src dst || { fail net-setup "could not create namespaces"; finish; }
e2e_tap src fvs-$E2E_ID && e2e_tap dst fvd-$E2E_ID ||
	{ fail net-setup "could not create taps"; finish; }

# The migration link of section 5 is TCP across the fabric.
in_host src ip addr add 10.99.0.2/24 dev br0
in_host dst ip addr add 10.99.0.3/24 dev br0

# vm_args HOST TAP: the machine both sides are started with.
vm_args() {
	echo --memory 256M --cpus 2 --qmp "unix:$TEST_TMP/$1.qmp" \
		--netdev "tap,id=n0,ifname=$2" \
		--device "virtio-net-pci,netdev=n0,id=net0,mac=$MAC" \
		--append "ip=$G0/24"
}

qmp() { local sock=$1; shift; "$CTL" "$TEST_TMP/$sock.qmp" "$@"; }
qmp_json() { local sock=$1; shift; "$CTL" --json "$TEST_TMP/$sock.qmp" "$@"; }
status_of() { qmp_json "$1" query-status | sed -nE 's/.*"status": *"([a-z-]+)".*/\1/p'; }
mig_status() { qmp_json "$1" query-migrate | sed -nE 's/.*"status": *"([a-z-]+)".*/\1/p'; }
mig_num() { qmp_json "$1" query-migrate | grep -oE "\"$2\": *[0-9]+" | grep -oE '[0-9]+$'; }

# start_mig SOCK URI: fvmm-ctl migrate in the background (it follows the
# migration to its end; output in ctl-SOCK); the tests poll query-migrate.
start_mig() {
	"$CTL" --timeout 120 "$TEST_TMP/$1.qmp" migrate "$2" >"$TEST_TMP/ctl-$1" 2>&1 &
	sleep 0.3
}

# wait_mig SOCK STATUS SECONDS
wait_mig() {
	local deadline=$(( SECONDS + $3 )) s
	while (( SECONDS < deadline )); do
		s=$(mig_status "$1")
		[[ $s == "$2" ]] && return 0
		[[ $s == failed || $s == cancelled || $s == completed ]] && return 1
		sleep 0.2
	done
	return 1
}

uptime_ms() {
	# "up 12.345 s": the last such line of NAME's console.
	grep -oE 'up [0-9]+\.[0-9]{3} s' "$TEST_TMP/$1.out" | tail -n 1 |
		sed -E 's/up ([0-9]+)\.([0-9]{3}) s/\1\2/; s/^0+([0-9])/\1/'
}

# 1. Boot on the source; it answers the peer.
# shellcheck disable=SC2046
e2e_fvmm src src $(vm_args src "fvs-$E2E_ID")
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
e2e_fvmm bad dst --memory 512M --cpus 2 --incoming "unix:$TEST_TMP/bad.mig" \
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
e2e_fvmm cdst dst $(vm_args cdst "fvd-$E2E_ID") --incoming "unix:$TEST_TMP/cdst.mig"
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
e2e_fvmm kdst dst $(vm_args kdst "fvd-$E2E_ID") --incoming "tcp:10.99.0.3:4444"
wait_until 5 bash -c "ip netns exec ${NS_HOST[dst]} ss -ltn | grep -q ':4444 '"
start_mig src "tcp:10.99.0.3:4444"
wait_mig src active 10
kill -9 "${FVMM_PID[kdst]}"
! wait_mig src completed 40
check dead-dest-fails $? "status $(mig_status src)"
[[ $(mig_status src) == failed ]]
check dead-dest-status-failed $? "status $(mig_status src)"
[[ $(status_of src) == running ]] && wait_until 5 peer_ping "$G0" 1
check dead-dest-source-runs-on $? "source is $(status_of src)"

# 6. The real thing, under traffic: UDP echo from the peer all along.
qmp src migrate-set-parameters max-bandwidth=134217728 downtime-limit=300 >/dev/null
e2e_console_cmd src uptime
wait_until 5 grep -q 'up [0-9]' "$TEST_TMP/src.out"
before=$(uptime_ms src)
# shellcheck disable=SC2046
e2e_fvmm dst dst $(vm_args dst "fvd-$E2E_ID") --incoming defer
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
t0=$(date +%s%N)
"$CTL" --timeout 60 "$TEST_TMP/src.qmp" migrate "unix:$TEST_TMP/dst.mig" \
	>"$TEST_TMP/ctl-migrate" 2>&1
check ctl-migrate-completes $? "$(tail -n 5 "$TEST_TMP/ctl-migrate")"
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

# 8. The migrated guest powers off normally.
e2e_console_cmd dst poweroff
wait "${FVMM_PID[dst]}"
check dest-poweroff-exit-0 $? "destination exit status after poweroff"

finish

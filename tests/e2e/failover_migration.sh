#!/usr/bin/env bash
# End-to-end: failover migration.  A VM with a virtio-net standby
# (failover=on) and an e1000 primary on a root port migrates between two
# host namespaces while the peer sends UDP echo:
#  1. Boot on src: the primary is plugged once STANDBY is negotiated and
#     carries the transmit path.
#  2. Migrate to dst: UNPLUG_PRIMARY, wait-unplug until the guest powered
#     the slot off, then pre-copy; dst has no primary of its own but a free
#     one in its pool, on another root port: it becomes the standby's
#     primary and carries the transmit path; the VM answered before, during
#     and after.
#  3. A migration cancelled in `active` after the unplug: the primary comes
#     back on the side the VM stays on, and carries traffic again.
#  3b. To a destination with no primary for the standby: the VM stays on
#     its standby, reachable, and x-FAILOVER_PRIMARY_UNAVAILABLE says why.
#  4. A guest that does not release its primary (pciehp.button=ignore):
#     x-unplug-timeout with action cancel fails the migration with a clear
#     error-desc and the primary never leaves; with action surprise the
#     migration completes.
source "$(dirname "$0")/lib.sh"
require_kvm
require_root
source "$(dirname "$0")/migration_lib.sh"

# The probe's rate: the box's e1000 path carries only some hundreds of
# echoes a second (see failover.sh).
RATE=1000
MAX_GAP_MS=500
if [[ -n ${KVMBOX:-} ]]; then
	RATE=200
	MAX_GAP_MS=${MAX_GAP_MS_BOX:-3000}
fi

e2e_net_up src dst || { fail net-setup "could not create namespaces"; finish; }
for h in src dst; do
	e2e_tap "$h" "fs${h:0:1}-$E2E_ID" && e2e_tap "$h" "fp${h:0:1}-$E2E_ID" ||
		{ fail net-setup "could not create taps"; finish; }
done

# fo_vm NAME HOST [GUEST OPTIONS] [-- FVMM OPTIONS]: fvmm with the
# standby and a primary on HOST's taps.  PRIMARY: own (pri0 on rp1, paired
# with the standby), pool (pool0 on rp2, failover_pool=on, for whichever
# standby comes) or none.
PRIMARY=own
fo_vm() {
	local name=$1 host=$2 h=${2:0:1} guest=() pri=()
	shift 2
	while [[ $# -gt 0 && $1 != -- ]]; do guest+=("$1"); shift; done
	[[ ${1:-} == -- ]] && shift
	case $PRIMARY in
	own) pri=(--device "e1000,netdev=n1,id=pri0,mac=$MAC,failover_pair_id=net0,bus=rp1") ;;
	pool) pri=(--device "e1000,netdev=n1,id=pool0,bus=rp2,failover_pool=on") ;;
	esac
	e2e_fvmm "$name" "$host" --memory 256M --cpus 2 --root-ports 2 --verbose \
		--qmp "unix:$TEST_TMP/$name.qmp" \
		--netdev "tap,id=n0,ifname=fs$h-$E2E_ID" \
		--device "virtio-net-pci,netdev=n0,id=net0,mac=$MAC,failover=on" \
		--netdev "tap,id=n1,ifname=fp$h-$E2E_ID" "${pri[@]}" \
		--append "ip=$G0/24 ${guest[*]}" "$@"
}

# fo_dest NAME HOST [GUEST OPTIONS]: a destination on NAME.mig.
fo_dest() {
	fo_vm "$@" -- --incoming "unix:$TEST_TMP/$1.mig"
	wait_until 10 test -S "$TEST_TMP/$1.mig"
}

on_primary() {		# on_primary NAME N: NAME's N-th switch to the primary
	wait_until "$CONSOLE_WAIT" e2e_console_count_is "$1" \
		'fo0: tx path -> primary' "$2"
}
pair_state() {		# the host's view of pri0: plugged or hidden
	qmp_json "$1" x-query-failover | grep -oE '"state": *"[a-z]+"' |
		head -n 1 | grep -oE '[a-z]+"$' | tr -d '"'
}

pair_is() { [[ $(pair_state "$1") == "$2" ]]; }

probe_start() {		# probe_start NAME
	ip netns exec "$NS_PEER" "$PROBE" --rate "$RATE" --duration 600 --quiet \
		--json "$TEST_TMP/$1.json" "$G0" >"$TEST_TMP/$1.out" 2>&1 &
	probe_pid=$!
	on_exit kill -9 "$probe_pid"
	sleep 1
}
probe_stop() {		# probe_stop NAME: the longest gap within MAX_GAP_MS
	local gap lost
	sleep 1
	kill -INT "$probe_pid"
	wait "$probe_pid"
	gap=$(probe_num "$TEST_TMP/$1.json" longest_gap_ms)
	lost=$(probe_num "$TEST_TMP/$1.json" lost)
	echo "$1: lost $lost at $RATE/s, longest gap $gap ms"
	[[ -n $gap ]] && awk -v g="$gap" -v m="$MAX_GAP_MS" 'BEGIN { exit !(g <= m) }'
	check "$1-longest-gap" $? "longest gap ${gap:-?} ms (at most $MAX_GAP_MS)"
}

# 1. Boot: the primary is plugged and carries the transmit path.
fo_vm a src
e2e_wait_console a '^READY ' 20 || { fail boot "no READY: $(tail -c 300 "$TEST_TMP/a.err")"; finish; }
on_primary a 1
check boot-on-primary $? "$(tail -n 5 "$TEST_TMP/a.out")"
wait_until 10 peer_ping "$G0" 1
check boot-reachable $? "peer cannot ping the guest"

# 2. Failover migration under traffic, to a destination's pool primary.
PRIMARY=pool fo_dest b dst
check dest-listens $? "$(tail -n 2 "$TEST_TMP/b.err")"
"$CTL" --json --timeout 60 "$TEST_TMP/a.qmp" events >"$TEST_TMP/events-a" 2>&1 &
events=$!
probe_start mig1
migrate_to a b
check migrate-completes $? "$(tail -n 3 "$TEST_TMP/ctl-a")"
kill "$events" 2>/dev/null
grep -q '"UNPLUG_PRIMARY"' "$TEST_TMP/events-a" &&
	grep -q '"device-id": *"pri0"' "$TEST_TMP/events-a"
check unplug-primary-event $? "$(grep -c event "$TEST_TMP/events-a") events"
grep -q '"status": *"wait-unplug"' "$TEST_TMP/events-a"
check wait-unplug-status $? "no MIGRATION wait-unplug event"
qmp_json a query-migrate >"$TEST_TMP/final-a"
grep -qE '"x-wait-unplug-ms": *[0-9]+' "$TEST_TMP/final-a"
check wait-unplug-time-reported $? "$(cat "$TEST_TMP/final-a")"
on_primary b 1
check dest-primary-carries-tx $? "$(tail -n 5 "$TEST_TMP/b.out")"
qmp_json b x-query-failover >"$TEST_TMP/fo-b"
grep -q '"primary": *"pool0"' "$TEST_TMP/fo-b" && grep -q '"standby": *"net0"' "$TEST_TMP/fo-b" &&
	[[ $(pair_state b) == plugged ]]
check dest-pool-primary-plugged $? "$(cat "$TEST_TMP/fo-b")"
probe_stop mig1
wait_until 5 peer_ping "$G0" 1
check dest-reachable $? "peer cannot ping the guest after migration"
qmp a quit >/dev/null
wait "${FVMM_PID[a]}"

# 3. Cancelled in `active`, after the unplug (a slow link): the primary
#    comes back on the side the VM stays on.
qmp b migrate-set-parameters max-bandwidth=100000 >/dev/null
fo_dest c src
start_mig b "unix:$TEST_TMP/c.mig"
wait_mig b active 30
check cancel-reaches-active $? "status $(mig_status b)"
[[ $(pair_state b) == hidden ]]
check cancel-primary-gone-in-active $? "pri0 is $(pair_state b)"
qmp b migrate_cancel >/dev/null
wait_mig b cancelled 10
check cancel-cancelled $? "status $(mig_status b)"
wait_until 10 pair_is b plugged
check cancel-primary-back $? "pri0 is $(pair_state b)"
on_primary b 2
check cancel-primary-carries-tx $? "$(tail -n 5 "$TEST_TMP/b.out")"
wait_until 5 peer_ping "$G0" 1
check cancel-reachable $? "peer cannot ping the guest"
wait_until 10 bash -c "! kill -0 ${FVMM_PID[c]}"

# 3b. A destination with nothing for the standby.
qmp b migrate-set-parameters max-bandwidth=134217728 >/dev/null
PRIMARY=none fo_dest d src
"$CTL" --json --timeout 60 "$TEST_TMP/d.qmp" events >"$TEST_TMP/events-d" 2>&1 &
events=$!
migrate_to b d
check to-no-primary-completes $? "$(tail -n 3 "$TEST_TMP/ctl-b")"
wait_until 5 grep -q 'FAILOVER_PRIMARY_UNAVAILABLE' "$TEST_TMP/events-d"
kill "$events" 2>/dev/null
grep -q '"reason": *"no free primary in the pool"' "$TEST_TMP/events-d"
check primary-unavailable-event $? "$(grep -c event "$TEST_TMP/events-d") events"
wait_until 5 peer_ping "$G0" 1
check no-primary-reachable-on-standby $? "peer cannot ping the guest"
qmp b quit >/dev/null
wait "${FVMM_PID[b]}"
qmp d quit >/dev/null
wait "${FVMM_PID[d]}"

# 4. A guest that keeps its primary: the wait is bounded.
fo_vm s src pciehp.button=ignore
e2e_wait_console s '^READY ' 20
on_primary s 1
check stubborn-on-primary $? "$(tail -n 5 "$TEST_TMP/s.out")"
qmp s migrate-set-parameters x-unplug-timeout=1000 >/dev/null
qmp_json s query-migrate-parameters | grep -q '"x-unplug-timeout-action": *"cancel"'
check unplug-action-default-cancel $? "$(qmp_json s query-migrate-parameters)"
fo_dest t dst pciehp.button=ignore
start_mig s "unix:$TEST_TMP/t.mig"
! wait_mig s completed 30
qmp_json s query-migrate >"$TEST_TMP/final-s"
grep -q '"status": *"failed"' "$TEST_TMP/final-s" &&
	grep -q 'did not release failover primary .pri0. within 1000 ms' "$TEST_TMP/final-s"
check unplug-timeout-cancel-fails $? "$(cat "$TEST_TMP/final-s")"
[[ $(status_of s) == running ]] && wait_until 5 peer_ping "$G0" 1
check unplug-timeout-source-runs-on $? "source is $(status_of s)"
(( $(e2e_count_console s 'fo0: tx path -> standby') == 0 ))
check unplug-timeout-primary-never-left $? "the guest moved to its standby"
wait_until 10 bash -c "! kill -0 ${FVMM_PID[t]}"

qmp s migrate-set-parameters x-unplug-timeout-action=surprise >/dev/null
fo_dest u dst pciehp.button=ignore
probe_start surprise
migrate_to s u
check unplug-timeout-surprise-completes $? "$(tail -n 3 "$TEST_TMP/ctl-s")"
grep -q 'removing it by surprise' "$TEST_TMP/s.err"
check unplug-timeout-surprise-warns $? "no warning in the source's log"
on_primary u 1
check surprise-dest-primary-carries-tx $? "$(tail -n 5 "$TEST_TMP/u.out")"
probe_stop surprise
qmp s quit >/dev/null
e2e_console_cmd u poweroff
wait "${FVMM_PID[u]}"
check dest-poweroff-exit-0 $? "exit status"

finish

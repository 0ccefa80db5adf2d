#!/usr/bin/env bash
# End-to-end: the guest's failover device (fo0) across hot-plug of its
# primary.  Boot with a virtio-net standby (failover=on) only, then with
# fvmm-probe running from the peer throughout: device_add an e1000
# primary with the same MAC -> fo0 moves transmit to it (console line,
# the guest's per-path counters, the host tap counters); device_del
# orderly -> back to the standby, DEVICE_DELETED; add again; device_del
# surprise -> same.  The probe may lose packets only in the switch windows.
# Topology from lib.sh: peer 10.99.0.1 -- switch -- host "src" bridge -- taps.
source "$(dirname "$0")/lib.sh"
require_kvm
require_root

CTL=$FVMM_ROOT/build/fvmm-ctl
PROBE=$FVMM_ROOT/build/fvmm-probe
G0=10.99.0.10		# fo0 (the standby's ip= moves to it)
MAC=52:54:00:99:00:10
T0=fvt0-$E2E_ID		# standby's tap
T1=fvt1-$E2E_ID		# primary's tap
PROBE_S=${FAILOVER_PROBE_S:-30}
MAX_LOST=${FAILOVER_MAX_LOST:-50}
MAX_GAP_MS=${FAILOVER_MAX_GAP_MS:-500}

e2e_net_up src || { fail net-setup "could not create namespaces"; finish; }
e2e_tap src "$T0" && e2e_tap src "$T1" ||
	{ fail net-setup "could not create taps"; finish; }

QMP=$TEST_TMP/qmp.sock
ctl() { "$CTL" --timeout 5 "$QMP" "$@"; }
count_console() { grep -cE "$2" "$TEST_TMP/$1.out"; }
console_count_is() { (( $(count_console "$1" "$2") >= $3 )); }
# tap_stat TAP rx|tx: packets counted by the host side of a tap.
tap_stat() { in_host src cat "/sys/class/net/$1/statistics/$2_packets"; }

# grows TAP DIR MIN: the counter grows by at least MIN within 1 s.
grows() {
	local a b
	a=$(tap_stat "$1" "$2") || return 1
	sleep 1
	b=$(tap_stat "$1" "$2") || return 1
	echo "$1 $2 +$((b - a))"
	(( b - a >= $3 ))
}

# fo_counter ROLE FIELD: from the last `failover` output, e.g. primary tx.
fo_counter() {
	grep -E "^    $1 eth[0-9]+:" "$TEST_TMP/vm.out" | tail -n 1 |
		sed -nE "s/.*$2 packets ([0-9]+).*/\1/p"
}

# fo_path_counter_grows ROLE FIELD: two `failover` snapshots 1 s apart.
fo_path_counter_grows() {
	local n a b
	n=$(count_console vm "^    $1 eth")
	e2e_console_cmd vm failover
	wait_until 3 console_count_is vm "^    $1 eth" $((n + 1)) || return 1
	a=$(fo_counter "$1" "$2")
	sleep 1
	e2e_console_cmd vm failover
	wait_until 3 console_count_is vm "^    $1 eth" $((n + 2)) || return 1
	b=$(fo_counter "$1" "$2")
	echo "guest $1 $2 $a -> $b"
	(( b - a >= 500 ))
}

add_primary() {
	ctl device_add driver=e1000 id=pri0 bus=rp1 netdev=n1 mac=$MAC \
		failover_pair_id=net0
}

# del_primary MODE EVENTS_FILE: device_del, following events meanwhile.
del_primary() {
	local mode=$1 ev=$2 args=(device_del id=pri0)
	[[ $mode == surprise ]] && args+=(mode=surprise)
	"$CTL" --timeout 10 "$QMP" events --count 1 >"$ev" 2>&1 &
	local evpid=$!
	sleep 0.2
	ctl "${args[@]}" >/dev/null || { kill "$evpid" 2>/dev/null; return 1; }
	wait "$evpid"
	grep -q DEVICE_DELETED "$ev"
}

e2e_fvmm vm src --memory 256M --cpus 2 --root-ports 1 --qmp "unix:$QMP" \
	--netdev "tap,id=n0,ifname=$T0" \
	--device virtio-net-pci,netdev=n0,id=net0,mac=$MAC,failover=on \
	--netdev "tap,id=n1,ifname=$T1" \
	--append "ip=$G0/24"

if ! e2e_wait_console vm '^READY ' 20; then
	fail boot "no READY line: $(tail -c 300 "$TEST_TMP/vm.err")"
	finish
fi
e2e_console_cmd vm failover
e2e_wait_console vm 'tx path standby \(eth0\)' 5
check fo0-on-standby $? "no failover device: $(tail -n 5 "$TEST_TMP/vm.out")"
wait_until 10 peer_ping "$G0" 1
check ping-fo0 $? "peer cannot ping $G0"

in_peer "$PROBE" --rate 1000 --duration "$PROBE_S" --quiet \
	--json "$TEST_TMP/probe.json" "$G0" >"$TEST_TMP/probe.out" 2>&1 &
probe_pid=$!
on_exit kill "$probe_pid"
sleep 2

# 1. Hot-add the primary: fo0 transmits through it once it has link.
add_primary >"$TEST_TMP/add1" 2>&1
check device-add $? "$(cat "$TEST_TMP/add1")"
e2e_wait_console vm 'fo0: tx path -> primary \(eth1\)' 10
check switch-to-primary $? "no switch line: $(tail -n 6 "$TEST_TMP/vm.out")"
fo_path_counter_grows primary tx >"$TEST_TMP/c1" 2>&1
check guest-primary-tx-grows $? "$(cat "$TEST_TMP/c1")"
grows "$T1" rx 500 >"$TEST_TMP/t1" 2>&1
check host-tap-primary-carries-guest-tx $? "$(cat "$TEST_TMP/t1")"
grows "$T1" tx 500 >"$TEST_TMP/t1b" 2>&1
check host-bridge-sends-to-primary $? "$(cat "$TEST_TMP/t1b")"

# 2. Orderly removal: back to the standby, DEVICE_DELETED.
del_primary orderly "$TEST_TMP/ev1"
check orderly-device-deleted $? "no DEVICE_DELETED: $(cat "$TEST_TMP/ev1")"
e2e_wait_console vm 'fo0: tx path -> standby \(eth0\)' 5
check orderly-switch-to-standby $? "no switch line: $(tail -n 6 "$TEST_TMP/vm.out")"
grows "$T0" rx 500 >"$TEST_TMP/t2" 2>&1
check orderly-standby-carries-tx $? "$(cat "$TEST_TMP/t2")"
sleep 1

# 3. Add again, then surprise removal.
add_primary >"$TEST_TMP/add2" 2>&1
check device-add-again $? "$(cat "$TEST_TMP/add2")"
wait_until 10 console_count_is vm 'fo0: tx path -> primary \(eth1\)' 2
check switch-to-primary-again $? "no switch line: $(tail -n 6 "$TEST_TMP/vm.out")"
grows "$T1" rx 500 >"$TEST_TMP/t3" 2>&1
check primary-again-carries-tx $? "$(cat "$TEST_TMP/t3")"
del_primary surprise "$TEST_TMP/ev2"
check surprise-device-deleted $? "no DEVICE_DELETED: $(cat "$TEST_TMP/ev2")"
wait_until 5 console_count_is vm 'fo0: tx path -> standby \(eth0\)' 2
check surprise-switch-to-standby $? "no switch line: $(tail -n 6 "$TEST_TMP/vm.out")"
fo_path_counter_grows standby tx >"$TEST_TMP/c2" 2>&1
check guest-standby-tx-grows $? "$(cat "$TEST_TMP/c2")"

# 4. The probe: loss only in the switch windows.
wait_until $((PROBE_S + 10)) bash -c "! kill -0 $probe_pid"
wait "$probe_pid"
json_num() { sed -nE "s/^ *\"$1\": ([0-9.]+),?$/\1/p" "$TEST_TMP/probe.json"; }
lost=$(json_num lost)
gap=$(json_num longest_gap_ms)
echo "probe: sent $(json_num sent) lost $lost longest gap ${gap} ms"
# Loss bursts (one per switch window, if any): where and how long.
tr -d ' \n' <"$TEST_TMP/probe.json" | grep -oE '\{"first_seq[^}]*\}' |
	sed -E 's/.*"count":([0-9]+).*"start_ms":([0-9.]+).*/probe burst: \1 lost at \2 ms/'
[[ -n $lost && -n $gap ]] && (( lost <= MAX_LOST )) &&
	awk -v g="$gap" -v m="$MAX_GAP_MS" 'BEGIN { exit !(g <= m) }'
check probe-loss-in-switch-windows $? \
	"lost $lost (max $MAX_LOST), gap $gap ms (max $MAX_GAP_MS): $(cat "$TEST_TMP/probe.out")"
e2e_console_cmd vm failover
sleep 0.5
! grep -qE '^(ERROR|EXCEPTION)' "$TEST_TMP/vm.out"
check no-guest-errors $? "$(grep -E '^(ERROR|EXCEPTION)' "$TEST_TMP/vm.out" | head -3)"

e2e_console_cmd vm poweroff
wait "${FVMM_PID[vm]}"
check poweroff-exit-0 $? "fvmm exit status after poweroff"
finish

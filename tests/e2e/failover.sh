#!/usr/bin/env bash
# End-to-end: the guest's failover device (fo0) across hot-plug of its
# primary, with fvmm-probe running from the peer throughout.
#  1-3. Boot with a virtio-net standby (failover=on) only; device_add an
#       e1000 primary with the same MAC -> fo0 moves transmit to it
#       (console line, the guest's per-path counters, the host's tap
#       counters); device_del orderly -> back to the standby and
#       DEVICE_DELETED; add again; device_del surprise -> the same.  The
#       probe may lose packets only in the switch windows, and only after
#       a surprise removal (in flight to the vanished card).
#  4.   50 add/remove cycles (alternating modes) under the probe: no fd or
#       memory growth in fvmm, loss bounded by the switch windows, none
#       after adds and orderly removals.
#  5.   Removals with no traffic (alternating modes): the guest is
#       reachable through the standby at once after each.
#  6.   A guest that refuses to release its primary (pciehp.button=ignore):
#       the removal stays pending with a clear status, fvmm stays
#       responsive and traffic keeps flowing; surprise removal ends it.
#  7.   A slow sleeper (the poller takes 400 us from its last look to
#       sleep, as when the host preempts its vCPU there): the primary path
#       keeps carrying the probe's traffic, no lost wake-up;
#       the primary's link going down (set_link) moves fo0 to the standby,
#       coming back up moves it back.
# Topology from lib.sh: peer 10.99.0.1 -- switch -- host "src" bridge -- taps.
source "$(dirname "$0")/lib.sh"
require_kvm
require_root

PROBE=$FVMM_ROOT/build/fvmm-probe
G0=10.99.0.10		# fo0 (the standby's ip= moves to it)
MAC=52:54:00:99:00:10
T0=fvt0-$E2E_ID		# standby's tap
T1=fvt1-$E2E_ID		# primary's tap
CYCLES=${FAILOVER_CYCLES:-50}
# The probe's rate.  Inside tools/kvmbox every e1000 register access is an
# exit through emulated SVM into the box's KVM and on to fvmm, and the
# primary path carries only some hundreds of echoes a second: at 1000/s its
# queues overflow and lose datagrams with no switch near.  200/s keeps the
# box below that, so that loss still means what it means on real KVM.
PROBE_RATE=${FAILOVER_PROBE_RATE:-1000}
[[ -n ${KVMBOX:-} ]] && PROBE_RATE=${FAILOVER_PROBE_RATE:-200}
# Loss allowed per switch, as time at the probe's rate: surprise removal and
# link loss drop what is in flight to the primary until the guest's
# gratuitous ARP through the standby; the others should lose none.
MAX_LOST_MS_PER_SWITCH=${FAILOVER_MAX_LOST_MS_PER_SWITCH:-10}
MAX_GAP_MS=${FAILOVER_MAX_GAP_MS:-200}
# In the box every vCPU and every fvmm thread takes turns on one emulating
# host thread (tools/kvmbox), so the probe measures the emulator as much as
# fvmm: seen there with no switch near, a 700 ms quiet spell and 64 echoes
# dropped because fvmm's loop thread did not run for 160 ms.  There the
# checks catch an outage (the VM unreachable for seconds, as a lost wake-up
# does); the tight figures are real KVM's, and the benchmark's.
if [[ -n ${KVMBOX:-} ]]; then
	MAX_LOST_MS_PER_SWITCH=${FAILOVER_MAX_LOST_MS_PER_SWITCH:-250}
	MAX_GAP_MS=${FAILOVER_MAX_GAP_MS:-1500}
fi
# Datagrams a probe run may lose after adds and orderly removals (make
# before break): none on real KVM.  In the box a stall of the emulator can
# land there too (seen: 5 in one burst 215 ms after an orderly removal in
# 50 cycles); 50 ms of the probe's traffic per run, so a lost switch still
# fails it.
MAX_ORDERLY_LOST_MS=${FAILOVER_MAX_ORDERLY_LOST_MS:-0}
[[ -n ${KVMBOX:-} ]] && MAX_ORDERLY_LOST_MS=${FAILOVER_MAX_ORDERLY_LOST_MS:-50}
# fvmm's own memory may settle (allocator caches) but must not grow per cycle.
MAX_RSS_GROWTH_KIB=1024
QUIET_ROUNDS=${FAILOVER_QUIET_ROUNDS:-20}

e2e_net_up src || { fail net-setup "could not create namespaces"; finish; }
e2e_tap src "$T0" && e2e_tap src "$T1" ||
	{ fail net-setup "could not create taps"; finish; }

QMP=$TEST_TMP/qmp.sock
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
	n=$(e2e_count_console vm "^    $1 eth")
	e2e_console_cmd vm failover
	wait_until 3 e2e_console_count_is vm "^    $1 eth" $((n + 1)) || return 1
	a=$(fo_counter "$1" "$2")
	sleep 1
	e2e_console_cmd vm failover
	wait_until 3 e2e_console_count_is vm "^    $1 eth" $((n + 2)) || return 1
	b=$(fo_counter "$1" "$2")
	echo "guest $1 $2 $a -> $b"
	(( b - a >= PROBE_RATE / 2 ))
}

# mark WHAT: note an event with its ms offset in the probe's run (the
# CSV's send_ms), so a failed run shows which event a loss followed.
mark() {
	echo "$(( ($(date +%s%N) - ${PROBE_T0:-0}) / 1000000 )) $*" >>"$TEST_TMP/marks"
}

add_primary() {
	mark add
	e2e_ctl device_add driver=e1000 id=pri0 bus=rp1 netdev=n1 mac=$MAC \
		failover_pair_id=net0
}

# del_primary MODE OUT: device_del of the primary (see e2e_device_del).
del_primary() {
	mark "del $1"
	e2e_device_del pri0 "$1" "$2"
}

# to_primary NAME N: the N-th switch of NAME's fo0 to the primary.
to_primary() {
	wait_until 10 e2e_console_count_is "$1" 'fo0: tx path -> primary \(eth1\)' "$2"
}
to_standby() {
	wait_until 5 e2e_console_count_is "$1" 'fo0: tx path -> standby \(eth0\)' "$2"
}

# probe_start NAME [RATE]: datagrams/s ($PROBE_RATE) from the peer until probe_stop.
probe_start() {
	# Not through a shell function: that would put a subshell, which
	# ignores SIGINT, between us and the probe.
	PROBE_T0=$(date +%s%N)
	probe_rate=${2:-$PROBE_RATE}
	mark "probe $1"
	ip netns exec "$NS_PEER" "$PROBE" --rate "$probe_rate" --duration 600 --quiet \
		--json "$TEST_TMP/$1.json" --csv "$TEST_TMP/$1.csv" "$G0" \
		>"$TEST_TMP/$1.out" 2>&1 &
	probe_pid=$!
	on_exit kill "$probe_pid"
	sleep 1
}

# probe_stop NAME SWITCHES: stop it; the loss must fit the switch windows.
probe_stop() {
	local name=$1 switches=$2 lost gap sent
	local max=$(( switches * probe_rate * MAX_LOST_MS_PER_SWITCH / 1000 ))
	local json=$TEST_TMP/$1.json
	sleep 1
	kill -INT "$probe_pid"
	wait "$probe_pid"
	sent=$(probe_num "$json" sent) lost=$(probe_num "$json" lost)
	gap=$(probe_num "$json" longest_gap_ms)
	echo "probe $name: sent $sent lost $lost longest gap $gap ms ($switches switches)"
	# Loss bursts: where and how long, to match them with the switches.
	tr -d ' \n' <"$json" | grep -oE '\{"first_seq[^}]*\}' |
		sed -E 's/.*"count":([0-9]+).*"start_ms":([0-9.]+).*/  burst: \1 lost at \2 ms/'
	[[ -n $lost && -n $gap && ${sent:-0} -gt $probe_rate ]] && (( lost <= max )) &&
		awk -v g="$gap" -v m="$MAX_GAP_MS" 'BEGIN { exit !(g <= m) }'
	check "$name-loss-only-in-switch-windows" $? \
		"lost $lost (max $max), longest gap $gap ms (max $MAX_GAP_MS)"
}

# lost_after NAME REGEX: datagrams of probe NAME lost whose latest earlier
# event (in marks, since the probe's own mark) matches REGEX.  The marks
# count from PROBE_T0, the probe's send times from its own start, a few ms
# later: the JSON's start_unix_us gives the difference.
lost_after() {
	local lead
	lead=$(awk -v s="$(probe_num "$TEST_TMP/$1.json" start_unix_us)" \
		-v t0="$PROBE_T0" 'BEGIN { printf "%.3f", s / 1000 - t0 / 1e6 }')
	awk -F, -v name="probe $1" -v re="$2" -v lead="$lead" '
		FNR == NR {
			what = $0
			sub(/^[^ ]* /, "", what)
			if (what == name) { n = 0; on = 1; next }
			if (what ~ /^probe /) { on = 0; next }
			if (on) { at[++n] = $0 + 0; ev[n] = what }
			next
		}
		FNR > 1 && $4 == 0 {
			k = 0
			for (i = 1; i <= n && at[i] <= $2 + lead + 1; i++)
				k = i
			if (k && ev[k] ~ re)
				c++
		}
		END { print c + 0 }' "$TEST_TMP/marks" "$TEST_TMP/$1.csv"
}

# orderly_max: datagrams the last probe may lose after adds and orderly
# removals; orderly_loss_ok N: N is within it.
orderly_max() { echo $(( probe_rate * MAX_ORDERLY_LOST_MS / 1000 )); }
orderly_loss_ok() { [[ -n $1 ]] && (( $1 <= $(orderly_max) )); }

# boot_pair NAME [GUEST OPTION...]: a guest with the standby, an empty
# root port for the primary, and QMP on $QMP; fails the script if no READY.
boot_pair() {
	local name=$1
	shift
	e2e_fvmm "$name" src --memory 256M --cpus 2 --root-ports 1 --qmp "unix:$QMP" \
		--netdev "tap,id=n0,ifname=$T0" \
		--device virtio-net-pci,netdev=n0,id=net0,mac=$MAC,failover=on \
		--netdev "tap,id=n1,ifname=$T1" \
		--append "ip=$G0/24 $*"
	if ! e2e_wait_console "$name" '^READY ' 20; then
		fail "$name-boot" "no READY line: $(tail -c 300 "$TEST_TMP/$name.err")"
		finish
	fi
}

boot_pair vm
e2e_console_cmd vm failover
e2e_wait_console vm 'tx path standby \(eth0\)' 5
check fo0-on-standby $? "no failover device: $(tail -n 5 "$TEST_TMP/vm.out")"
wait_until 10 peer_ping "$G0" 1
check ping-fo0 $? "peer cannot ping $G0"

probe_start probe
# E2E_CONSOLE_TS=1 (debugging): every 100 ms, the taps' counters and the
# port br0 forwards the guest's MAC to, to line up with the probe's losses.
if [[ ${E2E_CONSOLE_TS:-0} == 1 ]]; then
	(for _ in $(seq 600); do
		echo "${EPOCHREALTIME/./} $(tap_stat "$T0" rx) $(tap_stat "$T0" tx)" \
			"$(tap_stat "$T1" rx) $(tap_stat "$T1" tx)" \
			"$(in_host src bridge fdb show br br0 | grep -i "$MAC" | grep -v permanent | tr '\n' ' ')"
		sleep 0.1
	done >"$TEST_TMP/samples") &
	on_exit kill $!
fi

# 1. Hot-add the primary: fo0 transmits through it once it has link.
add_primary >"$TEST_TMP/add1" 2>&1
check device-add $? "$(cat "$TEST_TMP/add1")"
to_primary vm 1
check switch-to-primary $? "no switch line: $(tail -n 6 "$TEST_TMP/vm.out")"
fo_path_counter_grows primary tx >"$TEST_TMP/c1" 2>&1
check guest-primary-tx-grows $? "$(cat "$TEST_TMP/c1")"
grows "$T1" rx $((PROBE_RATE / 2)) >"$TEST_TMP/t1" 2>&1
check host-tap-primary-carries-guest-tx $? "$(cat "$TEST_TMP/t1")"
grows "$T1" tx $((PROBE_RATE / 2)) >"$TEST_TMP/t1b" 2>&1
check host-bridge-sends-to-primary $? "$(cat "$TEST_TMP/t1b")"

# 2. Orderly removal: back to the standby, DEVICE_DELETED.
del_primary orderly "$TEST_TMP/ev1"
check orderly-device-deleted $? "no DEVICE_DELETED: $(cat "$TEST_TMP/ev1")"
to_standby vm 1
check orderly-switch-to-standby $? "no switch line: $(tail -n 6 "$TEST_TMP/vm.out")"
grows "$T0" rx $((PROBE_RATE / 2)) >"$TEST_TMP/t2" 2>&1
check orderly-standby-carries-tx $? "$(cat "$TEST_TMP/t2")"
sleep 1

# 3. Add again, then surprise removal.
add_primary >"$TEST_TMP/add2" 2>&1
check device-add-again $? "$(cat "$TEST_TMP/add2")"
to_primary vm 2
check switch-to-primary-again $? "no switch line: $(tail -n 6 "$TEST_TMP/vm.out")"
grows "$T1" rx $((PROBE_RATE / 2)) >"$TEST_TMP/t3" 2>&1
check primary-again-carries-tx $? "$(cat "$TEST_TMP/t3")"
del_primary surprise "$TEST_TMP/ev2"
check surprise-device-deleted $? "no DEVICE_DELETED: $(cat "$TEST_TMP/ev2")"
to_standby vm 2
check surprise-switch-to-standby $? "no switch line: $(tail -n 6 "$TEST_TMP/vm.out")"
fo_path_counter_grows standby tx >"$TEST_TMP/c2" 2>&1
check guest-standby-tx-grows $? "$(cat "$TEST_TMP/c2")"

probe_stop probe 4
n=$(lost_after probe '^(add|del orderly)$')
orderly_loss_ok "$n"
check add-and-orderly-lose-nothing $? "$n datagrams lost after adds or orderly removals (max $(orderly_max); see marks)"

# 4. Cycles: every add and removal completes, fvmm does not grow, and
# connectivity is lost only in the switch windows.
fd0=$(e2e_fd_count vm) rss0=$(e2e_rss_anon_kib vm)
probe_start cycles
ok=0
for i in $(seq "$CYCLES"); do
	mode=orderly; (( i % 2 )) && mode=surprise
	add_primary >"$TEST_TMP/addc" 2>&1 || break
	to_primary vm $((i + 2)) || break
	del_primary $mode "$TEST_TMP/evc" || break
	to_standby vm $((i + 2)) || break
	ok=$i
done
[[ $ok -eq $CYCLES ]]
check "cycles-$CYCLES" $? "stopped after $ok cycles: $(cat "$TEST_TMP/addc" "$TEST_TMP/evc"; tail -n 4 "$TEST_TMP/vm.out")"
probe_stop cycles $((2 * CYCLES))
# Make before break: adding a primary and releasing it in order lose
# nothing (a frame that finds fo0 busy waits in its ring); only a surprise
# removal may lose what was in flight to the vanished card.
n=$(lost_after cycles '^(add|del orderly)$')
orderly_loss_ok "$n"
check cycles-add-and-orderly-lose-nothing $? "$n datagrams lost after adds or orderly removals (max $(orderly_max); see marks)"
fd1=$(e2e_fd_count vm) rss1=$(e2e_rss_anon_kib vm)
echo "fvmm: fds $fd0 -> $fd1, RssAnon $rss0 -> $rss1 KiB"
(( fd1 <= fd0 ))
check cycles-no-fd-growth $? "fvmm fds $fd0 -> $fd1"
(( rss1 - rss0 <= MAX_RSS_GROWTH_KIB ))
check cycles-no-memory-growth $? "fvmm RssAnon $rss0 -> $rss1 KiB"

# 5. Quiet removals: without traffic to heal it, only fo0's gratuitous ARP
# on the standby tells the host's bridge that the MAC has moved off the
# removed primary's port.  Once that announce could be left owed to a
# sleeping poller, and about one removal in ten left the guest unreachable
# until its next event.  Each round makes the bridge learn the MAC on the
# primary's tap (the guest answers pings through it), removes it with no
# traffic, and pings once.
deaf=()
for i in $(seq "$QUIET_ROUNDS"); do
	n=$(e2e_count_console vm 'fo0: tx path -> primary \(eth1\)')
	mode=orderly; (( i % 2 )) || mode=surprise
	add_primary >"$TEST_TMP/addq" 2>&1 && to_primary vm $((n + 1)) &&
		peer_ping "$G0" 2 >/dev/null || { deaf+=("$i:add"); break; }
	m=$(e2e_count_console vm 'fo0: tx path -> standby \(eth0\)')
	del_primary $mode "$TEST_TMP/evq" && to_standby vm $((m + 1)) ||
		{ deaf+=("$i:del"); break; }
	in_peer ping -c 1 -W 1 "$G0" >/dev/null || deaf+=("$i:$mode")
done
[[ ${#deaf[@]} -eq 0 ]]
check quiet-removal-reachable-at-once $? "unreachable after round(s) ${deaf[*]}: $(tail -n 4 "$TEST_TMP/vm.out")"

e2e_console_cmd vm failover
sleep 0.5
e2e_poweroff_checks vm

# 6. A guest that never releases its primary: the removal stays pending.
QMP=$TEST_TMP/qmp2.sock
boot_pair ref pciehp.button=ignore
probe_start refuse
add_primary >/dev/null 2>&1 && to_primary ref 1
check refuse-primary-active $? "primary not in use: $(tail -n 6 "$TEST_TMP/ref.out")"
e2e_ctl events --timeout 4 >"$TEST_TMP/ev-ref" 2>&1 &
evpid=$!
sleep 0.2
mark "del orderly (refused)"
e2e_ctl device_del id=pri0 >"$TEST_TMP/del-ref" 2>&1
check refuse-device-del-accepted $? "$(cat "$TEST_TMP/del-ref")"
e2e_wait_console ref 'attention button ignored' 5
check refuse-guest-ignores-button $? "$(tail -n 3 "$TEST_TMP/ref.out")"
wait "$evpid"
! grep -q DEVICE_DELETED "$TEST_TMP/ev-ref"
check refuse-no-device-deleted $? "$(cat "$TEST_TMP/ev-ref")"
e2e_ctl --json x-query-hotplug >"$TEST_TMP/hp-ref" 2>&1
grep -q '"state": *"unplug-pending"' "$TEST_TMP/hp-ref" &&
	grep -qE '"pending-ms": *[0-9]{4,}' "$TEST_TMP/hp-ref"
check refuse-status-unplug-pending $? "$(tr -d '\n' <"$TEST_TMP/hp-ref" | head -c 400)"
t0=$(date +%s%N)
e2e_ctl query-status >"$TEST_TMP/qs-ref" 2>&1 &&
	(( ($(date +%s%N) - t0) / 1000000 < 1000 ))
check refuse-fvmm-responsive $? "query-status: $(cat "$TEST_TMP/qs-ref")"
! e2e_ctl device_del id=pri0 >"$TEST_TMP/del2-ref" 2>&1 &&
	grep -q 'already in the process of unplug' "$TEST_TMP/del2-ref"
check refuse-second-del-refused $? "$(cat "$TEST_TMP/del2-ref")"
grows "$T1" rx $((PROBE_RATE / 2)) >"$TEST_TMP/t-ref" 2>&1
check refuse-primary-keeps-carrying-traffic $? "$(cat "$TEST_TMP/t-ref")"
del_primary surprise "$TEST_TMP/ev-ref2" && to_standby ref 1
check refuse-surprise-completes $? "$(cat "$TEST_TMP/ev-ref2"; tail -n 4 "$TEST_TMP/ref.out")"
[[ $(e2e_slot_state rp1) == empty ]]
check refuse-slot-empty $? "slot rp1 is $(e2e_slot_state rp1)"
probe_stop refuse 2
e2e_poweroff_checks ref refuse-

# 7. Slow sleeper: whatever happens while the poller is on its way to sleep
# must still wake it (once it did not: the e1000's receive interrupts were
# masked behind its back and the primary path stalled for seconds).
QMP=$TEST_TMP/qmp3.sock
boot_pair slow netpoll.sleep_delay_us=400
add_primary >/dev/null 2>&1 && to_primary slow 1
check slow-primary-active $? "primary not in use: $(tail -n 6 "$TEST_TMP/slow.out")"
probe_start slow-probe $((2 * PROBE_RATE))
sleep 2
mark "link down"
e2e_ctl set_link name=pri0 up=false >"$TEST_TMP/link-down" 2>&1 && to_standby slow 1
check slow-primary-link-down-to-standby $? "$(cat "$TEST_TMP/link-down"; tail -n 4 "$TEST_TMP/slow.out")"
sleep 1
mark "link up"
e2e_ctl set_link name=pri0 up=true >"$TEST_TMP/link-up" 2>&1 && to_primary slow 2
check slow-primary-link-up-to-primary $? "$(cat "$TEST_TMP/link-up"; tail -n 4 "$TEST_TMP/slow.out")"
probe_stop slow-probe 3
e2e_poweroff_checks slow slow-
finish

#!/usr/bin/env bash
# End-to-end: a guest on a real (namespaced) network through virtio-net.
# Topology from lib.sh: peer 10.99.0.1 -- switch -- host "src" bridge -- taps.
source "$(dirname "$0")/lib.sh"
require_kvm
require_root

PROBE=$FVMM_ROOT/build/fvmm-probe
CTL=$FVMM_ROOT/build/fvmm-ctl
G0=10.99.0.10
G1=10.99.0.11

e2e_net_up src || { fail net-setup "could not create namespaces"; finish; }
e2e_tap src fvt0-$E2E_ID && e2e_tap src fvt1-$E2E_ID ||
	{ fail net-setup "could not create taps"; finish; }

e2e_fvmm vm src --memory 256M --cpus 2 --qmp "unix:$TEST_TMP/qmp.sock" \
	--netdev "tap,id=n0,ifname=fvt0-$E2E_ID" \
	--device virtio-net-pci,netdev=n0,id=net0,mac=52:54:00:99:00:10 \
	--netdev "tap,id=n1,ifname=fvt1-$E2E_ID" \
	--device virtio-net-pci,netdev=n1,id=net1,mac=52:54:00:99:00:11 \
	--append "ip=$G0/24 ip1=$G1/24"

if ! e2e_wait_console vm '^READY ' 20; then
	fail boot "no READY line: $(tail -c 300 "$TEST_TMP/vm.err")"
	finish
fi

# 1. Reachability of both NICs.
peer_ping "$G0" 5 >"$TEST_TMP/ping0" 2>&1
check ping-eth0 $? "peer cannot ping $G0: $(tail -n 2 "$TEST_TMP/ping0")"
peer_ping "$G1" 5 >"$TEST_TMP/ping1" 2>&1
check ping-eth1 $? "peer cannot ping $G1: $(tail -n 2 "$TEST_TMP/ping1")"

# 2. UDP echo for several seconds with no loss, at 1,000 and 10,000 pps.
# In the box a stall of the emulator of some 100 ms (its vCPUs share one
# host thread, and the host may be busy) fills the tap's 1000-frame queue
# at 10,000/s; at 3,000/s it takes a third of a second, which is not fvmm's.
FAST_RATE=${VIRTIO_NET_FAST_RATE:-10000}
[[ -n ${KVMBOX:-} ]] && FAST_RATE=${VIRTIO_NET_FAST_RATE:-3000}
in_peer "$PROBE" --rate 1000 --duration 3 --max-loss 0 --quiet \
	--json "$TEST_TMP/probe1k.json" "$G0" >"$TEST_TMP/probe1k" 2>&1
check udp-echo-1k-no-loss $? "$(tail -n 3 "$TEST_TMP/probe1k")"
in_peer "$PROBE" --rate "$FAST_RATE" --duration 3 --max-loss 0 --quiet \
	--json "$TEST_TMP/probe-fast.json" "$G1" >"$TEST_TMP/probe-fast" 2>&1
check udp-echo-fast-no-loss-eth1 $? "at $FAST_RATE/s: $(tail -n 3 "$TEST_TMP/probe-fast")"

# 3. Link down/up from the host: the guest sees both, traffic stops and resumes.
"$CTL" "$TEST_TMP/qmp.sock" set_link name=net0 up=false >/dev/null 2>&1
e2e_wait_console vm 'eth0: link down' 5
check link-down-seen-by-guest $? "guest did not report eth0 link down"
! peer_ping "$G0" 2 >/dev/null 2>&1
check link-down-stops-traffic $? "ping still answered with link down"
"$CTL" "$TEST_TMP/qmp.sock" set_link name=net0 up=true >/dev/null 2>&1
e2e_wait_console vm 'eth0: link up' 5
check link-up-seen-by-guest $? "guest did not report eth0 link up"
wait_until 5 peer_ping "$G0" 1
check link-up-restores-traffic $? "no ping after link up"

# 4. Orderly end.
e2e_console_cmd vm poweroff
wait "${FVMM_PID[vm]}"
check poweroff-exit-0 $? "fvmm exit status after poweroff"

# 5. A guest that corrupts one NIC's ring (corrupt_ring=eth1, right after
#    READY): that NIC is marked broken, fvmm and the other NIC keep working.
e2e_fvmm bad src --memory 256M \
	--netdev "tap,id=n0,ifname=fvt0-$E2E_ID" \
	--device virtio-net-pci,netdev=n0,id=net0,mac=52:54:00:99:00:10 \
	--netdev "tap,id=n1,ifname=fvt1-$E2E_ID" \
	--device virtio-net-pci,netdev=n1,id=net1,mac=52:54:00:99:00:11 \
	--append "ip=$G0/24 ip1=$G1/24 corrupt_ring=eth1"
e2e_wait_console bad '^READY ' 20 || fail boot-corrupt "no READY line"
wait_until 5 grep -qi 'needs.reset' "$TEST_TMP/bad.err"
check corrupt-ring-marks-device-broken $? \
	"no DEVICE_NEEDS_RESET log line: $(tail -c 300 "$TEST_TMP/bad.err")"
e2e_wait_console bad 'eth1: device needs reset' 5
check corrupt-ring-guest-notices $? "guest did not report eth1 needs reset"
wait_until 5 peer_ping "$G0" 1
check other-nic-still-works $? "eth0 stopped answering after eth1 broke"
kill -0 "${FVMM_PID[bad]}" 2>/dev/null
check fvmm-survives-corrupt-ring $? "fvmm is gone"
e2e_console_cmd bad poweroff
wait "${FVMM_PID[bad]}"
check poweroff-after-corruption $? "fvmm exit status after poweroff"

finish

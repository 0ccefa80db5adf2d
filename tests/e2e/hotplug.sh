#!/usr/bin/env bash
# End-to-end: PCIe native hotplug of an e1000 into a running guest (the
# guest's pciehp and e1000 drivers), both removal modes, add/remove cycles
# without fd growth in fvmm, a failover primary plugged during boot, and a
# second e1000 whose INTx line is the first one's (refused, clearly; the
# first keeps working).
# Topology from lib.sh: peer 10.99.0.1 -- switch -- host "src" bridge -- taps.
source "$(dirname "$0")/lib.sh"
require_kvm
require_root

G0=10.99.0.10		# virtio-net, eth0
GE=10.99.0.13		# the hot-plugged e1000, eth1
MAC0=52:54:00:99:00:10
MACE=52:54:00:99:00:13
CYCLES=${HOTPLUG_CYCLES:-20}
DELAY_MS=300

e2e_net_up src || { fail net-setup "could not create namespaces"; finish; }
e2e_tap src fvt0-$E2E_ID && e2e_tap src fvt1-$E2E_ID ||
	{ fail net-setup "could not create taps"; finish; }

QMP=$TEST_TMP/qmp.sock
slot_empty() { [[ $(e2e_slot_state rp1) == empty ]]; }
add_e1000() {
	e2e_ctl device_add driver=e1000 id=pri0 bus=rp1 netdev=n1 mac=$MACE
}

e2e_fvmm vm src --memory 256M --cpus 2 --root-ports 2 --qmp "unix:$QMP" \
	--netdev "tap,id=n0,ifname=fvt0-$E2E_ID" \
	--device virtio-net-pci,netdev=n0,id=net0,mac=$MAC0 \
	--netdev "tap,id=n1,ifname=fvt1-$E2E_ID" \
	--append "ip=$G0/24 ip1=$GE/24"

if ! e2e_wait_console vm '^READY ' 20; then
	fail boot "no READY line: $(tail -c 300 "$TEST_TMP/vm.err")"
	finish
fi
e2e_wait_console vm 'pciehp: 2 hot-plug slots' 1
check guest-finds-slots $? "guest did not report its 2 slots"

# 1. Hot-add: the guest powers the slot on and binds e1000.
add_e1000 >"$TEST_TMP/add1" 2>&1
check device-add $? "$(cat "$TEST_TMP/add1")"
e2e_wait_console vm 'pciehp: slot 1: e1000 bound as eth1' 10
check guest-binds-e1000 $? "no bind line: $(tail -n 5 "$TEST_TMP/vm.out")"
e2e_wait_console vm 'eth1: link up' 5
check e1000-link-up $? "guest did not see the e1000 link"
wait_until 10 peer_ping "$GE" 1
check ping-e1000 $? "peer cannot ping $GE over the e1000"

# 2. Orderly removal (attention button): the guest unbinds, powers off.
fd0=$(e2e_fd_count vm)
e2e_device_del pri0 orderly "$TEST_TMP/ev1"
check orderly-device-deleted $? "no DEVICE_DELETED: $(cat "$TEST_TMP/ev1")"
e2e_wait_console vm 'attention button: unbinding, powering off' 2 &&
	e2e_wait_console vm 'eth1: unbound' 2
check orderly-guest-unbinds $? "guest did not unbind: $(tail -n 5 "$TEST_TMP/vm.out")"
wait_until 5 slot_empty
check orderly-slot-empty $? "slot rp1 is $(e2e_slot_state rp1)"

# 3. Surprise removal.
add_e1000 >/dev/null 2>&1
wait_until 10 e2e_console_count_is vm 'e1000 bound as eth1' 2
check rebind-e1000 $? "second hot-add not bound"
wait_until 10 peer_ping "$GE" 1
check ping-e1000-after-rebind $? "peer cannot ping $GE after the re-add"
e2e_device_del pri0 surprise "$TEST_TMP/ev2"
check surprise-device-deleted $? "no DEVICE_DELETED: $(cat "$TEST_TMP/ev2")"
e2e_wait_console vm 'pciehp: slot 1: surprise removal' 2
check surprise-guest-unbinds $? "no surprise removal line"
wait_until 5 slot_empty
check surprise-slot-empty $? "slot rp1 is $(e2e_slot_state rp1)"

# 4. Add/remove cycles, alternating the modes: fds must not grow.
ok=0
for i in $(seq "$CYCLES"); do
	mode=orderly; (( i % 2 )) && mode=surprise
	add_e1000 >/dev/null 2>&1 || break
	wait_until 10 e2e_console_count_is vm 'e1000 bound as eth1' $((i + 2)) || break
	e2e_device_del pri0 $mode "$TEST_TMP/evc" || break
	wait_until 5 slot_empty || break
	ok=$i
done
[[ $ok -eq $CYCLES ]]
check "cycles-$CYCLES" $? "stopped after $ok cycles: $(tail -n 4 "$TEST_TMP/vm.out")"
fd1=$(e2e_fd_count vm)
(( fd1 <= fd0 ))
check cycles-no-fd-growth $? "fvmm fds $fd0 -> $fd1"
e2e_console_cmd vm slots
e2e_wait_console vm 'slot 1 .*power off, empty, link down, driver none' 5
check slots-command $? "slots output: $(tail -n 3 "$TEST_TMP/vm.out")"
e2e_poweroff_checks vm

# 5. A failover pair at boot: the host plugs the primary once the guest
# negotiates STANDBY on the standby; the guest must bind it.
QMP=$TEST_TMP/qmp2.sock
e2e_fvmm fo src --memory 256M --root-ports 2 --qmp "unix:$QMP" \
	--netdev "tap,id=n0,ifname=fvt0-$E2E_ID" \
	--device virtio-net-pci,netdev=n0,id=net0,mac=$MAC0,failover=on \
	--netdev "tap,id=n1,ifname=fvt1-$E2E_ID" \
	--device e1000,netdev=n1,id=pri0,mac=$MAC0,failover_pair_id=net0,bus=rp1 \
	--append "ip=$G0/24 pciehp.delay_ms=$DELAY_MS"
if ! e2e_wait_console fo '^READY ' 20; then
	fail failover-boot "no READY line: $(tail -c 300 "$TEST_TMP/fo.err")"
	finish
fi
e2e_wait_console fo 'pciehp: slot 1: e1000 bound as eth1' 10
check failover-primary-bound $? "primary not bound: $(tail -n 6 "$TEST_TMP/fo.out")"
# pciehp.delay_ms: the power-off (and so DEVICE_DELETED) waits that long.
t0=$(date +%s%N)
e2e_device_del pri0 orderly "$TEST_TMP/ev3"
check delayed-orderly-device-deleted $? "no DEVICE_DELETED: $(cat "$TEST_TMP/ev3")"
waited=$(( ($(date +%s%N) - t0) / 1000000 ))
(( waited >= DELAY_MS ))
check delay-ms-honoured $? "DEVICE_DELETED after $waited ms, delay $DELAY_MS ms"
e2e_poweroff_checks fo failover-

# 6. Two root ports whose slots share an INTx line (devices 4 and 8: the
# same swizzled pin): the guest binds the first card and refuses the
# second with a reason, instead of losing the first card's interrupts.
e2e_tap src fvt2-$E2E_ID || fail gsi-setup "could not create a third tap"
QMP=$TEST_TMP/qmp3.sock
e2e_fvmm gsi src --memory 256M --cpus 2 --qmp "unix:$QMP" \
	--device pcie-root-port,id=rpa,addr=4,chassis=1,slot=1 \
	--device pcie-root-port,id=rpb,addr=8,chassis=2,slot=2 \
	--netdev "tap,id=n0,ifname=fvt0-$E2E_ID" \
	--device virtio-net-pci,netdev=n0,id=net0,mac=$MAC0 \
	--netdev "tap,id=n1,ifname=fvt1-$E2E_ID" \
	--netdev "tap,id=n2,ifname=fvt2-$E2E_ID" \
	--append "ip=$G0/24 ip1=$GE/24"
if ! e2e_wait_console gsi '^READY ' 20; then
	fail gsi-boot "no READY line: $(tail -c 300 "$TEST_TMP/gsi.err")"
	finish
fi
e2e_ctl device_add driver=e1000 id=ea bus=rpa netdev=n1 mac=$MACE >/dev/null 2>&1 &&
	e2e_wait_console gsi 'e1000 bound as eth1' 10
check gsi-first-card-bound $? "$(tail -n 4 "$TEST_TMP/gsi.out")"
e2e_ctl device_add driver=e1000 id=eb bus=rpb netdev=n2 mac=52:54:00:99:00:14 >/dev/null 2>&1 &&
	e2e_wait_console gsi "GSI [0-9]+ is eth1's already" 10 &&
	e2e_wait_console gsi 'slot 2: e1000 bind failed' 2
check gsi-second-card-refused $? "$(tail -n 4 "$TEST_TMP/gsi.out")"
wait_until 10 peer_ping "$GE" 2
check gsi-first-card-still-works $? "peer cannot ping $GE over the first e1000"
e2e_console_cmd gsi poweroff
wait "${FVMM_PID[gsi]}"
check gsi-poweroff-exit-0 $? "fvmm exit status after poweroff"

finish

#!/usr/bin/env bash
# Helpers of the live-migration e2e tests (migration*.sh); source after
# lib.sh.  Not a test itself (not executable).
#
# Two host namespaces, src and dst, each with one tap on its bridge; a VM
# lives on one of them and migrates to the other, where a destination fvmm
# waits with the same options.  The guest's memtest command (guest/kernel/
# memtest.c) keeps a RAM pattern that every migration must carry intact.

PROBE=$FVMM_ROOT/build/fvmm-probe
CTL=$FVMM_ROOT/build/fvmm-ctl
G0=10.99.0.10
MAC=52:54:00:99:00:10
# Loss allowed over a migration, as time at the probe's rate: the stop-and-
# copy downtime plus the fabric relearning the port (fvmm announces).
MAX_MIG_LOST_MS=${MAX_MIG_LOST_MS:-500}
[[ -n ${KVMBOX:-} ]] && MAX_MIG_LOST_MS=${MAX_MIG_LOST_MS_BOX:-3000}
# Console replies (a memtest check of the full RAM runs at emulated speed
# in the box).
CONSOLE_WAIT=15
[[ -n ${KVMBOX:-} ]] && CONSOLE_WAIT=120
MIG_MEM=${MIG_MEM:-256M}
# The RAM pattern migrations carry (memtest): on KVM 64 MiB rewritten at
# 16 MiB/s.  In the box TCG moves ~6 MB/s between two fvmm, so there it is
# 16 MiB at 1 MiB/s, or pre-copy would never converge; its busy guest
# rewrites 4 MiB unpaced instead of 16 MiB.
PATTERN_MIB=64 PATTERN_RATE=16 BUSY_MIB=16 FULL_RATE=64 MIG_WAIT=120
if [[ -n ${KVMBOX:-} ]]; then
	PATTERN_MIB=16 PATTERN_RATE=1 BUSY_MIB=4 FULL_RATE=1 MIG_WAIT=400
fi
# Three vCPUs: the guest's net poller takes the last AP, memtest's writer
# another.
MIG_CPUS=3

# mig_net_up: namespaces, one tap per host, and addresses on both bridges
# for migrations over TCP.
mig_net_up() {
	e2e_net_up src dst || { fail net-setup "could not create namespaces"; finish; }
	e2e_tap src "$(tap_of src)" && e2e_tap dst "$(tap_of dst)" ||
		{ fail net-setup "could not create taps"; finish; }
	in_host src ip addr add 10.99.0.2/24 dev br0
	in_host dst ip addr add 10.99.0.3/24 dev br0
}

tap_of() { [[ $1 == src ]] && echo "fvs-$E2E_ID" || echo "fvd-$E2E_ID"; }
other_host() { [[ $1 == src ]] && echo dst || echo src; }

# vm_args NAME HOST: the machine every side is started with.
vm_args() {
	echo --memory "$MIG_MEM" --cpus "$MIG_CPUS" --qmp "unix:$TEST_TMP/$1.qmp" \
		--netdev "tap,id=n0,ifname=$(tap_of "$2")" \
		--device "virtio-net-pci,netdev=n0,id=net0,mac=$MAC" \
		--append "ip=$G0/24"
}

qmp() { local sock=$1; shift; "$CTL" "$TEST_TMP/$sock.qmp" "$@"; }
qmp_json() { local sock=$1; shift; "$CTL" --json "$TEST_TMP/$sock.qmp" "$@"; }
status_of() { qmp_json "$1" query-status | sed -nE 's/.*"status": *"([a-z-]+)".*/\1/p'; }
mig_status() { qmp_json "$1" query-migrate | sed -nE 's/.*"status": *"([a-z-]+)".*/\1/p'; }
mig_num() { qmp_json "$1" query-migrate | grep -oE "\"$2\": *[0-9]+" | grep -oE '[0-9]+$'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# A migration's extra memory on the source: bitmaps, a batch, the writer's
# buffer; a fraction of the guest's RAM it must never approach.
MAX_MIG_RSS_GROWTH_KIB=${MAX_MIG_RSS_GROWTH_KIB:-16384}
ram_digest() { "$CTL" --json --timeout 60 "$TEST_TMP/$1.qmp" x-query-ram-digest | sed -nE 's/.*"digest": *"([0-9a-f]+)".*/\1/p'; }

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

# start_dest NAME HOST [FVMM ARGS...]: a destination waiting on
# unix:TEST_TMP/NAME.mig; status 1 if it never listens.
start_dest() {
	local name=$1 host=$2
	shift 2
	# shellcheck disable=SC2046
	e2e_fvmm "$name" "$host" $(vm_args "$name" "$host") \
		--incoming "unix:$TEST_TMP/$name.mig" "$@"
	wait_until 10 test -S "$TEST_TMP/$name.mig"
}

# migrate_to FROM TO: fvmm-ctl migrate FROM to TO's socket; its status.
migrate_to() {
	"$CTL" --timeout "$MIG_WAIT" "$TEST_TMP/$1.qmp" migrate "unix:$TEST_TMP/$2.mig" \
		>"$TEST_TMP/ctl-$1" 2>&1
}

# memtest NAME ARGS...: run `memtest ARGS` on NAME's console and print its
# reply line ("memtest: ok ..." or "memtest: FAIL ..."); status 1 if none
# came.
memtest() {
	local name=$1 n
	shift
	n=$(e2e_count_console "$name" '^memtest: ')
	e2e_console_cmd "$name" memtest "$@"
	e2e_console_count_is_wait "$name" '^memtest: ' $((n + 1)) "$CONSOLE_WAIT" ||
		return 1
	grep -E '^memtest: ' "$TEST_TMP/$name.out" | tail -n 1
}

e2e_console_count_is_wait() {
	wait_until "$4" e2e_console_count_is "$1" "$2" "$3"
}

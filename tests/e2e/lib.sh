#!/usr/bin/env bash
# Network helpers for the end-to-end tier; source after tests/lib/common.sh
# (this file sources it if needed).  Not a test itself (not executable).
#
# Topology, all in namespaces this script creates and removes on exit:
#
#   peer ns (10.99.0.1/24) --veth--+
#                                  +-- switch ns: bridge "sw" (the fabric)
#   host ns "src": bridge br0 -----+        (one veth uplink per host)
#        taps for fvmm join br0
#   host ns "dst": bridge br0 -----+   (only when asked for, for migration)
#
# Guests take addresses 10.99.0.10 and up; nothing outside 10.99.0.0/16 is
# used and nothing is configured outside the namespaces.  Every wait is
# bounded.  Interface names stay under 15 characters.

[[ -n ${FVMM_ROOT:-} ]] || source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

E2E_ID=$(printf '%x' $(( ($$ ^ RANDOM) & 0xffff )))
NS_PEER=fvpeer-$E2E_ID
NS_SW=fvsw-$E2E_ID
PEER_IP=10.99.0.1
declare -A NS_HOST=()
declare -A FVMM_PID=()

require_root() {
	if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null; then
		echo "SKIP: $(basename "$0"): needs root and iproute2"
		exit 77
	fi
	if [[ ! -c /dev/net/tun ]]; then
		echo "SKIP: $(basename "$0"): /dev/net/tun not present"
		exit 77
	fi
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
in_peer() { in_ns "$NS_PEER" "$@"; }
in_host() { local h=$1; shift; in_ns "${NS_HOST[$h]}" "$@"; }

# e2e_net_up [HOST...]: peer, switch and hosts (default: one host "src").
e2e_net_up() {
	local hosts=("$@") h i=0
	[[ ${#hosts[@]} -eq 0 ]] && hosts=(src)
	ip netns add "$NS_SW" || return 1
	on_exit ip netns del "$NS_SW"
	in_ns "$NS_SW" ip link set lo up
	in_ns "$NS_SW" ip link add sw type bridge
	in_ns "$NS_SW" ip link set sw up

	ip netns add "$NS_PEER" || return 1
	on_exit ip netns del "$NS_PEER"
	in_peer ip link set lo up
	_e2e_uplink "$NS_PEER" p || return 1
	in_peer ip addr add "$PEER_IP/24" dev eth0
	in_peer ip link set eth0 up

	for h in "${hosts[@]}"; do
		NS_HOST[$h]=fvh$i-$E2E_ID
		i=$((i + 1))
		ip netns add "${NS_HOST[$h]}" || return 1
		on_exit ip netns del "${NS_HOST[$h]}"
		in_host "$h" ip link set lo up
		in_host "$h" ip link add br0 type bridge
		in_host "$h" ip link set br0 up
		_e2e_uplink "${NS_HOST[$h]}" "h$i" || return 1
		in_host "$h" ip link set eth0 master br0
		in_host "$h" ip link set eth0 up
	done
}

# _e2e_uplink NS TAG: veth "eth0" in NS, other end on the switch bridge.
_e2e_uplink() {
	local ns=$1 sw=s$2-$E2E_ID
	ip link add eth0-"$E2E_ID" netns "$ns" type veth peer name "$sw" \
		netns "$NS_SW" || return 1
	in_ns "$ns" ip link set eth0-"$E2E_ID" name eth0
	in_ns "$NS_SW" ip link set "$sw" master sw
	in_ns "$NS_SW" ip link set "$sw" up
}

# e2e_tap HOST NAME: a tap in HOST's namespace, on its bridge.
e2e_tap() {
	local h=$1 name=$2
	in_host "$h" ip tuntap add dev "$name" mode tap || return 1
	in_host "$h" ip link set "$name" master br0
	in_host "$h" ip link set "$name" up
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s; status 1 on timeout.
wait_until() {
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
	shift
	until "$@" >/dev/null 2>&1; do
		(( $(date +%s%N) > deadline )) && return 1
		sleep 0.1
	done
}

# e2e_fvmm NAME HOST ARGS...: start fvmm in HOST's namespace in the
# background; console in $TEST_TMP/NAME.out, log in NAME.err, stdin from
# the fifo NAME.in (write guest shell commands with e2e_console_cmd).
_console_ts() {
	local line t
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$1"
		t=${EPOCHREALTIME/./}
		printf '%s %s\n' "$((t / 1000))" "$line" >>"$1.ts"
	done
}

e2e_fvmm() {
	local name=$1 h=$2
	shift 2
	mkfifo "$TEST_TMP/$name.in"
	# Not through in_host: a shell function in the background is a
	# subshell, and $! would name it instead of fvmm (whose fds and
	# memory the tests measure, and which a kill must reach).
	# E2E_CONSOLE_TS=1 (debugging): also NAME.out.ts, each console line
	# with the Unix time in ms, to line up with the probe.
	if [[ ${E2E_CONSOLE_TS:-0} == 1 ]]; then
		ip netns exec "${NS_HOST[$h]}" "$FVMM" --kernel "$GUEST" --serial stdio "$@" \
			<"$TEST_TMP/$name.in" 2>"$TEST_TMP/$name.err" \
			> >(_console_ts "$TEST_TMP/$name.out") &
	else
		ip netns exec "${NS_HOST[$h]}" "$FVMM" --kernel "$GUEST" --serial stdio "$@" \
			<"$TEST_TMP/$name.in" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	fi
	FVMM_PID[$name]=$!
	exec {_fd}>"$TEST_TMP/$name.in"		# keep the fifo open for writing
	eval "FVMM_IN_$name=$_fd"
	on_exit kill -9 "${FVMM_PID[$name]}"
}

# A console whose fvmm has exited would end the script with SIGPIPE: the
# write fails instead (status 1) and the test's own checks say what is wrong.
e2e_console_cmd() {
	local name=$1 fdvar="FVMM_IN_$1"
	shift
	( trap '' PIPE; printf '%s\n' "$*" >&"${!fdvar}" ) 2>/dev/null
}

# e2e_wait_console NAME REGEX SECONDS: wait for a console line.
e2e_wait_console() {
	wait_until "$3" grep -qE "$2" "$TEST_TMP/$1.out"
}

# e2e_stop NAME: end fvmm (SIGTERM, then SIGKILL after 5 s); its status.
e2e_stop() {
	local pid=${FVMM_PID[$1]} i
	kill "$pid" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	wait "$pid"
}

# probe_num FILE KEY: a number from fvmm-probe's JSON report (one key a line).
probe_num() { sed -nE "s/^ *\"$2\": ([0-9.]+),?$/\1/p" "$1"; }

# peer_ping IP COUNT: from the peer, 0.2 s apart, 1 s timeout each.
peer_ping() { in_peer ping -c "$2" -i 0.2 -W 1 "$1"; }

# ---- console, QMP and hot-plug helpers (set QMP to fvmm's socket) ----

e2e_ctl() { "$FVMM_ROOT/build/fvmm-ctl" --timeout 5 "$QMP" "$@"; }

# e2e_count_console NAME REGEX: how many console lines match.
e2e_count_console() { grep -cE "$2" "$TEST_TMP/$1.out"; }
# e2e_console_count_is NAME REGEX N: at least N matching lines.
e2e_console_count_is() { (( $(e2e_count_console "$1" "$2") >= $3 )); }

# e2e_slot_state PORT: the host's view of a slot (empty, occupied,
# unplug-pending, ...), from x-query-hotplug.
e2e_slot_state() {
	e2e_ctl x-query-hotplug | awk -v id="$1" \
		'$0 ~ "id: "id"$" { f = 1 } f && /state:/ { print $2; exit }'
}

# e2e_fd_count NAME / e2e_rss_anon_kib NAME: fvmm's open fds, and its own
# resident memory (guest RAM is shared memory and not counted).
e2e_fd_count() { ls "/proc/${FVMM_PID[$1]}/fd" | wc -l; }
e2e_rss_anon_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/${FVMM_PID[$1]}/status"; }

# e2e_device_del ID MODE EVENTS_FILE: device_del (orderly or surprise)
# while following the event stream; succeeds once DEVICE_DELETED came.
e2e_device_del() {
	local id=$1 mode=$2 ev=$3 args=(device_del "id=$1") evpid
	[[ $mode == surprise ]] && args+=(mode=surprise)
	"$FVMM_ROOT/build/fvmm-ctl" --timeout 10 "$QMP" events --count 1 >"$ev" 2>&1 &
	evpid=$!
	sleep 0.2
	e2e_ctl "${args[@]}" >/dev/null || { kill "$evpid" 2>/dev/null; return 1; }
	wait "$evpid"
	grep -q "DEVICE_DELETED.*$id" "$ev"
}

# e2e_poweroff_checks NAME [PREFIX]: no error or exception on NAME's
# console, and the guest's poweroff ends fvmm with status 0.
e2e_poweroff_checks() {
	local name=$1 pre=${2:-} out=$TEST_TMP/$1.out
	! grep -qE '^(ERROR|EXCEPTION)' "$out"
	check "${pre}no-guest-errors" $? "$(grep -E '^(ERROR|EXCEPTION)' "$out" | head -3)"
	e2e_console_cmd "$name" poweroff
	wait "${FVMM_PID[$name]}"
	check "${pre}poweroff-exit-0" $? "fvmm exit status after poweroff"
}

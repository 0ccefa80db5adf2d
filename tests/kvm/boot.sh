#!/usr/bin/env bash
# KVM tier: boot the project's guest under fvmm and check what a user sees.
source "$(dirname "$0")/../lib/common.sh"
require_kvm

# boot NAME CPUS MEM APPEND: run to completion, leave out/err/rc in TEST_TMP.
boot() {
	local name=$1 cpus=$2 mem=$3 append=$4
	timeout -k 2 30 "$FVMM" --kernel "$GUEST" --cpus "$cpus" --memory "$mem" \
		--append "$append" --serial stdio </dev/null \
		>"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err"
	echo $? >"$TEST_TMP/$name.rc"
}

# expect_ready NAME CPUS MIN_MIB MAX_MIB
expect_ready() {
	local name=$1 cpus=$2 min=$3 max=$4 rc lines mib
	rc=$(cat "$TEST_TMP/$name.rc")
	lines=$(grep -c '^READY ' "$TEST_TMP/$name.out")
	if [[ $rc -ne 0 ]]; then
		fail "$name" "exit status $rc: $(tail -n 3 "$TEST_TMP/$name.err" | tr '\n' ' ')"
		return
	fi
	if [[ $lines -ne 1 ]]; then
		fail "$name" "expected exactly one READY line, got $lines"
		return
	fi
	if ! grep -q "^READY cpus=$cpus mem_mib=[0-9]*\s*$" "$TEST_TMP/$name.out"; then
		fail "$name" "bad READY line: $(grep '^READY' "$TEST_TMP/$name.out")"
		return
	fi
	mib=$(sed -n 's/^READY cpus=[0-9]* mem_mib=\([0-9]*\).*/\1/p' "$TEST_TMP/$name.out")
	if (( mib < min || mib > max )); then
		fail "$name" "mem_mib=$mib not in [$min, $max]"
		return
	fi
	pass "$name"
}

boot boot-1cpu-256M 1 256M poweroff
expect_ready boot-1cpu-256M 1 250 256

boot boot-2cpu-512M 2 512M poweroff
expect_ready boot-2cpu-512M 2 505 512

boot boot-2cpu-5G 2 5G poweroff
expect_ready boot-2cpu-5G 2 4097 5120

boot boot-4cpu-1G 4 1G poweroff
expect_ready boot-4cpu-1G 4 1010 1024

# A guest that triple-faults: non-zero exit, reason and registers on stderr.
boot triple-fault 1 256M "crash=triple"
rc=$(cat "$TEST_TMP/triple-fault.rc")
if [[ $rc -eq 3 ]] && grep -q 'triple fault' "$TEST_TMP/triple-fault.err" &&
   grep -q '^ rip ' "$TEST_TMP/triple-fault.err"; then
	pass triple-fault-dumps-registers
else
	fail triple-fault-dumps-registers "rc=$rc, stderr: $(head -c 300 "$TEST_TMP/triple-fault.err")"
fi

# console_start NAME FVMM-ARGS...: fvmm with its console on a fifo (fd 7),
# up to its prompt (bounded); CONSOLE_PID is fvmm's own PID.
console_start() {
	local name=$1 in=$TEST_TMP/$1.in i
	shift
	mkfifo "$in"
	"$FVMM" --kernel "$GUEST" "$@" <"$in" >"$TEST_TMP/$name.out" \
		2>"$TEST_TMP/$name.err" &
	CONSOLE_PID=$!
	on_exit "kill -KILL $CONSOLE_PID"
	exec 7>"$in"
	for ((i = 0; i < 100; i++)); do
		grep -q 'fvmm> ' "$TEST_TMP/$name.out" && break
		sleep 0.1
	done
}

# console_poweroff NAME: power the guest off (killed after 10 s); fvmm's
# exit status in NAME.rc.
console_poweroff() {
	local i
	printf 'poweroff\n' >&7
	for ((i = 0; i < 100; i++)); do
		kill -0 "$CONSOLE_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$CONSOLE_PID" 2>/dev/null
	wait "$CONSOLE_PID"
	echo $? >"$TEST_TMP/$1.rc"
	exec 7>&-
}

# The interactive console: wait for the prompt, type commands, power off.
interactive() {
	console_start console --cpus 2 --memory 256M
	printf 'cpus\n' >&7; sleep 0.3
	printf 'mem\n' >&7; sleep 0.3
	printf 'bogus\n' >&7; sleep 0.3
	console_poweroff console
}
interactive
rc=$(cat "$TEST_TMP/console.rc")
if [[ $rc -eq 0 ]] && grep -q 'unknown command: bogus' "$TEST_TMP/console.out" &&
   grep -qi 'cpu' "$TEST_TMP/console.out" && ! grep -q '^READY.*poweroff' "$TEST_TMP/console.out"; then
	pass interactive-console
else
	fail interactive-console "rc=$rc, output: $(tail -c 400 "$TEST_TMP/console.out" | tr '\n' '|')"
fi

# --vcpu-pin: vCPU i's thread may run on the list's i-th host CPU only
# (given in reverse order here, so the mapping shows); the others are free.
pinned() {
	local t
	console_start pin --cpus 2 --memory 128M --vcpu-pin "$LAST_CPU,$FIRST_CPU"
	for t in /proc/"$CONSOLE_PID"/task/*; do
		echo "$(cat "$t/comm") $(sed -n 's/^Cpus_allowed_list:\s*//p' "$t/status")"
	done >"$TEST_TMP/pin.threads"
	console_poweroff pin
}
ALLOWED=$(sed -n 's/^Cpus_allowed_list:\s*//p' /proc/self/status)
FIRST_CPU=${ALLOWED%%[-,]*}
LAST_CPU=${ALLOWED##*[-,]}
pinned
threads=$(tr '\n' '|' <"$TEST_TMP/pin.threads")
[[ $(cat "$TEST_TMP/pin.rc") -eq 0 ]] &&
	grep -qx "vcpu0 $LAST_CPU" "$TEST_TMP/pin.threads" &&
	grep -qx "vcpu1 $FIRST_CPU" "$TEST_TMP/pin.threads" &&
	grep -qx "fvmm $ALLOWED" "$TEST_TMP/pin.threads"
check vcpu-pin-threads $? "rc $(cat "$TEST_TMP/pin.rc"), threads: $threads (allowed $ALLOWED)"

finish

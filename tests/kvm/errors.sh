#!/usr/bin/env bash
# KVM tier: every user error ends with one clear line and a non-zero status,
# never a crash (no signal, no sanitizer report, no core).
source "$(dirname "$0")/../lib/common.sh"
require_kvm

# expect_error NAME PATTERN [fvmm args...]
expect_error() {
	local name=$1 pattern=$2 rc err
	shift 2
	timeout -k 2 20 "$@" </dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	rc=$?
	err=$(cat "$TEST_TMP/err")
	if [[ $rc -eq 0 || $rc -ge 124 ]]; then
		fail "$name" "exit status $rc (want a non-zero error status)"
	elif [[ $(grep -c . "$TEST_TMP/err") -ne 1 ]]; then
		fail "$name" "want one line on stderr, got: $err"
	elif ! grep -qE -- "$pattern" "$TEST_TMP/err"; then
		fail "$name" "stderr '$err' does not match /$pattern/"
	else
		pass "$name"
	fi
}

head -c 4096 /dev/urandom >"$TEST_TMP/garbage"
: >"$TEST_TMP/empty"

expect_error missing-kernel-option 'no kernel' "$FVMM"
expect_error kernel-not-found "cannot open kernel" "$FVMM" --kernel /nonexistent/k
expect_error vcpu-pin-count "give one per vCPU" "$FVMM" --kernel "$GUEST" \
	--cpus 2 --vcpu-pin 0
expect_error vcpu-pin-not-a-list "--vcpu-pin: expected a list" "$FVMM" \
	--kernel "$GUEST" --vcpu-pin 0,x
expect_error vcpu-pin-unavailable-cpu "host CPU 1023 .*not one fvmm may run on" \
	"$FVMM" --kernel "$GUEST" --vcpu-pin 1023
expect_error kernel-is-directory "not a regular file" "$FVMM" --kernel /tmp
expect_error kernel-garbage "cannot load kernel" "$FVMM" --kernel "$TEST_TMP/garbage"
expect_error kernel-empty "cannot load kernel" "$FVMM" --kernel "$TEST_TMP/empty"
expect_error bad-memory-suffix "--memory" "$FVMM" --kernel "$GUEST" --memory 12Q
expect_error memory-too-small "minimum" "$FVMM" --kernel "$GUEST" --memory 1M
expect_error memory-too-large "too large" "$FVMM" --kernel "$GUEST" --memory 100T
expect_error memory-beyond-host "cannot give the guest" "$FVMM" --kernel "$GUEST" --memory 60T
expect_error cpus-zero "--cpus" "$FVMM" --kernel "$GUEST" --cpus 0
expect_error cpus-too-many "--cpus" "$FVMM" --kernel "$GUEST" --cpus 999
expect_error bad-serial "--serial" "$FVMM" --kernel "$GUEST" --serial tcp:1
expect_error unknown-option "unknown option|try --help" "$FVMM" --kernel "$GUEST" --frobnicate
expect_error initrd-not-found "cannot open initrd" "$FVMM" --kernel "$GUEST" --initrd /nonexistent/i
expect_error serial-file-unwritable "cannot open serial file" "$FVMM" --kernel "$GUEST" --serial file:/nonexistent/dir/log

# No usable /dev/kvm: hide it in a private mount namespace.
if command -v unshare >/dev/null; then
	expect_error no-dev-kvm "cannot open /dev/kvm" \
		unshare -m sh -c "mount -t tmpfs none /dev && exec '$FVMM' --kernel '$GUEST'"
fi

# --help and --version succeed and say something useful.
if "$FVMM" --help | grep -q -- '--kernel' && "$FVMM" --version | grep -q '^fvmm '; then
	pass help-and-version
else
	fail help-and-version "--help/--version output"
fi

finish

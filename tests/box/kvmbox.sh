#!/usr/bin/env bash
# Box tier: tools/kvmbox itself, on the host.  Each check starts a box
# (about 7 s each under TCG), so one box does several checks where it can:
# what the command prints on stdout and stderr comes back apart, its exit
# status comes back (0, 1, 42), a file it writes into the checkout is
# there afterwards, /dev/kvm works inside (fvmm boots the project's guest
# to READY), a command that is not there fails at once with 127, and a
# box that outlives --timeout is killed and reported within a few seconds.
source "$(dirname "$0")/../lib/common.sh"

BOX=$FVMM_ROOT/tools/kvmbox
[[ $(id -u) -eq 0 ]] || { echo "SKIP: kvmbox: needs root"; exit 77; }

# One box: output, a file in the checkout, /dev/kvm, status 42.
mark=$FVMM_ROOT/build/kvmbox-test-$$
on_exit rm -f "$mark"
inner="echo to-stdout; echo to-stderr >&2; echo written >$mark;
	$FVMM --kernel $GUEST --cpus 2 --append poweroff </dev/null >$mark.boot 2>&1;
	echo fvmm-status=\$?; exit 42"
"$BOX" -- bash -c "$inner" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
rc=$?
check kvmbox-status-42 $(( rc != 42 )) "exit status $rc, expected 42; stderr: $(tail -n 3 "$TEST_TMP/err" | tr '\n' ' ')"
grep -qx to-stdout "$TEST_TMP/out" && ! grep -q to-stderr "$TEST_TMP/out"
check kvmbox-stdout "$?" "stdout was: $(head -c 200 "$TEST_TMP/out" | tr '\n' '|')"
grep -qx to-stderr "$TEST_TMP/err" && ! grep -q to-stdout "$TEST_TMP/err"
check kvmbox-stderr "$?" "stderr was: $(head -c 200 "$TEST_TMP/err" | tr '\n' '|')"
[[ $(cat "$mark" 2>/dev/null) == written ]]
check kvmbox-file-in-checkout "$?" "$mark not written through the box"
grep -qx fvmm-status=0 "$TEST_TMP/out" && grep -q '^READY cpus=2' "$mark.boot"
check kvmbox-dev-kvm-boots-fvmm "$?" "$(tail -n 3 "$mark.boot" 2>/dev/null | tr '\n' ' ')"
rm -f "$mark.boot"

for want in 0 1; do
	"$BOX" -- sh -c "exit $want" >/dev/null 2>&1
	rc=$?
	check "kvmbox-status-$want" $(( rc != want )) "exit status $rc, expected $want"
done

"$BOX" -- no-such-command-here >/dev/null 2>"$TEST_TMP/err"
rc=$?
(( rc == 127 )) && grep -q 'no-such-command-here: command not found' "$TEST_TMP/err"
check kvmbox-command-not-found "$?" "status $rc: $(head -n 2 "$TEST_TMP/err" | tr '\n' ' ')"

# The box must not outlive --timeout by more than the kill grace period.
start=$SECONDS
"$BOX" --timeout 15 --console "$TEST_TMP/timeout.console" -- sleep 600 \
	>/dev/null 2>"$TEST_TMP/err"
rc=$?
took=$((SECONDS - start))
(( rc == 124 && took <= 25 )) && grep -q 'timed out after 15s' "$TEST_TMP/err"
check kvmbox-timeout-kills-box "$?" "status $rc after ${took}s: $(head -n 2 "$TEST_TMP/err" | tr '\n' ' ')"
! pgrep -f "qemu-system.*$TEST_TMP/timeout.console" >/dev/null
check kvmbox-timeout-leaves-no-qemu "$?" "a QEMU of the timed-out box is still running"
finish

#!/usr/bin/env bash
# KVM tier: the QMP control socket of a running fvmm, driven by build/fvmm-ctl
# and by a raw python3 client: greeting, negotiation, run state and its
# events, bad input on a live connection, two clients, quit, guest power-off,
# socket file handling.  Every wait is bounded; fvmm runs under timeout and
# is killed on exit.
source "$(dirname "$0")/../lib/common.sh"
require_kvm

CTL=${CTL:-$FVMM_ROOT/build/fvmm-ctl}
SOCK=$TEST_TMP/qmp.sock
PY=$TEST_TMP/qmpc.py
if [[ ! -f $GUEST || ! -x $CTL ]]; then
	echo "SKIP: qmp: $GUEST or $CTL not built"
	exit 77
fi

# ---- a raw QMP client: scenarios print PASS:/FAIL: lines themselves ----
cat >"$PY" <<'EOF'
import json, os, socket, sys, time

WAIT = 10

class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(WAIT)
        self.s.connect(path)
        self.buf = b""
        self.events = []

    def recv(self):
        """Next message (one JSON object a line), None at EOF."""
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def send(self, raw):
        self.s.sendall(raw if isinstance(raw, bytes) else raw.encode())

    def reply(self):
        """The next non-event message; events are kept for event()."""
        while True:
            m = self.recv()
            if m is None or "event" not in m:
                return m
            self.events.append(m)

    def cmd(self, name, args=None, **kw):
        req = {"execute": name}
        if args is not None:
            req["arguments"] = args
        req.update(kw)
        self.send(json.dumps(req))
        return self.reply()

    def event(self):
        if self.events:
            return self.events.pop(0)
        return self.recv()

    def negotiate(self):
        g = self.recv()
        assert g and "QMP" in g, "no greeting: %r" % g
        r = self.cmd("qmp_capabilities")
        assert r == {"return": {}}, "qmp_capabilities: %r" % r

failed = False

def check(name, cond, why):
    global failed
    if cond:
        print("PASS: " + name)
    else:
        print("FAIL: %s: %s" % (name, why))
        failed = True

def err(m):
    e = (m or {}).get("error") or {}
    return e.get("class"), e.get("desc", "")

def greeting(path):
    c = Client(path)
    g = c.recv()
    v = (g or {}).get("QMP", {}).get("version", {})
    ok = (isinstance(v.get("qemu", {}).get("major"), int) and
          isinstance(v.get("qemu", {}).get("minor"), int) and
          isinstance(v.get("qemu", {}).get("micro"), int) and
          v.get("package", "").startswith("fvmm") and
          g["QMP"].get("capabilities") == [])
    check("qmp-greeting", ok, "greeting %r" % g)

def protocol(path):
    c = Client(path)
    c.recv()
    m = c.cmd("query-status", id=1)
    check("qmp-before-negotiation", err(m) == ("CommandNotFound",
          "Expecting capabilities negotiation with 'qmp_capabilities'")
          and m.get("id") == 1, "got %r" % m)
    m = c.cmd("qmp_capabilities")
    check("qmp-capabilities", m == {"return": {}}, "got %r" % m)
    m = c.cmd("query-status", id="s1")
    check("qmp-query-status-running",
          m.get("return", {}).get("status") == "running" and
          m["return"].get("running") is True and m.get("id") == "s1",
          "got %r" % m)
    m = c.cmd("stop")
    e = c.event()
    check("qmp-stop-event", m == {"return": {}} and
          (e or {}).get("event") == "STOP" and
          "seconds" in e.get("timestamp", {}), "reply %r event %r" % (m, e))
    m = c.cmd("query-status")
    check("qmp-query-status-paused",
          m.get("return", {}).get("status") == "paused" and
          m["return"].get("running") is False, "got %r" % m)
    m = c.cmd("cont")
    e = c.event()
    check("qmp-cont-event", m == {"return": {}} and
          (e or {}).get("event") == "RESUME", "reply %r event %r" % (m, e))
    c.send('{"execute": "query-status", "id": }\n')
    m = c.reply()
    check("qmp-malformed-json", err(m)[0] == "GenericError" and
          err(m)[1].startswith("JSON parse error"), "got %r" % m)
    m = c.cmd("query-status")
    check("qmp-usable-after-malformed",
          m.get("return", {}).get("status") == "running", "got %r" % m)
    m = c.cmd("no-such-command", id=7)
    check("qmp-unknown-command", err(m) == ("CommandNotFound",
          "The command no-such-command has not been found")
          and m.get("id") == 7, "got %r" % m)
    m = c.cmd("set_link", {"name": "x", "up": "yes"})
    check("qmp-bad-argument-type", err(m) == ("GenericError",
          "Invalid parameter type for 'up', expected: boolean"),
          "got %r" % m)
    m = c.cmd("set_link", {"name": "nonexistent", "up": True})
    check("qmp-set-link-no-device", err(m) == ("DeviceNotFound",
          "Device 'nonexistent' not found"), "got %r" % m)
    # One request in single bytes, then two requests in one write.
    for b in b'{"execute":"query-status","id":"split"}':
        c.send(bytes([b]))
    m = c.reply()
    c.send('{"execute":"query-name","id":"a"}{"execute":"query-version","id":"b"}')
    m2, m3 = c.reply(), c.reply()
    check("qmp-framing", m.get("id") == "split" and m2.get("id") == "a" and
          m3.get("id") == "b" and "qemu" in m3.get("return", {}),
          "got %r %r %r" % (m, m2, m3))
    m = c.cmd("query-commands")
    names = {x["name"] for x in m.get("return", [])}
    check("qmp-query-commands", {"qmp_capabilities", "query-status", "stop",
          "cont", "quit", "set_link"} <= names, "got %r" % names)

def two_clients(path):
    a, b = Client(path), Client(path)
    a.negotiate()
    b.negotiate()
    ra = a.cmd("stop")
    eb = b.event()
    rb = b.cmd("cont")
    ea = [a.event(), a.event()]
    check("qmp-two-clients", ra == {"return": {}} and rb == {"return": {}}
          and (eb or {}).get("event") == "STOP" and
          [e.get("event") for e in ea if e] == ["STOP", "RESUME"],
          "a %r %r, b %r %r" % (ra, ea, rb, eb))

def watch(path, ready, count):
    """Negotiate, say so through the ready file, print events as lines."""
    c = Client(path)
    c.negotiate()
    open(ready, "w").close()
    c.s.settimeout(30)
    for _ in range(int(count)):
        e = c.event()
        if e is None:
            break
        print(json.dumps(e), flush=True)

def stale(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()

if __name__ == "__main__":
    try:
        globals()[sys.argv[1]](*sys.argv[2:])
    except Exception as e:
        print("FAIL: qmp-%s: %s: %s" % (sys.argv[1], type(e).__name__, e))
        failed = True
    sys.exit(1 if failed else 0)
EOF

# py SCENARIO ARGS...: run a python scenario; its failures count as ours.
py() { timeout -k 2 60 python3 "$PY" "$@" || _failed=1; }

# start_fvmm NAME: fvmm with the guest, console on a fifo, QMP on $SOCK.
start_fvmm() {
	local name=$1 i
	mkfifo "$TEST_TMP/$name.in"
	timeout -k 2 120 "$FVMM" --kernel "$GUEST" --memory 128M \
		--qmp "unix:$SOCK" <"$TEST_TMP/$name.in" \
		>"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	FVMM_PID=$!
	# TERM, not KILL: timeout passes TERM on to fvmm; KILL would orphan it.
	on_exit "kill -TERM $FVMM_PID"
	exec 7>"$TEST_TMP/$name.in"
	for ((i = 0; i < 100; i++)); do
		[[ -S $SOCK ]] && return 0
		kill -0 "$FVMM_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# wait_exit PID SECONDS: wait for fvmm's end; sets EXIT_RC (124 = timeout).
wait_exit() {
	local pid=$1 secs=$2 i
	EXIT_RC=124
	for ((i = 0; i < secs * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			EXIT_RC=$?
			return
		fi
		sleep 0.1
	done
}

# wait_file PATH SECONDS
wait_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ -e $1 ]] && return 0
		sleep 0.1
	done
	return 1
}

# ---- one fvmm: protocol, fvmm-ctl, two clients, quit ------------------
if ! start_fvmm vm1; then
	fail qmp-socket "no socket after 10 s: $(tail -n 3 "$TEST_TMP/vm1.err")"
	finish
fi
pass qmp-socket

py greeting "$SOCK"
py protocol "$SOCK"
py two_clients "$SOCK"

out=$(timeout 20 "$CTL" "$SOCK" query-status 2>&1)
check ctl-query-status $? "exit status; output: $out"
[[ $out == "status: running" ]]; check ctl-query-status-output $? "got '$out'"

timeout 20 "$CTL" "unix:$SOCK" stop && out=$(timeout 20 "$CTL" "$SOCK" query-status)
[[ $out == "status: paused" ]]; check ctl-stop $? "got '$out'"
timeout 20 "$CTL" "$SOCK" cont && out=$(timeout 20 "$CTL" "$SOCK" query-status)
[[ $out == "status: running" ]]; check ctl-cont $? "got '$out'"

out=$(timeout 20 "$CTL" --json "$SOCK" query-status)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r["running"] is True and r["status"] == "running" else 1)' "$out" 2>/dev/null
check ctl-json $? "got '$out'"

timeout 20 "$CTL" "$SOCK" no-such-command >/dev/null 2>"$TEST_TMP/ctl.err"
rc=$?
[[ $rc -eq 1 ]] && grep -qx "error: The command no-such-command has not been found" "$TEST_TMP/ctl.err"
check ctl-error-exit-1 $? "rc=$rc, stderr: $(cat "$TEST_TMP/ctl.err")"

timeout 20 "$CTL" "$SOCK" set_link name=nonexistent up=false >/dev/null 2>"$TEST_TMP/ctl.err"
rc=$?
[[ $rc -eq 1 ]] && grep -qx "error: Device 'nonexistent' not found" "$TEST_TMP/ctl.err"
check ctl-arguments $? "rc=$rc, stderr: $(cat "$TEST_TMP/ctl.err")"

timeout 20 "$CTL" "$TEST_TMP/nonexistent.sock" query-status 2>"$TEST_TMP/ctl.err"
rc=$?
[[ $rc -eq 2 && $(grep -c . "$TEST_TMP/ctl.err") -eq 1 ]]
check ctl-connect-error-exit-2 $? "rc=$rc, stderr: $(cat "$TEST_TMP/ctl.err")"
timeout 20 "$CTL" "$SOCK" 2>"$TEST_TMP/ctl.err"
rc=$?
[[ $rc -eq 2 && $(grep -c . "$TEST_TMP/ctl.err") -eq 1 ]]
check ctl-usage-exit-2 $? "rc=$rc, stderr: $(cat "$TEST_TMP/ctl.err")"

# fvmm-ctl's event mode: keep making events until the follower has one.
timeout 30 "$CTL" --json "$SOCK" events --count 1 --timeout 20 >"$TEST_TMP/ctl.ev" &
ev_pid=$!
on_exit "kill -TERM $ev_pid"
for ((i = 0; i < 50; i++)); do
	kill -0 "$ev_pid" 2>/dev/null || break
	timeout 10 "$CTL" "$SOCK" stop; timeout 10 "$CTL" "$SOCK" cont
	sleep 0.1
done
wait "$ev_pid"
rc=$?
[[ $rc -eq 0 ]] && grep -qE '"event":"(STOP|RESUME)".*"timestamp"' "$TEST_TMP/ctl.ev"
check ctl-events $? "rc=$rc, output: $(cat "$TEST_TMP/ctl.ev")"

# A second fvmm must not steal a live socket.
timeout -k 2 20 "$FVMM" --kernel "$GUEST" --memory 64M --serial none \
	--qmp "unix:$SOCK" </dev/null >/dev/null 2>"$TEST_TMP/second.err"
rc=$?
[[ $rc -ne 0 && $rc -lt 124 ]] && grep -q "in use" "$TEST_TMP/second.err" &&
	timeout 10 "$CTL" "$SOCK" query-status >/dev/null
check qmp-socket-in-use $? "rc=$rc, stderr: $(cat "$TEST_TMP/second.err")"

# quit: the reply, then SHUTDOWN to every client, then fvmm exits 0.
rm -f "$TEST_TMP/ready"
timeout 60 python3 "$PY" watch "$SOCK" "$TEST_TMP/ready" 1 >"$TEST_TMP/quit.ev" &
watch_pid=$!
on_exit "kill -TERM $watch_pid"
wait_file "$TEST_TMP/ready" 10
out=$(timeout 20 "$CTL" "$SOCK" quit 2>&1)
check ctl-quit $? "output: $out"
wait_exit "$FVMM_PID" 10
[[ $EXIT_RC -eq 0 ]]; check qmp-quit-exit-0 $? "fvmm exit status $EXIT_RC: $(tail -n 3 "$TEST_TMP/vm1.err")"
wait "$watch_pid"
grep -q '"event": "SHUTDOWN".*"guest": false.*"reason": "host-qmp-quit"' "$TEST_TMP/quit.ev"
check qmp-quit-shutdown-event $? "events: $(cat "$TEST_TMP/quit.ev")"
[[ ! -e $SOCK ]]; check qmp-socket-removed $? "$SOCK still exists after exit"
exec 7>&-

# ---- guest power-off: SHUTDOWN with guest=true -------------------------
# A socket file left behind (stale) must not stop the next fvmm.
python3 "$PY" stale "$SOCK"
if ! start_fvmm vm2; then
	fail qmp-stale-socket "no socket: $(tail -n 3 "$TEST_TMP/vm2.err")"
	finish
fi
pass qmp-stale-socket
rm -f "$TEST_TMP/ready"
timeout 60 python3 "$PY" watch "$SOCK" "$TEST_TMP/ready" 1 >"$TEST_TMP/off.ev" &
watch_pid=$!
on_exit "kill -TERM $watch_pid"
wait_file "$TEST_TMP/ready" 10
prompt=no
for ((i = 0; i < 200; i++)); do
	grep -q 'fvmm> ' "$TEST_TMP/vm2.out" && { prompt=yes; break; }
	sleep 0.1
done
printf 'poweroff\n' >&7
wait_exit "$FVMM_PID" 20
[[ $EXIT_RC -eq 0 ]]
check qmp-poweroff-exit-0 $? "fvmm exit status $EXIT_RC (guest prompt seen: $prompt): $(tail -c 300 "$TEST_TMP/vm2.out" | tr '\n' '|') $(tail -n 3 "$TEST_TMP/vm2.err")"
wait "$watch_pid"
grep -q '"event": "SHUTDOWN".*"guest": true.*"reason": "guest-shutdown"' "$TEST_TMP/off.ev"
check qmp-poweroff-shutdown-event $? "events: $(cat "$TEST_TMP/off.ev")"
exec 7>&-

finish

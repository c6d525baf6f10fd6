#!/usr/bin/env python3
"""PING in a loop on a floodgated socket, one at a time, for a while.

Prints one line: n=... max_ms=... p99_ms=... errors=... (an error is a
PING unanswered within 2 s, or a closed connection: reconnected).
usage: ping_latency.py SOCKET SECONDS
"""
import socket
import sys
import time


def main():
    path, seconds = sys.argv[1], float(sys.argv[2])
    lat, errors, s = [], 0, None
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            if s is None:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(2)
                s.connect(path)
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            buf = b""
            while not buf.endswith(b"\r\n"):
                chunk = s.recv(64)
                if not chunk:
                    raise EOFError
                buf += chunk
            lat.append((time.monotonic() - t0) * 1000)
        except (OSError, EOFError):
            errors += 1
            lat.append((time.monotonic() - t0) * 1000)
            if s is not None:
                s.close()
            s = None
        time.sleep(0.005)
    lat.sort()
    p99 = lat[int(len(lat) * 0.99) - 1] if lat else 0
    print("n=%d max_ms=%.1f p99_ms=%.1f errors=%d" % (len(lat), lat[-1] if lat else 0, p99, errors))


main()

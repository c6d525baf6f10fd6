#!/usr/bin/env python3
"""RL.CHECK in a loop on a floodgated socket, one request at a time, for a while.

Prints one line: n=... max_ms=... p99_ms=... allowed=... denied=... errors=...
(the test kills redis-server meanwhile and asserts on max_ms).
With SLOW_MS set, each slower answer is also printed to stderr with its time.
usage: rl_latency.py SOCKET SECONDS POLICY KEYPREFIX
"""
import os
import socket
import sys
import time


def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_reply(f):
    line = f.readline()
    if not line:
        raise EOFError
    t = line[:1]
    if t == b"*":
        return [read_reply(f) for _ in range(int(line[1:]))]
    if t == b"$":
        n = int(line[1:])
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if t == b":":
        return int(line[1:])
    if t == b"-":
        return Exception(line[1:].strip().decode())
    return line[1:].strip()


def main():
    path, secs, policy, prefix = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile("rb")
    lat, allowed, denied, errors, i = [], 0, 0, 0, 0
    start = time.monotonic()
    end = start + secs
    slow = float(os.environ.get("SLOW_MS", "inf"))
    while time.monotonic() < end:
        i += 1
        t0 = time.monotonic()
        s.sendall(cmd("RL.CHECK", policy, "%s%d" % (prefix, i % 50)))
        r = read_reply(f)
        lat.append((time.monotonic() - t0) * 1000)
        if lat[-1] > slow:
            print("slow at %.3f s (%s): %.1f ms" % (t0 - start, time.strftime("%T"), lat[-1]),
                  file=sys.stderr)
        if isinstance(r, Exception):
            errors += 1
        elif r[0] == 1:
            allowed += 1
        else:
            denied += 1
        time.sleep(0.002)
    lat.sort()
    print("n=%d max_ms=%.1f p99_ms=%.1f allowed=%d denied=%d errors=%d" % (
        len(lat), lat[-1], lat[int(len(lat) * 0.99) - 1], allowed, denied, errors))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""RL.CHECKM under concurrent load, over floodgated's Unix socket (RESP).

Each run decides one fresh key pair: `RL.CHECKM 2 POLICY X<run> POLICY Y<run>`
from CLIENTS connections per --socket (several agents sharing one Redis:
give each one's socket), each sending N requests pipelined at once (or one at
a time with --seq; --single sends `RL.CHECK POLICY X<run>` instead). Prints
the answers (allowed, denied, errors) and, with --seq, the slowest latency.
--max-allowed M exits 1 when more than M were allowed (a budget of M shared
by every agent must never admit more). Not run by make: it needs agents
(and a redis-server) started by hand, e.g. with
    floodgated --app-only -c C.yaml --socket /tmp/fg/a1.sock --metrics-listen ''
and a policy `{ name: tokens, type: budget, amount: 10, period: day }`:
    tests/checkm_load.py --socket /tmp/fg/a1.sock --clients 10 --n 30 --max-allowed 10
"""
import argparse
import socket
import sys
import threading
import time
import uuid


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Reader:
    def __init__(self, s):
        self.s, self.buf = s, b""

    def fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("the agent closed the connection")
        self.buf += d

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def reply(self):
        l = self.line()
        t, r = l[:1], l[1:]
        if t == b"+":
            return r.decode()
        if t == b"-":
            return Exception(r.decode())
        if t == b":":
            return int(r)
        if t == b"$":
            n = int(r)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.fill()
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v.decode()
        if t == b"*":
            return [self.reply() for _ in range(int(r))]
        raise ValueError(l)


def client(path, cmd, n, seq, res, lock):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    r = Reader(s)
    got, lat = [], []
    if not seq:
        s.sendall(cmd * n)
        got = [r.reply() for _ in range(n)]
    else:
        for _ in range(n):
            t = time.monotonic()
            s.sendall(cmd)
            got.append(r.reply())
            lat.append(time.monotonic() - t)
    s.close()
    with lock:
        res["lat"] += lat
        for g in got:
            if isinstance(g, Exception) or not isinstance(g, list):
                res["errors"] += 1
            elif g[0] == 1:
                res["allowed"] += 1
            else:
                res["denied"] += 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", action="append", required=True, help="an agent's socket")
    ap.add_argument("--clients", type=int, default=10, help="connections per socket")
    ap.add_argument("--n", type=int, default=30, help="requests per connection")
    ap.add_argument("--seq", action="store_true", help="one request at a time")
    ap.add_argument("--policy", default="tokens")
    ap.add_argument("--single", action="store_true", help="RL.CHECK on X instead")
    ap.add_argument("--max-allowed", type=int, help="exit 1 when more were allowed")
    a = ap.parse_args()
    run = uuid.uuid4().hex[:8]
    x, y = "X" + run, "Y" + run
    if a.single:
        cmd = enc("RL.CHECK", a.policy, x)
    else:
        cmd = enc("RL.CHECKM", "2", a.policy, x, a.policy, y)
    res = {"allowed": 0, "denied": 0, "errors": 0, "lat": []}
    lock = threading.Lock()
    th = [threading.Thread(target=client, args=(p, cmd, a.n, a.seq, res, lock))
          for p in a.socket for _ in range(a.clients)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    print("keys %s %s allowed %d denied %d errors %d" %
          (x, y, res["allowed"], res["denied"], res["errors"]))
    if res["lat"]:
        lat = sorted(res["lat"])
        print("latency max %.1f ms p99 %.1f ms" %
              (lat[-1] * 1e3, lat[int(len(lat) * 0.99)] * 1e3))
    if a.max_allowed is not None and res["allowed"] > a.max_allowed:
        print("FAIL: %d allowed, at most %d" % (res["allowed"], a.max_allowed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

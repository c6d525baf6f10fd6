#!/usr/bin/env python3
# reqresp.py — a request/response TCP server and brand-new clients, for test_22.
#
#   reqresp.py serve PORT [--ready FILE]
#       dual-stack; each connection sends "GET N\n" and gets N bytes, then closed.
#   reqresp.py clients DST PORT SRC... [--size N] [--timeout S] [--parallel]
#       one connection from each SRC address in turn (bound to it): connect, ask for
#       --size bytes, read them all, each within --timeout seconds of its start.
#       --parallel: all of them at once (clients that mostly time out then take one
#       --timeout in all, not one each).
#
# clients prints one line: "ok=N fail=N p50_ms= max_ms= last_err=" (times of the whole
# exchange). Bounded: every client has its deadline; serve ends on SIGTERM.
import argparse
import concurrent.futures
import signal
import socket
import sys
import threading
import time


def serve(a):
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", a.port))
    ls.listen(1024)
    if a.ready:
        open(a.ready, "w").close()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    blob = b"x" * 65536

    def one(c):
        try:
            c.settimeout(10)
            req = b""
            while not req.endswith(b"\n") and len(req) < 64:
                d = c.recv(64)
                if not d:
                    return
                req += d
            n = int(req.split()[1])
            while n > 0:
                k = min(n, len(blob))
                c.sendall(blob[:k])
                n -= k
        except (OSError, ValueError, IndexError):
            pass
        finally:
            c.close()

    while True:
        c, _ = ls.accept()
        threading.Thread(target=one, args=(c,), daemon=True).start()


def client(dst, port, src, size, timeout):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    t0 = time.monotonic()
    try:
        s.bind((src, 0))
        s.settimeout(timeout)
        s.connect((dst, port))
        s.sendall(b"GET %d\n" % size)
        got = 0
        while got < size:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                return None, "timeout after %d bytes" % got
            s.settimeout(left)
            d = s.recv(1 << 20)
            if not d:
                return None, "closed after %d bytes" % got
            got += len(d)
        return (time.monotonic() - t0) * 1e3, ""
    except OSError as e:
        return None, str(e) or type(e).__name__
    finally:
        s.close()


def clients(a):
    ok, fail, times, last = 0, 0, [], ""
    one = lambda src: client(a.dst, a.port, src, a.size, a.timeout)
    if a.parallel:
        with concurrent.futures.ThreadPoolExecutor(len(a.srcs)) as pool:
            results = list(pool.map(one, a.srcs))
    else:
        results = map(one, a.srcs)
    for src, (ms, err) in zip(a.srcs, results):
        if ms is None:
            fail += 1
            last = "%s: %s" % (src, err)
        else:
            ok += 1
            times.append(ms)
    times.sort()
    p50 = times[len(times) // 2] if times else 0
    mx = times[-1] if times else 0
    print("ok=%d fail=%d p50_ms=%.1f max_ms=%.1f last_err=%s" %
          (ok, fail, p50, mx, last.replace(" ", "_")))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("port", type=int)
    s.add_argument("--ready")
    c = sub.add_parser("clients")
    c.add_argument("dst")
    c.add_argument("port", type=int)
    c.add_argument("srcs", nargs="+")
    c.add_argument("--size", type=int, default=1000000)
    c.add_argument("--timeout", type=float, default=3.0)
    c.add_argument("--parallel", action="store_true")
    a = ap.parse_args()
    if a.cmd == "serve":
        serve(a)
    else:
        clients(a)


if __name__ == "__main__":
    main()

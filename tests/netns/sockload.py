#!/usr/bin/env python3
# sockload.py — hostile local clients of floodgated's socket, for test_93 and
# tests/redteam/attack_socket.sh. Bounded: every phase has a deadline.
#
#   sockload.py SOCK hold N       N idle connections
#   sockload.py SOCK partial N    N connections, each most of a 1 MB request, never finished
#   sockload.py SOCK echo N       N connections, each ECHOs of 1 MB, replies never read
#
# Options: --size BYTES (partial/echo payload, default 1000000), --repeat K (ECHOs per
# connection, default 8), --hold SECONDS (keep the connections after the phase, default 0;
# SIGTERM ends it early), --ready FILE (written when the phase is done).
# Prints one line: "connected=N refused=N closed=N open=N first_refusal=..." where refused
# are connections answered with an error line, closed ones the agent closed without one.
import argparse
import errno
import os
import selectors
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sock")
    ap.add_argument("mode", choices=["hold", "partial", "echo"])
    ap.add_argument("n", type=int)
    ap.add_argument("--size", type=int, default=1000000)
    ap.add_argument("--repeat", type=int, default=8)
    ap.add_argument("--hold", type=float, default=0)
    ap.add_argument("--ready")
    ap.add_argument("--deadline", type=float, default=60)
    a = ap.parse_args()
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))

    socks, refused, closed, first = [], 0, 0, ""
    end = time.monotonic() + a.deadline
    for _ in range(a.n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        while True:
            # a Unix socket's connect() says EAGAIN when the backlog is full
            try:
                s.connect(a.sock)
                break
            except BlockingIOError:
                if time.monotonic() > end:
                    break
                time.sleep(0.001)
            except OSError as e:
                print(f"connect failed after {len(socks)}: {e}", file=sys.stderr)
                s.close()
                s = None
                break
        if s is None:
            break
        s.setblocking(False)
        socks.append(s)
        if time.monotonic() > end:
            break

    payload = {}
    if a.mode == "partial":
        # the announced length is more than what is sent: the request never ends
        hdr = b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % (a.size + 24)
        data = hdr + b"x" * a.size
        payload = {s: memoryview(data) for s in socks}
    elif a.mode == "echo":
        one = b"*2\r\n$4\r\nECHO\r\n$%d\r\n" % a.size + b"y" * a.size + b"\r\n"
        data = one * a.repeat
        payload = {s: memoryview(data) for s in socks}

    gone = set()

    def check_gone(s):
        # an error line then EOF (refused), or EOF alone (closed)
        nonlocal refused, closed, first
        try:
            d = s.recv(4096)
        except BlockingIOError:
            return False
        except OSError:
            d = b""
        if d.startswith(b"-"):
            refused += 1
            if not first:
                first = d.split(b"\r\n")[0].decode(errors="replace")
        elif d:
            return False  # a reply (echo mode reads nothing on purpose)
        else:
            closed += 1
        gone.add(s)
        return True

    # Send everything that is to be sent, as the socket takes it.
    sel = selectors.DefaultSelector()
    for s, mv in payload.items():
        sel.register(s, selectors.EVENT_WRITE)
    pending = len(payload)
    while pending and time.monotonic() < end and not stop[0]:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            mv = payload[s]
            try:
                n = s.send(mv[:262144])
                payload[s] = mv = mv[n:]
                if not len(mv):
                    sel.unregister(s)
                    pending -= 1
            except BlockingIOError:
                pass
            except OSError as e:
                if e.errno not in (errno.EPIPE, errno.ECONNRESET):
                    raise
                sel.unregister(s)
                pending -= 1
                check_gone(s)
                if s not in gone:
                    closed += 1
                    gone.add(s)
        if a.mode == "echo":
            # the agent stops reading a client whose replies pile up: that is
            # "done" for this client when nothing moved for a while
            pass
        if pending and a.mode == "echo" and time.monotonic() > end - a.deadline + 8:
            break
    time.sleep(0.3)
    for s in socks:
        if s not in gone:
            check_gone(s)
    print(f"connected={len(socks)} refused={refused} closed={closed} "
          f"open={len(socks) - len(gone)} first_refusal={first}", flush=True)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")
    t_end = time.monotonic() + a.hold
    while time.monotonic() < t_end and not stop[0]:
        time.sleep(0.1)
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()

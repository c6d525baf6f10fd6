#!/usr/bin/env python3
"""vouch_latency.py UID FROM_SOCK TO_SOCK ADDR LIMIT_MS CMD [ARG...]

The fleet's vouch latency, without process start-ups in the figure: connects
to TO_SOCK (an agent that should learn of the vouch) as the caller, then,
as UID, to FROM_SOCK (the agent that vouches: SO_PEERCRED is taken at
connect, so each connection keeps its own peer), sends CMD there (XDP.VOUCH
or RL.AUTH.OK ... ADDR) and asks TO_SOCK `XDP.SOURCE ADDR` back to back until
it says `verified_by fleet` (every ms) or LIMIT_MS have passed since CMD was sent.
Prints one line: reply=... call_ms=... seen_ms=... polls=... verified_by=...
(seen_ms: from sending CMD to the first fleet answer; -1 when none came).
Exit 0 when TO_SOCK said fleet in time, 1 when not, 2 on usage.
"""
import os
import socket
import sys
import time

from rl_latency import cmd, read_reply  # this script's directory is on sys.path


def text(v):
    """A reply as one word: OK, 5, or the error's text."""
    if isinstance(v, bytes):
        v = v.decode(errors="replace")
    return str(v).replace(" ", "_")


def connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    s.connect(path)
    return s, s.makefile("rb")


def main():
    if len(sys.argv) < 7:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    uid, src, dst, addr, limit_ms = sys.argv[1:6]
    to, to_f = connect(dst)
    os.setgid(int(uid))
    os.setgroups([])
    os.setuid(int(uid))
    frm, frm_f = connect(src)
    poll = cmd("XDP.SOURCE", addr)
    t0 = time.monotonic()
    frm.sendall(cmd(*sys.argv[6:]))
    reply = text(read_reply(frm_f))
    call_ms = (time.monotonic() - t0) * 1e3
    seen_ms, polls, by = -1.0, 0, "?"
    while (time.monotonic() - t0) * 1e3 < float(limit_ms):
        to.sendall(poll)
        r = read_reply(to_f)
        polls += 1
        by = text(r[r.index(b"verified_by") + 1]) if isinstance(r, list) else text(r)
        if by == "fleet":
            seen_ms = (time.monotonic() - t0) * 1e3
            break
        time.sleep(0.001)  # 1 ms resolution, and the agent's loop keeps its time for Redis
    print("reply=%s call_ms=%.1f seen_ms=%.1f polls=%d verified_by=%s"
          % (reply, call_ms, seen_ms, polls, by))
    return 0 if seen_ms >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""resp_pipe.py SOCKET < commands: send one command per stdin line (words
split on spaces) over the agent's Unix socket, pipelined in batches, and
print "replies=N errors=E" and the first error. Bounded by --timeout."""
import socket
import sys


def read_reply(f):
    line = f.readline()
    if not line:
        raise EOFError("connection closed")
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b":", b"_", b",", b"#"):
        return None
    if t == b"-":
        return rest.decode(errors="replace")
    if t in (b"$", b"="):
        n = int(rest)
        if n >= 0:
            f.read(n + 2)
        return None
    if t in (b"*", b"~", b">", b"%"):
        n = int(rest)
        if t == b"%":
            n *= 2
        for _ in range(max(n, 0)):
            read_reply(f)
        return None
    raise ValueError("unexpected reply %r" % line)


def main():
    timeout = 60.0
    args = sys.argv[1:]
    if args[:1] == ["--timeout"]:
        timeout = float(args[1])
        args = args[2:]
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(args[0])
    f = s.makefile("rb")
    cmds = [l.split() for l in sys.stdin if l.strip()]
    replies = errors = 0
    first = ""
    for i in range(0, len(cmds), 500):
        batch = cmds[i:i + 500]
        buf = b"".join(
            b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a.encode()) for a in c)
            for c in batch)
        s.sendall(buf)
        for _ in batch:
            err = read_reply(f)
            replies += 1
            if err is not None:
                errors += 1
                first = first or err
    print("replies=%d errors=%d first_error=%s" % (replies, errors, first.replace(" ", "_")))


if __name__ == "__main__":
    main()

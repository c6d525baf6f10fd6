#!/usr/bin/env python3
"""pubsub_raw.py SOCKET PROTO SOURCE: a raw-RESP subscriber that checks the
agent's pub/sub replies byte for byte, as Redis sends them, in RESP2 or RESP3
(PROTO 2 or 3). It subscribes to "violations" and "violations:sig*", checks
PING (and in RESP2 the refusal of other commands) in subscribed mode, prints
"ready", then waits (30 s at most) for one message and one pmessage about
SOURCE on rule "signaling", unsubscribes from both and checks the counts.
Exit 0 when every byte was as expected."""
import json
import socket
import sys

sock_path, proto, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sock_path)
f = s.makefile("rb")
agg = b"*" if proto == 2 else b">"


def fail(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)


def read_exact(want, what):
    got = f.read(len(want))
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))


def read_value():
    """One RESP value: (type byte, value), bulk strings as bytes; the raw
    framing is checked as it is read (lengths, CRLF)."""
    line = f.readline()
    if not line.endswith(b"\r\n"):
        fail("no CRLF: %r" % line)
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b"-"):
        return t, rest
    if t == b":":
        return t, int(rest)
    if t == b"_":
        return t, None
    if t == b"$":
        n = int(rest)
        if n < 0:
            return t, None
        data = f.read(n + 2)
        if len(data) != n + 2 or data[-2:] != b"\r\n":
            fail("bad bulk framing: %r" % data)
        return t, data[:-2]
    if t in (b"*", b">", b"%"):
        n = int(rest) * (2 if t == b"%" else 1)
        return t, [read_value()[1] for _ in range(n)]
    fail("unexpected type %r" % line)


def cmd(*words):
    out = b"*%d\r\n" % len(words)
    for w in words:
        w = w.encode()
        out += b"$%d\r\n%s\r\n" % (len(w), w)
    s.sendall(out)


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


if proto == 3:
    cmd("HELLO", "3")
    t, v = read_value()
    if t != b"%":
        fail("HELLO 3: not a map")
cmd("SUBSCRIBE", "violations")
read_exact(agg + b"3\r\n" + bulk(b"subscribe") + bulk(b"violations") + b":1\r\n", "SUBSCRIBE")
cmd("PSUBSCRIBE", "violations:sig*")
read_exact(agg + b"3\r\n" + bulk(b"psubscribe") + bulk(b"violations:sig*") + b":2\r\n",
           "PSUBSCRIBE")
if proto == 2:
    cmd("PING")
    read_exact(b"*2\r\n" + bulk(b"pong") + bulk(b""), "PING in subscribed mode")
    cmd("PING", "hi")
    read_exact(b"*2\r\n" + bulk(b"pong") + bulk(b"hi"), "PING msg in subscribed mode")
    cmd("RL.CHECK", "api", "k")
    read_exact(b"-ERR Can't execute 'rl.check': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / "
               b"PING / QUIT / RESET are allowed in this context\r\n", "RL.CHECK refused")
else:
    cmd("PING")
    read_exact(b"+PONG\r\n", "PING in RESP3")
print("ready", flush=True)

got_msg = got_pmsg = False
while not (got_msg and got_pmsg):
    t, v = read_value()
    if t != agg[:1]:
        fail("a message of type %r, want %r" % (t, agg))
    if v[0] == b"message":
        if len(v) != 3 or v[1] != b"violations":
            fail("bad message %r" % v)
        payload = v[2]
    elif v[0] == b"pmessage":
        if len(v) != 4 or v[1] != b"violations:sig*" or v[2] != b"violations:signaling":
            fail("bad pmessage %r" % v)
        payload = v[3]
    else:
        fail("unexpected %r" % v)
    ev = json.loads(payload)
    if ev.get("source") != source or ev.get("rule") != "signaling":
        continue
    got_msg |= v[0] == b"message"
    got_pmsg |= v[0] == b"pmessage"
print("events ok", flush=True)

# Unsubscribe while events may still come: skip them up to each reply.
def until_reply(kind):
    while True:
        t, v = read_value()
        if v[0] == kind:
            return t, v

cmd("UNSUBSCRIBE")
t, v = until_reply(b"unsubscribe")
if t != agg[:1] or v != [b"unsubscribe", b"violations", 1]:
    fail("UNSUBSCRIBE: %r %r" % (t, v))
cmd("PUNSUBSCRIBE")
t, v = until_reply(b"punsubscribe")
if t != agg[:1] or v != [b"punsubscribe", b"violations:sig*", 0]:
    fail("PUNSUBSCRIBE: %r %r" % (t, v))
cmd("PING")
while True:  # messages published before the unsubscribe may still be ahead
    t, v = read_value()
    if t == b"+":
        break
if v != b"PONG":
    fail("PING after unsubscribing: %r" % v)
print("ok", flush=True)

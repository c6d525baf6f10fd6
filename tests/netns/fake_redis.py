#!/usr/bin/env python3
"""fake_redis.py PORT MODE ARG — a Redis-protocol server on 127.0.0.1:PORT that
answers what a test needs to lie about, and +OK to anything else:

  sentinel MASTER_PORT  a sentinel that names 127.0.0.1:MASTER_PORT as the
                        master, whatever it is (test_88: a stale or lying one)
  seed SANE_FILE        a cluster seed whose CLUSTER SLOTS names 200 masters on
                        closed ports and three whose host is no address (a
                        quote, a space, a newline); once SANE_FILE exists,
                        127.0.0.1:7000 for every slot (test_89)
"""
import os
import socket
import sys
import threading

PORT, MODE, ARG = int(sys.argv[1]), sys.argv[2], sys.argv[3]


def bulk(b):
    return b'$%d\r\n%s\r\n' % (len(b), b)


def slot_entry(lo, hi, host, port):
    return b'*3\r\n:%d\r\n:%d\r\n*2\r\n%s:%d\r\n' % (lo, hi, bulk(host), port)


def cluster_slots():
    if os.path.exists(ARG):
        return b'*1\r\n' + slot_entry(0, 16383, b'127.0.0.1', 7000)
    e = [slot_entry(i * 80, i * 80 + 79, b'127.0.0.1', 20000 + i) for i in range(200)]
    e += [slot_entry(16100 + i, 16100 + i, h, 7000) for i, h in enumerate([b'a"b', b'a b', b'x\ny'])]
    return b'*%d\r\n' % len(e) + b''.join(e)


def answer(args):
    cmd = args[0].upper() if args else b''
    if MODE == 'sentinel' and cmd == b'SENTINEL':
        return b'*2\r\n' + bulk(b'127.0.0.1') + bulk(ARG.encode())
    if MODE == 'sentinel' and cmd == b'SUBSCRIBE':
        return b'*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n'
    if MODE == 'seed' and cmd == b'CLUSTER' and args[1:2] == [b'SLOTS']:
        return cluster_slots()
    return b'+OK\r\n'


def serve(c):
    f = c.makefile('rb')
    try:
        while True:
            line = f.readline()
            if not line:
                return
            args = [f.read(int(f.readline()[1:]) + 2)[:-2] for _ in range(int(line[1:]))]
            c.sendall(answer(args))
    except Exception:
        return


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', PORT))
s.listen(16)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()

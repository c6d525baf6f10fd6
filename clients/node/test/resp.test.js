'use strict';
// The RESP2 reader on its own: valid replies in any chunking, and every kind
// of hostile or oversized reply refused with a clear error, never buffered.
const test = require('node:test');
const assert = require('node:assert/strict');
const { RespReader, RespProtocolError, ReplyError, encodeCommand } = require('../lib/resp');

const CHECK = '*7\r\n:1\r\n:10\r\n:9\r\n:6000\r\n:0\r\n+ok\r\n$2\r\n1m\r\n';

test('a check reply, whole and one byte at a time', () => {
  const want = [[1, 10, 9, 6000, 0, 'ok', '1m']];
  assert.deepEqual(new RespReader().feed(Buffer.from(CHECK)), want);
  const r = new RespReader();
  const got = [];
  for (const b of Buffer.from(CHECK)) got.push(...r.feed(Buffer.from([b])));
  assert.deepEqual(got, want);
});

test('pipelined replies come out in order, with errors as values', () => {
  const r = new RespReader();
  const out = r.feed(Buffer.from(`+OK\r\n-ERR unknown policy 'x'\r\n:-1\r\n$-1\r\n*-1\r\n*0\r\n${CHECK}`));
  assert.equal(out.length, 7);
  assert.equal(out[0], 'OK');
  assert.ok(out[1] instanceof ReplyError);
  assert.equal(out[1].code, 'ERR');
  assert.deepEqual(out.slice(2, 6), [-1, null, null, []]);
});

test('integers: signs, zero and the 18 digits a reply may have, as Number() reads them', () => {
  const ints = ['0', '-0', '-1', '7', '9007199254740991', '-9007199254740993', '123456789012345678', '-999999999999999999'];
  const out = new RespReader().feed(Buffer.from(ints.map((n) => `:${n}\r\n`).join('') + '*2\r\n:12\r\n:-34\r\n'));
  assert.deepEqual(out, [...ints.map(Number), [12, -34]]);
  assert.ok(Object.is(out[1], -0));
});

test('a chunk buffer the caller reuses (the connection reads into one) is never kept', () => {
  const r = new RespReader();
  const shared = Buffer.alloc(64);
  const bytes = Buffer.from(`${CHECK}$10\r\n0123456789\r\n+X\r\n`);
  const got = [];
  for (let i = 0; i < bytes.length; i += 5) {
    const n = bytes.copy(shared, 0, i, Math.min(i + 5, bytes.length));
    got.push(...r.feed(shared.subarray(0, n)));
    shared.fill(0x41); // the next read overwrites it
  }
  assert.deepEqual(got, [[1, 10, 9, 6000, 0, 'ok', '1m'], '0123456789', 'X']);
});

test('a bulk string split across chunks waits for all its bytes', () => {
  const r = new RespReader();
  assert.deepEqual(r.feed(Buffer.from('$10\r\n01234')), []);
  assert.deepEqual(r.feed(Buffer.from('567')), []);
  assert.deepEqual(r.feed(Buffer.from('89\r\n+x\r\n')), ['0123456789', 'x']);
});

const hostile = [
  ['an oversized bulk string', '$2000000\r\n', /bulk length 2000000/],
  ['a negative bulk length', '$-2\r\n', /bulk length -2/],
  ['a huge array', '*100000\r\n', /array length 100000/],
  ["too many elements in all", `*2\r\n*1023\r\n`, /more than 1024 elements/],
  ['deep nesting', '*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n', /nested deeper/],
  ['a RESP3 map', '%1\r\n', /RESP3/],
  ['an unknown type byte', 'hello\r\n', /type byte 0x68/],
  ['a line without CR', '+OK\n', /CRLF/],
  ['an integer with a plus', ':+1\r\n', /not an integer/],
  ['an integer with leading zeros', ':01\r\n', /not an integer/],
  ['an integer out of range', ':99999999999999999999\r\n', /not an integer/],
  ['a sign alone', ':-\r\n', /integer "-" is not an integer/],
  ['an empty integer', ':\r\n', /not an integer/],
  ['a digit then a letter', ':1a\r\n', /integer "1a" is not an integer/],
  ['a bulk length with a space', '$ 1\r\nx\r\n', /bulk length " 1" is not an integer/],
  ['a bulk without its CRLF', '$2\r\nabcd', /not followed by CRLF/],
];
for (const [name, bytes, re] of hostile) {
  test(`refused: ${name}`, () => {
    const r = new RespReader();
    assert.throws(() => r.feed(Buffer.from(bytes)), (e) => e instanceof RespProtocolError && re.test(e.message));
    // Dead afterwards: the stream can no longer be trusted.
    assert.throws(() => r.feed(Buffer.from('+OK\r\n')), RespProtocolError);
  });
}

test('a line that never ends is refused at maxLine, not buffered', () => {
  const r = new RespReader();
  assert.deepEqual(r.feed(Buffer.from('+' + 'a'.repeat(4000))), []);
  assert.throws(() => r.feed(Buffer.from('a'.repeat(200))), /longer than 4096/);
});

test('an unfinished reply is refused at maxBuffered', () => {
  const r = new RespReader({ maxBuffered: 4096 });
  r.feed(Buffer.from("$100000\r\n"));
  for (let i = 0; i < 3; i++) r.feed(Buffer.alloc(999, 97)); // 3004 bytes of 1000 + no end
  assert.throws(() => r.feed(Buffer.alloc(2000, 97)), /more than 4096 bytes/);
});

test('commands are arrays of bulk strings; bad arguments are refused', () => {
  assert.equal(encodeCommand(['RL.CHECK', 'api', Buffer.from('k\r\n'), 5]).toString(),
    '*4\r\n$8\r\nRL.CHECK\r\n$3\r\napi\r\n$3\r\nk\r\n\r\n$1\r\n5\r\n');
  // Without a Buffer: one string, bulk lengths in UTF-8 bytes (not characters).
  const s = encodeCommand(['RL.CHECK', 'api', 'k\u00e9\u{1f600}', 5, 1.5]);
  assert.equal(typeof s, 'string');
  assert.deepEqual(Buffer.from(s), Buffer.concat([Buffer.from('*5\r\n$8\r\nRL.CHECK\r\n$3\r\napi\r\n$7\r\n'),
    Buffer.from('k\u00e9\u{1f600}'), Buffer.from('\r\n$1\r\n5\r\n$3\r\n1.5\r\n')]));
  assert.throws(() => encodeCommand(['RL.CHECK', {}]), TypeError);
  assert.throws(() => encodeCommand(['RL.CHECK', 'k', Buffer.from('x'), undefined]), TypeError);
  assert.throws(() => encodeCommand(['RL.CHECK', NaN]), TypeError);
});

test('a command larger than the agent reads (1 MiB, framing included) is refused before it is written', () => {
  const { FloodgateArgumentError, MAX_REQUEST } = require('../lib/resp');
  assert.equal(MAX_REQUEST, 1024 * 1024);
  // *2 $1 X $7 <n> : 4 + 7 + 10 + n + 2 bytes
  const n = MAX_REQUEST - 23;
  assert.equal(Buffer.byteLength(encodeCommand(['X', 'a'.repeat(n)])), MAX_REQUEST);
  assert.equal(encodeCommand(['X', Buffer.alloc(n)]).length, MAX_REQUEST);
  for (const big of ['a'.repeat(n + 1), Buffer.alloc(n + 1), '\u00e9'.repeat(Math.ceil((n + 1) / 2))]) {
    const err = (() => { try { encodeCommand(['X', big]); } catch (e) { return e; } return null; })();
    assert.ok(err instanceof FloodgateArgumentError, String(err));
    assert.deepEqual([err.code, err.command, err.argument, err.max], ['EFGARG', 'X', 'request', MAX_REQUEST]);
    assert.ok(err.bytes > MAX_REQUEST);
  }
});

test('RL.CHECKM replies: a refused index or a binding pair that does not fit the request is never a decision', () => {
  const { parseCheckMulti } = require('../lib/client');
  const pairs = [{ policy: 'u', key: 'user:1' }, { policy: 'ip', key: '192.0.2.1' }];
  const ok = [1, 3, 2, 60000, 0, 'ok', '1m', -1, 'ip', '192.0.2.1'];
  const v = parseCheckMulti(ok, pairs);
  assert.deepEqual([v.policy, v.key, v.bindingIndex, v.refusedIndex, v.refusedKey], ['ip', '192.0.2.1', 1, -1, null]);
  const bad = [
    [1, 3, 2, 60000, 0, 'ok', '1m', 0, 'u', 'user:1'], // allowed, yet a pair refused
    [0, 3, 0, 60000, 9, 'deny', '1m', -1, 'u', 'user:1'], // refused, yet no pair did
    [0, 3, 0, 60000, 9, 'deny', '1m', 2, 'u', 'user:1'], // no pair 2
    [0, 3, 0, 60000, 9, 'deny', '1m', 0, 'ip', '192.0.2.1'], // pair 0 is not that one
    [1, 3, 2, 60000, 0, 'ok', '1m', -1, 'u', 'user:2'], // a key that was not asked
    [1, 3, 2, 60000, 0, 'ok', '1m', -1, 'u'], // short
  ];
  for (const r of bad) assert.throws(() => parseCheckMulti(r, pairs), RespProtocolError, JSON.stringify(r));
});

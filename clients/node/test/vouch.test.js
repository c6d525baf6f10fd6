'use strict';
// Vouching from the application (issue 20): what the client, the login helper
// and the Socket.IO middleware send, against a fake agent that records each
// command. The agent's side (who may vouch, what it refuses, the XDP effect
// under a flood) is tested by tests/netns/test_23_vouch.sh.
const { it, describe, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { Client, progressiveLogin, vouchOnConnect } = require('..');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fgn-vouch-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

// The complete commands (arrays of bulk strings) at the head of buf, and what
// is left of it.
function parseCommands(buf) {
  const cmds = [];
  let at = 0;
  const line = () => {
    const end = buf.indexOf('\r\n', at);
    if (end < 0) return null;
    const l = buf.slice(at, end);
    at = end + 2;
    return l;
  };
  for (;;) {
    const start = at;
    const head = line();
    if (head === null) return { cmds, rest: buf.slice(start) };
    const cmd = [];
    for (let i = 0, cnt = Number(head.slice(1)); i < cnt; i++) {
      const len = Number(line()?.slice(1));
      if (Number.isNaN(len) || buf.length < at + len + 2) return { cmds, rest: buf.slice(start) };
      cmd.push(buf.slice(at, at + len));
      at += len + 2;
    }
    cmds.push(cmd);
  }
}

// A fake agent: answer(cmd) gives the RESP reply of each command; seen has them all.
async function fake(answer) {
  const p = path.join(dir, `s${n++}.sock`);
  const seen = [];
  const conns = [];
  const srv = net.createServer((s) => {
    conns.push(s);
    let buf = '';
    s.on('data', (d) => {
      const { cmds, rest } = parseCommands(buf + d.toString('latin1'));
      buf = rest;
      for (const cmd of cmds) {
        seen.push(cmd);
        s.write(answer(cmd));
      }
    });
    s.on('error', () => {});
  });
  srv.listen(p);
  await once(srv, 'listening');
  const client = new Client({ path: p, timeoutMs: 2000, failure: 'deny', logger: null });
  await once(client, 'connect');
  return { seen, client, close: () => { client.close(); for (const s of conns) s.destroy(); srv.close(); } };
}

const agentLike = (cmd) => {
  switch (cmd[0]) {
  case 'XDP.VOUCH':
    return cmd[1] === '192.0.2.1' ? '-ERR vouch for 192.0.2.1 refused: one of this host\'s own addresses\r\n'
      : `:${cmd[2] ?? 600}\r\n`;
  case 'XDP.UNVOUCH':
  case 'RL.AUTH.OK':
    return '+OK\r\n';
  default:
    return '-ERR unknown command\r\n';
  }
};

describe('vouching from the application', { timeout: 30_000 }, () => {
  it('client.vouch / unvouch: one address as the agent takes it; bad ones never sent', async () => {
    const f = await fake(agentLike);
    try {
      assert.equal(await f.client.vouch('::ffff:198.51.100.7', 120), 120);
      assert.equal(await f.client.vouch('2001:DB8::7'), 600, 'the agent\'s default');
      assert.equal(await f.client.unvouch('198.51.100.7'), true);
      await assert.rejects(f.client.vouch('198.51.100.0/24'), TypeError, 'a prefix is not one address');
      await assert.rejects(f.client.vouch('example.com'), TypeError);
      await assert.rejects(f.client.vouch('198.51.100.7', 0), RangeError);
      await assert.rejects(f.client.vouch('192.0.2.1'), /own addresses/, 'the agent\'s refusal reaches the app');
      assert.deepEqual(f.seen, [['XDP.VOUCH', '198.51.100.7', '120'], ['XDP.VOUCH', '2001:db8::7'],
        ['XDP.UNVOUCH', '198.51.100.7'], ['XDP.VOUCH', '192.0.2.1']]);
    } finally {
      f.close();
    }
  });

  it('progressiveLogin({ vouch: true }): ok() sends RL.AUTH.OK with the request\'s client address', async () => {
    const f = await fake(agentLike);
    try {
      const plain = progressiveLogin({ client: f.client, policy: 'login', key: (req) => `user:${req.body.user}` });
      const vouching = progressiveLogin({ client: f.client, policy: 'login', key: (req) => `user:${req.body.user}`,
        vouch: true });
      const picked = progressiveLogin({ client: f.client, policy: 'login', key: () => 'user:c',
        vouch: (req) => req.headers['x-client-ip'] });
      assert.equal(await plain.ok({ body: { user: 'a' }, ip: '198.51.100.8' }), true);
      assert.equal(await vouching.ok({ body: { user: 'b' }, ip: '::ffff:198.51.100.9' }), true);
      assert.equal(await picked.ok({ headers: { 'x-client-ip': '2001:db8::9' } }), true);
      await assert.rejects(vouching.ok({ body: { user: 'd' }, ip: 'garbage' }), TypeError,
        'an address that is not one is an error, not a login without its vouch');
      assert.deepEqual(f.seen, [['RL.AUTH.OK', 'login', 'user:a'],
        ['RL.AUTH.OK', 'login', 'user:b', 'ADDR', '198.51.100.9'],
        ['RL.AUTH.OK', 'login', 'user:c', 'ADDR', '2001:db8::9']]);
    } finally {
      f.close();
    }
  });

  it('vouchOnConnect: an authenticated socket\'s address (through trusted proxies) is vouched for, never held up', async () => {
    const f = await fake(agentLike);
    try {
      const audit = [];
      const mw = vouchOnConnect({ client: f.client, trustProxy: 'loopback', seconds: 300,
        onAudit: (e) => audit.push({ type: e.type, addr: e.addr, seconds: e.seconds, error: e.error?.message }) });
      const socket = (data, xff, remote = '127.0.0.1') => ({ id: `s${audit.length}`, data,
        handshake: { headers: xff ? { 'x-forwarded-for': xff } : {}, address: remote }, conn: { remoteAddress: remote } });
      const nexts = [];
      mw(socket({ user: { id: 1 } }, '203.0.113.9'), (err) => nexts.push(err ?? 'ok'));
      mw(socket({}, '203.0.113.10'), (err) => nexts.push(err ?? 'ok'));
      mw(socket({ userId: 7 }, '203.0.113.11', '198.51.100.20'), (err) => nexts.push(err ?? 'ok'));
      mw(socket({ userId: 8 }, undefined, '192.0.2.1'), (err) => nexts.push(err ?? 'ok'));
      assert.deepEqual(nexts, ['ok', 'ok', 'ok', 'ok'], 'every socket goes on at once');
      const t0 = Date.now();
      while (audit.length < 3 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(f.seen, [['XDP.VOUCH', '203.0.113.9', '300'], ['XDP.VOUCH', '198.51.100.20', '300'],
        ['XDP.VOUCH', '192.0.2.1', '300']],
      'not the unauthenticated socket; X-Forwarded-For only from a trusted proxy');
      assert.deepEqual(audit.slice(0, 2), [{ type: 'vouched', addr: '203.0.113.9', seconds: 300, error: undefined },
        { type: 'vouched', addr: '198.51.100.20', seconds: 300, error: undefined }]);
      assert.equal(audit[2].type, 'vouch_refused');
      assert.match(audit[2].error, /own addresses/);
    } finally {
      f.close();
    }
  });
});

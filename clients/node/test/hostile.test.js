'use strict';
// The client against a fake agent that is stuck or hostile: every call is
// still answered (by the failure policy) within its timeout, memory stays
// bounded, and the client reconnects.
const { it, describe, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { Client } = require('..');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fgn-fake-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

// A server on a fresh socket path; onData(sock, chunk) decides what to answer.
async function fake(onData) {
  const p = path.join(dir, `s${n++}.sock`);
  const conns = [];
  const srv = net.createServer((s) => {
    conns.push(s);
    s.on('data', (d) => onData(s, d));
    s.on('error', () => {});
  });
  srv.listen(p);
  await once(srv, 'listening');
  return { path: p, conns, close: () => { for (const s of conns) s.destroy(); srv.close(); } };
}

const OK7 = '*7\r\n:1\r\n:10\r\n:9\r\n:1000\r\n:0\r\n+ok\r\n$2\r\n1s\r\n';

describe('hostile agents', { timeout: 90_000 }, () => {
  it('an agent that never answers: each call decided by the failure policy after timeoutMs', async () => {
    const f = await fake(() => {});
    const c = new Client({ path: f.path, timeoutMs: 50, failure: 'deny', logger: null });
    await once(c, 'connect');
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => c.check('api', `k${i}`)));
    const took = Date.now() - t0;
    assert.ok(rs.every((r) => r.allowed === false && r.source === 'failure_deny'));
    assert.ok(took >= 45 && took < 3000, `took ${took} ms`);
    assert.equal(c.stats().timeouts, 20);
    c.close();
    f.close();
  });

  it('an agent stuck for stallMs: the connection is dropped and made again', async () => {
    const f = await fake(() => {});
    const c = new Client({ path: f.path, timeoutMs: 30, stallMs: 100, failure: 'allow', logger: null,
      reconnect: { minMs: 10, maxMs: 10 } });
    await once(c, 'connect');
    await c.check('api', 'a'); // times out; its slot stays in flight
    await new Promise((r) => setTimeout(r, 120));
    const dropped = once(c, 'disconnect');
    await c.check('api', 'b'); // its timeout finds the first call 150 ms old
    await dropped;
    await once(c, 'connect');
    assert.equal(f.conns.length, 2, 'a second connection');
    assert.equal(c.stats().inflight, 0);
    c.close();
    f.close();
  });

  it('a late reply after a timeout goes to nobody; the next call gets its own', async () => {
    // The first call's reply is held until the client has decided that call by
    // its failure policy (a wait on the client, not on a timer, so a loaded
    // machine cannot run the 200 ms timer after the reply is in); then both
    // replies come in order, as a RESP server answers.
    const f = await fake((s, d) => {
      if (String(d).includes('$1\r\nb\r\n')) s.write(`${OK7}*7\r\n:1\r\n:10\r\n:3\r\n:1000\r\n:0\r\n+ok\r\n$2\r\n1s\r\n`);
    });
    const c = new Client({ path: f.path, timeoutMs: 200, failure: 'allow', logger: null });
    try {
      await once(c, 'connect');
      const first = await c.check('api', 'a');
      assert.equal(first.source, 'failure_allow');
      const second = await c.check('api', 'b');
      assert.equal(second.source, 'agent');
      assert.equal(second.remaining, 3, 'the reply meant for the second call, not the late first one');
    } finally {
      c.close();
      f.close();
    }
  });

  for (const [name, bytes] of [
    ['an oversized bulk string', '$999999999\r\n'],
    ['a RESP3 map', '%7\r\n'],
    ['garbage', 'HTTP/1.1 200 OK\r\n\r\n'],
    ['a reply of the wrong shape', '*2\r\n:1\r\n:2\r\n'],
    ['allowed contradicting the state', '*7\r\n:1\r\n:10\r\n:9\r\n:1000\r\n:0\r\n+deny\r\n$2\r\n1s\r\n'],
    ['an endless line', '+' + 'x'.repeat(100_000)],
  ]) {
    it(`${name}: never read as a decision; the failure policy answers`, async () => {
      const f = await fake((s) => s.write(bytes));
      const c = new Client({ path: f.path, timeoutMs: 200, failure: 'deny', logger: null });
      await once(c, 'connect');
      const r = await c.check('api', 'k');
      assert.equal(r.allowed, false);
      assert.equal(r.source, 'failure_deny');
      assert.ok(c.stats().protocol_errors >= 1);
      c.close();
      f.close();
    });
  }

  it('a flood of unrequested bytes: the connection is dropped, memory stays bounded', async () => {
    const f = await fake(() => {});
    const c = new Client({ path: f.path, timeoutMs: 500, failure: 'allow', logger: null });
    await once(c, 'connect');
    const srv = f.conns[0];
    const before = process.memoryUsage().rss;
    const chunk = Buffer.from('$1000000\r\n' + 'y'.repeat(64 * 1024));
    srv.write(chunk);
    const big = Buffer.alloc(1024 * 1024, 0x79);
    for (let i = 0; i < 64 && !srv.destroyed; i++) srv.write(big);
    await once(c, 'disconnect');
    assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024);
    assert.ok(c.stats().protocol_errors >= 1);
    c.close();
    f.close();
  });

  it('reconnects with backoff: a server that appears later is used', async () => {
    const p = path.join(dir, 'later.sock');
    const c = new Client({ path: p, timeoutMs: 50, failure: 'insurance', logger: null,
      reconnect: { minMs: 10, maxMs: 50 } });
    const d = await c.check('api', 'k');
    assert.equal(d.source, 'insurance');
    const srv = net.createServer((s) => s.on('data', () => s.write(OK7)));
    srv.listen(p);
    await once(c, 'recovered');
    assert.equal((await c.check('api', 'k')).source, 'agent');
    c.close();
    srv.close();
  });

  it('logs which failure policy decides, once per outage', async () => {
    const lines = [];
    const logger = { info: (m) => lines.push(['info', m]), warn: (m) => lines.push(['warn', m]), error() {} };
    const c = new Client({ path: path.join(dir, 'none.sock'), failure: 'insurance', logger,
      reconnect: { minMs: 5, maxMs: 10 } });
    await c.check('api', 'k');
    await new Promise((r) => setTimeout(r, 60));
    await c.check('api', 'k');
    assert.equal(lines.length, 1);
    assert.match(lines[0][1], /unreachable.*failure policy "insurance".*in-process insurance limiter/);
    c.close();
  });
});

describe('agents that close connections', { timeout: 90_000 }, () => {
  it('one that closes every connection at once is retried with backoff, not in a loop', async () => {
    let accepted = 0;
    const f = await fake(() => {});
    f.conns.length = 0;
    const srv2Path = f.path + '.2';
    const srv2 = net.createServer((s) => { accepted++; s.end(); });
    srv2.listen(srv2Path);
    await once(srv2, 'listening');
    const c = new Client({ path: srv2Path, timeoutMs: 50, failure: 'allow', logger: null,
      reconnect: { minMs: 50, maxMs: 200 } });
    await new Promise((r) => setTimeout(r, 600));
    c.close();
    srv2.close();
    f.close();
    assert.ok(accepted >= 2 && accepted <= 12, `${accepted} connections in 600 ms`);
  });

  it('the agent\'s refusal line (max clients) is logged as such', async () => {
    const lines = [];
    const f = await fake(() => {});
    const p = f.path + '.3';
    let accepted = 0;
    const srv = net.createServer((s) => {
      accepted++;
      s.end('-ERR max clients per uid reached (2500): close some\r\n');
    });
    srv.listen(p);
    await once(srv, 'listening');
    const c = new Client({ path: p, timeoutMs: 50, failure: 'deny', logger: { info() {}, warn() {},
      error: (m) => lines.push(m) }, reconnect: { minMs: 50, maxMs: 200 } });
    await new Promise((r) => setTimeout(r, 600));
    c.close();
    srv.close();
    f.close();
    assert.match(lines[0], /agent refused the connection: ERR max clients per uid reached/);
    assert.ok(accepted >= 2 && accepted <= 12, `${accepted} connections in 600 ms: backed off`);
  });

  it('a refusal read as the answer to a call in flight: the call gets the failure policy', async () => {
    // The agent writes its refusal as it accepts; a call written at connect
    // reads it next. It is not that call's answer (a FloodgateCommandError
    // would turn the agent's refusal into an application's 500).
    const lines = [];
    const f = await fake(() => {});
    const p = f.path + '.4';
    const srv = net.createServer((s) => {
      s.once('data', () => s.end('-ERR max number of clients reached (8, the last 2 kept for admins): close idle connections\r\n'));
    });
    srv.listen(p);
    await once(srv, 'listening');
    const c = new Client({ path: p, timeoutMs: 500, failure: 'allow', logger: { info() {}, warn() {},
      error: (m) => lines.push(m) }, reconnect: { minMs: 1000, maxMs: 1000 } });
    let d;
    try {
      d = await c.check('api', 'user:1');
    } finally {
      c.close();
      srv.close();
      f.close();
    }
    assert.equal(d.allowed, true);
    assert.equal(d.source, 'failure_allow');
    assert.match(lines[0], /agent refused the connection: ERR max number of clients reached/);
  });
});

describe('a stalled application event loop', { timeout: 90_000 }, () => {
  it('a reply that arrived during the stall is used, not the failure policy', async () => {
    // The fake agent lives in this process: it answers, then stalls the loop
    // for 300 ms (as a big require() or JSON.parse does), past the call's 50 ms.
    const f = await fake((s) => {
      s.write(OK7);
      const end = Date.now() + 300;
      while (Date.now() < end) { /* stall */ }
    });
    const c = new Client({ path: f.path, timeoutMs: 50, failure: 'deny', logger: null });
    await once(c, 'connect');
    const r = await c.check('api', 'k');
    assert.equal(r.source, 'agent');
    assert.equal(c.stats().timeouts, 0);
    c.close();
    f.close();
  });

  it('a connection made during the stall is used, not timed out', () => {
    // In a process of its own, so nothing else runs in its loop: a client made,
    // then the loop stalled 300 ms past the 20 ms connect timeout.
    const sock = path.join(dir, 'stall.sock');
    const script = `
      const net = require('node:net');
      const { Client } = require(${JSON.stringify(path.resolve(__dirname, '..'))});
      const srv = net.createServer((s) => s.on('data', () => s.write(${JSON.stringify(OK7)})));
      srv.listen(${JSON.stringify(sock)}, () => {
        const c = new Client({ path: ${JSON.stringify(sock)}, timeoutMs: 5000, connectTimeoutMs: 20,
          failure: 'deny', logger: null });
        const end = Date.now() + 300;
        while (Date.now() < end) { /* stall */ }
        c.check('api', 'k').then((r) => { console.log(r.source); c.close(); srv.close(); });
      });`;
    const out = require('node:child_process').execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    assert.equal(out.trim(), 'agent');
  });
});

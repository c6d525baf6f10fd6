'use strict';
// The examples, each with its own floodgate.yaml in a real agent, driven by
// real HTTP requests and a real socket.io-client.
const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { once } = require('node:events');
const { io: ioc } = require('socket.io-client');
const { startAgent } = require('./helpers/agent');
const { Client } = require('..');

const EX = path.join(__dirname, '..', 'examples');

async function setup(name, t) {
  const agent = await startAgent(fs.readFileSync(path.join(EX, name, 'floodgate.yaml'), 'utf8'));
  if (agent.skip) return { skip: agent.skip };
  const client = new Client({ path: agent.socket, logger: null, timeoutMs: 3000 });
  return { agent, client };
}

function connect(url, opts = {}) {
  const s = ioc(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...opts });
  return new Promise((resolve) => {
    s.once('connect', () => resolve({ s, ok: true }));
    s.once('connect_error', (err) => resolve({ s, ok: false, err }));
  });
}

describe('example: push-to-talk', async () => {
  const env = await setup('push-to-talk');
  if (env.skip) return it.skip(env.skip);
  const { createServer } = require('../examples/push-to-talk/server');
  const { httpServer, io } = createServer({ client: env.client });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const base = `http://127.0.0.1:${httpServer.address().port}`;
  const sockets = [];
  after(async () => {
    for (const s of sockets) s.close();
    await new Promise((r) => io.close(() => r()));
    env.client.close();
    await env.agent.close();
  });
  const login = (ip, user, password) => fetch(`${base}/login`, { method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify({ user, password }) });

  it('login: a failure means a 1 s wait (429 meanwhile), then the right password gets a token', async () => {
    let r = await login('198.51.100.60', 'alice', 'nope');
    assert.equal(r.status, 401);
    assert.equal((await r.json()).retryAfterMs, 1000);
    assert.equal(r.headers.get('retry-after'), '1');
    r = await login('198.51.100.60', 'alice', 'wonderland');
    assert.equal(r.status, 429);
    const { retryAfterMs } = await r.json();
    await new Promise((res) => setTimeout(res, retryAfterMs + 20));
    r = await login('198.51.100.60', 'alice', 'wonderland');
    assert.equal(r.status, 200);
    assert.match((await r.json()).token, /^[0-9a-f]{32}$/);
  });

  it('login attempts: 10 per address per 15 minutes, the RateLimit headers say so', async () => {
    // A fresh address each failure would dodge the slowdown but not the window:
    // the slowdown is per address too, so correct logins are used here.
    const codes = [];
    for (let i = 0; i < 11; i++) {
      const r = await login('198.51.100.61', 'bob', 'builder');
      codes.push(r.status);
      if (i === 0) assert.equal(r.headers.get('ratelimit-policy'), '"ptt_login_attempts";q=10;w=900');
    }
    assert.deepEqual(codes, [...Array(10).fill(200), 429]);
  });

  it('connections: 20 per address per minute; talk bursts: 60 per user per minute', async () => {
    const { token } = await (await login('198.51.100.62', 'bob', 'builder')).json();
    const results = [];
    for (let i = 0; i < 21; i++) {
      const c = await connect(base, { auth: { token }, extraHeaders: { 'x-forwarded-for': '203.0.113.62' } });
      sockets.push(c.s);
      results.push(c.ok);
      if (!c.ok) assert.equal(c.err.message, 'rate limited');
    }
    assert.deepEqual(results, [...Array(20).fill(true), false]);
    const s = sockets[0];
    const acks = [];
    for (let i = 0; i < 61; i++) acks.push(await s.timeout(3000).emitWithAck('ptt:start', 'ch1'));
    assert.ok(acks.slice(0, 60).every((a) => a.ok));
    assert.equal(acks[59].remaining, 0);
    assert.equal(acks[60].ok, false);
    assert.equal(acks[60].error, 'rate_limited');
    assert.ok(acks[60].retryAfterMs > 0 && acks[60].retryAfterMs <= 1000, `retry ${acks[60].retryAfterMs}`);
  });
});

describe('example: socket.io events', async () => {
  const env = await setup('socketio-events');
  if (env.skip) return it.skip(env.skip);
  const { createServer } = require('../examples/socketio-events/server');
  const audit = [];
  const { httpServer, io } = createServer({ client: env.client, audit: (e) => audit.push(e) });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const url = `http://127.0.0.1:${httpServer.address().port}`;
  after(async () => {
    await new Promise((r) => io.close(() => r()));
    env.client.close();
    await env.agent.close();
  });

  it('100 per minute: slow_down with the 80th, rate_limited and a disconnect at the 100th; heartbeats free', async () => {
    const { s } = await connect(url, { auth: { user: 'carol' } });
    const warned = [];
    const limited = [];
    s.on('slow_down', (w) => warned.push(w));
    s.on('rate_limited', (e) => limited.push(e));
    const gone = once(s, 'disconnect');
    for (let i = 0; i < 50; i++) assert.equal(await s.timeout(3000).emitWithAck('heartbeat'), 'ok');
    for (let i = 1; i <= 99; i++) {
      assert.equal(await s.timeout(3000).emitWithAck('chat', `m${i}`), 'ok');
      if (i === 79) assert.equal(warned.length, 0);
      if (i === 80) assert.deepEqual(warned, [{ event: 'chat', count: 80, limit: 100 }]);
    }
    s.emit('chat', 'm100');
    assert.equal((await gone)[0], 'io server disconnect');
    assert.deepEqual(limited, [{ reason: 'rate limit exceeded', event: 'chat', count: 100, limit: 100 }]);
    assert.deepEqual(audit.filter((e) => e.type !== 'close').map((e) => [e.type, e.userId, e.count]),
      [['warn', 'carol', 80], ['disconnect', 'carol', 100]]);
    s.close();
  });
});

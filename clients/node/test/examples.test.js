'use strict';
// The examples, each with its own floodgate.yaml in a real agent, driven by
// real HTTP requests and a real socket.io-client.
const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { once } = require('node:events');
const { io: ioc } = require('socket.io-client');
const { startAgent, waitFor } = require('./helpers/agent');
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

// Starts an example's HTTP + Socket.IO server on a free port; after the suite
// closes the sockets the test made, the server, the client and the agent.
async function listenIo(env, createServer, opts = {}) {
  const { httpServer, io } = createServer({ client: env.client, ...opts });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const sockets = [];
  after(async () => {
    for (const s of sockets) s.close();
    await new Promise((r) => io.close(() => r()));
    env.client.close();
    await env.agent.close();
  });
  return { base: `http://127.0.0.1:${httpServer.address().port}`, sockets };
}

describe('example: push-to-talk', { timeout: 90_000 }, async () => {
  const env = await setup('push-to-talk');
  if (env.skip) return it.skip(env.skip);
  const { base, sockets } = await listenIo(env, require('../examples/push-to-talk/server').createServer);
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
    // All at once: the connect window refills one every 3 s, the talk window one a second.
    const conns = await Promise.all(Array.from({ length: 21 }, () =>
      connect(base, { auth: { token }, extraHeaders: { 'x-forwarded-for': '203.0.113.62' } })));
    for (const c of conns) sockets.push(c.s);
    assert.equal(conns.filter((c) => c.ok).length, 20);
    assert.deepEqual(conns.filter((c) => !c.ok).map((c) => c.err.message), ['rate limited']);
    const s = conns.find((c) => c.ok).s;
    const acks = await Promise.all(Array.from({ length: 61 }, () => s.timeout(3000).emitWithAck('ptt:start', 'ch1')));
    assert.equal(acks.filter((a) => a.ok).length, 60);
    const refused = acks.filter((a) => !a.ok);
    assert.equal(refused.length, 1);
    assert.equal(refused[0].error, 'rate_limited');
    assert.ok(refused[0].retryAfterMs > 0 && refused[0].retryAfterMs <= 1000, `retry ${refused[0].retryAfterMs}`);
    assert.equal(Math.min(...acks.filter((a) => a.ok).map((a) => a.remaining)), 0);
  });
});

describe('example: socket.io events', { timeout: 90_000 }, async () => {
  const env = await setup('socketio-events');
  if (env.skip) return it.skip(env.skip);
  const audit = [];
  const { base: url } = await listenIo(env, require('../examples/socketio-events/server').createServer,
    { audit: (e) => audit.push(e) });

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

describe('example: nestjs api', { timeout: 90_000 }, async () => {
  const env = await setup('nestjs-api');
  if (env.skip) return it.skip(env.skip);
  const { createApp } = require('../examples/nestjs-api/app');
  const app = await createApp({ client: env.client })();
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${app.getHttpServer().address().port}`;
  after(async () => {
    await app.close();
    env.client.close();
    await env.agent.close();
  });
  const call = (p, who, init = {}) => fetch(base + p, { ...init,
    headers: { authorization: `Bearer ${who}`, 'x-forwarded-for': '198.51.100.90' } });

  it('3 per 30 s for a reader, 9 for an owner (x3); the health check is never limited', async () => {
    const burst = async (who, n) => {
      const codes = await Promise.all(Array.from({ length: n }, () => call('/api/profile', who).then((r) => r.status)));
      return codes.filter((c) => c === 200).length;
    };
    assert.equal(await burst('rita:READER', 5), 3);
    assert.equal(await burst('olga:OWNER', 12), 9);
    for (let i = 0; i < 5; i++) assert.equal((await call('/api/health', 'rita:READER')).status, 200);
    const r = await call('/api/profile', 'rita:READER');
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('ratelimit-policy'), '"nest_api";q=3;w=30');
  });

  it('AI tokens: checked before, the actual use charged after, refused once the day\'s budget is spent', async () => {
    // WRITER: 2000 tokens a day; each call uses 10 per prompt character.
    let r = await call('/api/ask?prompt=' + 'x'.repeat(150), 'wes:WRITER', { method: 'POST' });
    assert.equal(r.status, 201);
    assert.deepEqual(await r.json(), { text: `echo: ${'x'.repeat(150)}`, tokens: 1500, used: 1500, reserved: 1,
      charged: 1499, refunded: 0, periodEnded: false, remaining: 500, exhausted: false, retryAfterMs: 0, recorded: true,
      source: 'agent' });
    r = await call('/api/ask?prompt=' + 'y'.repeat(80), 'wes:WRITER', { method: 'POST' });
    const body = await r.json();
    assert.deepEqual([body.tokens, body.charged, body.remaining, body.exhausted], [800, 799, 0, true],
      '800 of 500 left is recorded: the budget goes 300 below zero');
    r = await call('/api/ask?prompt=z', 'wes:WRITER', { method: 'POST' });
    assert.equal(r.status, 429);
    assert.equal((await r.json()).window, 'day');
    r = await call('/api/ask?prompt=z', 'rex:READER', { method: 'POST' });
    assert.equal(r.status, 429, 'readers have no AI budget');
    assert.equal((await r.json()).policy, 'nest_ai_tokens');
    assert.equal(r.headers.get('ratelimit-policy'), null, 'not the guard\'s nest_api quota, which did not refuse');
    assert.equal(r.headers.get('retry-after'), null, 'waiting would not help');
  });
});

describe('example: meeting server', { timeout: 90_000 }, async () => {
  const env = await setup('meeting-server');
  if (env.skip) return it.skip(env.skip);
  const lines = [];
  const { base, sockets } = await listenIo(env, require('../examples/meeting-server/server').createServer,
    { audit: (e) => lines.push(JSON.stringify(e)) });
  const audit = () => lines.map((l) => JSON.parse(l));
  const token = (user, ip) => fetch(`${base}/token`, { method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify({ user }) });
  async function join(user, ip) {
    const { token: t } = await (await token(user, ip)).json();
    const c = await connect(base, { auth: { token: t }, extraHeaders: { 'x-forwarded-for': ip } });
    sockets.push(c.s);
    return c;
  }

  it('tokens: 5 per user AND 8 per address in one decision; the 429 names the violation', async () => {
    const got = [];
    for (const u of ['dan', 'dan', 'dan', 'dan', 'dan', 'dan', 'eve', 'eve', 'eve', 'eve']) {
      const r = await token(u, '198.51.100.70');
      got.push(r.status === 200 ? 200 : (await r.json()).violation);
    }
    assert.deepEqual(got, [200, 200, 200, 200, 200, 'user', 200, 200, 200, 'ip'],
      'dan\'s 6th is his own limit and does not count for the address: eve gets 3 of its 8');
    assert.deepEqual(audit().filter((e) => e.type === 'token_refused').map((e) => e.violation), ['user', 'ip']);
  });

  it('handshakes: 10 new sessions per address a minute, then 403 and an audit line', async () => {
    const res = await Promise.all(Array.from({ length: 11 }, () =>
      connect(base, { transports: ['polling'], extraHeaders: { 'x-forwarded-for': '203.0.113.71' } })));
    for (const c of res) sockets.push(c.s);
    assert.equal(res.filter((c) => c.err?.description === 403).length, 1);
    assert.equal(res.filter((c) => !c.ok && c.err?.description !== 403).length, 10, 'the others get in (and no token)');
    assert.deepEqual(audit().filter((e) => e.type === 'connect_refused').map((e) => [e.key, e.policy]),
      [['203.0.113.71', 'meet_connect']]);
  });

  it('signaling per socket: each event type counted apart, warning at 80 %, disconnect at the limit, RL.CONN.CLOSE', async () => {
    const { s: host, ok } = await join('fay', '198.51.100.72');
    assert.ok(ok);
    const { room } = await host.timeout(3000).emitWithAck('create-room');
    const warned = [];
    const cut = [];
    host.on('slow_down', (w) => warned.push(w));
    host.on('rate_limited', (e) => cut.push(e));
    for (let i = 1; i <= 45; i++) assert.deepEqual(await host.timeout(3000).emitWithAck('ice-candidate', room, i), { ok: true });
    for (let i = 1; i <= 9; i++) assert.deepEqual(await host.timeout(3000).emitWithAck('offer', room, i), { ok: true });
    assert.deepEqual(await host.timeout(3000).emitWithAck('kick', room, 'x'), { ok: true });
    assert.deepEqual(warned, [{ event: 'ice-candidate', eventType: 'ice-candidate', count: 40, limit: 50 },
      { event: 'offer', eventType: 'offer', count: 8, limit: 10 }],
      '45 ICE candidates do not use up the offers: each type has its own limit');
    const gone = once(host, 'disconnect');
    host.emit('offer', room, 10, () => {});
    assert.equal((await gone)[0], 'io server disconnect');
    assert.deepEqual(cut, [{ reason: 'rate limit exceeded', event: 'offer', eventType: 'offer', count: 10, limit: 10 }]);
    const id = audit().find((e) => e.type === 'disconnect').socketId;
    await waitFor(() => audit().filter((e) => e.type === 'close' && e.socketId === id).length === 1, 5000, 'RL.CONN.CLOSE');
    assert.deepEqual(audit().filter((e) => e.type === 'close' && e.socketId === id).map((e) => [e.policy, e.recorded]).sort(),
      [['meet_signal', true]], 'one RL.CONN.CLOSE forgets every type');
    assert.equal((await env.client.event('meet_signal', id, 'offer')).count, 1, 'the agent forgot the socket');
    assert.equal((await env.client.event('meet_signal', id, 'ice-candidate')).count, 1, 'every type of it');
    assert.deepEqual(audit().filter((e) => e.type === 'warn' || e.type === 'disconnect').map((e) => [e.type, e.userId, e.event, e.count]),
      [['warn', 'fay', 'ice-candidate', 40], ['warn', 'fay', 'offer', 8], ['disconnect', 'fay', 'offer', 10]]);
  });

  it('host actions: 3 a minute per socket, the warning with the 2nd, a disconnect at the 3rd', async () => {
    const { s } = await join('gus', '198.51.100.73');
    const { room } = await s.timeout(3000).emitWithAck('create-room');
    const warned = [];
    s.on('slow_down', (w) => warned.push(w));
    assert.deepEqual(await s.timeout(3000).emitWithAck('mute-all', room, null), { ok: true });
    assert.deepEqual(await s.timeout(3000).emitWithAck('kick', room, 'x'), { ok: true });
    assert.deepEqual(warned, [{ event: 'kick', eventType: '*', count: 2, limit: 3 }],
      'the host actions are not named under events: and share the policy\'s own count');
    const gone = once(s, 'disconnect');
    s.emit('end-meeting', room, null, () => {});
    assert.equal((await gone)[0], 'io server disconnect');
  });
});

describe('example: voice endpoints', { timeout: 90_000 }, async () => {
  const env = await setup('voice-endpoints');
  if (env.skip) return it.skip(env.skip);
  const { createApp } = require('../examples/voice-endpoints/server');
  const srv = createApp({ client: env.client }).listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const base = `http://127.0.0.1:${srv.address().port}`;
  after(async () => {
    srv.close();
    env.client.close();
    await env.agent.close();
  });
  const post = (p, body, ip, token) => fetch(base + p, { method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const signIn = async (user, password, ip) => (await (await post('/api/auth/login', { user, password }, ip)).json()).token;

  it('login: 2 free failures, then a wait (429 meanwhile), never a lockout', async () => {
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await post('/api/auth/login', { user: 'ann', password: 'x' }, '198.51.100.80')).status);
    assert.deepEqual(codes, [401, 401, 401]);
    const r = await post('/api/auth/login', { user: 'ann', password: 'opensesame' }, '198.51.100.80');
    assert.equal(r.status, 429);
    const { retryAfterMs } = await r.json();
    assert.ok(retryAfterMs > 0 && retryAfterMs <= 1000, `wait ${retryAfterMs}`);
    await new Promise((res) => setTimeout(res, retryAfterMs + 20));
    assert.match(await signIn('ann', 'opensesame', '198.51.100.80'), /^[0-9a-f]{32}$/);
  });

  it('voice calls: per user AND per address in one decision, sliding windows, the violation type, a 2 min block', async () => {
    const ann = await signIn('ann', 'opensesame', '198.51.100.81');
    const ben = await signIn('ben', 'letmein', '198.51.100.81');
    const call = (token) => post('/api/voice/transcribe', { audio: 'xyz' }, '198.51.100.81', token);
    const got = [];
    for (const t of [ann, ann, ann, ann, ann, ann, ann, ben, ben, ben, ben]) {
      const r = await call(t);
      const b = await r.json();
      got.push(r.status === 200 ? 200 : `${b.error}:${b.violation}`);
      if (r.status === 429) assert.equal(r.headers.get('retry-after'), String(Math.ceil(b.retryAfterMs / 1000)));
      if (b.error === 'temporarily_blocked') assert.ok(b.retryAfterMs > 110_000, `blocked for ~2 min: ${b.retryAfterMs}`);
    }
    // The refusal that goes over starts the block (block_for) at once.
    assert.deepEqual(got, [200, 200, 200, 200, 200, 'temporarily_blocked:user', 'temporarily_blocked:user', 200, 200, 200,
      'temporarily_blocked:ip'], 'ann\'s refusals did not count for the address: ben gets its 6th to 8th');
    const r = await post('/api/voice/synthesize', { text: 'hi' }, '198.51.100.82', ben);
    assert.equal(r.status, 200, 'from another address ben still has 1 of his 5');
  });

  it('assistant: 200 tokens reserved, the actual use charged after (into debt), a failed call refunded', async () => {
    const cy = await signIn('ben', 'letmein', '198.51.100.83');
    const ask = (prompt) => post('/api/voice/assistant', { prompt }, '198.51.100.83', cy);
    const left = async () => (await env.client.check('voice_ai_tokens', 'user:ben', { peek: true })).remaining;
    let r = await ask('x'.repeat(120));
    assert.deepEqual(await r.json(), { text: `echo: ${'x'.repeat(120)}`, tokens: 1200 });
    await waitFor(async () => (await left()) === 800, 5000, '1200 of 2000 charged after the call');
    r = await ask('fail');
    assert.equal(r.status, 502);
    await waitFor(async () => (await left()) === 800, 5000, 'the failed call\'s 200 refunded');
    r = await ask('y'.repeat(100));
    assert.equal(r.status, 200);
    await waitFor(async () => (await env.client.check('voice_ai_tokens', 'user:ben', { peek: true })).allowed === false,
      5000, '1000 of 800 left: 200 below zero');
    r = await ask('z');
    assert.equal(r.status, 429);
    assert.equal((await r.json()).window, 'day');
  });
});

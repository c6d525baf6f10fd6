'use strict';
// Socket.IO against a real floodgated with a real socket.io-client: the
// handshake limiter per address (through trusted proxies), the warning at the
// exact event, the disconnect with its reason, exempt events, RL.CONN.CLOSE,
// the audit hook.
const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { once } = require('node:events');
const { Server } = require('socket.io');
const { io: ioc } = require('socket.io-client');
const { startAgent, waitFor } = require('./helpers/agent');
const CONFIG = require('./helpers/config');
const { Client, connectionLimiter, eventLimiter, handshakeLimiter } = require('..');

describe('socket.io against floodgated', { timeout: 90_000 }, async () => {
  const agent = await startAgent(CONFIG);
  if (agent.skip) return it.skip(agent.skip);
  const client = new Client({ path: agent.socket, logger: null, timeoutMs: 3000 });
  const closers = [];
  after(async () => {
    for (const c of closers) await c();
    client.close();
    await agent.close();
  });

  async function server(setup, serverOpts) {
    const httpServer = http.createServer();
    const io = new Server(httpServer, serverOpts);
    setup(io);
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    closers.push(() => new Promise((r) => io.close(() => r())));
    return `http://127.0.0.1:${httpServer.address().port}`;
  }

  const sockets = [];
  closers.push(async () => { for (const s of sockets) s.close(); });
  function connect(url, opts = {}) {
    const s = ioc(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...opts });
    sockets.push(s);
    return new Promise((resolve) => {
      s.once('connect', () => resolve({ s, ok: true }));
      s.once('connect_error', (err) => resolve({ s, ok: false, err }));
    });
  }

  it('connections: exactly 3 per address, the 4th refused with the wait; another address unaffected', async () => {
    const audit = [];
    const url = await server((io) => io.use(connectionLimiter({ client, policy: 'sio_connect',
      trustProxy: 'loopback', onAudit: (e) => audit.push(e) })));
    const xff = (ip) => ({ extraHeaders: { 'X-Forwarded-For': ip } });
    const res = [];
    for (let i = 0; i < 4; i++) res.push(await connect(url, xff('198.51.100.30')));
    assert.deepEqual(res.map((r) => r.ok), [true, true, true, false]);
    const { err } = res[3];
    assert.equal(err.message, 'rate limited');
    assert.equal(err.data.policy, 'sio_connect');
    assert.ok(err.data.retryAfterMs > 15_000 && err.data.retryAfterMs <= 20_000, `retry ${err.data.retryAfterMs}`);
    assert.equal((await connect(url, xff('198.51.100.31'))).ok, true);
    assert.equal(audit.length, 1);
    assert.equal(audit[0].type, 'connect_refused');
    assert.equal(audit[0].key, '198.51.100.30');
  });

  it('engine.io handshakes (allowRequest): exactly 3 new sessions per address, then HTTP 403 with the wait', async () => {
    const url = await server(() => {}, { allowRequest: handshakeLimiter({ client, policy: 'sio_connect',
      trustProxy: 'loopback' }) });
    const res = [];
    for (let i = 0; i < 4; i++)
      res.push(await connect(url, { transports: ['polling'], extraHeaders: { 'X-Forwarded-For': '198.51.100.35' } }));
    assert.deepEqual(res.map((r) => r.ok), [true, true, true, false]);
    const { err } = res[3];
    assert.equal(err.description, 403);
    const raw = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { 'X-Forwarded-For': '198.51.100.35' } });
    assert.equal(raw.status, 403);
    const body = await raw.json();
    assert.equal(body.code, 4);
    assert.match(body.message, /^rate limited, retry after (1[0-9]|20) s$/);
    // Polling requests of the established sessions were never counted: they still work.
    assert.equal(res[0].s.connected, true);
    assert.equal((await connect(url, { transports: ['polling'], extraHeaders: { 'X-Forwarded-For': '198.51.100.36' } })).ok, true);
  });

  it('handshakes per user AND per address in one decision: the refusal names which, the other is not charged', async () => {
    const audit = [];
    const url = await server(() => {}, { allowRequest: handshakeLimiter({ client, trustProxy: 'loopback',
      keys: { user: { policy: 'per_user', key: (req) => `user:${new URL(req.url, 'http://h').searchParams.get('user')}` },
        ip: { policy: 'per_ip' } }, onAudit: (e) => audit.push(e) }) });
    const hs = (user) => fetch(`${url}/socket.io/?EIO=4&transport=polling&user=${user}`,
      { headers: { 'X-Forwarded-For': '198.51.100.40' } });
    const codes = [];
    for (const u of ['ann', 'ann', 'ann', 'ann', 'bob', 'cid']) {
      const r = await hs(u);
      codes.push(r.status);
      if (r.status === 403) {
        const { message } = await r.json();
        codes.push(/^rate limited \((user|ip)\), retry after [0-9]+ s$/.exec(message)?.[1] ?? message);
      } else await r.text();
    }
    assert.deepEqual(codes, [200, 200, 200, 403, 'user', 200, 403, 'ip'],
      'ann\'s 4th is refused by her own limit and charges the address nothing: bob gets the 4th of 4');
    assert.deepEqual(audit.map((e) => [e.type, e.refused, e.policy, e.key]),
      [['connect_refused', 'user', 'per_user', 'user:ann'], ['connect_refused', 'ip', 'per_ip', '198.51.100.40']]);
    assert.equal((await client.check('per_user', 'user:cid', { peek: true })).remaining, 3);
  });

  it('io.use connections per user AND per address: connect_error data names the refusing key', async () => {
    const url = await server((io) => io.use(connectionLimiter({ client, trustProxy: 'loopback',
      keys: { user: { policy: 'per_user', key: (socket) => `cu:${socket.handshake.auth.user}` }, ip: { policy: 'per_ip' } } })));
    const as = (user) => connect(url, { auth: { user }, extraHeaders: { 'X-Forwarded-For': '198.51.100.45' } });
    const got = [];
    for (const u of ['ann', 'ann', 'ann', 'ann', 'bob', 'cid']) {
      const r = await as(u);
      got.push(r.ok ? 'ok' : `${r.err.message}:${r.err.data.refused}:${r.err.data.policy}`);
    }
    assert.deepEqual(got, ['ok', 'ok', 'ok', 'rate limited:user:per_user', 'ok', 'rate limited:ip:per_ip']);
  });

  it('connections: without trusted proxies a forged X-Forwarded-For does not make a new address', async () => {
    const url = await server((io) => io.use(connectionLimiter({ client, policy: 'blk' })));
    const res = [];
    for (let i = 0; i < 3; i++)
      res.push((await connect(url, { extraHeaders: { 'X-Forwarded-For': `203.0.113.${50 + i}` } })).ok);
    assert.deepEqual(res, [true, true, false]);
  });

  it('events: warning at exactly the 8th of 10, exempt events uncounted, disconnect at the 10th with a reason', async () => {
    const audit = [];
    const closed = [];
    const limiter = eventLimiter({ client, policy: 'socket_events', exempt: ['heartbeat'],
      onAudit: (e) => (e.type === 'close' ? closed.push(e) : audit.push(e)) });
    const url = await server((io) => {
      io.use((socket, next) => {
        socket.data.userId = socket.handshake.auth.user;
        next();
      });
      io.use(limiter.middleware);
      io.on('connection', (socket) => {
        for (const ev of ['msg', 'ping', 'heartbeat']) socket.on(ev, (n, ack) => ack(n));
      });
    });
    const { s, ok } = await connect(url, { auth: { user: 'alice' } });
    assert.ok(ok);
    const warnings = [];
    const exceeded = [];
    const order = [];
    s.on('rate_limit:warning', (w) => { warnings.push(w); order.push('warn'); });
    s.on('rate_limit:exceeded', (e) => { exceeded.push(e); order.push('exceeded'); });
    const disconnected = once(s, 'disconnect');
    for (let i = 1; i <= 20; i++) {
      assert.equal(await s.timeout(3000).emitWithAck('ping', i), i, 'agent-exempt ping');
      assert.equal(await s.timeout(3000).emitWithAck('heartbeat', i), i, 'client-exempt heartbeat');
    }
    for (let i = 1; i <= 9; i++) {
      assert.equal(await s.timeout(3000).emitWithAck('msg', i), i);
      order.push(`ack${i}`);
    }
    assert.deepEqual(warnings, [{ event: 'msg', count: 8, limit: 10 }]);
    assert.deepEqual(order.slice(6, 9), ['ack7', 'warn', 'ack8'], 'the warning comes with the 8th event');
    await assert.rejects(s.timeout(1000).emitWithAck('msg', 10), 'the 10th event is dropped');
    const [reason] = await disconnected;
    assert.equal(reason, 'io server disconnect');
    assert.deepEqual(exceeded, [{ reason: 'rate limit exceeded', event: 'msg', count: 10, limit: 10 }]);
    assert.deepEqual(audit.map((e) => [e.type, e.userId, e.event, e.count, e.limit]),
      [['warn', 'alice', 'msg', 8, 10], ['disconnect', 'alice', 'msg', 10, 10]]);
    assert.equal(audit[0].socketId, s.id ?? audit[0].socketId);
    // RL.CONN.CLOSE on disconnect: the agent forgot the socket's count.
    await waitFor(() => closed.length === 1, 5000, 'RL.CONN.CLOSE');
    assert.equal(closed[0].recorded, true);
    const again = await client.event('socket_events', audit[0].socketId, 'msg');
    assert.equal(again.count, 1);
  });

  it('events sent at once: the 9 allowed reach the handler in order, only the 10th is dropped', async () => {
    const handled = [];
    const limiter = eventLimiter({ client, policy: 'socket_events' });
    const url = await server((io) => {
      io.use(limiter.middleware);
      io.on('connection', (socket) => socket.on('msg', (n) => handled.push(n)));
    });
    const { s } = await connect(url);
    const exceeded = [];
    s.on('rate_limit:exceeded', (e) => exceeded.push(e));
    const disconnected = once(s, 'disconnect');
    for (let i = 1; i <= 10; i++) s.emit('msg', i); // one batch: no gap between them
    assert.equal((await disconnected)[0], 'io server disconnect');
    assert.deepEqual(handled, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(exceeded, [{ reason: 'rate limit exceeded', event: 'msg', count: 10, limit: 10 }]);
  });

  it('an event name longer than the agent takes cuts that socket alone; the shared connection stays', async () => {
    const audit = [];
    const limiter = eventLimiter({ client, policy: 'socket_events', onAudit: (e) => audit.push(e) });
    const url = await server((io) => {
      io.use(limiter.middleware);
      io.on('connection', (socket) => socket.onAny((ev, n, ack) => ack?.(n)));
    }, { maxHttpBufferSize: 4 * 1024 * 1024 });
    const { s: bad } = await connect(url);
    const { s: good } = await connect(url);
    const disconnected = once(bad, 'disconnect');
    const before = client.stats();
    bad.emit('x'.repeat(2 * 1024 * 1024), 1, () => {});
    assert.equal(await good.timeout(3000).emitWithAck('msg', 1), 1);
    assert.equal((await disconnected)[0], 'io server disconnect');
    assert.equal(await good.timeout(3000).emitWithAck('msg', 2), 2);
    const err = audit.find((e) => e.type === 'error')?.error;
    assert.equal(err?.code, 'EFGARG', String(err));
    assert.equal(err.argument, 'event name');
    const after = client.stats();
    assert.deepEqual([after.protocol_errors, after.reconnects], [before.protocol_errors, before.reconnects]);
  });

  it('per-event-type policies: each type counts in its own policy', async () => {
    const limiter = eventLimiter({ client, policyFor: (ev) => (ev === 'offer' ? 'socket_events' : null) });
    const url = await server((io) => {
      io.use(limiter.middleware);
      io.on('connection', (socket) => {
        for (const ev of ['offer', 'chat']) socket.on(ev, (n, ack) => ack(n));
      });
    });
    const { s } = await connect(url);
    for (let i = 0; i < 30; i++) await s.timeout(3000).emitWithAck('chat', i);
    for (let i = 1; i <= 9; i++) await s.timeout(3000).emitWithAck('offer', i);
    const disconnected = once(s, 'disconnect');
    s.emit('offer', 10, () => {});
    assert.equal((await disconnected)[0], 'io server disconnect');
  });

  it('failure policy deny while the agent is unreachable: sockets are cut at their first event', async () => {
    const dead = new Client({ path: '/nonexistent/fg.sock', failure: 'deny', logger: null });
    closers.push(async () => dead.close());
    const limiter = eventLimiter({ client: dead, policy: 'socket_events' });
    const url = await server((io) => {
      io.use(limiter.middleware);
      io.on('connection', (socket) => socket.on('msg', (n, ack) => ack(n)));
    });
    const { s } = await connect(url);
    const disconnected = once(s, 'disconnect');
    s.emit('msg', 1, () => {});
    assert.equal((await disconnected)[0], 'io server disconnect');
  });
});

'use strict';
// The client against a real floodgated: exact decisions, typed results,
// pipelining, errors, and the failure policies with the agent stopped and
// started again.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { startAgent } = require('./helpers/agent');
const CONFIG = require('./helpers/config');
const { Client, FloodgateCommandError, FloodgateUnavailableError, FloodgateArgumentError } = require('..');

let agent;
const clients = [];
function client(opts = {}) {
  // A generous timeout: these tests are about decisions, and the machine is shared.
  const c = new Client({ path: agent.socket, logger: null, timeoutMs: 3000, ...opts });
  clients.push(c);
  return c;
}

describe('client against floodgated', { timeout: 90_000 }, async () => {
  const a = await startAgent(CONFIG);
  if (a.skip) return it.skip(a.skip);
  agent = a;
  after(async () => {
    for (const c of clients) c.close();
    await agent.close();
  });

  it('the agent under test: app-only and unprivileged when the binary has --app-only', (t) => {
    if (!agent.appOnly) return t.skip('floodgated without --app-only: run as root in a namespace');
    const uid = /^Uid:\s+(\d+)/m.exec(require('node:fs').readFileSync(`/proc/${agent.proc.pid}/status`, 'utf8'))[1];
    assert.notEqual(Number(uid), 0, 'not root');
    if (process.getuid() === 0) assert.equal(Number(uid), 65534, 'nobody');
    return undefined;
  });

  it('window: exactly 5 allowed, then refused with the wait, nothing charged by refusals', async () => {
    const c = client();
    const rs = [];
    for (let i = 0; i < 7; i++) rs.push(await c.check('api', 'u:exact'));
    assert.deepEqual(rs.map((r) => r.allowed), [true, true, true, true, true, false, false]);
    assert.deepEqual(rs.map((r) => r.remaining), [4, 3, 2, 1, 0, 0, 0]);
    assert.deepEqual(rs.map((r) => r.state), ['ok', 'ok', 'ok', 'warn', 'warn', 'deny', 'deny']);
    const last = rs[6];
    assert.equal(last.limit, 5);
    assert.equal(last.window, '1m');
    assert.equal(last.refusedKey, 'u:exact');
    assert.equal(last.source, 'agent');
    assert.ok(last.retryAfterMs > 6_000 && last.retryAfterMs <= 12_000, `retry ${last.retryAfterMs}`);
    assert.ok(last.resetMs > 54_000 && last.resetMs <= 60_000, `reset ${last.resetMs}`);
    assert.equal(rs[0].refusedKey, null);
  });

  it('cost, role and peek', async () => {
    const c = client();
    const p = await c.check('api', 'u:peek', { peek: true });
    assert.equal(p.remaining, 5);
    assert.equal((await c.check('api', 'u:peek', { cost: 3 })).remaining, 2);
    assert.equal((await c.check('api', 'u:peek', { cost: 3 })).allowed, false);
    const o = await c.check('api', 'u:owner', { role: 'OWNER' });
    assert.equal(o.limit, 10);
    assert.equal(o.remaining, 9);
  });

  it('a usage error rejects with the agent\'s message, never a decision', async () => {
    const c = client();
    await assert.rejects(c.check('nosuch', 'k'), (e) => e instanceof FloodgateCommandError &&
      /unknown policy/.test(e.message));
    await assert.rejects(c.check('api', 'k', { role: 'NOSUCH' }), /unknown role/);
    await assert.rejects(c.check('api', 'k', { cost: -1 }), TypeError);
    // The connection still works afterwards.
    assert.equal((await c.check('api', 'u:after-error')).allowed, true);
  });

  it('pipelining: 300 calls at once come back each to its caller', async () => {
    const c = client();
    const keys = Array.from({ length: 100 }, (_, i) => `u:pipe${i}`);
    const rs = await Promise.all(keys.flatMap((k) => [c.check('api', k), c.check('api', k, { cost: 2 }),
      c.check('api', k, { peek: true })]));
    for (let i = 0; i < 100; i++) {
      assert.equal(rs[3 * i].key, keys[i]);
      assert.deepEqual([rs[3 * i].remaining, rs[3 * i + 1].remaining, rs[3 * i + 2].remaining], [4, 2, 2]);
    }
    assert.equal(c.stats().agent, 300);
  });

  it('calls made just before close() are sent and answered by the agent', async () => {
    // Commands leave in one write after the poll phase: close() must send
    // what is waiting before it ends the connection.
    const c = client();
    await once(c, 'connect');
    const calls = [c.check('api', 'u:closing'), c.check('api', 'u:closing')];
    c.close();
    const rs = await Promise.all(calls);
    assert.deepEqual(rs.map((r) => [r.source, r.remaining]), [['agent', 4], ['agent', 3]]);
  });

  it('progressive auth: 0, 0, 1 s, 2 s, 4 s, 4 s; check waits; ok forgets', async () => {
    const c = client();
    const d = [];
    for (let i = 0; i < 6; i++) d.push((await c.authFail('login', 'ip:192.0.2.9')).delayMs);
    assert.deepEqual(d, [0, 0, 1000, 2000, 4000, 4000]);
    const w = await c.authCheck('login', 'ip:192.0.2.9');
    assert.equal(w.failures, 6);
    assert.ok(w.waitMs > 2000 && w.waitMs <= 4000, `wait ${w.waitMs}`);
    assert.equal(await c.authOk('login', 'ip:192.0.2.9'), true);
    assert.deepEqual(await c.authCheck('login', 'ip:192.0.2.9'),
      { policy: 'login', key: 'ip:192.0.2.9', waitMs: 0, failures: 0, source: 'agent' });
  });

  it('events: warn at the 8th of 10, disconnect from the 10th, exempt not counted, close resets', async () => {
    const c = client();
    const s = [];
    for (let i = 0; i < 11; i++) s.push((await c.event('socket_events', 'conn1', 'msg')).state);
    assert.deepEqual(s, ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'warn', 'ok', 'disconnect', 'disconnect']);
    const ex = await c.event('socket_events', 'conn1', 'ping');
    assert.deepEqual([ex.state, ex.count, ex.limit], ['exempt', 11, 10]);
    assert.equal(await c.connClose('socket_events', 'conn1'), true);
    assert.deepEqual((await c.event('socket_events', 'conn1', 'msg')).count, 1);
  });

  it('block, unblock, reset', async () => {
    const c = client();
    assert.equal(await c.block('blk', 'u:b', 30), true);
    const r = await c.check('blk', 'u:b');
    assert.equal(r.state, 'blocked');
    assert.equal(r.allowed, false);
    assert.ok(r.retryAfterMs > 25_000 && r.retryAfterMs <= 30_000, `retry ${r.retryAfterMs}`);
    await c.unblock('blk', 'u:b');
    assert.equal((await c.check('blk', 'u:b')).allowed, true);
    assert.equal((await c.check('blk', 'u:b')).allowed, true);
    assert.equal((await c.check('blk', 'u:b')).allowed, false);
    await c.reset('blk', 'u:b');
    assert.equal((await c.check('blk', 'u:b')).remaining, 1);
  });

  it('budget: cost charged until the amount is spent', async () => {
    const c = client();
    assert.equal((await c.check('tokens', 'u:t', { cost: 60 })).remaining, 40);
    const r = await c.check('tokens', 'u:t', { cost: 41 });
    assert.equal(r.allowed, false);
    assert.equal(r.window, 'day');
    assert.equal((await c.check('tokens', 'u:t', { cost: 40 })).remaining, 0);
  });

  it('several keys in one decision (RL.CHECKM): the binding pair, the refusing index, nothing charged on refusal', async () => {
    const c = client();
    const pairs = [['per_user', 'cu:1'], { policy: 'per_ip', key: '198.51.100.200' }];
    let m = await c.checkMulti(pairs);
    assert.deepEqual([m.allowed, m.policy, m.key, m.bindingIndex, m.refusedIndex, m.refusedKey, m.limit, m.remaining,
      m.source], [true, 'per_user', 'cu:1', 0, -1, null, 3, 2, 'agent']);
    m = await c.checkMulti(pairs, { cost: 2 });
    assert.deepEqual([m.allowed, m.remaining, m.policy], [true, 0, 'per_user']);
    m = await c.checkMulti([['per_ip', '198.51.100.200'], ['per_user', 'cu:1']]);
    assert.deepEqual([m.allowed, m.state, m.policy, m.refusedIndex, m.refusedKey], [false, 'deny', 'per_user', 1, 'cu:1']);
    assert.ok(m.retryAfterMs > 50_000, `retry ${m.retryAfterMs}`);
    assert.equal((await c.check('per_ip', '198.51.100.200', { peek: true })).remaining, 1, 'the refusal charged no pair');
    await assert.rejects(c.checkMulti([]), TypeError);
    await assert.rejects(c.checkMulti([['per_user', '']]), /pair 0 needs a policy and a key/);
    await assert.rejects(c.checkMulti([['nosuch', 'k']]), FloodgateCommandError);
  });

  it('charge after use (RL.CHARGE) may go below zero; RL.REFUND gives back', async () => {
    const c = client();
    let r = await c.charge('tokens', 'u:ch', 150);
    assert.deepEqual([r.recorded, r.allowed, r.state, r.remaining, r.amount, r.source], [true, false, 'deny', 0, 150, 'agent']);
    assert.ok(r.retryAfterMs > 0 && r.retryAfterMs <= 2 * 86_400_000, 'the next day pays the debt');
    r = await c.refund('tokens', 'u:ch', 100);
    assert.deepEqual([r.allowed, r.remaining], [true, 50]);
    await assert.rejects(c.charge('per_user', 'x', 1), /window policy/);
    await assert.rejects(c.charge('tokens', 'x', -1), TypeError);
  });

  // Failure policies: the agent is stopped, each client decides as declared,
  // and once the agent is back every client is back on it.
  it('an oversized argument is refused for that call alone; the calls in flight are the agent\'s', async () => {
    const c = client({ failure: 'allow' });
    const big = 'x'.repeat(2 * 1024 * 1024);
    const inFlight = Array.from({ length: 20 }, (_, i) => c.check('api', `u:big:${i}`));
    const refused = [
      c.event('socket_events', 'conn:big', big),
      c.event('socket_events', big, 'msg'),
      c.check('api', big),
      c.check('api', 'u:big', { role: big }),
      c.checkMulti([['api', 'u:big'], ['blk', big]]),
      c.authCheck('login', big),
      c.authFail('login', big),
      c.authOk(big, 'u:big'),
      c.charge('tokens', big, 1),
      c.connClose('socket_events', big),
      c.block('blk', big, 5),
    ];
    inFlight.push(...Array.from({ length: 20 }, (_, i) => c.check('api', `u:big2:${i}`)));
    for (const p of refused) {
      const err = await p.then(() => null, (e) => e);
      assert.ok(err instanceof FloodgateArgumentError, `refused by the client: ${err}`);
      assert.equal(err.code, 'EFGARG');
    }
    const rs = await Promise.all(inFlight);
    assert.deepEqual(new Set(rs.map((r) => r.source)), new Set(['agent']), 'none decided by the failure policy');
    assert.deepEqual([c.stats().protocol_errors, c.stats().reconnects, c.stats().failure_allow], [0, 0, 0]);
    // The documented limits, exactly: a key of 512 bytes and an event name of 63 reach the agent.
    assert.equal((await c.check('api', 'k'.repeat(512))).source, 'agent');
    await assert.rejects(c.check('api', 'k'.repeat(513)), /key .*513 bytes.*at most 512/);
    assert.equal((await c.check('api', 'é'.repeat(256))).source, 'agent', '512 bytes of UTF-8');
    await assert.rejects(c.check('api', `${'é'.repeat(256)}k`), FloodgateArgumentError);
    assert.equal((await c.event('socket_events', 'conn:big', 'e'.repeat(63))).source, 'agent');
    await assert.rejects(c.event('socket_events', 'conn:big', 'e'.repeat(64)), /event name .*64 bytes.*at most 63/);
  });

  it('failure policies with the agent stopped and restarted', async () => {
    const allow = client({ failure: 'allow' });
    const deny = client({ failure: 'deny', denyRetryAfterMs: 1500 });
    const ins = client({ failure: 'insurance',
      insurance: { policies: { api: { window: { count: 3, perMs: 60_000 } } } } });
    const events = [];
    ins.on('degraded', (e) => events.push(['degraded', e.failure]));
    ins.on('recovered', () => events.push(['recovered']));
    const fallbacks = [];
    ins.on('fallback', (e) => fallbacks.push(e.source));
    for (const c of [allow, deny, ins]) assert.equal(await c.ping(), true);

    await agent.stop();
    const a = await allow.check('api', 'u:down');
    assert.deepEqual([a.allowed, a.source], [true, 'failure_allow']);
    const d = await deny.check('api', 'u:down');
    assert.deepEqual([d.allowed, d.source, d.retryAfterMs], [false, 'failure_deny', 1500]);
    assert.equal((await deny.event('socket_events', 'c', 'msg')).state, 'disconnect');
    const got = [];
    for (let i = 0; i < 5; i++) got.push((await ins.check('api', 'u:down')).allowed);
    assert.deepEqual(got, [true, true, true, false, false], 'insurance: its own 3 per minute');
    assert.equal((await ins.check('api', 'u:down')).source, 'insurance');
    assert.deepEqual(events, [['degraded', 'insurance']]);
    assert.equal(fallbacks.length, 6);
    assert.equal(ins.stats().insurance, 6);
    await assert.rejects(ins.block('api', 'u:down', 5), FloodgateUnavailableError);
    // Several keys from the insurance limiter, all or nothing as the agent decides them.
    for (let i = 0; i < 3; i++) assert.equal((await ins.checkMulti([['api', 'm:a'], ['api', 'm:b']])).allowed, true);
    const m = await ins.checkMulti([['api', 'm:c'], ['api', 'm:a']]);
    assert.deepEqual([m.allowed, m.refusedIndex, m.refusedKey, m.source], [false, 1, 'm:a', 'insurance']);
    assert.equal((await ins.check('api', 'm:c')).remaining, 2, 'the refusal charged m:c nothing');
    const ch = await ins.charge('api', 'm:d', 3);
    assert.deepEqual([ch.recorded, ch.source, ch.allowed], [false, 'insurance', false], 'a charge the insurance keeps');
    assert.equal((await ins.refund('api', 'm:d', 1)).allowed, true);
    assert.equal((await deny.checkMulti([['api', 'x'], ['api', 'y']])).refusedIndex, 0);
    assert.equal((await allow.charge('tokens', 'x', 5)).recorded, false);

    assert.equal(await ins.connClose('socket_events', 'c'), false);

    await agent.start();
    // It may be back already (its retry can land while start() still polls).
    if (ins.degraded) await once(ins, 'recovered');
    assert.deepEqual(events, [['degraded', 'insurance'], ['recovered']]);
    for (const c of [allow, deny]) if (c.state !== 'ready') await once(c, 'connect');
    for (const c of [allow, deny, ins]) {
      const r = await c.check('api', 'u:back');
      assert.equal(r.source, 'agent');
    }
    // The restarted agent started from empty state: 5 per minute again.
    assert.equal((await allow.check('api', 'u:back')).remaining, 1);
  });
});

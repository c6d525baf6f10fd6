'use strict';
// The Express middleware and the login helper against a real floodgated, over
// real HTTP: exact counts, the draft's headers parsed strictly, proxies, IPv6
// prefixes, hooks, failure policies and login slowdowns.
const { describe, it, after, test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const os = require('node:os');
const express = require('express');
const { startAgent, waitFor } = require('./helpers/agent');
const CONFIG = require('./helpers/config');
const { checkPolicyField, checkLimitField } = require('./helpers/sf');
const { Client, rateLimit, progressiveLogin, budget } = require('..');

const servers = [];
const clients = [];

async function serve(app) {
  const srv = app.listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  servers.push(srv);
  return `http://127.0.0.1:${srv.address().port}`;
}

function get(base, p, xff, init = {}) {
  return fetch(base + p, { ...init, headers: { ...(xff ? { 'X-Forwarded-For': xff } : {}), ...(init.headers ?? {}) } });
}

describe('express middleware against floodgated', { timeout: 90_000 }, async () => {
  const agent = await startAgent(CONFIG);
  if (agent.skip) return it.skip(agent.skip);
  const client = new Client({ path: agent.socket, logger: null, timeoutMs: 3000 });
  clients.push(client);
  after(async () => {
    for (const s of servers) s.close();
    for (const c of clients) c.close();
    await agent.close();
  });

  function app(limiterOpts, setup) {
    const a = express();
    setup?.(a);
    a.get('/r', rateLimit({ client, policy: 'api', ...limiterOpts }), (req, res) =>
      res.json({ ok: true, remaining: req.rateLimit?.remaining }));
    return serve(a);
  }

  it('exactly 5 requests pass, then 429 with Retry-After, a JSON body and the draft headers', async () => {
    const base = await app({}, (a) => a.set('trust proxy', 'loopback'));
    const codes = [];
    const seen = [];
    for (let i = 0; i < 7; i++) {
      const r = await get(base, '/r', '198.51.100.10');
      codes.push(r.status);
      const pol = checkPolicyField(r.headers.get('ratelimit-policy'));
      const lim = checkLimitField(r.headers.get('ratelimit'));
      assert.deepEqual(pol, [{ id: 'api', q: 5, w: 60 }]);
      assert.equal(lim[0].id, 'api');
      assert.ok(lim[0].t >= 1 && lim[0].t <= 60, `t=${lim[0].t}`);
      seen.push(lim[0].r);
      if (r.status === 429) {
        const body = await r.json();
        assert.equal(body.error, 'rate_limited');
        assert.equal(body.policy, 'api');
        assert.ok(body.retryAfterMs > 6_000 && body.retryAfterMs <= 12_000, `retry ${body.retryAfterMs}`);
        assert.equal(r.headers.get('retry-after'), String(Math.ceil(body.retryAfterMs / 1000)));
        assert.match(r.headers.get('content-type'), /^application\/json/);
      } else {
        assert.equal(r.headers.get('retry-after'), null);
        await r.json();
      }
    }
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 429, 429]);
    assert.deepEqual(seen, [4, 3, 2, 1, 0, 0, 0]);
  });

  it('without trust proxy, X-Forwarded-For is not the key (no bucket per forged header)', async () => {
    const base = await app({ policy: 'blk' });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await get(base, '/r', `203.0.113.${i + 1}`)).status);
    assert.deepEqual(codes, [200, 200, 429]);
  });

  it('IPv6 keyed by /64 when asked: two addresses of one /64 share a bucket, another /64 does not', async () => {
    const b64 = await app({ policy: 'blk', ipv6Prefix: 64 }, (a) => a.set('trust proxy', 'loopback'));
    const seq = [];
    for (const ip of ['2001:db8:1:2::5', '2001:db8:1:2:ffff::6', '2001:db8:1:2::7', '2001:db8:1:3::1'])
      seq.push((await get(b64, '/r', ip)).status);
    assert.deepEqual(seq, [200, 200, 429, 200]);
    const b128 = await app({ policy: 'blk' }, (a) => a.set('trust proxy', 'loopback'));
    const seq2 = [];
    for (const ip of ['2001:db8:9:2::5', '2001:db8:9:2::6', '::ffff:198.51.100.99', '198.51.100.99', '198.51.100.99'])
      seq2.push((await get(b128, '/r', ip)).status);
    assert.deepEqual(seq2, [200, 200, 200, 200, 429], 'an IPv4-mapped address is the IPv4 address');
  });

  it('legacy X-RateLimit-* headers as an option', async () => {
    const base = await app({ legacyHeaders: true, headers: false }, (a) => a.set('trust proxy', 'loopback'));
    const r = await get(base, '/r', '198.51.100.20');
    assert.equal(r.headers.get('x-ratelimit-limit'), '5');
    assert.equal(r.headers.get('x-ratelimit-remaining'), '4');
    const reset = Number(r.headers.get('x-ratelimit-reset'));
    const now = Date.now() / 1000;
    assert.ok(reset > now + 10 && reset <= Math.ceil(now) + 61, `reset ${reset} vs now ${now}`);
    assert.equal(r.headers.get('ratelimit'), null);
    assert.equal(r.headers.get('ratelimit-policy'), null);
  });

  it('key, cost and role functions; skip and handler hooks', async () => {
    const base = await app({
      key: (req) => `user:${req.get('x-user')}`,
      role: (req) => req.get('x-role'),
      cost: (req) => Number(req.get('x-cost') ?? 1),
      skip: (req) => req.get('x-skip') === '1',
      handler: (req, res, _next, result) => res.status(503).json({ mine: true, refused: result.refusedKey }),
    });
    let r = await get(base, '/r', null, { headers: { 'x-user': 'k1', 'x-role': 'OWNER' } });
    assert.deepEqual(checkPolicyField(r.headers.get('ratelimit-policy')), [{ id: 'api', q: 10, w: 60 }]);
    assert.equal((await r.json()).remaining, 9);
    r = await get(base, '/r', null, { headers: { 'x-user': 'k1', 'x-role': 'OWNER', 'x-cost': '9' } });
    assert.equal((await r.json()).remaining, 0);
    r = await get(base, '/r', null, { headers: { 'x-user': 'k1', 'x-role': 'OWNER', 'x-skip': '1' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('ratelimit'), null, 'skipped: not counted, no headers');
    r = await get(base, '/r', null, { headers: { 'x-user': 'k1', 'x-role': 'OWNER' } });
    assert.equal(r.status, 503);
    assert.deepEqual(await r.json(), { mine: true, refused: 'user:k1' });
  });

  it('a usage error (unknown policy) is an error response, never a pass', async () => {
    const a = express();
    a.get('/r', rateLimit({ client, policy: 'nosuch' }), (req, res) => res.send('through'));
    const base = await serve(a);
    const r = await get(base, '/r');
    assert.equal(r.status, 500);
    assert.notEqual(await r.text(), 'through');
  });

  it('failure policies when the agent cannot be reached: allow, deny, insurance', async () => {
    const gone = path.join(os.tmpdir(), `fgn-none-${process.pid}.sock`);
    const mk = (failure, extra) => {
      const c = new Client({ path: gone, failure, logger: null, ...extra });
      clients.push(c);
      return c;
    };
    const a = express();
    a.get('/allow', rateLimit({ client: mk('allow'), policy: 'api' }), (q, s) => s.send('ok'));
    a.get('/deny', rateLimit({ client: mk('deny', { denyRetryAfterMs: 1500 }), policy: 'api' }), (q, s) => s.send('ok'));
    a.get('/ins', rateLimit({ client: mk('insurance', { insurance: { default: { window: { count: 2, perMs: 60_000 } } } }),
      policy: 'api' }), (q, s) => s.send('ok'));
    const insured = mk('insurance', { insurance: { default: { window: { count: 100, perMs: 60_000 } } } });
    const b = budget({ client: insured, policy: 'tokens', estimate: 10 });
    a.get('/budget', b.check, async (req, res) => res.json(await req.floodgateBudget.charge(150)));
    const base = await serve(a);
    const bud = await get(base, '/budget');
    assert.equal(bud.status, 200);
    const spent = await bud.json();
    assert.deepEqual([spent.recorded, spent.source, spent.charged, spent.exhausted], [false, 'insurance', 150, true],
      'the insurance limiter takes the whole use (the agent holds no reservation) and refuses the next');
    assert.equal((await get(base, '/budget')).status, 429);
    const al = await get(base, '/allow');
    assert.equal(al.status, 200);
    assert.equal(al.headers.get('ratelimit'), null, 'no limit known: no headers');
    const de = await get(base, '/deny');
    assert.equal(de.status, 429);
    assert.equal(de.headers.get('retry-after'), '2');
    const codes = [];
    for (let i = 0; i < 3; i++) {
      const r = await get(base, '/ins');
      codes.push(r.status);
      if (i === 0) assert.deepEqual(checkPolicyField(r.headers.get('ratelimit-policy')), [{ id: 'api', q: 2, w: 60 }]);
    }
    assert.deepEqual(codes, [200, 200, 429]);
  });

  it('progressive login: 2 free failures, then 429 with the wait, let through after it, ok forgets', async () => {
    const login = progressiveLogin({ client, policy: 'login' });
    const a = express();
    a.set('trust proxy', 'loopback');
    a.use(express.json());
    a.post('/login', login.check, async (req, res) => {
      if (req.body.password === 'right') {
        await req.floodgateLogin.ok();
        return res.json({ ok: true });
      }
      const f = await req.floodgateLogin.fail();
      res.status(401).json({ ok: false, delayMs: f.delayMs });
    });
    const base = await serve(a);
    const post = (password) => get(base, '/login', '198.51.100.77', {
      method: 'POST', body: JSON.stringify({ password }), headers: { 'content-type': 'application/json' } });

    const delays = [];
    for (let i = 0; i < 3; i++) {
      const r = await post('wrong');
      assert.equal(r.status, 401);
      delays.push((await r.json()).delayMs);
    }
    assert.deepEqual(delays, [0, 0, 1000]);
    let r = await post('right');
    assert.equal(r.status, 429, 'during the wait even the right password waits');
    assert.equal(r.headers.get('retry-after'), '1');
    const body = await r.json();
    assert.equal(body.error, 'too_many_attempts');
    assert.ok(body.retryAfterMs > 0 && body.retryAfterMs <= 1000, `wait ${body.retryAfterMs}`);
    await new Promise((res) => setTimeout(res, body.retryAfterMs + 50)); // measured by the agent before the reply: waiting it from here is enough
    r = await post('wrong');
    assert.equal(r.status, 401, 'never a lockout: after the wait the attempt is made');
    assert.equal((await r.json()).delayMs, 2000);
    assert.equal(r.headers.get('retry-after'), '2');
    const w = await client.authCheck('login', '198.51.100.77');
    await new Promise((res) => setTimeout(res, w.waitMs + 20));
    r = await post('right');
    assert.equal(r.status, 200);
    assert.deepEqual(await client.authCheck('login', '198.51.100.77'),
      { policy: 'login', key: '198.51.100.77', waitMs: 0, failures: 4, source: 'agent' },
      'keyed by address, a success forgets nothing: another account\'s login from the address would wipe them');
  });

  // The login page behind the helper: the password check takes a while (as a
  // real hash does), and the app counts how many attempts reached it.
  async function loginApp(opts, handler, checkMs = 50) {
    const login = progressiveLogin({ client, policy: 'login', ...opts });
    const a = express();
    a.set('trust proxy', 'loopback');
    a.use(express.json());
    const reached = [];
    a.post('/login', login.check, async (req, res) => {
      reached.push(req.body.user);
      if (handler) return handler(req, res);
      await new Promise((r) => setTimeout(r, checkMs));
      if (req.body.password === 'right') {
        await req.floodgateLogin.ok();
        return res.json({ ok: true });
      }
      const f = await req.floodgateLogin.fail();
      return res.status(401).json({ ok: false, delayMs: f.delayMs });
    });
    const base = await serve(a);
    const post = (ip, user, password) => get(base, '/login', ip, {
      method: 'POST', body: JSON.stringify({ user, password }), headers: { 'content-type': 'application/json' } });
    return { post, reached };
  }

  it('progressive login: 200 parallel guesses for one key, one reaches the password check, the rest 429', async () => {
    // A slow password check (1.5 s): every guess arrives while the first is in it.
    const { post, reached } = await loginApp({}, null, 1500);
    const rs = await Promise.all(Array.from({ length: 200 }, () => post('198.51.100.78', 'victim', 'wrong')));
    const codes = rs.map((r) => r.status);
    assert.equal(reached.length, 1, `attempts that reached the password check: ${reached.length}`);
    assert.equal(codes.filter((c) => c === 401).length, 1);
    assert.equal(codes.filter((c) => c === 429).length, 199);
    const refused = rs.find((r) => r.status === 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    const body = await refused.json();
    assert.equal(body.error, 'too_many_attempts');
    assert.equal(body.retryAfterMs, 1000);
    // Another key is not held up by this one's attempt in flight.
    const [x, y] = await Promise.all([post('198.51.100.79', 'a', 'right'), post('198.51.100.80', 'b', 'right')]);
    assert.deepEqual([x.status, y.status], [200, 200]);
  });

  it('progressive login: an attempt that never calls ok() or fail() frees its key when the response ends', async () => {
    let mode = 'throw';
    const { post, reached } = await loginApp({ key: (req) => `user:${req.body.user}` }, async (req, res) => {
      if (mode === 'throw') throw new Error('the password store is down');
      if (mode === 'end') return res.status(503).json({ error: 'try later' });
      await req.floodgateLogin.ok();
      return res.json({ ok: true });
    });
    assert.equal((await post('198.51.100.81', 'carol', 'x')).status, 500);
    mode = 'end';
    assert.equal((await post('198.51.100.81', 'carol', 'x')).status, 503);
    mode = 'ok';
    assert.equal((await post('198.51.100.81', 'carol', 'x')).status, 200, 'the key is not locked');
    assert.equal(reached.length, 3);
  });

  it('progressive login keyed by address: a correct login of another account does not wipe the address\'s failures', async () => {
    const { post } = await loginApp({});
    const delays = [];
    // The attacker's own account, logged in between guesses at a victim's, from one address.
    for (const [user, password] of [['victim', 'wrong'], ['victim', 'wrong'], ['mallory', 'right'], ['victim', 'wrong']]) {
      const r = await post('198.51.100.82', user, password);
      delays.push(r.status === 200 ? 'ok' : (await r.json()).delayMs);
    }
    assert.deepEqual(delays, [0, 0, 'ok', 1000], 'the third failure of the address waits');
    assert.equal((await client.authCheck('login', '198.51.100.82')).failures, 3);
    assert.throws(() => progressiveLogin({ client, policy: 'login', vouch: true }), /vouch needs \{ key \}/,
      'RL.AUTH.OK ... ADDR would forget the address\'s failures');
  });

  it('progressive login keyed by the account: ok() forgets that account\'s failures', async () => {
    const { post } = await loginApp({ key: (req) => `user:${req.body.user}` });
    const delays = [];
    for (const password of ['wrong', 'wrong', 'right', 'wrong']) {
      const r = await post('198.51.100.83', 'dave', password);
      delays.push(r.status === 200 ? 'ok' : (await r.json()).delayMs);
    }
    assert.deepEqual(delays, [0, 0, 'ok', 0]);
    assert.equal((await client.authCheck('login', 'user:dave')).failures, 1);
  });

  it('user AND ip in one decision: the refusing key is named, the other is not charged', async () => {
    const seen = [];
    const a = express();
    a.set('trust proxy', 'loopback');
    a.get('/k', rateLimit({ client, keys: { user: { policy: 'per_user', key: (req) => `user:${req.get('x-user')}` },
      ip: { policy: 'per_ip' } } }), (req, res) => res.json({ binding: req.rateLimit.binding, keys: req.rateLimit.keys }));
    a.get('/h', rateLimit({ client, policy: 'per_ip', keys: { user: (req) => `hu:${req.get('x-user')}`, ip: {} },
      handler: (req, res, _n, r) => { seen.push(r); res.status(429).json({ violation: r.refused }); } }), (req, res) => res.send('ok'));
    const base = await serve(a);
    const as = (p, user, ip) => get(base, p, ip, { headers: { 'x-user': user } });
    let r = await as('/k', 'u1', '198.51.100.120');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { binding: 'user', keys: { user: 'user:u1', ip: '198.51.100.120' } });
    assert.deepEqual(checkPolicyField(r.headers.get('ratelimit-policy')), [{ id: 'per_user', q: 3, w: 60 }],
      'the binding pair (least remaining) names the headers');
    for (let i = 0; i < 2; i++) assert.equal((await as('/k', 'u1', '198.51.100.120')).status, 200);
    r = await as('/k', 'u1', '198.51.100.120');
    assert.equal(r.status, 429);
    let body = await r.json();
    assert.deepEqual([body.refused, body.policy], ['user', 'per_user']);
    assert.ok(body.retryAfterMs > 50_000, `sliding: the oldest of 3 leaves after ~60 s, not ${body.retryAfterMs}`);
    // The user's refusal charged the address nothing: 1 of 4 left, so u2 passes once, then the address refuses.
    assert.equal((await as('/k', 'u2', '198.51.100.120')).status, 200);
    r = await as('/k', 'u2', '198.51.100.120');
    assert.equal(r.status, 429);
    body = await r.json();
    assert.deepEqual([body.refused, body.policy], ['ip', 'per_ip']);
    assert.equal(r.headers.get('retry-after'), String(Math.ceil(body.retryAfterMs / 1000)));
    const u2 = await client.check('per_user', 'user:u2', { peek: true });
    assert.equal(u2.remaining, 2, 'the address refused: the user was not charged');
    // A shared policy, the handler hook gets the name.
    for (let i = 0; i < 4; i++) assert.equal((await as('/h', `x${i}`, '198.51.100.121')).status, 200);
    r = await as('/h', 'x9', '198.51.100.121');
    assert.deepEqual(await r.json(), { violation: 'ip' });
    assert.equal(seen[0].refusedKey, '198.51.100.121');
    assert.deepEqual(seen[0].keys, { user: 'hu:x9', ip: '198.51.100.121' });
    assert.throws(() => rateLimit({ client, keys: { user: () => 'u' } }), /keys\.user has no policy/);
    assert.throws(() => rateLimit({ client, policy: 'api', keys: {} }), /1-16/);
  });

  it('budget: a reservation before, the actual use after (into debt), refunds on failure and for unused cost', async () => {
    const b = budget({ client, policy: 'tokens', key: (req) => `user:${req.get('x-user')}`,
      estimate: (req) => Number(req.get('x-estimate') ?? 10) });
    const a = express();
    a.post('/ai', b.check, async (req, res) => {
      const used = Number(req.get('x-used'));
      const how = req.get('x-how');
      if (how === 'fail') return res.status(502).json({ error: 'model down' });
      if (how === 'locals') {
        res.locals.floodgateCost = used;
        return res.json({ reserved: req.floodgateBudget.reserved });
      }
      return res.json(await req.floodgateBudget.charge(used));
    });
    const base = await serve(a);
    const ask = (how, used, user = 'b1') => get(base, '/ai', null, { method: 'POST',
      headers: { 'x-user': user, 'x-used': String(used), 'x-how': how } });
    const left = async () => (await client.check('tokens', 'user:b1', { peek: true })).remaining;
    let r = await ask('charge', 60);
    assert.equal(r.status, 200);
    assert.deepEqual(checkPolicyField(r.headers.get('ratelimit-policy')), [{ id: 'tokens', q: 100, w: 86400 }]);
    assert.equal(checkLimitField(r.headers.get('ratelimit'))[0].r, 90, 'the check reserved the estimate');
    assert.deepEqual(await r.json(), { used: 60, reserved: 10, charged: 50, refunded: 0, periodEnded: false,
      remaining: 40, exhausted: false, retryAfterMs: 0, recorded: true, source: 'agent' });
    r = await ask('fail', 0);
    assert.equal(r.status, 502);
    await waitFor(async () => (await left()) === 40, 5000, 'the failed request\'s reservation refunded');
    r = await ask('locals', 5);
    assert.deepEqual(await r.json(), { reserved: 10 });
    await waitFor(async () => (await left()) === 35, 5000, 'res.locals.floodgateCost settled (5 of 10 reserved)');
    r = await ask('charge', 500);
    const body = await r.json();
    assert.deepEqual([body.used, body.charged, body.remaining, body.exhausted], [500, 490, 0, true],
      'more than is left is recorded: 465 below zero');
    r = await ask('charge', 1);
    assert.equal(r.status, 429);
    const refused = await r.json();
    assert.equal(refused.window, 'day');
    assert.ok(refused.retryAfterMs > 4 * 86_400_000 && refused.retryAfterMs <= 5 * 86_400_000,
      `a debt of 465 at 100 a day is paid in the 5th period: ${refused.retryAfterMs}`);
    assert.equal((await ask('charge', 1, 'b2')).status, 200, 'another key is not in debt');
    // A bad cost in res.locals is logged; the server goes on.
    const logs = [];
    const c2 = new Client({ path: agent.socket, timeoutMs: 3000, logger: { info() {}, warn() {}, error: (m) => logs.push(m) } });
    clients.push(c2);
    const b2 = budget({ client: c2, policy: 'tokens', key: () => 'user:b3' });
    const a2 = express();
    a2.get('/bad', b2.check, (req, res) => {
      res.locals.floodgateCost = -5;
      res.send('done');
    });
    const base2 = await serve(a2);
    assert.equal(await (await get(base2, '/bad')).text(), 'done');
    await waitFor(() => logs.length === 1, 5000, 'the log line');
    assert.match(logs[0], /budget tokens: .*res\.locals\.floodgateCost.* -5/);
  });

  it('budget: a reservation of one period is not refunded into the next', async () => {
    // The client's clock, moved past the reservation's period (a day): the
    // response fails "after the boundary" without waiting for midnight.
    let skew = 0;
    const c3 = new Client({ path: agent.socket, logger: null, timeoutMs: 3000, now: () => Date.now() + skew });
    clients.push(c3);
    const settled = [];
    const b3 = budget({ client: c3, policy: 'tokens', key: (req) => `user:${req.get('x-user')}`, estimate: 10,
      onCharge: (req, out) => settled.push(out) });
    const a3 = express();
    a3.post('/ai', b3.check, (req, res) => {
      if (req.get('x-late') === '1') skew = 86_400_000 + 1000;
      res.status(502).json({ error: 'model down' });
    });
    const base3 = await serve(a3);
    const left = async (user) => (await client.check('tokens', `user:${user}`, { peek: true })).remaining;
    assert.equal((await get(base3, '/ai', null, { method: 'POST', headers: { 'x-user': 'p1' } })).status, 502);
    await waitFor(() => settled.length === 1, 5000, 'the refund within the period');
    assert.equal(settled[0].refunded, 10);
    assert.equal(await left('p1'), 100, 'within the period the reservation is given back');
    assert.equal((await get(base3, '/ai', null, { method: 'POST', headers: { 'x-user': 'p2', 'x-late': '1' } })).status, 502);
    await waitFor(() => settled.length === 2, 5000, 'the settlement after the period');
    assert.deepEqual([settled[1].refunded, settled[1].periodEnded], [0, true]);
    assert.equal(await left('p2'), 90, 'nothing refunded into a period the reservation was not charged to');
  });
});

test('a bad ipv6Prefix is refused when the middleware is made, not by the first IPv6 client', () => {
  const fg = require('floodgate');
  const client = {};
  for (const bad of [0, 129, 64.5, '64']) {
    const re = /ipv6Prefix must be 1-128/;
    assert.throws(() => fg.rateLimit({ client, policy: 'p', ipv6Prefix: bad }), re);
    assert.throws(() => fg.progressiveLogin({ client, policy: 'p', ipv6Prefix: bad }), re);
    assert.throws(() => fg.budget({ client, policy: 'p', ipv6Prefix: bad }), re);
    assert.throws(() => fg.connectionLimiter({ client, policy: 'p', ipv6Prefix: bad }), re);
    assert.throws(() => fg.handshakeLimiter({ client, policy: 'p', ipv6Prefix: bad }), re);
    assert.throws(() => new fg.FloodgateGuard({ client, policy: 'p', ipv6Prefix: bad }), re);
    assert.throws(() => fg.RateLimit({ policy: 'p', ipv6Prefix: bad }), re);
    assert.throws(() => fg.normalizeIp('192.0.2.1', bad), re);
  }
  assert.equal(fg.normalizeIp('2001:db8:1:2:3::9', 64), '2001:db8:1:2::/64');
  assert.equal(fg.normalizeIp('2001:db8::9', undefined), '2001:db8::9');
});

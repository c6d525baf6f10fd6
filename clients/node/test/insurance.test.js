'use strict';
// The in-process insurance limiter with an injected clock (no sleeps).
const test = require('node:test');
const assert = require('node:assert/strict');
const { InsuranceLimiter } = require('../lib/insurance');

test('window: exactly count allowed, then refused until one interval passes', () => {
  const l = new InsuranceLimiter({ policies: { api: { window: { count: 5, perMs: 1000 } } } });
  const t = 1_000_000;
  const got = [];
  for (let i = 0; i < 7; i++) got.push(l.check('api', 'k', 1, false, t).allowed);
  assert.deepEqual(got, [true, true, true, true, true, false, false]);
  const r = l.check('api', 'k', 1, false, t);
  assert.equal(r.retryAfterMs, 200);
  assert.equal(r.state, 'deny');
  assert.equal(l.check('api', 'k', 1, false, t + 199).allowed, false);
  assert.equal(l.check('api', 'k', 1, false, t + 200).allowed, true);
  assert.equal(l.check('api', 'other', 1, true, t).remaining, 5, 'PEEK charges nothing');
});

test('events: warn at the share, disconnect at the limit, new window after it', () => {
  const l = new InsuranceLimiter({ default: { events: { limit: 10, windowMs: 60_000, warnAt: 0.8 } } });
  const s = [];
  for (let i = 0; i < 11; i++) s.push(l.event('ev', 'c1', 0).state);
  assert.deepEqual(s, ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'warn', 'ok', 'disconnect', 'disconnect']);
  assert.equal(l.event('ev', 'c1', 60_000).state, 'ok');
  l.connClose('ev', 'c1');
  assert.equal(l.event('ev', 'c1', 60_001).count, 1);
});

test('progressive: 0,0,0,1s,2s,4s ... 30s, never a lockout, forgotten on ok', () => {
  const l = new InsuranceLimiter();
  const d = [];
  for (let i = 0; i < 10; i++) d.push(l.authFail('login', 'ip', 0).delayMs);
  assert.deepEqual(d, [0, 0, 0, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.equal(l.authCheck('login', 'ip', 10_000).waitMs, 20_000);
  assert.equal(l.authCheck('login', 'ip', 40_000).waitMs, 0);
  l.authOk('login', 'ip');
  assert.equal(l.authCheck('login', 'ip', 0).failures, 0);
});

test('memory is bounded by maxKeys (least recently used go first)', () => {
  const l = new InsuranceLimiter({ maxKeys: 100 });
  for (let i = 0; i < 10_000; i++) l.check('api', `k${i}`, 1, false, 0);
  assert.equal(l.state.size, 100);
});

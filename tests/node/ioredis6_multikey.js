// RL.CHECKM, RL.CHARGE, RL.REFUND and RL.POLICY through ioredis 6 in its
// default protocol (RESP3: records arrive as maps, which ioredis 6 hands over
// as [name, value, ...]). Policies (tests/netns/test_99_multikey.sh):
// user 5/h, ip 3/h, ai budget 1000/day, aitz 100 per New York day. Exits 0
// when every answer is right.
'use strict';
const Redis = require('ioredis6');
const assert = require('assert/strict');

const [path, tag] = process.argv.slice(2);
if (!path || !tag) {
  console.error('usage: node ioredis6_multikey.js SOCKET TAG');
  process.exit(2);
}

// A record by name: RESP3 [name, value, ...] or a Map.
function rec(r) {
  if (r instanceof Map) return Object.fromEntries(r);
  assert.ok(Array.isArray(r), `a record, got ${JSON.stringify(r)}`);
  const out = {};
  for (let i = 0; i + 1 < r.length; i += 2) out[r[i]] = r[i + 1];
  return out;
}

async function main() {
  const fg = new Redis({ path, maxRetriesPerRequest: 1, commandTimeout: 2000 });
  const hello = rec(await fg.call('HELLO'));
  assert.equal(hello.proto, 3, 'ioredis 6 speaks RESP3 by default');

  const user = `u-${tag}`, ip = `198.51.100.${process.pid % 200}`;
  // Per user AND per IP: 3 pass, the 4th is refused by the IP, the user is not charged.
  for (let i = 1; i <= 3; i++) {
    const r = rec(await fg.call('RL.CHECKM', '2', 'user', user, 'ip', ip));
    assert.equal(r.allowed, 1, `pair check ${i}`);
    assert.equal(r.refused, -1);
  }
  const no = rec(await fg.call('RL.CHECKM', '2', 'user', user, 'ip', ip));
  assert.equal(no.allowed, 0);
  assert.equal(no.refused, 1);
  assert.equal(no.policy, 'ip', 'the app answers 429 "ip"');
  assert.equal(no.key, ip);
  assert.ok(no.retry_after_ms > 0);
  const u = rec(await fg.call('RL.CHECK', 'user', user, 'PEEK'));
  assert.equal(u.remaining, 2, 'the user was charged 3 times, not 4');

  // Charge after use: 100 left, the call used 5000.
  const key = `ai-${tag}`;
  assert.equal(rec(await fg.call('RL.CHECK', 'ai', key, 'COST', '900')).allowed, 1);
  const c = rec(await fg.call('RL.CHARGE', 'ai', key, '5000'));
  assert.equal(c.allowed, 0, 'in debt: the next request is refused');
  assert.equal(c.state, 'deny');
  assert.ok(c.retry_after_ms > 4 * 86400000, `retry ${c.retry_after_ms} past 4 more days`);
  const back = rec(await fg.call('RL.REFUND', 'ai', key, '5000'));
  assert.equal(back.remaining, 100);

  // Introspection, nested maps included.
  const p = rec(await fg.call('RL.POLICY', 'user'));
  assert.equal(p.type, 'window');
  assert.equal(p.ratelimit_policy, '"user-1h";q=5;w=3600');
  assert.equal(rec(p.quotas[0]).quota, 5);
  assert.equal(rec(await fg.call('RL.POLICY', 'aitz')).timezone, 'America/New_York');
  assert.deepEqual(await fg.call('RL.POLICY'), ['user', 'ip', 'ai', 'aitz']);
  fg.disconnect();
  console.log('ioredis6 RESP3: RL.CHECKM, RL.CHARGE, RL.REFUND, RL.POLICY ok');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

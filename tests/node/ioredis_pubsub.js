// Violation events through ioredis's ordinary pub/sub API: subscribe and
// psubscribe, 'message' and 'pmessage' events, ping in subscriber mode,
// .multi() refused, unsubscribe. (XDP.WATCH made ioredis fail with "Command
// queue state error" at the first event.) MODULE (default ioredis) names the
// package, PROTOCOL (2, or 3 with ioredis 6) the RESP version. Prints
// "ready" once subscribed; exits 0 once a message and a pmessage about
// SOURCE arrived and the connection left subscriber mode cleanly, 1 on any
// error or after 30 s.
'use strict';
const assert = require('assert/strict');

const [path, source, mod = 'ioredis', protoArg = '2'] = process.argv.slice(2);
if (!path || !source) {
  console.error('usage: node ioredis_pubsub.js SOCKET SOURCE [MODULE] [PROTOCOL]');
  process.exit(2);
}
const Redis = require(mod);
const protocol = Number(protoArg);
// ioredis 5 has no protocol option: RESP2 only
const opts = { path, lazyConnect: true, maxRetriesPerRequest: 1,
               ...(protocol === 3 ? { protocol: 3 } : {}) };
setTimeout(() => { console.error('timed out waiting for events'); process.exit(1); }, 30000)
  .unref();

async function main() {
  const sub = new Redis(opts);
  const other = new Redis(opts);
  await sub.connect();
  await other.connect();
  sub.on('error', (e) => { console.error('subscriber error:', e.message); process.exit(1); });

  const got = new Promise((resolve) => {
    let msg = false, pmsg = false;
    const seen = (ev) => JSON.parse(ev).source === source;
    sub.on('message', (channel, payload) => {
      if (process.env.FG_DEBUG) console.error('message', channel, payload);
      assert.equal(channel, 'violations');
      const ev = JSON.parse(payload);
      for (const k of ['ts', 'source', 'rule', 'level', 'reason', 'action'])
        assert.ok(k in ev, `no ${k} in ${payload}`);
      if (seen(payload)) msg = true;
      if (msg && pmsg) resolve();
    });
    sub.on('pmessage', (pattern, channel, payload) => {
      if (process.env.FG_DEBUG) console.error('pmessage', pattern, channel, payload);
      assert.equal(pattern, 'violations:*');
      assert.equal(channel, 'violations:signaling');
      if (seen(payload)) pmsg = true;
      if (msg && pmsg) resolve();
    });
  });
  assert.equal(await sub.subscribe('violations'), 1);
  assert.equal(await sub.psubscribe('violations:*'), 2);
  // RESP2's subscribed-mode PING reply is ["pong", ""], as from Redis;
  // ioredis 6 turns it into 'PONG'
  const pong = await sub.ping();
  assert.ok(pong === 'PONG' || (protocol === 2 && String(pong) === 'pong,'), String(pong));
  // a second connection keeps working as usual
  assert.equal(await other.ping(), 'PONG');
  // .multi() is refused with the reason, and charges nothing
  const key = `multi:${process.pid}`;
  await assert.rejects(other.multi().call('RL.CHECK', 'api', key).exec(),
    /MULTI is not supported by floodgate|EXECABORT/);
  let r = await other.call('RL.CHECK', 'api', key);
  if (r[0] === 'allowed') // a RESP3 map, flattened by ioredis 6
    r = [r[1], r[3], r[5]];
  assert.deepEqual(r.slice(0, 3), [1, 3, 2], 'the refused MULTI charged nothing');
  console.log('ready');
  await got;
  // named: ioredis resolves an argument-less unsubscribe only at count 0,
  // which Redis (and floodgate) report only once patterns are gone too
  assert.equal(await sub.unsubscribe('violations'), 1);
  assert.equal(await sub.punsubscribe('violations:*'), 0);
  assert.equal(await sub.ping(), 'PONG');
  // out of subscriber mode: ordinary commands again
  assert.equal(await sub.echo('back'), 'back');
  await sub.quit();
  await other.quit();
  console.log('ok');
}

main().catch((e) => { console.error(e); process.exit(1); });

// Violation events through node-redis's ordinary pub/sub API (subscribe and
// pSubscribe listeners), in RESP2 or RESP3 (PROTOCOL), with .multi()
// refused saying why and charging nothing. (XDP.WATCH made node-redis wait
// forever.) Prints "ready" once subscribed; exits 0 once a message and a
// pattern message about SOURCE arrived and the client unsubscribed, 1 on
// any error or after 30 s.
'use strict';
const assert = require('assert/strict');

const [path, source, mod = 'redis', protoArg = '2'] = process.argv.slice(2);
if (!path || !source) {
  console.error('usage: node noderedis_pubsub.js SOCKET SOURCE [MODULE] [PROTOCOL]');
  process.exit(2);
}
const { createClient } = require(mod);
setTimeout(() => { console.error('timed out waiting for events'); process.exit(1); }, 30000)
  .unref();

async function main() {
  const client = createClient({ socket: { path }, RESP: Number(protoArg) });
  client.on('error', (e) => { console.error('client error:', e.message); process.exit(1); });
  await client.connect();
  const sub = client.duplicate();
  sub.on('error', (e) => { console.error('subscriber error:', e.message); process.exit(1); });
  await sub.connect();

  let msg = false, pmsg = false, done;
  const got = new Promise((resolve) => { done = resolve; });
  const check = (payload) => {
    const ev = JSON.parse(payload);
    for (const k of ['ts', 'source', 'rule', 'level', 'reason', 'action'])
      assert.ok(k in ev, `no ${k} in ${payload}`);
    return ev.source === source;
  };
  await sub.subscribe('violations', (payload, channel) => {
    assert.equal(channel, 'violations');
    if (check(payload)) msg = true;
    if (msg && pmsg) done();
  });
  await sub.pSubscribe('violations:*', (payload, channel) => {
    assert.equal(channel, 'violations:signaling');
    if (check(payload)) pmsg = true;
    if (msg && pmsg) done();
  });
  // .multi() is refused with the reason, and charges nothing
  const key = `multi:${process.pid}`;
  await assert.rejects(client.multi().sendCommand(['RL.CHECK', 'api', key]).exec(),
    /MULTI is not supported by floodgate|EXECABORT/);
  const r = await client.sendCommand(['RL.CHECK', 'api', key]);
  const remaining = Array.isArray(r) ? r[2] : r.remaining;
  assert.equal(remaining, 2, 'the refused MULTI charged nothing');
  console.log('ready');
  await got;
  await sub.unsubscribe('violations');
  await sub.pUnsubscribe('violations:*');
  assert.equal(await sub.ping(), 'PONG');
  for (const c of [sub, client]) // close() since node-redis 5, quit() before
    await (typeof c.close === 'function' ? c.close() : c.quit());
  console.log('ok');
}

main().catch((e) => { console.error(e); process.exit(1); });

// An application using floodgated through ioredis, as a Socket.IO / Express
// service would: connect (ioredis sends its own INFO/CLIENT commands), then
// ask for decisions. Exits 0 when every answer is what the contract says.
'use strict';
const Redis = require('ioredis');
const assert = require('assert/strict');

const path = process.argv[2];
if (!path) {
  console.error('usage: node ioredis_app.js SOCKET');
  process.exit(2);
}

async function main() {
  const fg = new Redis({ path, lazyConnect: true, maxRetriesPerRequest: 1,
                         connectionName: 'ioredis-app' });
  await fg.connect(); // runs INFO (ready check) and CLIENT SETNAME
  assert.equal(await fg.ping(), 'PONG');
  assert.equal(await fg.client('GETNAME'), 'ioredis-app');

  // window policy "api": 3 per minute.
  const key = `user:${process.pid}`;
  for (let i = 1; i <= 3; i++) {
    const [allowed, limit, remaining, , retry, state, window] =
      await fg.call('RL.CHECK', 'api', key);
    assert.equal(allowed, 1, `request ${i} allowed`);
    assert.equal(limit, 3);
    assert.equal(remaining, 3 - i);
    assert.equal(retry, 0);
    assert.ok(['ok', 'warn'].includes(state), state);
    assert.equal(window, '1m');
  }
  const denied = await fg.call('RL.CHECK', 'api', key);
  assert.equal(denied[0], 0, '4th request denied');
  assert.equal(denied[5], 'deny');
  assert.ok(denied[4] > 0, 'retry_after_ms given');

  // Pipelined decisions, as a busy app sends them.
  const pipe = fg.pipeline();
  for (let i = 0; i < 50; i++) pipe.call('RL.EVENT', 'socket_events', 'conn-1', 'message');
  pipe.call('RL.EVENT', 'socket_events', 'conn-1', 'ping');
  const res = await pipe.exec();
  const states = res.map(([err, r]) => { assert.equal(err, null); return r[0]; });
  assert.equal(states.filter((s) => s === 'warn').length, 1, 'warned once');
  assert.equal(states[7], 'warn', 'warn at 80% of 10');
  assert.equal(states[9], 'disconnect', 'disconnect at the limit');
  assert.equal(states[49], 'disconnect');
  assert.equal(states[50], 'exempt', 'ping is exempt');
  assert.equal(await fg.call('RL.CONN.CLOSE', 'socket_events', 'conn-1'), 'OK');

  const [d1] = await fg.call('RL.AUTH.FAIL', 'login', 'alice');
  assert.equal(d1, 0, 'first failure is free');
  await assert.rejects(fg.call('RL.CHECK', 'nosuch', 'k'), /unknown policy/);
  await assert.rejects(fg.call('RL.CHECK', 'api', 'k', 'COST', '-1'), /COST/);

  await fg.quit();
  console.log('ioredis: ok');
}

main().catch((e) => { console.error('ioredis: FAIL', e); process.exit(1); });

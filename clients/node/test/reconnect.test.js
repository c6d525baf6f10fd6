'use strict';
// The agent closes idle clients (socket.idle_timeout): the client reconnects
// at once, and no call is decided by the failure policy because of it.
const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const { once } = require('node:events');
const { startAgent } = require('./helpers/agent');
const CONFIG = require('./helpers/config');
const { Client } = require('..');

describe('idle connections closed by the agent', { timeout: 90_000 }, async () => {
  const agent = await startAgent(`socket:\n  idle_timeout: 1s\n${CONFIG}`);
  if (agent.skip) return it.skip(agent.skip);
  const c = new Client({ path: agent.socket, logger: null, timeoutMs: 3000, failure: 'deny' });
  after(async () => {
    c.close();
    await agent.close();
  });

  it('reconnects after the idle close; the next calls are the agent\'s', async () => {
    assert.equal((await c.check('api', 'idle')).remaining, 4);
    const fallbacks = [];
    c.on('fallback', (e) => fallbacks.push(e));
    for (let round = 0; round < 2; round++) {
      await once(c, 'disconnect');
      if (c.state !== 'ready') await once(c, 'connect');
      const r = await c.check('api', 'idle');
      assert.equal(r.source, 'agent');
      assert.equal(r.remaining, 3 - round, 'the agent kept the count: same agent, new connection');
    }
    assert.deepEqual(fallbacks, []);
    assert.equal(c.stats().reconnects, 2);
    assert.equal(c.stats().degraded, false);
  });
});

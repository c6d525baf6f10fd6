'use strict';
// The NestJS guard and decorators in a real Nest application (platform-express)
// against a real floodgated: per-handler and per-controller policies, roles,
// skip, 429 with Retry-After and the draft headers.
require('reflect-metadata');
const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const { startAgent } = require('./helpers/agent');
const CONFIG = require('./helpers/config');
const { checkPolicyField, checkLimitField } = require('./helpers/sf');
const { Client, FloodgateGuard, RateLimit, SkipRateLimit } = require('..');

describe('nestjs guard against floodgated', { timeout: 90_000 }, async () => {
  const agent = await startAgent(CONFIG);
  if (agent.skip) return it.skip(agent.skip);
  const { Controller, Get, Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const client = new Client({ path: agent.socket, logger: null, timeoutMs: 3000 });

  // Decorators applied by hand, as TypeScript's compiled output does.
  class Api {
    blk() { return { ok: true }; }
    owner() { return { ok: true }; }
    health() { return { ok: true }; }
  }
  const method = (name, ...decs) => {
    const d = Object.getOwnPropertyDescriptor(Api.prototype, name);
    for (const dec of decs) dec(Api.prototype, name, d);
  };
  method('blk', Get('blk'));
  method('owner', Get('owner'), RateLimit({ policy: 'api', key: (req) => `user:${req.get('x-user')}`,
    role: (req) => req.get('x-role') }));
  method('health', Get('health'), SkipRateLimit());
  RateLimit({ policy: 'blk' })(Api);
  Controller('v1')(Api);
  class AppModule {}
  Module({ controllers: [Api] })(AppModule);

  const app = await NestFactory.create(AppModule, { logger: false });
  app.set('trust proxy', 'loopback');
  app.useGlobalGuards(new FloodgateGuard({ client }));
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${app.getHttpServer().address().port}`;
  after(async () => {
    await app.close();
    client.close();
    await agent.close();
  });
  const get = (p, headers = {}) => fetch(base + p, { headers: { 'X-Forwarded-For': '198.51.100.40', ...headers } });

  it('the controller\'s policy: exactly 2 then 429 with Retry-After, body and the draft headers', async () => {
    const codes = [];
    let last;
    for (let i = 0; i < 3; i++) {
      last = await get('/v1/blk');
      codes.push(last.status);
    }
    assert.deepEqual(codes, [200, 200, 429]);
    assert.deepEqual(checkPolicyField(last.headers.get('ratelimit-policy')), [{ id: 'blk', q: 2, w: 60 }]);
    assert.equal(checkLimitField(last.headers.get('ratelimit'))[0].r, 0);
    const body = await last.json();
    assert.equal(body.error, 'rate_limited');
    assert.equal(body.statusCode, 429);
    assert.ok(body.retryAfterMs > 25_000 && body.retryAfterMs <= 30_000, `retry ${body.retryAfterMs}`);
    assert.equal(last.headers.get('retry-after'), String(Math.ceil(body.retryAfterMs / 1000)));
  });

  it('a handler\'s own policy, key and role win over the controller\'s', async () => {
    const r = await get('/v1/owner', { 'x-user': 'n1', 'x-role': 'OWNER' });
    assert.equal(r.status, 200);
    assert.deepEqual(checkPolicyField(r.headers.get('ratelimit-policy')), [{ id: 'api', q: 10, w: 60 }]);
    assert.equal(checkLimitField(r.headers.get('ratelimit'))[0].r, 9);
  });

  it('@SkipRateLimit routes are never checked', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await get('/v1/health');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('ratelimit'), null);
    }
  });
});

'use strict';
// Limits given per call (CL.THROTTLE) against a real floodgated: the call as
// redis-cell answers it, a NestJS app on @nestjs/throttler with
// FloodgateThrottlerStorage, express-rate-limit with FloodgateStore (two
// instances sharing the agent's count, as two processes would), the failure
// policies with no agent, and the declarations against the real interfaces.
require('reflect-metadata');
const { describe, it, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { startAgent } = require('./helpers/agent');
const CONFIG = require('./helpers/config');
const { Client, throttle, throttleReset, FloodgateThrottlerStorage, FloodgateStore } = require('..');

const PKG = path.resolve(__dirname, '..');

describe('limits given per call against floodgated', { timeout: 120_000 }, async () => {
  const agent = await startAgent(CONFIG);
  if (agent.skip) return it.skip(agent.skip);
  const client = new Client({ path: agent.socket, logger: null, timeoutMs: 3000 });
  after(async () => {
    client.close();
    await agent.close();
  });

  it('throttle(): redis-cell\'s reply, a burst of maxBurst + 1, quantity 0 peeks, apart from policies', async () => {
    assert.deepEqual(await throttle(client, 'user123', { maxBurst: 15, count: 30, period: 60 }),
      { limited: false, limit: 16, remaining: 15, retryAfter: -1, resetAfter: 2, source: 'agent' });
    const got = [];
    for (let i = 0; i < 4; i++) got.push(await throttle(client, 'api', { maxBurst: 2, count: 1, period: 60 }));
    assert.deepEqual(got.map((r) => [r.limited, r.remaining]), [[false, 2], [false, 1], [false, 0], [true, 0]]);
    assert.ok(got[3].retryAfter >= 55 && got[3].retryAfter <= 60, `retryAfter ${got[3].retryAfter}`);
    const peek = await throttle(client, 'api', { maxBurst: 2, count: 1, period: 60, quantity: 0 });
    assert.equal(peek.limited, false);
    assert.equal(peek.remaining, 0);
    const never = await throttle(client, 'api', { maxBurst: 2, count: 1, period: 60, quantity: 4 });
    assert.deepEqual([never.limited, never.retryAfter], [true, -1]);
    // Policy api's key "api" is its own (5 per minute, untouched).
    assert.equal((await client.check('api', 'api')).remaining, 4);
    await throttleReset(client, 'api');
    assert.equal((await throttle(client, 'api', { maxBurst: 2, count: 1, period: 60 })).remaining, 2);
    await assert.rejects(throttle(client, 'k', { maxBurst: -1, count: 1, period: 1 }), /maxBurst must be an integer/);
    await assert.rejects(throttle(client, 'k', { maxBurst: 1, count: 1, period: 999_999 }),
      /above per_call_limits/);
  });

  it('@nestjs/throttler with FloodgateThrottlerStorage: exactly limit, then 429 while blocked, shared by two apps', async () => {
    const { Controller, Get, Module } = require('@nestjs/common');
    const { NestFactory, APP_GUARD } = require('@nestjs/core');
    const { ThrottlerModule, ThrottlerGuard, Throttle, SkipThrottle } = require('@nestjs/throttler');
    class Api {
      hello() { return { ok: true }; }
      strict() { return { ok: true }; }
      free() { return { ok: true }; }
    }
    const method = (name, ...decs) => {
      const d = Object.getOwnPropertyDescriptor(Api.prototype, name);
      for (const dec of decs) dec(Api.prototype, name, d);
    };
    method('hello', Get('hello'));
    method('strict', Get('strict'), Throttle({ default: { limit: 1, ttl: 60_000 } }));
    method('free', Get('free'), SkipThrottle());
    Controller('v1')(Api);
    const apps = [];
    for (let i = 0; i < 2; i++) {
      // Two processes of one service: each its own client, the same agent.
      const c = new Client({ path: agent.socket, logger: null, timeoutMs: 3000 });
      class AppModule {}
      Module({
        imports: [ThrottlerModule.forRoot({
          throttlers: [{ limit: 3, ttl: 60_000 }],
          storage: new FloodgateThrottlerStorage({ client: c }),
        })],
        controllers: [Api],
        providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
      })(AppModule);
      const app = await NestFactory.create(AppModule, { logger: false });
      await app.listen(0, '127.0.0.1');
      apps.push({ app, c, base: `http://127.0.0.1:${app.getHttpServer().address().port}` });
    }
    after(async () => {
      for (const a of apps) {
        await a.app.close();
        a.c.close();
      }
    });
    const seen = [];
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${apps[i % 2].base}/v1/hello`);
      seen.push([r.status, r.headers.get('x-ratelimit-remaining'), r.headers.get('retry-after')]);
    }
    assert.deepEqual(seen.slice(0, 3), [['200', '2', null], ['200', '1', null], ['200', '0', null]]
      .map(([s, rem, ra]) => [Number(s), rem, ra]));
    assert.equal(seen[3][0], 429);
    assert.equal(seen[4][0], 429);
    // Blocked for blockDuration (the guard's default: the ttl), counted once.
    const wait = Number(seen[4][2]);
    assert.ok(wait >= 55 && wait <= 60, `Retry-After ${seen[4][2]}`);
    // A route's own @Throttle: 1 per minute, its own key.
    const s1 = await fetch(`${apps[0].base}/v1/strict`);
    const s2 = await fetch(`${apps[1].base}/v1/strict`);
    assert.deepEqual([s1.status, s2.status], [200, 429]);
    assert.equal((await fetch(`${apps[0].base}/v1/free`)).status, 200);
  });

  it('express-rate-limit with FloodgateStore: exactly limit, Retry-After, shared by two middlewares, resetKey', async () => {
    const express = require('express');
    const { rateLimit } = require('express-rate-limit');
    const warnings = [];
    const c2 = new Client({ path: agent.socket, timeoutMs: 3000,
      logger: { info() {}, error() {}, warn: (m) => warnings.push(m) } });
    const stores = [new FloodgateStore({ client }), new FloodgateStore({ client: c2 })];
    const servers = [];
    for (const store of stores) {
      const app = express();
      app.get('/x', rateLimit({ windowMs: 60_000, limit: 4, store, standardHeaders: 'draft-7', legacyHeaders: false,
        keyGenerator: () => 'user:7', skipFailedRequests: store === stores[1] }), (req, res) => res.json({ ok: 1 }));
      servers.push(await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); }));
    }
    after(() => { for (const s of servers) s.close(); c2.close(); });
    const url = (i) => `http://127.0.0.1:${servers[i].address().port}/x`;
    const seen = [];
    for (let i = 0; i < 6; i++) {
      const r = await fetch(url(i % 2));
      seen.push([r.status, r.headers.get('ratelimit'), r.headers.get('retry-after')]);
    }
    assert.deepEqual(seen.map((s) => s[0]), [200, 200, 200, 200, 429, 429]);
    assert.match(seen[0][1], /^limit=4, remaining=3, reset=\d+$/);
    assert.match(seen[3][1], /remaining=0/);
    // 4 per 60 s: the next request passes in 15 s.
    const wait = Number(seen[4][2]);
    assert.ok(wait >= 13 && wait <= 15, `Retry-After ${seen[4][2]}`);
    assert.equal((await stores[0].get('user:7')).totalHits, 4);
    await stores[1].resetKey('user:7');
    assert.equal((await fetch(url(0))).status, 200);
    assert.equal((await stores[0].get('user:7')).totalHits, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /cannot give a request back/);
    assert.throws(() => new FloodgateStore({ client }).init({ limit: () => 3, windowMs: 1000 }),
      /needs a number for limit/);
  });

  it('no agent: the client\'s failure policy decides, insurance with the call\'s limits', async () => {
    const nowhere = path.join(agent.dir ?? PKG, 'none.sock');
    const deny = new Client({ path: nowhere, failure: 'deny', logger: null, timeoutMs: 200 });
    const ins = new Client({ path: nowhere, failure: 'insurance', logger: null, timeoutMs: 200 });
    after(() => { deny.close(); ins.close(); });
    const d = await throttle(deny, 'k', { maxBurst: 1, count: 1, period: 10 });
    assert.deepEqual([d.limited, d.source], [true, 'failure_deny']);
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await throttle(ins, 'k', { maxBurst: 1, count: 1, period: 10 }));
    assert.deepEqual(got.map((r) => [r.limited, r.remaining, r.source]),
      [[false, 1, 'insurance'], [false, 0, 'insurance'], [true, 0, 'insurance']]);
    assert.ok(got[2].retryAfter >= 9 && got[2].retryAfter <= 10, `retryAfter ${got[2].retryAfter}`);
    const rec = await new FloodgateThrottlerStorage({ client: deny }).increment('k', 1000, 5, 0, 'default');
    assert.equal(rec.isBlocked, true);
  });
});

const tsc = path.join(PKG, 'node_modules', 'typescript', 'bin', 'tsc');
it('the declarations satisfy @nestjs/throttler\'s ThrottlerStorage and express-rate-limit\'s Store', {
  skip: !fs.existsSync(tsc) && 'typescript not installed',
}, () => {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', 'test/types/stores.ts'],
  { cwd: PKG, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

// The stores satisfy the real interfaces of @nestjs/throttler v6 and
// express-rate-limit v7 (compiled by test/stores.test.js with tsc --strict).
// The interface's own file: the package's index would load all of @nestjs/common's types.
import type { ThrottlerStorage } from '@nestjs/throttler/dist/throttler-storage.interface';
import type { Store } from 'express-rate-limit';
import { Client, FloodgateStore, FloodgateThrottlerStorage, throttle, type ThrottleResult } from 'floodgate';

const client = new Client({ path: '/tmp/fg.sock' });
const nest: ThrottlerStorage = new FloodgateThrottlerStorage({ client, prefix: 'app:' });
const erl: Store = new FloodgateStore({ client, limit: 10, windowMs: 60_000 });
async function use(): Promise<number> {
  const r: ThrottleResult = await throttle(client, 'user:1', { maxBurst: 15, count: 30, period: 60 });
  const rec = await nest.increment('k', 60_000, 10, 60_000, 'default');
  await erl.resetKey('k');
  return r.retryAfter + rec.timeToBlockExpire;
}
void use;

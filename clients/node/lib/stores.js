'use strict';
// Drop-in stores on limits given per call (CL.THROTTLE, redis-cell's command:
// docs/api.md): a ThrottlerStorage for @nestjs/throttler and a Store for
// express-rate-limit. Their limits come from the application's code (the
// decorators, the middleware's options), not from the agent's config, so
// they use CL.THROTTLE rather than named policies; the agent's keys of these
// calls are apart from every policy's. No import of either package: they
// call these objects, these objects call the agent.

const { InsuranceLimiter } = require('./insurance');
const { RespProtocolError } = require('./resp');
const { argError } = require('./client');

const MAX_ARG = 1e15; // what the agent takes for each number

function positiveInt(v, what, min = 1) {
  if (!Number.isSafeInteger(v) || v < min || v > MAX_ARG)
    throw new TypeError(`floodgate: ${what} must be an integer from ${min} to ${MAX_ARG}, not ${v}`);
  return v;
}

// [limited, limit, remaining, retry_after, reset_after]
function parseThrottle(r) {
  if (!Array.isArray(r) || r.length !== 5 || !r.every(Number.isSafeInteger))
    throw new RespProtocolError(`CL.THROTTLE reply is not 5 integers: ${JSON.stringify(r)?.slice(0, 120)}`);
  if ((r[0] !== 0 && r[0] !== 1) || r[1] < 1 || r[2] < 0 || r[3] < -1 || r[4] < 0)
    throw new RespProtocolError(`CL.THROTTLE reply out of range: ${JSON.stringify(r)}`);
  return { limited: r[0] === 1, limit: r[1], remaining: r[2], retryAfter: r[3], resetAfter: r[4], source: 'agent' };
}

// The insurance limiter's GCRA (its window check) with the call's limits:
// an interval of period / count, a burst of maxBurst + 1 intervals.
function insuranceThrottle(ins, key, o, now) {
  const limit = o.maxBurst + 1;
  const perMs = (o.period * 1000 * limit) / o.count;
  const view = {
    conf: () => ({ count: limit, perMs }),
    get: (k) => ins.get(k),
    put: (k, v) => ins.put(k, v),
  };
  const never = o.quantity > limit;
  const v = InsuranceLimiter.prototype.check.call(view, '\0cl', key, never ? 0 : o.quantity, never || o.quantity === 0, now);
  const limited = never || !v.allowed;
  return {
    limited, limit, remaining: v.remaining,
    retryAfter: limited && !never ? Math.ceil(v.retryAfterMs / 1000) : -1,
    resetAfter: Math.ceil(v.resetMs / 1000),
  };
}

/**
 * throttle(client, key, { maxBurst, count, period, quantity = 1 }): one
 * CL.THROTTLE; resolves { limited, limit, remaining, retryAfter, resetAfter,
 * source } (seconds, retryAfter -1 when allowed). When the agent cannot
 * answer, the client's failure policy decides (allow, deny, or its insurance
 * limiter with these limits) and source says which.
 */
function throttle(client, key, opts) {
  let o;
  try {
    o = {
      maxBurst: positiveInt(opts?.maxBurst, 'maxBurst', 0),
      count: positiveInt(opts?.count, 'count'),
      period: positiveInt(opts?.period, 'period (seconds)'),
      quantity: positiveInt(opts?.quantity ?? 1, 'quantity', 0),
    };
  } catch (e) {
    return Promise.reject(e);
  }
  const bad = argError('CL.THROTTLE', undefined, String(key));
  if (bad) return Promise.reject(bad);
  const args = ['CL.THROTTLE', String(key), o.maxBurst, o.count, o.period, o.quantity];
  return client.call(args, parseThrottle, (err) => {
    const limit = o.maxBurst + 1;
    if (client.failure === 'allow')
      return client.decided('throttle', err, { limited: false, limit, remaining: limit, retryAfter: -1, resetAfter: 0 });
    if (client.failure === 'deny')
      return client.decided('throttle', err, { limited: true, limit, remaining: 0,
        retryAfter: Math.max(1, Math.ceil(client.denyRetryAfterMs / 1000)), resetAfter: o.period });
    return client.decided('throttle', err, insuranceThrottle(client.insurance, String(key), o, client.now()));
  });
}

/** CL.RESET: forgets key's CL.THROTTLE state (rejects when the agent is away). */
function throttleReset(client, key) {
  const bad = argError('CL.RESET', undefined, String(key));
  if (bad) return Promise.reject(bad);
  return client.call(['CL.RESET', String(key)], (r) => {
    if (r !== 'OK') throw new RespProtocolError(`CL.RESET answered ${JSON.stringify(r)}, not OK`);
    return true;
  }, null);
}

const seconds = (ms) => Math.max(1, Math.ceil(ms / 1000));

/**
 * new FloodgateThrottlerStorage({ client, prefix = 'nest:' }): @nestjs/throttler
 * v6's ThrottlerStorage. `limit` per `ttl` (ms, rounded up to whole seconds) as
 * GCRA: `limit` at once, then one every ttl / limit; over it, blocked for
 * blockDuration (the guard's default: ttl) without counting, as the throttler's
 * own storage does. Times in the record are seconds, as the guard expects.
 */
class FloodgateThrottlerStorage {
  constructor(opts) {
    if (!opts?.client) throw new TypeError('floodgate: FloodgateThrottlerStorage needs { client }');
    this.client = opts.client;
    this.prefix = opts.prefix ?? 'nest:';
  }

  async increment(key, ttl, limit, blockDuration, throttlerName) {
    positiveInt(limit, 'throttler limit');
    if (!(ttl > 0)) throw new TypeError(`floodgate: throttler ttl must be a positive number of ms, not ${ttl}`);
    const name = `${throttlerName ?? 'default'}:${key}`;
    const blockKey = `${this.prefix}block:${name}`;
    const blockSec = blockDuration > 0 ? seconds(blockDuration) : 0;
    if (blockSec) {
      // A block is a key of one request per blockDuration, taken when the limit
      // is passed: while it is used up, requests are refused and not counted.
      const b = await throttle(this.client, blockKey, { maxBurst: 0, count: 1, period: blockSec, quantity: 0 });
      if (b.remaining === 0 && b.resetAfter > 0)
        return { totalHits: limit + 1, timeToExpire: b.resetAfter, isBlocked: true, timeToBlockExpire: b.resetAfter };
    }
    const r = await throttle(this.client, `${this.prefix}hit:${name}`,
      { maxBurst: limit - 1, count: limit, period: seconds(ttl), quantity: 1 });
    if (!r.limited)
      return { totalHits: Math.max(1, limit - r.remaining), timeToExpire: r.resetAfter, isBlocked: false, timeToBlockExpire: 0 };
    let wait = Math.max(1, r.retryAfter);
    if (blockSec) {
      await throttle(this.client, blockKey, { maxBurst: 0, count: 1, period: blockSec, quantity: 1 });
      wait = Math.max(wait, blockSec);
    }
    return { totalHits: limit + 1, timeToExpire: r.resetAfter, isBlocked: true, timeToBlockExpire: wait };
  }
}

/**
 * new FloodgateStore({ client, prefix = 'erl:', limit?, windowMs? }):
 * express-rate-limit v7's Store. `limit` per `windowMs` (rounded up to whole
 * seconds) as GCRA, shared by every process and host on the agent (and its
 * Redis). limit and windowMs come from the middleware's options unless given
 * here (give limit here when the middleware's is a function). decrement is a
 * no-op: CL.THROTTLE gives nothing back, so skipFailedRequests and
 * skipSuccessfulRequests count every request (said once in the log).
 */
class FloodgateStore {
  constructor(opts) {
    if (!opts?.client) throw new TypeError('floodgate: FloodgateStore needs { client }');
    this.client = opts.client;
    this.prefix = opts.prefix ?? 'erl:';
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.localKeys = false;
  }

  init(options) {
    this.windowMs = this.windowMs ?? options?.windowMs ?? 60_000;
    if (this.limit === undefined) {
      if (typeof options?.limit !== 'number')
        throw new TypeError('floodgate: FloodgateStore needs a number for limit: give { limit } to the store ' +
          'when the middleware\'s limit is a function');
      this.limit = options.limit;
    }
    positiveInt(this.limit, 'FloodgateStore limit');
    if (options?.skipFailedRequests || options?.skipSuccessfulRequests)
      this.client.logger.warn('floodgate: FloodgateStore cannot give a request back (CL.THROTTLE has no refund): ' +
        'skipFailedRequests and skipSuccessfulRequests count every request');
  }

  opts(quantity) {
    if (this.limit === undefined) this.init({});
    return { maxBurst: this.limit - 1, count: this.limit, period: seconds(this.windowMs), quantity };
  }

  info(r) {
    if (r.limited)
      return { totalHits: this.limit + 1, resetTime: new Date(Date.now() + Math.max(1, r.retryAfter) * 1000) };
    return { totalHits: Math.max(1, this.limit - r.remaining), resetTime: new Date(Date.now() + r.resetAfter * 1000) };
  }

  async increment(key) {
    return this.info(await throttle(this.client, this.prefix + key, this.opts(1)));
  }

  async get(key) {
    const r = await throttle(this.client, this.prefix + key, this.opts(0));
    return { totalHits: this.limit - r.remaining, resetTime: new Date(Date.now() + r.resetAfter * 1000) };
  }

  async decrement() {}

  async resetKey(key) {
    await throttleReset(this.client, this.prefix + key);
  }
}

module.exports = { throttle, throttleReset, FloodgateThrottlerStorage, FloodgateStore };

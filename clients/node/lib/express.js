'use strict';
// Express / Connect middleware on floodgated's decisions: a rate limiter with
// the IETF RateLimit headers, and a progressive-login helper.

const { windowSeconds } = require('./client');
const { normalizeIp } = require('./ip');

// An sf-string (RFC 8941 3.3.3): printable ASCII, '"' and '\' escaped.
function sfString(s) {
  const str = String(s);
  if (!/^[\x20-\x7e]*$/.test(str)) throw new TypeError(`floodgate: "${str}" cannot be a header policy name (ASCII only)`);
  return `"${str.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The RateLimit-Policy and RateLimit field values of a result, as the IETF
 * httpapi draft (draft-ietf-httpapi-ratelimit-headers-10/11) writes them:
 *   RateLimit-Policy: "api";q=100;w=60
 *   RateLimit: "api";r=42;t=17
 * or null when the result carries no limit (the failure policy allow/deny).
 */
function draftHeaders(name, r) {
  if (!r || !(r.limit > 0)) return null;
  const id = sfString(name);
  const w = windowSeconds(r.window);
  const policy = `${id};q=${r.limit}${w && w >= 1 ? `;w=${Math.round(w)}` : ''}`;
  const t = Math.ceil(r.resetMs / 1000);
  return { policy, limit: `${id};r=${r.remaining};t=${t}` };
}

function retryAfterSeconds(ms) {
  return Math.max(1, Math.ceil(ms / 1000));
}

// The client's address as Express sees it (its "trust proxy" setting), in one
// spelling; IPv6 by prefix when ipv6Prefix is set.
function ipKey(req, ipv6Prefix) {
  const raw = req.ip ?? req.socket?.remoteAddress;
  const ip = normalizeIp(raw, ipv6Prefix);
  if (!ip) throw new Error(`floodgate: no client address for this request (req.ip is ${raw})`);
  return ip;
}

const valueOf = (v, req, res) => (typeof v === 'function' ? v(req, res) : v);

/**
 * rateLimit({ client, policy, key?, cost?, role?, ipv6Prefix?, headers?,
 *   legacyHeaders?, headerName?, statusCode?, message?, skip?, handler?,
 *   requestPropertyName? }) -> (req, res, next)
 *
 * Decides each request with RL.CHECK. Allowed: headers set, req.rateLimit is
 * the result, next(). Refused: 429 (statusCode) with Retry-After and a JSON
 * body, or handler(req, res, next, result). A usage error from the agent
 * (unknown policy or role) goes to next(err): it never lets requests through.
 */
function rateLimit(opts) {
  if (!opts?.client) throw new TypeError('floodgate: rateLimit needs { client }');
  if (!opts.policy) throw new TypeError('floodgate: rateLimit needs { policy }');
  const { client } = opts;
  const headers = opts.headers ?? true;
  const legacy = opts.legacyHeaders ?? false;
  const statusCode = opts.statusCode ?? 429;
  const prop = opts.requestPropertyName ?? 'rateLimit';
  const keyFn = opts.key ?? ((req) => ipKey(req, opts.ipv6Prefix));

  return async function floodgateRateLimit(req, res, next) {
    let result;
    try {
      if (opts.skip && (await opts.skip(req, res))) return next();
      const policy = valueOf(opts.policy, req, res);
      const key = await keyFn(req, res);
      if (key === undefined || key === null || key === '')
        throw new Error('floodgate: the key function returned no key');
      const cost = await valueOf(opts.cost, req, res);
      const role = await valueOf(opts.role, req, res);
      try {
        result = await client.check(policy, key, { cost, role });
      } catch (err) {
        if (!err.neverPasses) throw err;
        result = { policy, key, allowed: false, limit: 0, remaining: 0, resetMs: 0, retryAfterMs: 0,
          state: 'never', window: '', refusedKey: key, source: 'agent' };
      }
      req[prop] = result;
      // a request that can never pass has no window to describe in headers
      if (headers && !res.headersSent && result.state !== 'never') {
        const h = draftHeaders(valueOf(opts.headerName, req, res) ?? policy, result);
        if (h) {
          res.setHeader('RateLimit-Policy', h.policy);
          res.setHeader('RateLimit', h.limit);
        }
      }
      if (legacy && !res.headersSent && result.limit > 0) {
        res.setHeader('X-RateLimit-Limit', String(result.limit));
        res.setHeader('X-RateLimit-Remaining', String(result.remaining));
        res.setHeader('X-RateLimit-Reset', String(Math.ceil((Date.now() + result.resetMs) / 1000)));
      }
    } catch (err) {
      return next(err);
    }
    if (result.allowed) return next();
    if (!res.headersSent && result.state !== 'never') // waiting would not help
      res.setHeader('Retry-After', String(retryAfterSeconds(result.retryAfterMs)));
    if (opts.handler) return opts.handler(req, res, next, result);
    const body = opts.message !== undefined ? valueOf(opts.message, req, res) : {
      error: 'rate_limited',
      message: result.state === 'blocked' ? 'Too many requests: temporarily blocked'
        : result.state === 'never' ? 'Too many requests: more than this policy ever allows (for this role)'
          : 'Too many requests',
      policy: result.policy,
      window: result.window || undefined,
      retryAfterMs: result.retryAfterMs,
    };
    res.statusCode = statusCode;
    if (typeof body === 'string') {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(body);
    } else {
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(body));
    }
  };
}

/**
 * progressiveLogin({ client, policy, key?, ipv6Prefix?, statusCode?, message?,
 * requestPropertyName? }) -> { check, fail(req, res?), ok(req) }
 *
 * check: middleware before the login handler. While the key must still wait
 * (RL.AUTH.CHECK), it answers 429 with Retry-After and { retryAfterMs }; else
 * it puts { key, fail(), ok() } on req.floodgateLogin and calls next().
 * After the attempt: fail() records it (RL.AUTH.FAIL) and resolves the delay
 * that now applies (and sets Retry-After on res when given and > 0); ok()
 * forgets the key's failures. Never a lockout: the wait only grows to the
 * policy's max_delay and failures are forgotten after forget_after.
 */
function progressiveLogin(opts) {
  if (!opts?.client) throw new TypeError('floodgate: progressiveLogin needs { client }');
  if (!opts.policy) throw new TypeError('floodgate: progressiveLogin needs { policy }');
  const { client, policy } = opts;
  const statusCode = opts.statusCode ?? 429;
  const prop = opts.requestPropertyName ?? 'floodgateLogin';
  const keyFn = opts.key ?? ((req) => ipKey(req, opts.ipv6Prefix));
  const keys = new WeakMap();

  async function keyOf(req) {
    if (keys.has(req)) return keys.get(req);
    const k = await keyFn(req);
    if (k === undefined || k === null || k === '') throw new Error('floodgate: the key function returned no key');
    keys.set(req, k);
    return k;
  }

  async function fail(req, res) {
    const r = await client.authFail(policy, await keyOf(req));
    if (res && !res.headersSent && r.delayMs > 0) res.setHeader('Retry-After', String(retryAfterSeconds(r.delayMs)));
    return r;
  }

  async function ok(req) {
    return client.authOk(policy, await keyOf(req));
  }

  async function check(req, res, next) {
    let r;
    try {
      const key = await keyOf(req);
      r = await client.authCheck(policy, key);
      req[prop] = { key, wait: r, fail: (resp) => fail(req, resp ?? res), ok: () => ok(req) };
    } catch (err) {
      return next(err);
    }
    if (r.waitMs <= 0) return next();
    res.statusCode = statusCode;
    res.setHeader('Retry-After', String(retryAfterSeconds(r.waitMs)));
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(opts.message !== undefined ? valueOf(opts.message, req, res) : {
      error: 'too_many_attempts',
      message: 'Too many failed attempts: wait before trying again',
      retryAfterMs: r.waitMs,
      failures: r.failures,
    }));
  }

  return { check, fail, ok };
}

/**
 * budget({ client, policy, key?, role?, estimate?, ... }) -> { check, charge(req, n) }
 *
 * For costs known only after the work (AI tokens): check is middleware that
 * refuses (429, as rateLimit) when the key's budget cannot cover estimate(req)
 * (default 1) and charges nothing; after the work, charge(req, n) (or
 * req.floodgateBudget.charge(n)) takes the actual use. Until the agent has a
 * debit that may go below zero (issue 12, RL.CHARGE), a use above what is left
 * takes what is left: { charged, uncharged, remaining } says how much was lost.
 */
function budget(opts) {
  if (!opts?.client) throw new TypeError('floodgate: budget needs { client }');
  if (!opts.policy) throw new TypeError('floodgate: budget needs { policy }');
  const { client, policy } = opts;
  const keyFn = opts.key ?? ((req) => ipKey(req, opts.ipv6Prefix));
  const keys = new WeakMap();
  const roles = new WeakMap();

  async function ids(req) {
    if (!keys.has(req)) {
      const k = await keyFn(req);
      if (k === undefined || k === null || k === '') throw new Error('floodgate: the key function returned no key');
      keys.set(req, k);
      roles.set(req, await valueOf(opts.role, req));
    }
    return { key: keys.get(req), role: roles.get(req) };
  }

  async function charge(req, n) {
    if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`floodgate: charge needs a non-negative integer, not ${n}`);
    const { key, role } = await ids(req);
    let charged = 0;
    let remaining = null;
    // Take what is left when n is more; a few rounds in case others charge meanwhile.
    for (let i = 0; i < 4 && charged < n; i++) {
      const p = await client.check(policy, key, { role, peek: true });
      remaining = p.remaining;
      const c = Math.min(n - charged, p.remaining);
      if (c <= 0) break;
      const r = await client.check(policy, key, { role, cost: c });
      remaining = r.remaining;
      if (r.allowed) charged += c;
    }
    return { charged, uncharged: n - charged, remaining };
  }

  // The check must not charge: PEEK through a client wrapper.
  const peekClient = { check: (p, k, o) => client.check(p, k, { ...o, peek: true }) };
  const peekLimiter = rateLimit({ ...opts, client: peekClient, key: async (req) => (await ids(req)).key,
    role: (req) => roles.get(req), cost: opts.estimate ?? 1 });

  async function check(req, res, next) {
    req.floodgateBudget = { charge: (n) => charge(req, n) };
    return peekLimiter(req, res, next);
  }

  return { check, charge };
}

module.exports = { rateLimit, progressiveLogin, budget, draftHeaders, ipKey };

'use strict';
// Express / Connect middleware on floodgated's decisions: a rate limiter with
// the IETF RateLimit headers, and a progressive-login helper.

const { windowSeconds } = require('./client');
const { normalizeIp, checkIpv6Prefix } = require('./ip');
const { compileKeys, decideKeys } = require('./keys');

// An sf-string (RFC 8941 3.3.3): printable ASCII, '"' and '\' escaped.
function sfString(s) {
  const str = String(s);
  if (!/^[\x20-\x7e]*$/.test(str)) throw new TypeError(`floodgate: "${str}" cannot be a header policy name (ASCII only)`);
  return `"${str.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

// What a header is made of that changes only with the config: the quoted
// name and the policy's window in seconds. Computed once per name and window
// name, not per response; bounded, as a name may come from a function.
const quoted = new Map();
const windowPart = new Map();
function cached(map, k, make) {
  let v = map.get(k);
  if (v === undefined) {
    if (map.size >= 1024) map.clear();
    v = make(k);
    map.set(k, v);
  }
  return v;
}
const windowParam = (name) => {
  const w = windowSeconds(name);
  return w && w >= 1 ? `;w=${Math.round(w)}` : '';
};

/**
 * The RateLimit-Policy and RateLimit field values of a result, as the IETF
 * httpapi draft (draft-ietf-httpapi-ratelimit-headers-10/11) writes them:
 *   RateLimit-Policy: "api";q=100;w=60
 *   RateLimit: "api";r=42;t=17
 * or null when the result carries no limit (the failure policy allow/deny).
 */
function draftHeaders(name, r) {
  if (!r || !(r.limit > 0)) return null;
  const id = cached(quoted, String(name), sfString);
  const policy = `${id};q=${r.limit}${cached(windowPart, r.window, windowParam)}`;
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
const isThenable = (v) => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';

/**
 * rateLimit({ client, policy, key? | keys?, cost?, role?, ipv6Prefix?,
 *   headers?, legacyHeaders?, headerName?, statusCode?, message?, skip?,
 *   handler?, requestPropertyName? }) -> (req, res, next)
 *
 * Decides each request with RL.CHECK, or, with keys ({ user: fn, ip: fn },
 * each a key function or { key?, policy? }), with one RL.CHECKM over all of
 * them: all or nothing, and result.refused names the key that refused.
 * Allowed: headers set, req.rateLimit is the result, next(). Refused: 429
 * (statusCode) with Retry-After and a JSON body, or handler(req, res, next,
 * result). A usage error from the agent (unknown policy or role) goes to
 * next(err): it never lets requests through.
 */
function rateLimit(opts) {
  if (!opts?.client) throw new TypeError('floodgate: rateLimit needs { client }');
  if (opts.keys && opts.key) throw new TypeError('floodgate: rateLimit takes key or keys, not both');
  checkIpv6Prefix(opts.ipv6Prefix);
  const { client } = opts;
  const defaultKey = (req) => ipKey(req, opts.ipv6Prefix);
  const specs = opts.keys ? compileKeys(opts.keys, opts.policy, defaultKey, 'rateLimit') : null;
  if (!specs && !opts.policy) throw new TypeError('floodgate: rateLimit needs { policy }');
  const headers = opts.headers ?? true;
  const legacy = opts.legacyHeaders ?? false;
  const statusCode = opts.statusCode ?? 429;
  const prop = opts.requestPropertyName ?? 'rateLimit';
  const keyFn = opts.key ?? defaultKey;

  // Every await is a trip through the microtask queue: options and key
  // functions that answer at once (the usual case) are not awaited, so a
  // request waits only for the agent's reply.
  return async function floodgateRateLimit(req, res, next) {
    let result;
    try {
      if (opts.skip) {
        let skip = opts.skip(req, res);
        if (isThenable(skip)) skip = await skip;
        if (skip) return next();
      }
      let cost = valueOf(opts.cost, req, res);
      if (isThenable(cost)) cost = await cost;
      let role = valueOf(opts.role, req, res);
      if (isThenable(role)) role = await role;
      if (specs) result = await decideKeys(client, specs, [req, res], { cost, role });
      else {
        const policy = valueOf(opts.policy, req, res);
        let key = keyFn(req, res);
        if (isThenable(key)) key = await key;
        if (key === undefined || key === null || key === '')
          throw new Error('floodgate: the key function returned no key');
        try {
          result = await client.check(policy, key, { cost, role });
        } catch (err) {
          if (!err.neverPasses) throw err;
          result = { policy, key, allowed: false, limit: 0, remaining: 0, resetMs: 0, retryAfterMs: 0,
            state: 'never', window: '', refusedKey: key, source: 'agent' };
        }
      }
      req[prop] = result;
      // a request that can never pass has no window to describe in headers
      if (headers && !res.headersSent && result.state !== 'never') {
        // several keys: the binding pair's policy (the refusing one, else the one with least left)
        const h = draftHeaders(valueOf(opts.headerName, req, res) ?? result.policy, result);
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
    else if (!res.headersSent && headers) {
      // Quota fields an earlier limiter set (a guard's policy) would describe
      // a policy that did not refuse this request, as if waiting would help.
      res.removeHeader('RateLimit-Policy');
      res.removeHeader('RateLimit');
    }
    if (opts.handler) return opts.handler(req, res, next, result);
    const body = opts.message !== undefined ? valueOf(opts.message, req, res) : {
      error: 'rate_limited',
      message: result.state === 'blocked' ? 'Too many requests: temporarily blocked'
        : result.state === 'never' ? 'Too many requests: more than this policy ever allows (for this role)'
          : 'Too many requests',
      policy: result.policy,
      refused: result.refused ?? undefined, // with keys: the name of the key that refused ("user", "ip")
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

// What a concurrent attempt for a key with one in flight is told to wait:
// about the time one attempt takes (a password hash, RL.AUTH.FAIL).
const IN_FLIGHT_RETRY_MS = 1000;

/**
 * progressiveLogin({ client, policy, key?, ipv6Prefix?, statusCode?, message?,
 * requestPropertyName?, vouch? }) -> { check, fail(req, res?), ok(req) }
 *
 * check: middleware before the login handler. While the key must still wait
 * (RL.AUTH.CHECK), it answers 429 with Retry-After and { retryAfterMs }; else
 * it puts { key, fail(), ok() } on req.floodgateLogin and calls next().
 * One attempt per key at a time in this process: an attempt for a key that
 * has one in flight is answered 429 with Retry-After 1 s, never queued; the
 * key is free again once that attempt's fail() or ok() is recorded or its
 * response ends.
 * After the attempt: fail() records it (RL.AUTH.FAIL) and resolves the delay
 * that now applies (and sets Retry-After on res when given and > 0); ok()
 * forgets the key's failures (RL.AUTH.OK) when the key is the application's
 * (key given); keyed by the client address (the default) it forgets nothing
 * and resolves false: one account's success must not wipe the guesses made
 * from that address at others. With vouch (true: the request's client
 * address; or a function of req), ok() vouches for the client's address
 * (RL.AUTH.OK ... ADDR; the policy's vouch_on_success says how long); vouch
 * needs a key function. Never a lockout: the wait only grows to the policy's
 * max_delay and failures are forgotten after forget_after.
 */
function progressiveLogin(opts) {
  if (!opts?.client) throw new TypeError('floodgate: progressiveLogin needs { client }');
  if (!opts.policy) throw new TypeError('floodgate: progressiveLogin needs { policy }');
  checkIpv6Prefix(opts.ipv6Prefix);
  // RL.AUTH.OK both vouches and forgets the key's failures: with the address
  // as the key the vouch would wipe them (see ok()).
  if (opts.vouch && !opts.key)
    throw new TypeError('floodgate: progressiveLogin with vouch needs { key } (the account, e.g. ' +
      '(req) => `user:${req.body.user}`): RL.AUTH.OK would forget the failures of the client address');
  const { client, policy } = opts;
  const statusCode = opts.statusCode ?? 429;
  const prop = opts.requestPropertyName ?? 'floodgateLogin';
  const byAddress = !opts.key;
  const keyFn = opts.key ?? ((req) => ipKey(req, opts.ipv6Prefix));
  const keys = new WeakMap();
  // key -> the request whose attempt is in flight. RL.AUTH.CHECK changes
  // nothing, so every guess that arrives before the first RL.AUTH.FAIL would
  // see no wait: one attempt per key at a time is what makes the slowdown
  // hold against parallel guesses (per process: the agent does not know).
  const inFlight = new Map();

  async function keyOf(req) {
    if (keys.has(req)) return keys.get(req);
    const k = await keyFn(req);
    if (k === undefined || k === null || k === '') throw new Error('floodgate: the key function returned no key');
    keys.set(req, k);
    return k;
  }

  // Frees req's key if req holds it (a later attempt may hold it by now).
  function release(req) {
    const key = keys.get(req);
    if (key !== undefined && inFlight.get(key) === req) inFlight.delete(key);
  }

  async function fail(req, res) {
    try {
      const r = await client.authFail(policy, await keyOf(req));
      if (res && !res.headersSent && r.delayMs > 0) res.setHeader('Retry-After', String(retryAfterSeconds(r.delayMs)));
      return r;
    } finally {
      release(req);
    }
  }

  // Keyed by the client address, a success forgets nothing: the address's
  // failures may be guesses at other accounts, and an attacker with an
  // account of their own would wipe them with each login of it. They end
  // by the policy's forget_after. vouch: true vouches for the request's
  // client address (req.ip: Express's "trust proxy"), a function picks the
  // address; the policy's vouch_on_success says for how long.
  async function ok(req) {
    try {
      const key = await keyOf(req);
      if (byAddress) return false;
      if (!opts.vouch) return await client.authOk(policy, key);
      const addr = typeof opts.vouch === 'function' ? await opts.vouch(req) : (req.ip ?? req.socket?.remoteAddress);
      return await client.authOk(policy, key, addr ? { addr } : undefined);
    } finally {
      release(req);
    }
  }

  function refuse(req, res, waitMs, failures, message) {
    res.statusCode = statusCode;
    res.setHeader('Retry-After', String(retryAfterSeconds(waitMs)));
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(opts.message !== undefined ? valueOf(opts.message, req, res) : {
      error: 'too_many_attempts', message, retryAfterMs: waitMs, failures,
    }));
  }

  async function check(req, res, next) {
    let key;
    let r;
    try {
      key = await keyOf(req);
    } catch (err) {
      return next(err);
    }
    // Taken with no await between the look and the take: concurrent
    // attempts of one key cannot both see it free.
    if (inFlight.has(key))
      return refuse(req, res, IN_FLIGHT_RETRY_MS, undefined,
        'Another attempt for this account is in progress: wait before trying again');
    inFlight.set(key, req);
    // A handler that throws or answers without fail() or ok() must not hold
    // the key for good.
    if (typeof res.once === 'function') {
      res.once('finish', () => release(req));
      res.once('close', () => release(req));
    }
    try {
      r = await client.authCheck(policy, key);
      req[prop] = { key, wait: r, fail: (resp) => fail(req, resp ?? res), ok: () => ok(req) };
    } catch (err) {
      release(req);
      return next(err);
    }
    if (r.waitMs <= 0) return next();
    release(req);
    return refuse(req, res, r.waitMs, r.failures, 'Too many failed attempts: wait before trying again');
  }

  return { check, fail, ok };
}

/**
 * budget({ client, policy, key?, role?, estimate?, costProperty?, failed?,
 *   onCharge?, ... }) -> { check, charge(req, n), fail(req) }
 *
 * For costs known only after the work (AI tokens). check is middleware: it
 * reserves estimate(req) (default 1) with RL.CHECK COST (429 as rateLimit when
 * the budget cannot cover it; nothing is taken then) and puts
 * req.floodgateBudget { key, role, reserved, charge(n), fail() } on the request.
 * After the work the actual use n is settled against the reservation: RL.CHARGE
 * n - reserved when it is more (the budget may go below zero: later requests
 * wait until new periods pay the debt back), RL.REFUND reserved - n when less.
 * Report n by calling req.floodgateBudget.charge(n) (resolves a ChargeResult
 * at once) or by setting res.locals[costProperty] (default "floodgateCost"),
 * read when the response has finished; fail() (or a finished response for
 * which failed(req, res) holds, default a status >= 400, with no cost
 * reported) refunds the whole reservation. A response finished with no report
 * and no failure keeps the reservation as the cost. Settling again later
 * corrects the earlier settlement (a charge(n) after the response was sent).
 * A refund gives back only what was charged to the budget period it is made
 * in (periodEnded: true in the result when part was not).
 */
function budget(opts) {
  if (!opts?.client) throw new TypeError('floodgate: budget needs { client }');
  if (!opts.policy) throw new TypeError('floodgate: budget needs { policy }');
  if (opts.keys) throw new TypeError('floodgate: budget takes one key (a budget is charged to one key)');
  checkIpv6Prefix(opts.ipv6Prefix);
  const { client, policy } = opts;
  const keyFn = opts.key ?? ((req) => ipKey(req, opts.ipv6Prefix));
  const costProperty = opts.costProperty ?? 'floodgateCost';
  const failed = opts.failed ?? ((req, res) => res.statusCode >= 400);
  const uses = new WeakMap();

  async function use(req) {
    let u = uses.get(req);
    if (!u) {
      const key = await keyFn(req);
      if (key === undefined || key === null || key === '') throw new Error('floodgate: the key function returned no key');
      // held: what the agent holds for this request, by the period it was
      // charged to ({ amount, end }: end in client.now() ms, never late).
      u = { key, role: await valueOf(opts.role, req), reserved: 0, recorded: 0, held: [], checkAt: 0,
        reported: false, chain: null };
      uses.set(req, u);
    }
    return u;
  }

  function amount(n, what) {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new TypeError(`floodgate: ${what} needs a non-negative integer cost, not ${n}`);
    return n;
  }

  // What of u.held is in a period that has not ended: the most a refund may
  // give back now. An RL.REFUND is credited to the period it is made in, so
  // a reservation of period H refunded in H+1 would let the key spend its
  // amount twice in H+1; what was charged to an ended period stays there.
  function refundable(u, now) {
    u.held = u.held.filter((h) => h.end > now);
    return u.held.reduce((sum, h) => sum + h.amount, 0);
  }

  // Takes amount off u.held, the latest charges first.
  function unhold(u, amount) {
    for (let i = u.held.length - 1; i >= 0 && amount > 0; i--) {
      const take = Math.min(u.held[i].amount, amount);
      u.held[i].amount -= take;
      amount -= take;
      if (u.held[i].amount === 0) u.held.splice(i, 1);
    }
  }

  // Moves what is recorded for this request from u.recorded to n: one call
  // at a time per request, so a late charge corrects an earlier settlement.
  // A refund gives back only what was charged to the period it is made in
  // (see refundable()); the rest stays recorded, and periodEnded says so.
  function settle(req, u, n) {
    const run = async () => {
      const diff = n - u.recorded;
      // Read before the call: a period's end computed from it is never late.
      const now = client.now();
      let give = 0;
      let r;
      if (diff >= 0) {
        r = await client.charge(policy, u.key, diff, { role: u.role });
        if (r.recorded) {
          u.recorded = n;
          if (diff > 0) u.held.push({ amount: diff, end: now + r.resetMs });
        }
      } else {
        give = Math.min(-diff, refundable(u, now));
        // Even of 0 (nothing left in this period): the reply is the key's state now.
        r = await client.refund(policy, u.key, give, { role: u.role });
        if (r.recorded) {
          u.recorded -= give;
          unhold(u, give);
        }
      }
      const out = { used: n, reserved: u.reserved, charged: Math.max(diff, 0), refunded: give,
        periodEnded: give < -diff, remaining: r.remaining, exhausted: !r.allowed, retryAfterMs: r.retryAfterMs,
        recorded: r.recorded, source: r.source };
      try {
        opts.onCharge?.(req, out);
      } catch { /* a metrics hook must not break the request */ }
      return out;
    };
    u.chain = (u.chain ?? Promise.resolve()).catch(() => {}).then(run);
    return u.chain;
  }

  async function charge(req, n) {
    amount(n, 'charge');
    const u = await use(req);
    u.reported = true;
    return settle(req, u, n);
  }

  async function fail(req) {
    const u = await use(req);
    u.reported = true;
    return settle(req, u, 0);
  }

  // The response is done: settle with what the handler reported, if it did not
  // itself. Nobody awaits this: a mistake or an agent error is logged.
  function finished(req, res) {
    const u = uses.get(req);
    if (!u || u.reported) return;
    u.reported = true;
    const logged = (err) => client.logger?.error?.(`floodgate: budget ${policy}: ${err.message}`);
    try {
      const reported = res.locals?.[costProperty];
      let n = null;
      if (reported !== undefined && reported !== null) n = amount(reported, `res.locals.${costProperty}`);
      else if (failed(req, res)) n = 0;
      if (n !== null && n !== u.recorded) settle(req, u, n).catch(logged);
    } catch (err) {
      logged(err);
    }
  }

  const limiter = rateLimit({ ...opts, keys: undefined, key: async (req) => (await use(req)).key,
    role: async (req) => (await use(req)).role,
    cost: async (req, res) => {
      const u = await use(req);
      u.reserved = amount(await valueOf(opts.estimate ?? 1, req, res), 'estimate');
      u.checkAt = client.now(); // before RL.CHECK is sent: the period's end from it is never late
      return u.reserved;
    } });

  async function check(req, res, next) {
    req.floodgateBudget = {
      charge: (n) => charge(req, n),
      fail: () => fail(req),
    };
    return limiter(req, res, (err) => {
      const u = uses.get(req);
      const decision = req[opts.requestPropertyName ?? 'rateLimit'];
      if (!err && u && decision?.allowed) {
        // What the agent holds for this request: the reservation, unless the failure
        // policy decided the check (then the agent, once back, is charged the whole use).
        u.recorded = decision.source === 'agent' ? u.reserved : 0;
        if (u.recorded > 0) u.held = [{ amount: u.recorded, end: u.checkAt + decision.resetMs }];
        Object.assign(req.floodgateBudget, { key: u.key, role: u.role, reserved: u.reserved });
        res.once('finish', () => finished(req, res));
        res.once('close', () => finished(req, res));
      }
      next(err);
    });
  }

  return { check, charge, fail };
}

module.exports = { rateLimit, progressiveLogin, budget, draftHeaders, ipKey };

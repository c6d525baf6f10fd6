'use strict';
// The in-process limiter a client decides with while floodgated cannot be
// reached (failure policy "insurance"). It is per process, so with N app
// processes a key gets up to N times the limit: a stopgap, not a replacement.
//
// Bounded: at most maxKeys keys; the oldest is forgotten first. Time is an
// argument so the algorithms are tested without sleeping.

const DEFAULTS = Object.freeze({
  window: { count: 60, perMs: 60_000 }, // window/budget policies: RL.CHECK
  events: { limit: 100, windowMs: 60_000, warnAt: 0.8 }, // RL.EVENT
  progressive: { freeFailures: 3, baseDelayMs: 1000, factor: 2, maxDelayMs: 30_000, forgetAfterMs: 900_000 },
});

class InsuranceLimiter {
  // opts: { maxKeys, default: {window, events, progressive}, policies: { name: {...same} } }
  constructor(opts = {}) {
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.defaults = {
      window: { ...DEFAULTS.window, ...(opts.default?.window ?? {}) },
      events: { ...DEFAULTS.events, ...(opts.default?.events ?? {}) },
      progressive: { ...DEFAULTS.progressive, ...(opts.default?.progressive ?? {}) },
    };
    this.policies = opts.policies ?? {};
    this.state = new Map();
  }

  conf(policy, kind) {
    const p = this.policies[policy]?.[kind];
    return p ? { ...this.defaults[kind], ...p } : this.defaults[kind];
  }

  get(k) {
    const v = this.state.get(k);
    if (v !== undefined) {
      // Map keeps insertion order: re-insert so eviction takes the least recently used.
      this.state.delete(k);
      this.state.set(k, v);
    }
    return v;
  }

  put(k, v) {
    this.state.set(k, v);
    while (this.state.size > this.maxKeys) this.state.delete(this.state.keys().next().value);
  }

  // A GCRA of count per perMs, like the agent's window policies.
  check(policy, key, cost, peek, now) {
    const { count, perMs } = this.conf(policy, 'window');
    const k = `c\0${policy}\0${key}`;
    const interval = perMs / count;
    const tat = Math.max(this.get(k) ?? now, now);
    const newTat = tat + interval * cost;
    const allowAt = newTat - perMs;
    const allowed = cost <= count && allowAt <= now;
    if (allowed && !peek) this.put(k, newTat);
    const used = allowed && !peek ? newTat : tat;
    const remaining = Math.max(0, Math.floor((perMs - (used - now)) / interval + 1e-9));
    return {
      allowed,
      limit: count,
      remaining,
      resetMs: Math.max(0, Math.ceil(used - now)),
      retryAfterMs: allowed ? 0 : Math.max(1, Math.ceil(allowAt - now)),
      state: allowed ? 'ok' : 'deny',
      window: msName(perMs),
    };
  }

  // Usage known after the request (RL.CHARGE > 0, RL.REFUND < 0): moves the
  // key's GCRA time by amount requests' worth; a charge may put it past the
  // window (a debt paid back as time passes), a refund never before now.
  usage(policy, key, amount, now) {
    const { count, perMs } = this.conf(policy, 'window');
    const k = `c\0${policy}\0${key}`;
    const tat = Math.max(this.get(k) ?? now, now);
    this.put(k, Math.max(now, tat + (perMs / count) * amount));
  }

  event(policy, conn, now) {
    const { limit, windowMs, warnAt } = this.conf(policy, 'events');
    const k = `e\0${policy}\0${conn}`;
    let s = this.get(k);
    if (!s || now - s.start >= windowMs) s = { start: now, count: 0 };
    s.count++;
    this.put(k, s);
    const warnN = Math.ceil(warnAt * limit);
    let state = 'ok';
    if (s.count >= limit) state = 'disconnect';
    else if (s.count === warnN) state = 'warn';
    return { state, count: s.count, limit };
  }

  connClose(policy, conn) {
    this.state.delete(`e\0${policy}\0${conn}`);
  }

  delay(c, failures) {
    if (failures <= c.freeFailures) return 0;
    return Math.min(c.baseDelayMs * c.factor ** (failures - c.freeFailures - 1), c.maxDelayMs);
  }

  authFail(policy, key, now) {
    const c = this.conf(policy, 'progressive');
    const k = `a\0${policy}\0${key}`;
    let s = this.get(k);
    if (!s || now - s.last >= c.forgetAfterMs) s = { failures: 0, last: now };
    s.failures++;
    s.last = now;
    this.put(k, s);
    return { delayMs: Math.round(this.delay(c, s.failures)), failures: s.failures };
  }

  authCheck(policy, key, now) {
    const c = this.conf(policy, 'progressive');
    const s = this.get(`a\0${policy}\0${key}`);
    if (!s || now - s.last >= c.forgetAfterMs) return { waitMs: 0, failures: 0 };
    const wait = Math.max(0, Math.round(this.delay(c, s.failures) - (now - s.last)));
    return { waitMs: wait, failures: s.failures };
  }

  authOk(policy, key) {
    this.state.delete(`a\0${policy}\0${key}`);
  }
}

function msName(ms) {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

module.exports = { InsuranceLimiter, INSURANCE_DEFAULTS: DEFAULTS };

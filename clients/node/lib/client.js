'use strict';
// Client of floodgated's Unix socket: one pipelined connection, reconnects with
// backoff, a timeout per call, and a declared failure policy for the time the
// agent cannot answer.

const net = require('node:net');
const { EventEmitter } = require('node:events');
const { RespReader, RespProtocolError, ReplyError, FloodgateArgumentError, encodeCommand } = require('./resp');
const { InsuranceLimiter } = require('./insurance');
const { normalizeIp } = require('./ip');

const DEFAULT_SOCKET = '/run/floodgate/floodgate.sock';
const FAILURE_POLICIES = ['allow', 'deny', 'insurance'];
const CHECK_STATES = new Set(['ok', 'warn', 'deny', 'blocked']);
const EVENT_STATES = new Set(['ok', 'warn', 'disconnect', 'exempt']);
const MAX_PAIRS = 16; // RL.CHECKM's bound (docs/api.md)
// The agent's bounds of the arguments this client sends, in bytes (docs/api.md:
// keys and connection ids 512; docs/config.md: policy, role and event type
// names 63). A call with a longer one is refused before it is sent: the agent
// would refuse it anyway, and one over its request size (1 MiB) would close
// the connection every call shares, leaving the calls in flight to the
// failure policy. An event name longer than any the agent can name (in
// events: or exempt:) is refused too, so an attacker's 1 MiB event name
// cannot get that far.
const KEY_MAX = 512;
const NAME_MAX = 63;
// The agent's answer to a connection over socket.max_clients or max_clients_per_uid.
const AGENT_REFUSAL = /^ERR max (number of clients|clients per uid) reached/;

// The agent could not decide (unreachable, too slow, a broken reply): the
// failure policy answers instead. Thrown only by calls that have no decision
// to fall back on (block, unblock, reset).
class FloodgateUnavailableError extends Error {
  constructor(message, cause) {
    super(message, cause ? { cause } : undefined);
    this.name = 'FloodgateUnavailableError';
    this.code = 'EFGUNAVAILABLE';
  }
}

// The agent refused the command itself (-ERR unknown policy, bad role ...):
// a mistake in the application or the config, never decided by the failure policy.
class FloodgateCommandError extends Error {
  constructor(replyError, args) {
    super(`floodgate: ${args[0]} ${args[1] ?? ''}: ${replyError.message}`);
    this.name = 'FloodgateCommandError';
    this.code = replyError.code;
    // The agent's answer to a cost above what the policy ever allows for this
    // role (a budget role of amount 0, a cost above a window's limit): waiting
    // does not help, and a limiter refuses such a request rather than fail.
    this.neverPasses = /could never pass/.test(replyError.message);
  }
}

const noopLogger = { info() {}, warn() {}, error() {} };

class Client extends EventEmitter {
  /**
   * opts: path, timeoutMs (per call, default 200), connectTimeoutMs (1000),
   * failure ('allow' | 'deny' | 'insurance', default 'insurance'), insurance
   * (InsuranceLimiter options), denyRetryAfterMs (what 'deny' tells callers to
   * wait, default 1000), reconnect { minMs, maxMs }, maxPending (calls in
   * flight, default 10000), logger ({info,warn,error}; default console, null for
   * none), resp (reader limits), now (clock, for tests).
   */
  constructor(opts = {}) {
    super();
    this.path = opts.path ?? process.env.FLOODGATE_SOCKET ?? DEFAULT_SOCKET;
    this.timeoutMs = opts.timeoutMs ?? 200;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 1000;
    this.failure = opts.failure ?? 'insurance';
    if (!FAILURE_POLICIES.includes(this.failure))
      throw new TypeError(`floodgate: failure must be one of ${FAILURE_POLICIES.join(', ')}, not ${this.failure}`);
    this.insurance = this.failure === 'insurance' ? new InsuranceLimiter(opts.insurance) : null;
    this.denyRetryAfterMs = opts.denyRetryAfterMs ?? 1000;
    this.minBackoff = opts.reconnect?.minMs ?? 25;
    this.maxBackoff = opts.reconnect?.maxMs ?? 2000;
    this.maxPending = opts.maxPending ?? 10_000;
    this.logger = opts.logger === null ? noopLogger : (opts.logger ?? console);
    this.respLimits = opts.resp ?? {};
    this.now = opts.now ?? Date.now;
    // An agent that keeps a call unanswered this long is stuck: drop the
    // connection so in-flight calls do not pile up behind it.
    this.stallMs = opts.stallMs ?? Math.max(5 * this.timeoutMs, 2000);

    this.state = 'connecting'; // connecting | ready | down | closed
    this.sock = null;
    this.inflight = []; // calls written, waiting for their reply in order
    this.queued = []; // calls made while connecting, written once connected
    this.backoff = this.minBackoff;
    this.timer = null;
    this.live = 0; // calls waiting for their deadline
    this.deadlineTimer = null; // the one timer of those deadlines (true: firing)
    this.onDeadline = () => this.onDeadlineTimer();
    this.out = []; // commands encoded, for one write after this poll phase
    this.outSock = null; // the connection they are for
    this.flushing = false;
    this.flushOut = () => this.flush();
    this.expireCalls = () => this.expireDeadlines();
    this.degraded = false;
    this.counters = {
      calls: 0, agent: 0, failure_allow: 0, failure_deny: 0, insurance: 0,
      timeouts: 0, reconnects: 0, protocol_errors: 0,
    };
    if (opts.lazyConnect !== true) this.connect();
  }

  // ---- connection --------------------------------------------------------

  connect() {
    if (this.state === 'closed' || this.sock) return;
    const reader = new RespReader(this.respLimits);
    // Replies are read into one buffer of this connection (onread), not
    // through the stream's 'data' events: no Buffer per read and no stream
    // bookkeeping per reply. The reader copies what it keeps of a chunk.
    const sock = net.createConnection({ path: this.path,
      onread: { buffer: Buffer.allocUnsafe(64 * 1024), callback: (n, buf) => onData(buf.subarray(0, n)) } });
    this.sock = sock;
    // Timers run before I/O in the event loop: after a stall of the
    // application's own loop the timer would fire although the connection (or
    // reply) is already there. setImmediate lets pending I/O be read first.
    const ct = setTimeout(() => setImmediate(() => {
      if (this.sock === sock && this.state === 'connecting')
        sock.destroy(new Error(`connect timed out after ${this.connectTimeoutMs} ms`));
    }), this.connectTimeoutMs);
    sock.once('connect', () => {
      clearTimeout(ct);
      this.state = 'ready';
      sock.readyAt = Date.now();
      if (this.degraded) {
        this.degraded = false;
        this.logger.info(`floodgate: agent at ${this.path} is back; decisions come from it again`);
        this.emit('recovered', { path: this.path });
      }
      this.emit('connect');
      const q = this.queued;
      this.queued = [];
      for (const c of q) if (!c.done) this.write(c);
    });
    const onData = (chunk) => {
      let replies;
      try {
        replies = reader.feed(chunk);
      } catch (e) {
        this.counters.protocol_errors++;
        this.logger.error(e.message);
        sock.destroy(e);
        return;
      }
      for (const r of replies) {
        // The agent's refusal of the connection itself (max clients ...) is
        // written before it reads a command: not the answer to the first call
        // in flight, which the failure policy decides with the others.
        const refusal = r instanceof ReplyError && AGENT_REFUSAL.test(r.message);
        const c = refusal ? undefined : this.inflight.shift();
        if (!c) {
          // The refusal, or an error nobody asked for: say what it was.
          this.counters.protocol_errors++;
          const e = r instanceof ReplyError ? Object.assign(new Error(`agent refused the connection: ${r.message}`),
            { code: r.code }) : new RespProtocolError('a reply nobody asked for');
          this.logger.error(`floodgate: ${e.message}`);
          sock.destroy(e);
          return;
        }
        // An answer to a call is what proves the agent healthy (not a connect
        // that it closes at once): only then does the backoff start again.
        this.backoff = this.minBackoff;
        if (!c.done) this.settle(c, r);
      }
    };
    sock.on('error', (err) => { sock.lastError = err; });
    sock.on('close', () => {
      clearTimeout(ct);
      if (this.sock === sock) this.sock = null;
      const err = sock.lastError;
      const wasReady = this.state === 'ready';
      const lost = this.inflight;
      this.inflight = [];
      for (const c of lost) if (!c.done) this.fallback(c, err ?? new Error('connection closed'));
      if (this.state === 'closed') return;
      this.emit('disconnect', err);
      if (wasReady && !err && Date.now() - sock.readyAt >= 1000) {
        // A clean close of a connection that worked a while (the agent's idle
        // timeout, a restart): try again at once, keeping calls queued
        // meanwhile. One closed right after it opened goes through the
        // backoff, so a flapping agent is not hammered.
        this.state = 'connecting';
        this.counters.reconnects++;
        setImmediate(() => this.connect());
        return;
      }
      this.markDown(err ?? new Error('connection closed'));
    });
  }

  markDown(err) {
    this.state = 'down';
    const q = this.queued;
    this.queued = [];
    for (const c of q) if (!c.done) this.fallback(c, err);
    if (!this.degraded) {
      this.degraded = true;
      const what = { allow: 'allowing every request', deny: 'refusing every request',
        insurance: 'deciding with the in-process insurance limiter' }[this.failure];
      this.logger.warn(`floodgate: agent at ${this.path} unreachable (${err.code ?? err.message}); ` +
        `failure policy "${this.failure}": ${what} until it is back`);
      this.emit('degraded', { path: this.path, failure: this.failure, error: err });
    }
    const delay = Math.round(this.backoff * (0.5 + Math.random() / 2));
    this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.state === 'closed') return;
      this.state = 'connecting';
      this.counters.reconnects++;
      this.connect();
    }, delay);
    this.timer.unref?.();
  }

  // Closes the connection; later calls are decided by the failure policy.
  close() {
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const c of this.queued) if (!c.done) this.fallback(c, new Error('client closed'));
    this.queued = [];
    // Calls made before close() still go out, and are answered before the agent closes.
    this.flush();
    if (this.sock) this.sock.end();
  }

  // Counters of decisions by source: a metrics hook can read them.
  stats() {
    return { ...this.counters, state: this.state, degraded: this.degraded, inflight: this.inflight.length };
  }

  // ---- calls --------------------------------------------------------------

  // Sends a command; resolves with parse(reply) from the agent, or with
  // fallback(err) when the agent cannot answer in time.
  call(args, parse, fallback) {
    this.counters.calls++;
    return new Promise((resolve, reject) => {
      const c = { args, parse, fallbackFn: fallback, resolve, reject, done: false, deadline: 0, sentAt: 0 };
      if (this.state === 'closed' || this.state === 'down') {
        this.fallback(c, new Error(this.state === 'closed' ? 'client closed' : 'agent unreachable'));
        return;
      }
      if (this.inflight.length + this.queued.length >= this.maxPending) {
        this.fallback(c, new Error(`${this.maxPending} calls already waiting`));
        return;
      }
      c.deadline = performance.now() + this.timeoutMs;
      this.armDeadline();
      if (this.state === 'ready') this.write(c);
      else this.queued.push(c);
    });
  }

  // One timer for all calls instead of a setTimeout and clearTimeout per call
  // (a Timeout object, a list insertion and a removal each: a measurable part
  // of a call). Every call has the same timeoutMs, so deadlines grow in call
  // order along inflight and queued: the timer is set for the oldest live
  // call and, when it fires, ends every call whose deadline has passed. It
  // holds the process open only while a call is waiting, as the per-call
  // timers did.
  armDeadline() {
    if (this.live++ === 0 && this.deadlineTimer && this.deadlineTimer !== true) this.deadlineTimer.ref();
    if (!this.deadlineTimer) this.deadlineTimer = setTimeout(this.onDeadline, this.timeoutMs);
  }

  // c is decided (replied, failed over or refused): its deadline no longer counts.
  finish(c) {
    c.done = true;
    if (c.deadline && --this.live === 0 && this.deadlineTimer && this.deadlineTimer !== true)
      this.deadlineTimer.unref();
  }

  // Timers run before I/O in the event loop: after a stall of the
  // application's own loop the timer would fire although the reply is already
  // there. setImmediate lets pending I/O be read first (the timer slot is
  // held meanwhile, so no second timer is set).
  onDeadlineTimer() {
    this.deadlineTimer = true;
    setImmediate(this.expireCalls);
  }

  expireDeadlines() {
    // Still held while calls are failed over: a 'fallback' listener that makes
    // a call must not set a second timer (the one set below covers its call).
    this.deadlineTimer = true;
    const now = performance.now();
    let next = Infinity;
    let expired = false;
    for (const list of [this.inflight, this.queued]) {
      for (const c of list) {
        if (c.done) continue; // a call timed out before, whose reply may still come: its slot stays
        if (c.deadline > now) {
          next = Math.min(next, c.deadline);
          break;
        }
        this.counters.timeouts++;
        expired = true;
        this.fallback(c, new Error(`no reply within ${this.timeoutMs} ms`));
      }
    }
    if (expired) {
      const oldest = this.inflight[0];
      if (oldest && Date.now() - oldest.sentAt > this.stallMs && this.sock)
        this.sock.destroy(new Error(`agent stalled: no reply for ${this.stallMs} ms`));
    }
    // A call made by such a listener after its list was passed: its deadline
    // is at most timeoutMs away.
    if (next === Infinity && this.live > 0) next = now + this.timeoutMs;
    this.deadlineTimer = null;
    if (next !== Infinity) {
      this.deadlineTimer = setTimeout(this.onDeadline, Math.max(1, Math.ceil(next - now)));
      if (this.live === 0) this.deadlineTimer.unref();
    }
  }

  write(c) {
    let cmd;
    try {
      cmd = encodeCommand(c.args);
    } catch (e) {
      this.finish(c);
      c.reject(e);
      return;
    }
    c.sentAt = Date.now();
    this.inflight.push(c);
    // Commands leave in one write after the poll phase of the event loop: the
    // calls of every request read in that phase (one per HTTP connection
    // with data) share one syscall and wake the agent once, which answers
    // them in one read. Their replies could not be read before the next poll
    // phase anyway, so the wait costs them no time.
    if (this.outSock !== this.sock) {
      this.outSock = this.sock;
      this.out = [];
    }
    this.out.push(cmd);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(this.flushOut);
    }
  }

  flush() {
    this.flushing = false;
    const sock = this.outSock;
    const out = this.out;
    this.outSock = null;
    this.out = [];
    // A socket closed meanwhile has failed these calls over already.
    if (!out.length || sock !== this.sock || sock.destroyed || sock.writableEnded) return;
    if (out.length === 1) sock.write(out[0]);
    else if (out.every((x) => typeof x === 'string')) sock.write(out.join(''));
    else {
      sock.cork();
      for (const x of out) sock.write(x);
      sock.uncork();
    }
  }

  settle(c, reply) {
    if (reply instanceof ReplyError) {
      this.finish(c);
      c.reject(new FloodgateCommandError(reply, c.args));
      return;
    }
    let v;
    try {
      v = c.parse(reply);
    } catch (e) {
      // A reply of the wrong shape: the agent and this client disagree; never
      // read it as a decision.
      this.counters.protocol_errors++;
      this.logger.error(`floodgate: ${c.args[0]}: ${e.message}`);
      this.fallback(c, e);
      return;
    }
    this.finish(c);
    this.counters.agent++;
    c.resolve(v);
  }

  fallback(c, err) {
    if (c.done) return;
    this.finish(c);
    if (!c.fallbackFn) {
      c.reject(new FloodgateUnavailableError(`floodgate: ${c.args[0]}: agent unavailable: ${err.message}`, err));
      return;
    }
    try {
      const v = c.fallbackFn(err);
      c.resolve(v);
    } catch (e) {
      c.reject(e);
    }
  }

  failureSource() {
    return this.failure === 'insurance' ? 'insurance' : `failure_${this.failure}`;
  }

  decided(kind, err, v) {
    const source = this.failureSource();
    this.counters[source]++;
    this.emit('fallback', { source, command: kind, error: err });
    return { ...v, source, error: err };
  }

  // ---- commands -------------------------------------------------------------

  /**
   * RL.CHECK: a window or budget decision. opts: cost, role, peek.
   * Resolves a CheckResult; rejects with FloodgateCommandError on a usage error.
   */
  check(policy, key, opts = {}) {
    const bad = argError('RL.CHECK', policy, key, opts.role);
    if (bad) return Promise.reject(bad);
    const args = ['RL.CHECK', policy, key];
    const cost = opts.cost ?? 1;
    if (!Number.isSafeInteger(cost) || cost < 0)
      return Promise.reject(new TypeError(`floodgate: cost must be a non-negative integer, not ${opts.cost}`));
    if (opts.cost !== undefined) args.push('COST', cost);
    if (opts.role !== undefined && opts.role !== null && opts.role !== '') args.push('ROLE', String(opts.role));
    if (opts.peek) args.push('PEEK');
    return this.call(args, (r) => parseCheck(r, policy, key), (err) => {
      if (this.failure === 'allow')
        return this.decided('check', err, { policy, key, allowed: true, limit: 0, remaining: 0, resetMs: 0,
          retryAfterMs: 0, state: 'ok', window: '', refusedKey: null });
      if (this.failure === 'deny')
        return this.decided('check', err, { policy, key, allowed: false, limit: 0, remaining: 0, resetMs: 0,
          retryAfterMs: this.denyRetryAfterMs, state: 'deny', window: '', refusedKey: key });
      const v = this.insurance.check(policy, String(key), cost, !!opts.peek, this.now());
      return this.decided('check', err, { policy, key, ...v, refusedKey: v.allowed ? null : key });
    });
  }

  /**
   * RL.CHECKM: several (policy, key) pairs in one decision, all or nothing.
   * pairs: [[policy, key], ...] or [{ policy, key }, ...] (1-16). opts: cost,
   * role, peek (for every pair). Resolves a CheckResult for the binding pair
   * (policy, key: the refusing one, else the one with the least remaining),
   * with refusedIndex (-1 when allowed) and refusedKey.
   */
  checkMulti(pairs, opts = {}) {
    if (!Array.isArray(pairs) || pairs.length < 1 || pairs.length > MAX_PAIRS)
      return Promise.reject(new TypeError(`floodgate: checkMulti needs 1-${MAX_PAIRS} (policy, key) pairs`));
    const list = pairs.map((p) => (Array.isArray(p) ? { policy: p[0], key: p[1] } : { policy: p?.policy, key: p?.key }));
    for (const [i, p] of list.entries())
      if (!p.policy || p.key === undefined || p.key === null || p.key === '')
        return Promise.reject(new TypeError(`floodgate: checkMulti pair ${i} needs a policy and a key`));
    for (const [i, p] of list.entries()) {
      const bad = argError(`RL.CHECKM pair ${i}`, p.policy, p.key, i === 0 ? opts.role : undefined);
      if (bad) return Promise.reject(bad);
    }
    const cost = opts.cost ?? 1;
    if (!Number.isSafeInteger(cost) || cost < 0)
      return Promise.reject(new TypeError(`floodgate: cost must be a non-negative integer, not ${opts.cost}`));
    const args = ['RL.CHECKM', list.length];
    for (const p of list) args.push(p.policy, p.key);
    if (opts.cost !== undefined) args.push('COST', cost);
    if (opts.role !== undefined && opts.role !== null && opts.role !== '') args.push('ROLE', String(opts.role));
    if (opts.peek) args.push('PEEK');
    return this.call(args, (r) => parseCheckMulti(r, list), (err) => {
      const none = { limit: 0, remaining: 0, resetMs: 0, window: '' };
      if (this.failure === 'allow')
        return this.decided('checkMulti', err, { ...list[0], ...none, allowed: true, retryAfterMs: 0, state: 'ok',
          bindingIndex: 0, refusedIndex: -1, refusedKey: null });
      if (this.failure === 'deny')
        return this.decided('checkMulti', err, { ...list[0], ...none, allowed: false,
          retryAfterMs: this.denyRetryAfterMs, state: 'deny', bindingIndex: 0, refusedIndex: 0, refusedKey: list[0].key });
      // As the agent: every pair checked first, all charged only when all pass.
      const now = this.now();
      const each = list.map((p) => this.insurance.check(p.policy, String(p.key), cost, true, now));
      let bind = -1;
      each.forEach((v, i) => {
        if (!v.allowed && (bind < 0 || v.retryAfterMs > each[bind].retryAfterMs)) bind = i;
      });
      if (bind >= 0)
        return this.decided('checkMulti', err, { ...list[bind], ...each[bind], bindingIndex: bind, refusedIndex: bind,
          refusedKey: list[bind].key });
      const done = opts.peek ? each : list.map((p) => this.insurance.check(p.policy, String(p.key), cost, false, now));
      done.forEach((v, i) => { if (bind < 0 || v.remaining < done[bind].remaining) bind = i; });
      return this.decided('checkMulti', err, { ...list[bind], ...done[bind], bindingIndex: bind, refusedIndex: -1,
        refusedKey: null });
    });
  }

  /**
   * RL.CHARGE: records usage known after the request (budget policies; may go
   * below zero). Resolves RL.CHECK's record for a request of cost 1 now, with
   * recorded: true; recorded: false when the agent could not be reached (the
   * insurance limiter, if that is the failure policy, takes the charge).
   */
  charge(policy, key, amount, opts = {}) {
    return this.usage('RL.CHARGE', policy, key, amount, opts);
  }

  /** RL.REFUND: gives back usage charged before (never past nothing used). Resolves as charge(). */
  refund(policy, key, amount, opts = {}) {
    return this.usage('RL.REFUND', policy, key, amount, opts);
  }

  usage(cmd, policy, key, amount, opts) {
    const bad = argError(cmd, policy, key, opts.role);
    if (bad) return Promise.reject(bad);
    if (!Number.isSafeInteger(amount) || amount < 0)
      return Promise.reject(new TypeError(`floodgate: ${cmd} amount must be a non-negative integer, not ${amount}`));
    const args = [cmd, policy, key, amount];
    if (opts.role !== undefined && opts.role !== null && opts.role !== '') args.push('ROLE', String(opts.role));
    return this.call(args, (r) => ({ ...parseCheck(r, policy, key, cmd), amount, recorded: true }), (err) => {
      const kind = cmd === 'RL.CHARGE' ? 'charge' : 'refund';
      if (this.failure !== 'insurance')
        return this.decided(kind, err, { policy, key, amount, recorded: false, allowed: this.failure === 'allow',
          limit: 0, remaining: 0, resetMs: 0, retryAfterMs: this.failure === 'allow' ? 0 : this.denyRetryAfterMs,
          state: this.failure === 'allow' ? 'ok' : 'deny', window: '', refusedKey: null });
      const now = this.now();
      this.insurance.usage(policy, String(key), kind === 'charge' ? amount : -amount, now);
      const v = this.insurance.check(policy, String(key), 1, true, now);
      return this.decided(kind, err, { policy, key, amount, recorded: false, ...v, refusedKey: null });
    });
  }

  /** RL.AUTH.CHECK: how long the caller must wait before the next attempt. */
  authCheck(policy, key) {
    const bad = argError('RL.AUTH.CHECK', policy, key);
    if (bad) return Promise.reject(bad);
    return this.call(['RL.AUTH.CHECK', policy, key], (r) => {
      const [waitMs, failures] = ints(r, 2, 'RL.AUTH.CHECK');
      return { policy, key, waitMs, failures, source: 'agent' };
    }, (err) => this.authFallback('authCheck', err, policy, key, () =>
      this.insurance.authCheck(policy, String(key), this.now())));
  }

  /** RL.AUTH.FAIL: records a failed attempt; resolves the delay that now applies. */
  authFail(policy, key) {
    const bad = argError('RL.AUTH.FAIL', policy, key);
    if (bad) return Promise.reject(bad);
    return this.call(['RL.AUTH.FAIL', policy, key], (r) => {
      const [delayMs, failures] = ints(r, 2, 'RL.AUTH.FAIL');
      return { policy, key, delayMs, failures, source: 'agent' };
    }, (err) => this.authFallback('authFail', err, policy, key, () => {
      const v = this.insurance.authFail(policy, String(key), this.now());
      return v;
    }));
  }

  authFallback(kind, err, policy, key, insured) {
    if (this.failure === 'allow')
      return this.decided(kind, err, { policy, key, waitMs: 0, delayMs: 0, failures: 0 });
    if (this.failure === 'deny')
      return this.decided(kind, err, { policy, key, waitMs: this.denyRetryAfterMs,
        delayMs: this.denyRetryAfterMs, failures: 0 });
    const v = insured();
    return this.decided(kind, err, { policy, key, waitMs: v.waitMs ?? v.delayMs, delayMs: v.delayMs ?? v.waitMs,
      failures: v.failures });
  }

  /**
   * RL.AUTH.OK: a successful login forgets the key's failures. With { addr }
   * (one IP address: the client's), a policy with vouch_on_success also
   * vouches for it. Resolves true (agent) or false (not reached).
   */
  authOk(policy, key, opts) {
    const bad = argError('RL.AUTH.OK', policy, key);
    if (bad) return Promise.reject(bad);
    const cmd = ['RL.AUTH.OK', policy, key];
    if (opts?.addr != null) {
      const addr = vouchAddress(opts.addr);
      if (!addr) return Promise.reject(new TypeError(`floodgate: authOk addr: "${opts.addr}" is not one IP address`));
      cmd.push('ADDR', addr);
    }
    return this.call(cmd, okReply('RL.AUTH.OK'), () => {
      this.insurance?.authOk(policy, String(key));
      return false;
    });
  }

  /**
   * RL.EVENT: one event of a connection; resolves { state, count, limit, type, source }.
   * type is the event type whose count answered (a policy with per-type limits
   * under `events:`; '*' for the types it does not name), or null.
   */
  event(policy, connId, eventName) {
    const bad = argError('RL.EVENT', policy, connId, undefined, 'connection id');
    if (bad) return Promise.reject(bad);
    const n = over(eventName, NAME_MAX);
    if (n) return Promise.reject(new FloodgateArgumentError('RL.EVENT', 'event name', n, NAME_MAX));
    return this.call(['RL.EVENT', policy, connId, eventName], (r) => {
      if (!Array.isArray(r) || (r.length !== 3 && r.length !== 4) || typeof r[0] !== 'string' ||
          !EVENT_STATES.has(r[0]) || !Number.isSafeInteger(r[1]) || !Number.isSafeInteger(r[2]) ||
          (r.length === 4 && typeof r[3] !== 'string'))
        throw new RespProtocolError(`RL.EVENT reply is not [state, count, limit, type?]: ${show(r)}`);
      return { policy, connId, event: eventName, state: r[0], count: r[1], limit: r[2],
        type: r.length === 4 ? r[3] : null, source: 'agent' };
    }, (err) => {
      if (this.failure === 'allow')
        return this.decided('event', err, { policy, connId, event: eventName, state: 'ok', count: 0, limit: 0, type: null });
      if (this.failure === 'deny')
        return this.decided('event', err, { policy, connId, event: eventName, state: 'disconnect', count: 0, limit: 0, type: null });
      const v = this.insurance.event(policy, String(connId), this.now());
      return this.decided('event', err, { policy, connId, event: eventName, type: null, ...v });
    });
  }

  /**
   * XDP.VOUCH: the application's word that addr (one IP address) is a real
   * user: verified for seconds (default the agent's), so its new flows pass a
   * rule's global budget while the rule is under attack. Resolves the seconds
   * granted; rejects with the agent's refusal (NOPERM: this process's uid or
   * gid is not in vouch.peer_uids/peer_gids; ERR: an address it may not
   * vouch for, its rate or quota) or FloodgateUnavailableError.
   */
  vouch(addr, seconds) {
    const a = vouchAddress(addr);
    if (!a) return Promise.reject(new TypeError(`floodgate: vouch: "${addr}" is not one IP address`));
    if (seconds !== undefined && (!Number.isSafeInteger(seconds) || seconds < 1))
      return Promise.reject(new RangeError(`floodgate: vouch: seconds must be a whole number >= 1, not ${seconds}`));
    const cmd = seconds === undefined ? ['XDP.VOUCH', a] : ['XDP.VOUCH', a, String(seconds)];
    return this.call(cmd, (r) => {
      if (!Number.isSafeInteger(r) || r < 0) throw new RespProtocolError(`XDP.VOUCH answered ${show(r)}, not seconds`);
      return r;
    });
  }

  /** XDP.UNVOUCH: ends the vouch for addr. Resolves true; rejects when addr is not vouched for. */
  unvouch(addr) {
    const a = vouchAddress(addr);
    if (!a) return Promise.reject(new TypeError(`floodgate: unvouch: "${addr}" is not one IP address`));
    return this.call(['XDP.UNVOUCH', a], okReply('XDP.UNVOUCH'));
  }

  /** RL.CONN.CLOSE: forgets a connection's counters. Resolves true, or false when the agent was not reached. */
  connClose(policy, connId) {
    const bad = argError('RL.CONN.CLOSE', policy, connId, undefined, 'connection id');
    if (bad) return Promise.reject(bad);
    return this.call(['RL.CONN.CLOSE', policy, connId], okReply('RL.CONN.CLOSE'), () => {
      this.insurance?.connClose(policy, String(connId));
      return false;
    });
  }

  /** RL.BLOCK policy key seconds (rejects with FloodgateUnavailableError when the agent is not reached). */
  block(policy, key, seconds) {
    if (!Number.isSafeInteger(seconds) || seconds < 1)
      return Promise.reject(new TypeError(`floodgate: block seconds must be a positive integer, not ${seconds}`));
    const bad = argError('RL.BLOCK', policy, key);
    if (bad) return Promise.reject(bad);
    return this.call(['RL.BLOCK', policy, key, seconds], okReply('RL.BLOCK'), null);
  }

  unblock(policy, key) {
    const bad = argError('RL.UNBLOCK', policy, key);
    if (bad) return Promise.reject(bad);
    return this.call(['RL.UNBLOCK', policy, key], okReply('RL.UNBLOCK'), null);
  }

  reset(policy, key) {
    const bad = argError('RL.RESET', policy, key);
    if (bad) return Promise.reject(bad);
    return this.call(['RL.RESET', policy, key], okReply('RL.RESET'), null);
  }

  /** PING: resolves true when the agent answers. */
  ping() {
    return this.call(['PING'], (r) => {
      if (r !== 'PONG') throw new RespProtocolError(`PING answered ${show(r)}`);
      return true;
    }, null);
  }
}

// The byte size of v when it is over max, else 0. UTF-8 takes at most 3 bytes
// per UTF-16 unit: a short string is not measured.
function over(v, max) {
  if (typeof v === 'string') {
    if (v.length * 3 <= max) return 0;
    const n = Buffer.byteLength(v, 'utf8');
    return n > max ? n : 0;
  }
  if (Buffer.isBuffer(v)) return v.length > max ? v.length : 0;
  return 0; // a number is short; any other type is refused when the command is written
}

// The error for the first argument of cmd over the agent's bound, or null:
// the policy name, the key (or connection id: keyName), the role.
function argError(cmd, policy, key, role, keyName = 'key') {
  let n;
  if ((n = over(policy, NAME_MAX))) return new FloodgateArgumentError(cmd, 'policy name', n, NAME_MAX);
  if ((n = over(key, KEY_MAX))) return new FloodgateArgumentError(cmd, keyName, n, KEY_MAX);
  if (role !== undefined && role !== null && (n = over(String(role), NAME_MAX)))
    return new FloodgateArgumentError(cmd, 'role', n, NAME_MAX);
  return null;
}

function show(r) {
  const s = JSON.stringify(r);
  return s && s.length > 120 ? `${s.slice(0, 120)}...` : String(s);
}

function ints(r, n, what) {
  if (!Array.isArray(r) || r.length !== n || !r.every((x) => Number.isSafeInteger(x) && x >= 0))
    throw new RespProtocolError(`${what} reply is not ${n} non-negative integers: ${show(r)}`);
  return r;
}

// One IP address as the agent takes it (IPv4-mapped as IPv4, no zone, no
// prefix), or null.
function vouchAddress(addr) {
  const a = normalizeIp(String(addr));
  return a && !a.includes('/') ? a : null;
}

function okReply(what) {
  return (r) => {
    if (r !== 'OK') throw new RespProtocolError(`${what} answered ${show(r)}, not OK`);
    return true;
  };
}

// [allowed, limit, remaining, reset_ms, retry_after_ms, state, window] (the
// head of RL.CHECKM's reply too: n is its length).
function parseCheck(r, policy, key, what = 'RL.CHECK', n = 7) {
  if (!Array.isArray(r) || r.length !== n)
    throw new RespProtocolError(`${what} reply is not a ${n}-element array: ${show(r)}`);
  for (let i = 0; i < 5; i++)
    if (!Number.isSafeInteger(r[i]) || r[i] < 0)
      throw new RespProtocolError(`${what} reply field ${i} is not a non-negative integer: ${show(r)}`);
  if (r[0] !== 0 && r[0] !== 1) throw new RespProtocolError(`${what} allowed is ${r[0]}, not 0 or 1`);
  if (typeof r[5] !== 'string' || !CHECK_STATES.has(r[5]))
    throw new RespProtocolError(`${what} state ${show(r[5])} is unknown`);
  if (typeof r[6] !== 'string') throw new RespProtocolError(`${what} window ${show(r[6])} is not a string`);
  const allowed = r[0] === 1;
  if (allowed !== (r[5] === 'ok' || r[5] === 'warn'))
    throw new RespProtocolError(`${what} allowed=${r[0]} contradicts state ${r[5]}`);
  return {
    policy, key, allowed, limit: r[1], remaining: r[2], resetMs: r[3], retryAfterMs: r[4], state: r[5],
    window: r[6], refusedKey: allowed ? null : key, source: 'agent',
  };
}

// RL.CHECK's seven fields, then refused (index or -1), policy, key of the
// binding pair; the pair must be one that was asked (a reply for another key
// is never read as this decision).
function parseCheckMulti(r, pairs) {
  const v = parseCheck(Array.isArray(r) ? r.slice(0, 7) : r, null, null, 'RL.CHECKM', 7);
  if (r.length !== 10) throw new RespProtocolError(`RL.CHECKM reply is not a 10-element array: ${show(r)}`);
  const [refused, policy, key] = r.slice(7);
  if (!Number.isSafeInteger(refused) || refused < -1 || refused >= pairs.length || (refused === -1) !== v.allowed)
    throw new RespProtocolError(`RL.CHECKM refused index ${show(refused)} does not fit the decision: ${show(r)}`);
  const at = refused >= 0 ? refused : pairs.findIndex((p) => String(p.policy) === policy && String(p.key) === key);
  if (at < 0 || String(pairs[at].policy) !== policy || String(pairs[at].key) !== key)
    throw new RespProtocolError(`RL.CHECKM names a pair that was not asked: ${show(r)}`);
  return { ...v, policy: pairs[at].policy, key: pairs[at].key, bindingIndex: at, refusedIndex: refused,
    refusedKey: refused >= 0 ? pairs[at].key : null };
}

// A window name of a reply ("1s", "10m", "hour", "day") in seconds, or null.
function windowSeconds(name) {
  if (name === 'hour') return 3600;
  if (name === 'day') return 86400;
  const m = /^([0-9]{1,9})(ms|s|m|h|d)$/.exec(name ?? '');
  if (!m) return null;
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600, d: n * 86400 }[m[2]];
}

function createClient(opts) {
  return new Client(opts);
}

module.exports = {
  Client, createClient, FloodgateUnavailableError, FloodgateCommandError, FloodgateArgumentError, windowSeconds,
  parseCheck, parseCheckMulti, argError,
  MAX_PAIRS, KEY_MAX, NAME_MAX,
  DEFAULT_SOCKET,
};

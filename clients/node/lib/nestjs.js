'use strict';
// NestJS: a guard and decorators on floodgated's named policies. No import of
// @nestjs/* at load time (the package has no dependencies); the guard takes
// HttpException from the application's own @nestjs/common when it refuses.

const { ipKey, draftHeaders } = require('./express');
const { checkIpv6Prefix } = require('./ip');

const META = new WeakMap(); // handler function or controller class -> options | SKIP
const SKIP = Symbol('floodgate.skip');

function decorate(value) {
  // Legacy (TypeScript experimentalDecorators) and plain calls:
  // class: (target); method: (target, key, descriptor).
  return (target, _key, descriptor) => {
    META.set(descriptor ? descriptor.value : target, value);
    return descriptor;
  };
}

/**
 * @RateLimit({ policy, key?, cost?, role?, headerName? }) on a controller or a
 * route handler: the policy that decides it (a handler's own wins over its
 * controller's). key/cost/role are values or functions of the request.
 */
function RateLimit(opts) {
  if (!opts?.policy) throw new TypeError('floodgate: @RateLimit needs { policy }');
  checkIpv6Prefix(opts.ipv6Prefix);
  return decorate({ ...opts });
}

/** @SkipRateLimit() on a controller or handler: not checked. */
function SkipRateLimit() {
  return decorate(SKIP);
}

function loadHttpException() {
  try {
    return require(require.resolve('@nestjs/common', { paths: [process.cwd(), ...module.paths] })).HttpException;
  } catch {
    return null;
  }
}

const valueOf = (v, req) => (typeof v === 'function' ? v(req) : v);

/**
 * new FloodgateGuard({ client, policy?, key?, cost?, role?, ipv6Prefix?,
 * headers?, legacyHeaders? }): for app.useGlobalGuards(), @UseGuards() or an
 * APP_GUARD provider (useValue). Routes without @RateLimit use the guard's own
 * policy, or pass when it has none. A refusal throws HttpException 429 with
 * { error, message, policy, window, retryAfterMs } after setting Retry-After
 * and the RateLimit headers; a usage error (unknown policy) propagates.
 */
class FloodgateGuard {
  constructor(opts) {
    if (!opts?.client) throw new TypeError('floodgate: FloodgateGuard needs { client }');
    checkIpv6Prefix(opts.ipv6Prefix);
    this.opts = opts;
    this.HttpException = opts.HttpException ?? null;
  }

  async canActivate(context) {
    const handler = context.getHandler?.();
    const cls = context.getClass?.();
    const meta = (handler && META.get(handler)) ?? (cls && META.get(cls)) ?? null;
    if (meta === SKIP) return true;
    const o = { ...this.opts, ...(meta ?? {}) };
    if (!o.policy) return true;
    if (context.getType && context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const req = http.getRequest();
    const res = http.getResponse();
    const key = o.key ? await valueOf(o.key, req) : ipKey(req, o.ipv6Prefix);
    const r = await this.opts.client.check(o.policy, key, {
      cost: await valueOf(o.cost, req),
      role: await valueOf(o.role, req),
    });
    req.rateLimit = r;
    const setHeader = (n, v) => (typeof res?.setHeader === 'function' ? res.setHeader(n, v) : res?.header?.(n, v));
    if (o.headers !== false) {
      const h = draftHeaders(o.headerName ?? o.policy, r);
      if (h) {
        setHeader('RateLimit-Policy', h.policy);
        setHeader('RateLimit', h.limit);
      }
    }
    if (o.legacyHeaders && r.limit > 0) {
      setHeader('X-RateLimit-Limit', String(r.limit));
      setHeader('X-RateLimit-Remaining', String(r.remaining));
      setHeader('X-RateLimit-Reset', String(Math.ceil((Date.now() + r.resetMs) / 1000)));
    }
    if (r.allowed) return true;
    setHeader('Retry-After', String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))));
    const body = {
      statusCode: 429,
      error: 'rate_limited',
      message: r.state === 'blocked' ? 'Too many requests: temporarily blocked' : 'Too many requests',
      policy: r.policy,
      window: r.window || undefined,
      retryAfterMs: r.retryAfterMs,
    };
    const HttpException = this.HttpException ?? (this.HttpException = loadHttpException());
    if (HttpException) throw new HttpException(body, 429);
    const err = new Error(body.message);
    err.status = 429;
    err.response = body;
    throw err;
  }
}

module.exports = { FloodgateGuard, RateLimit, SkipRateLimit };

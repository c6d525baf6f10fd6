// Compiled by test/package.test.js with tsc --strict: the declarations cover
// what the README shows, and misuse is a type error.
import {
  Client, rateLimit, progressiveLogin, connectionLimiter, eventLimiter, handshakeLimiter, budget, CheckResult, EventResult,
  FloodgateCommandError, FloodgateArgumentError, normalizeIp,
} from 'floodgate';

const fg = new Client({ failure: 'insurance', timeoutMs: 100, insurance: { default: { window: { count: 5, perMs: 1000 } } } });
async function main(): Promise<void> {
  const r: CheckResult = await fg.check('api', 'user:1', { cost: 2, role: 'OWNER', peek: false });
  const n: number = r.retryAfterMs + r.remaining + r.limit + r.resetMs;
  const s: 'ok' | 'warn' | 'deny' | 'blocked' | 'never' = r.state;
  const src: string = r.source;
  const e: EventResult = await fg.event('socket_events', 'sock1', 'msg');
  const d: number = (await fg.authFail('login', '192.0.2.1')).delayMs + (await fg.authCheck('login', 'x')).waitMs;
  const ok: boolean = await fg.authOk('login', 'x');
  await fg.block('api', 'k', 10);
  fg.on('degraded', (ev) => console.log(ev.failure));
  const m: CheckResult = await fg.checkMulti([['api_user', 'user:1'], { policy: 'api_ip', key: '192.0.2.1' }], { cost: 1 });
  const why: string | null | undefined = m.refused;
  const u = await fg.charge('ai', 'user:1', 5000, { role: 'pro' });
  const rec: boolean = u.recorded && (await fg.refund('ai', 'user:1', 10)).recorded;
  const tooLong = await fg.event('socket_events', 'sock1', 'x'.repeat(64)).then(() => '', (err: unknown) =>
    (err instanceof FloodgateArgumentError ? `${err.command} ${err.argument} ${err.bytes}/${err.max}` : ''));
  void [why, rec, tooLong];
  void [n, s, src, e, d, ok, normalizeIp('::1', 64), FloodgateCommandError];
}
void main;
rateLimit({ client: fg, policy: 'api', ipv6Prefix: 64, legacyHeaders: true, key: (req) => String(req.ip) });
const login = progressiveLogin({ client: fg, policy: 'login' });
void budget({ client: fg, policy: 'ai', estimate: 100, key: (req) => String(req.user), costProperty: 'tokens',
  failed: (_req, res) => res.statusCode >= 500, onCharge: (_req, c) => console.log(c.used, c.charged, c.refunded, c.periodEnded) }).fail;
rateLimit({ client: fg, policy: 'api', keys: { user: (req) => `user:${req.user.id}`, ip: {} },
  handler: (_req, res, _next, r) => res.status(429).json({ violation: r.refused }) });
handshakeLimiter({ client: fg, keys: { ip: { policy: 'sio_ip' }, user: { policy: 'sio_user', key: (req) => String(req.url) } } });
void login.check;
connectionLimiter({ client: fg, policy: 'sio_connect', trustProxy: ['10.0.0.0/8'] });
handshakeLimiter({ client: fg, policy: 'sio_connect', trustProxy: 1 });
eventLimiter({ client: fg, policy: 'socket_events', exempt: ['ping'], onAudit: (a) => console.log(a.type) }).middleware;

import { FloodgateGuard, RateLimit, SkipRateLimit } from 'floodgate';
@RateLimit({ policy: 'api', role: (req) => req.user?.role })
class Ctl {
  @RateLimit({ policy: 'ai', cost: 5 }) ask(): void {}
  @SkipRateLimit() health(): void {}
}
void Ctl;
void new FloodgateGuard({ client: fg, policy: 'api', ipv6Prefix: 64 });

// Types of the floodgate package (CommonJS and ESM export the same objects).

import { EventEmitter } from 'node:events';

/** Who decided: the agent, or the client's failure policy while the agent could not answer. */
export type DecisionSource = 'agent' | 'failure_allow' | 'failure_deny' | 'insurance';
export type FailurePolicy = 'allow' | 'deny' | 'insurance';

export interface CheckResult {
  policy: string;
  key: string | Buffer;
  allowed: boolean;
  /** Limit of the binding window, role applied (0 when the failure policy allow/deny decided). */
  limit: number;
  remaining: number;
  /** Until the binding window is back to its full limit. */
  resetMs: number;
  /** 0 when allowed; else until a request of this cost would pass. */
  retryAfterMs: number;
  /** 'never' (Express middleware only): the cost is above what the policy ever allows
   * for this role (e.g. a budget role of amount 0); refused without Retry-After. */
  state: 'ok' | 'warn' | 'deny' | 'blocked' | 'never';
  /** Name of the binding window: "1s", "1m", "hour", "day" ... ("" from allow/deny). */
  window: string;
  /** The key that refused the request (null when allowed). */
  refusedKey: string | Buffer | null;
  /** Several keys (checkMulti): index of the refusing pair (-1 when allowed), of the binding pair. */
  refusedIndex?: number;
  bindingIndex?: number;
  /** Named keys (rateLimit / handshakeLimiter / connectionLimiter keys): the name that refused ("user", "ip"), or null. */
  refused?: string | null;
  /** Named keys: the binding pair's name, and every name's key. */
  binding?: string | null;
  keys?: Record<string, Key>;
  source: DecisionSource;
  /** Why the failure policy decided (absent when source is "agent"). */
  error?: Error;
}

/** RL.CHARGE / RL.REFUND: what a request of cost 1 would get now, after the usage was recorded. */
export interface UsageResult extends CheckResult {
  amount: number;
  /** false: the agent was not reached (the insurance limiter, if it is the failure policy, took it). */
  recorded: boolean;
}

export interface AuthCheckResult {
  policy: string; key: string | Buffer; waitMs: number; failures: number; source: DecisionSource; error?: Error;
}
export interface AuthFailResult {
  policy: string; key: string | Buffer; delayMs: number; failures: number; source: DecisionSource; error?: Error;
}
export interface EventResult {
  policy: string;
  connId: string | Buffer;
  event: string;
  state: 'ok' | 'warn' | 'disconnect' | 'exempt';
  count: number;
  limit: number;
  /** The event type whose count answered: a policy with per-type limits (`events:`; '*' for the types it does not name), else null. */
  type: string | null;
  source: DecisionSource;
  error?: Error;
}

export interface InsuranceOptions {
  /** Keys held at most (least recently used forgotten first). Default 100000. */
  maxKeys?: number;
  default?: InsurancePolicy;
  /** Per policy name. */
  policies?: Record<string, InsurancePolicy>;
}
export interface InsurancePolicy {
  /** RL.CHECK: count per perMs (GCRA). Default 60 per 60000. */
  window?: { count?: number; perMs?: number };
  /** RL.EVENT: default 100 per 60000 ms, warning at 0.8. */
  events?: { limit?: number; windowMs?: number; warnAt?: number };
  /** RL.AUTH.*: default 3 free failures, 1 s doubling up to 30 s, forgotten after 15 min. */
  progressive?: { freeFailures?: number; baseDelayMs?: number; factor?: number; maxDelayMs?: number; forgetAfterMs?: number };
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface ClientOptions {
  /** Socket path. Default: env FLOODGATE_SOCKET, else /run/floodgate/floodgate.sock. */
  path?: string;
  /** Per call: past it the failure policy decides. Default 200. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** What decides while the agent cannot answer. Default "insurance". */
  failure?: FailurePolicy;
  insurance?: InsuranceOptions;
  /** retryAfterMs / waitMs that failure "deny" answers. Default 1000. */
  denyRetryAfterMs?: number;
  reconnect?: { minMs?: number; maxMs?: number };
  /** Calls in flight at most; beyond, the failure policy decides. Default 10000. */
  maxPending?: number;
  /** A call unanswered this long means the agent is stuck: reconnect. Default max(5 x timeoutMs, 2000). */
  stallMs?: number;
  /** Default console; null for no log. */
  logger?: Logger | null;
  /** Reply size limits of the RESP reader. */
  resp?: Partial<RespLimits>;
  /** Do not connect before the first call. */
  lazyConnect?: boolean;
  /** Clock of the insurance limiter (ms). */
  now?: () => number;
}

export interface RespLimits {
  maxBulk: number; maxElements: number; maxDepth: number; maxLine: number; maxBuffered: number;
}

export interface ClientStats {
  calls: number; agent: number; failure_allow: number; failure_deny: number; insurance: number;
  timeouts: number; reconnects: number; protocol_errors: number;
  state: 'connecting' | 'ready' | 'down' | 'closed'; degraded: boolean; inflight: number;
}

export type Key = string | Buffer;

export declare class Client extends EventEmitter {
  constructor(opts?: ClientOptions);
  readonly path: string;
  readonly failure: FailurePolicy;
  readonly state: 'connecting' | 'ready' | 'down' | 'closed';
  check(policy: string, key: Key, opts?: { cost?: number; role?: string; peek?: boolean }): Promise<CheckResult>;
  /** RL.CHECKM: 1-16 (policy, key) pairs decided at once, all or nothing. */
  checkMulti(pairs: Array<[string, Key] | { policy: string; key: Key }>,
    opts?: { cost?: number; role?: string; peek?: boolean }): Promise<CheckResult>;
  /** RL.CHARGE: usage known after the request (budget policies); may go below zero. */
  charge(policy: string, key: Key, amount: number, opts?: { role?: string }): Promise<UsageResult>;
  /** RL.REFUND: gives usage back (never past nothing used). */
  refund(policy: string, key: Key, amount: number, opts?: { role?: string }): Promise<UsageResult>;
  authCheck(policy: string, key: Key): Promise<AuthCheckResult>;
  authFail(policy: string, key: Key): Promise<AuthFailResult>;
  /** true when the agent recorded it, false when it could not be reached. */
  /** With addr (one IP address), a policy with vouch_on_success vouches for it too. */
  authOk(policy: string, key: Key, opts?: { addr?: string }): Promise<boolean>;
  /** XDP.VOUCH: resolves the seconds granted; rejects with the agent's refusal. */
  vouch(addr: string, seconds?: number): Promise<number>;
  /** XDP.UNVOUCH. */
  unvouch(addr: string): Promise<true>;
  event(policy: string, connId: Key, event: string): Promise<EventResult>;
  connClose(policy: string, connId: Key): Promise<boolean>;
  /** Rejects with FloodgateUnavailableError when the agent cannot be reached. */
  block(policy: string, key: Key, seconds: number): Promise<true>;
  unblock(policy: string, key: Key): Promise<true>;
  reset(policy: string, key: Key): Promise<true>;
  ping(): Promise<true>;
  /** Sends the calls already made, then closes. A decision asked later comes
   * from the failure policy (error 'client closed'); block, unblock, reset and
   * ping reject with FloodgateUnavailableError. */
  close(): void;
  stats(): ClientStats;

  on(event: 'connect', listener: () => void): this;
  on(event: 'disconnect', listener: (err?: Error) => void): this;
  on(event: 'degraded', listener: (e: { path: string; failure: FailurePolicy; error: Error }) => void): this;
  on(event: 'recovered', listener: (e: { path: string }) => void): this;
  on(event: 'fallback', listener: (e: { source: DecisionSource; command: string; error: Error }) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
}

export declare function createClient(opts?: ClientOptions): Client;

export declare class FloodgateUnavailableError extends Error { code: 'EFGUNAVAILABLE'; }
export declare class FloodgateCommandError extends Error {
  code: string;
  /** The agent's "could never pass": a cost above what the policy ever allows for this role. */
  neverPasses: boolean;
}
/**
 * An argument over the agent's bound, refused before it is sent (that call alone): a key or
 * connection id over 512 bytes, a policy, role or event name over 63, a request over 1 MiB.
 */
export declare class FloodgateArgumentError extends RangeError {
  code: 'EFGARG';
  /** The command, e.g. "RL.EVENT". */
  command: string;
  /** What was too long: "key", "connection id", "policy name", "role", "event name", "request". */
  argument: string;
  bytes: number;
  max: number;
}
export declare class RespProtocolError extends Error { code: 'EFGPROTO'; }
export declare class ReplyError extends Error { code: string; }

export declare class InsuranceLimiter {
  constructor(opts?: InsuranceOptions);
}

export declare class RespReader {
  constructor(limits?: Partial<RespLimits>);
  /** Replies completed by chunk; throws RespProtocolError on invalid or oversized input. */
  feed(chunk: Buffer): unknown[];
}

/** One spelling of an address (IPv4-mapped -> IPv4); with ipv6Prefix an IPv6 address becomes "net::/len". */
export declare function normalizeIp(addr: string, ipv6Prefix?: number): string | null;

export declare const DEFAULT_SOCKET: string;

// ---- Express / Connect ------------------------------------------------------
// Request and response are typed loosely so the package needs no @types/express.

type Req = any;
type Res = any;
type Next = (err?: unknown) => void;
type OrFn<T> = T | ((req: Req, res: Res) => T | Promise<T>);

/** A named key of one decision: its key function (default: the client address) and policy (default: the limiter's). */
export type NamedKey<F> = F | { key?: F; policy?: string | ((...args: any[]) => string) };

export interface RateLimitOptions {
  client: Client;
  /** The floodgated policy (window or budget) that decides (with keys: of each name without its own). */
  policy?: string | ((req: Req, res: Res) => string);
  /** Default: the client address from req.ip (Express's "trust proxy"), IPv4-mapped as IPv4. */
  key?: (req: Req, res: Res) => Key | Promise<Key>;
  /** Several keys in one decision (RL.CHECKM), e.g. { user: (req) => `user:${req.user.id}`, ip: {} };
   * a refusal says which name refused (result.refused, the 429 body's "refused"). Not with key. */
  keys?: Record<string, NamedKey<(req: Req, res: Res) => Key | Promise<Key>>>;
  /** With the default key: key IPv6 clients by this prefix (e.g. 64): an
   * integer 1-128, else the middleware throws when it is made. */
  ipv6Prefix?: number;
  cost?: OrFn<number | undefined>;
  role?: OrFn<string | undefined>;
  /** RateLimit-Policy and RateLimit (IETF httpapi draft). Default true. */
  headers?: boolean;
  /** X-RateLimit-Limit, -Remaining, -Reset (Unix seconds). Default false. */
  legacyHeaders?: boolean;
  /** Policy name in the headers (default: policy). */
  headerName?: OrFn<string>;
  /** Default 429. */
  statusCode?: number;
  /** Body of a refusal: a string (text/plain) or a JSON value. */
  message?: OrFn<unknown>;
  skip?: (req: Req, res: Res) => boolean | Promise<boolean>;
  /** Answers a refused request instead of the default 429 (Retry-After is already set). */
  handler?: (req: Req, res: Res, next: Next, result: CheckResult) => unknown;
  /** Where the result is put on req. Default "rateLimit". */
  requestPropertyName?: string;
}

export declare function rateLimit(opts: RateLimitOptions): (req: Req, res: Res, next: Next) => Promise<void>;

export interface LoginOptions {
  client: Client;
  /** A progressive floodgated policy. */
  policy: string;
  /**
   * Default: the client address (as rateLimit's default key); then ok() forgets nothing.
   * Recommended: the account (e.g. `user:${req.body.user}`), with a rateLimit by address beside it.
   */
  key?: (req: Req) => Key | Promise<Key>;
  ipv6Prefix?: number;
  statusCode?: number;
  message?: OrFn<unknown>;
  /** Default "floodgateLogin". */
  requestPropertyName?: string;
  /**
   * After a successful login, vouch for the client's address (RL.AUTH.OK ... ADDR): true takes
   * req.ip (Express's "trust proxy"), a function returns the address. The policy needs
   * vouch_on_success and this process's uid or gid in the agent's vouch.peer_uids/peer_gids.
   * Needs key (RL.AUTH.OK also forgets the key's failures): without one, progressiveLogin throws.
   */
  vouch?: boolean | ((req: Req) => string | undefined | Promise<string | undefined>);
}

export interface LoginRequestState {
  key: Key;
  wait: AuthCheckResult;
  /** Records a failed attempt; sets Retry-After on the response when a delay now applies. */
  fail(res?: Res): Promise<AuthFailResult>;
  /**
   * With a key function: forgets the key's failures (RL.AUTH.OK); true when the agent recorded it.
   * Keyed by the client address (no key): sends nothing and resolves false.
   */
  ok(): Promise<boolean>;
}

export declare function progressiveLogin(opts: LoginOptions): {
  check: (req: Req, res: Res, next: Next) => Promise<void>;
  fail: (req: Req, res?: Res) => Promise<AuthFailResult>;
  ok: (req: Req) => Promise<boolean>;
};

export interface BudgetOptions extends Omit<RateLimitOptions, 'cost' | 'key' | 'keys' | 'role'> {
  /** A budget policy. */
  policy: string;
  key?: (req: Req) => Key | Promise<Key>;
  role?: OrFn<string | undefined>;
  /** Reserved by the check (RL.CHECK COST), settled against the actual use after. Default 1. */
  estimate?: OrFn<number>;
  /** res.locals property read for the actual use when the response finishes. Default "floodgateCost". */
  costProperty?: string;
  /** A finished response with no cost reported is a failure: its reservation is refunded. Default: status >= 400. */
  failed?: (req: Req, res: Res) => boolean;
  /** Each settlement (for metrics or an audit log). */
  onCharge?: (req: Req, result: ChargeResult) => void;
}

export interface ChargeResult {
  /** The actual use now recorded for this request. */
  used: number;
  /** What the check reserved. */
  reserved: number;
  /** RL.CHARGE above the reservation (may take the budget below zero). */
  charged: number;
  /** RL.REFUND of an unused reservation (only what was charged to the period the refund is made in). */
  refunded: number;
  /**
   * true: part of what this settlement would give back was charged to a budget period that has
   * ended, and is not refunded (a refund is credited to the period it is made in).
   */
  periodEnded: boolean;
  /** Left now (0 when used up or in debt). */
  remaining: number;
  /** The next request (cost 1) would be refused. */
  exhausted: boolean;
  retryAfterMs: number;
  /** false: the agent was not reached (decided by the failure policy). */
  recorded: boolean;
  source: DecisionSource;
}

/** What budget's check puts on the request. */
export interface BudgetRequestState {
  key: Key;
  role: string | undefined;
  reserved: number;
  /** Settles the actual use now (RL.CHARGE or RL.REFUND against the reservation). */
  charge(n: number): Promise<ChargeResult>;
  /** The work failed: the reservation is refunded. */
  fail(): Promise<ChargeResult>;
}

/** Reserve before (estimate), settle the actual use after: req.floodgateBudget.charge(n) or res.locals.floodgateCost = n. */
export declare function budget(opts: BudgetOptions): {
  check: (req: Req, res: Res, next: Next) => Promise<void>;
  charge: (req: Req, n: number) => Promise<ChargeResult>;
  fail: (req: Req) => Promise<ChargeResult>;
};

/** The draft's field values for a result, or null when it carries no limit. */
export declare function draftHeaders(name: string, result: CheckResult): { policy: string; limit: string } | null;

// ---- Socket.IO ----------------------------------------------------------------
// Sockets are typed loosely so the package needs no socket.io types.

type IoSocket = any;
type IoNext = (err?: Error) => void;

/** What Express's "trust proxy" takes: false, true, a hop count, CIDRs/addresses, or a function. */
export type TrustProxy = boolean | number | string | string[] | ((addr: string, hop: number) => boolean);

export interface ConnectionLimiterOptions {
  client: Client;
  /** A window policy, charged once per connection attempt (with keys: of each name without its own). */
  policy?: string;
  /** Default: the client address (through trusted proxies). */
  key?: (socket: IoSocket) => Key | Promise<Key>;
  /** Several keys in one decision (RL.CHECKM); a refusal names which (err.data.refused, audit refused). */
  keys?: Record<string, NamedKey<(socket: IoSocket) => Key | Promise<Key>>>;
  /** Default false: X-Forwarded-For is ignored. */
  trustProxy?: TrustProxy;
  ipv6Prefix?: number;
  /** connect_error message. Default "rate limited" (err.data: { policy, retryAfterMs, state }). */
  message?: string;
  onAudit?: (e: AuditEvent) => void;
}

export interface AuditEvent {
  type: 'connect_refused' | 'warn' | 'disconnect' | 'close' | 'error';
  /** null for handshakeLimiter (no socket yet). */
  socketId: string | null;
  userId?: unknown;
  key?: Key;
  event?: string;
  /** warn, disconnect, with a policy with per-type limits: the type whose count answered (EventResult.type). */
  eventType?: string;
  count?: number;
  limit?: number;
  policy: string;
  /** With keys: the name that refused. */
  refused?: string | null;
  source?: DecisionSource;
  retryAfterMs?: number;
  /** close: whether the agent recorded RL.CONN.CLOSE. */
  recorded?: boolean;
  error?: Error;
}

export declare function connectionLimiter(opts: ConnectionLimiterOptions): (socket: IoSocket, next: IoNext) => Promise<void>;

export interface HandshakeLimiterOptions {
  client: Client;
  /** A window policy, charged once per new Engine.IO session (with keys: of each name without its own). */
  policy?: string;
  /** Default: the client address (through trusted proxies). */
  key?: (req: any) => Key | Promise<Key>;
  /** Several keys in one decision (RL.CHECKM); refused with 403 "rate limited (<name>), retry after N s". */
  keys?: Record<string, NamedKey<(req: any) => Key | Promise<Key>>>;
  trustProxy?: TrustProxy;
  ipv6Prefix?: number;
  onAudit?: (e: AuditEvent) => void;
}

/** allowRequest for new Server(http, { allowRequest }): refuses new sessions with HTTP 403. */
export declare function handshakeLimiter(opts: HandshakeLimiterOptions):
  (req: any, callback: (err: string | null | undefined, success: boolean) => void) => void;

export interface VouchOnConnectOptions {
  client: Client;
  /** Default false: X-Forwarded-For is ignored. */
  trustProxy?: TrustProxy;
  /** How long (XDP.VOUCH seconds). Default: the agent's (sources.verified_ttl, at most vouch.max_duration). */
  seconds?: number;
  /** Whether the socket's user logged in. Default: socket.data.user or socket.data.userId is set. */
  authenticated?: (socket: IoSocket) => boolean;
  onAudit?: (e: VouchAuditEvent) => void;
}

export interface VouchAuditEvent {
  type: 'vouched' | 'vouch_refused';
  socketId: string;
  addr: string;
  /** vouched: the seconds granted. */
  seconds?: number;
  /** vouch_refused: the agent's refusal or FloodgateUnavailableError. */
  error?: Error;
}

/** io.use middleware after the app's authentication: vouches for the client's address; never refuses the socket. */
export declare function vouchOnConnect(opts: VouchOnConnectOptions): (socket: IoSocket, next: IoNext) => void;

export interface EventLimiterOptions {
  client: Client;
  /** An events policy. */
  policy?: string;
  /** A policy per event type (null: not limited). Default: policy. */
  policyFor?: (event: string) => string | null | undefined;
  /** Event names never counted (besides the policy's own exempt list). */
  exempt?: string[];
  /** Sent to the client at the warning. Default "rate_limit:warning" ({ event, eventType, count, limit }). */
  warnEvent?: string;
  /** Sent before the disconnect. Default "rate_limit:exceeded" ({ reason, event, eventType, count, limit }). */
  limitEvent?: string;
  /** Default socket.id. */
  connId?: (socket: IoSocket) => Key;
  /** For audit events. Default socket.data.userId ?? socket.data.user?.id. */
  userId?: (socket: IoSocket) => unknown;
  onAudit?: (e: AuditEvent) => void;
}

export declare function eventLimiter(opts: EventLimiterOptions): {
  /** Call in io.on("connection"). */
  attach(socket: IoSocket): void;
  /** Or as io.use(limiter.middleware). */
  middleware(socket: IoSocket, next: IoNext): void;
};

// ---- NestJS -------------------------------------------------------------------

export interface RateLimitDecoratorOptions {
  /** The floodgated policy for this controller or handler. */
  policy: string;
  key?: Key | ((req: Req) => Key | Promise<Key>);
  cost?: number | ((req: Req) => number | Promise<number>);
  role?: string | ((req: Req) => string | undefined | Promise<string | undefined>);
  headerName?: string;
}

export interface FloodgateGuardOptions extends Partial<RateLimitDecoratorOptions> {
  client: Client;
  ipv6Prefix?: number;
  /** RateLimit-Policy and RateLimit. Default true. */
  headers?: boolean;
  legacyHeaders?: boolean;
  /** The HttpException class to throw (default: the application's @nestjs/common one). */
  HttpException?: new (response: unknown, status: number) => Error;
}

/** A guard for app.useGlobalGuards(), @UseGuards() or an APP_GUARD provider (useValue). */
export declare class FloodgateGuard {
  constructor(opts: FloodgateGuardOptions);
  canActivate(context: any): Promise<boolean>;
}

/** Class and method decorator: the policy (and key, cost, role) of a controller or route. */
export declare function RateLimit(opts: RateLimitDecoratorOptions): ClassDecorator & MethodDecorator;
/** Class and method decorator: not checked. */
export declare function SkipRateLimit(): ClassDecorator & MethodDecorator;

// Limits given per call (CL.THROTTLE) and the drop-in stores on it: lib/stores.d.ts.
export * from './lib/stores';

// Types of lib/stores.js: CL.THROTTLE (limits given per call) and the drop-in
// stores built on it. Re-exported by the package's index.d.ts.
import type { Client, DecisionSource, Key } from '../index';

export interface ThrottleOptions {
  /** Requests at once above the steady rate: the limit is maxBurst + 1. */
  maxBurst: number;
  /** Requests per period, on average. */
  count: number;
  /** Seconds (whole, at least 1). */
  period: number;
  /** What this call takes (default 1); 0 only looks. */
  quantity?: number;
}

/** CL.THROTTLE's reply (redis-cell's five integers), by name. */
export interface ThrottleResult {
  limited: boolean;
  /** maxBurst + 1 */
  limit: number;
  remaining: number;
  /** Seconds until this call would pass; -1 when allowed, or when quantity is above the limit. */
  retryAfter: number;
  /** Seconds until the key is back to its full limit. */
  resetAfter: number;
  source: DecisionSource;
  error?: Error;
}

/** One CL.THROTTLE; the client's failure policy answers when the agent cannot. */
export declare function throttle(client: Client, key: Key, opts: ThrottleOptions): Promise<ThrottleResult>;
/** CL.RESET: forget key's CL.THROTTLE state (rejects when the agent is unreachable). */
export declare function throttleReset(client: Client, key: Key): Promise<true>;

/** @nestjs/throttler v6's ThrottlerStorageRecord. */
export interface ThrottlerStorageRecord {
  totalHits: number;
  /** Seconds. */
  timeToExpire: number;
  isBlocked: boolean;
  /** Seconds. */
  timeToBlockExpire: number;
}

/** A ThrottlerStorage for @nestjs/throttler v6 on floodgated (CL.THROTTLE). */
export declare class FloodgateThrottlerStorage {
  constructor(opts: { client: Client; prefix?: string });
  readonly client: Client;
  readonly prefix: string;
  increment(key: string, ttl: number, limit: number, blockDuration: number,
    throttlerName: string): Promise<ThrottlerStorageRecord>;
}

/** express-rate-limit v7's ClientRateLimitInfo. */
export interface ClientRateLimitInfo {
  totalHits: number;
  resetTime: Date | undefined;
}

/** An express-rate-limit v7 Store on floodgated (CL.THROTTLE, CL.RESET). */
export declare class FloodgateStore {
  constructor(opts: { client: Client; prefix?: string; limit?: number; windowMs?: number });
  readonly client: Client;
  prefix: string;
  localKeys: boolean;
  init(options: { windowMs?: number; limit?: unknown; skipFailedRequests?: boolean;
    skipSuccessfulRequests?: boolean }): void;
  increment(key: string): Promise<ClientRateLimitInfo>;
  get(key: string): Promise<ClientRateLimitInfo>;
  /** A no-op: CL.THROTTLE gives nothing back. */
  decrement(key: string): Promise<void>;
  resetKey(key: string): Promise<void>;
}

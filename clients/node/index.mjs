// ESM entry: the same objects as the CommonJS build (one copy of the state).
import cjs from './lib/index.js';

export const {
  Client, createClient, FloodgateUnavailableError, FloodgateCommandError, FloodgateArgumentError, InsuranceLimiter,
  RespReader, RespProtocolError, ReplyError, normalizeIp, DEFAULT_SOCKET,
  rateLimit, progressiveLogin, budget, draftHeaders, connectionLimiter, eventLimiter, handshakeLimiter,
  vouchOnConnect,
  FloodgateGuard, RateLimit, SkipRateLimit,
  throttle, throttleReset, FloodgateThrottlerStorage, FloodgateStore,
} = cjs;
export default cjs;

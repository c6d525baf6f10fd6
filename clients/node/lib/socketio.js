'use strict';
// Socket.IO on floodgated: a limiter of connections per client address for
// the namespace handshake (io.use), and a per-socket event limiter
// (socket.use) that warns, then disconnects with a reason the client sees.

const { normalizeIp, checkIpv6Prefix, compileTrust, clientAddress } = require('./ip');
const { compileKeys, decideKeys } = require('./keys');

/** The client address of a Socket.IO handshake, through trusted proxies. */
function handshakeAddress(socket, trust, ipv6Prefix) {
  const h = socket.handshake ?? {};
  const remote = socket.conn?.remoteAddress ?? h.address;
  const addr = clientAddress(remote, h.headers?.['x-forwarded-for'], trust);
  return normalizeIp(addr, ipv6Prefix) ?? String(addr);
}

/**
 * connectionLimiter({ client, policy, key? | keys?, trustProxy?, ipv6Prefix?,
 * onAudit?, message? }) -> io.use middleware (socket, next)
 *
 * keys ({ user: fn, ip: {} }, as rateLimit's) decides several keys with one
 * RL.CHECKM; err.data.refused and the audit event name the one that refused.
 * One RL.CHECK per connection attempt, keyed by the client address (through
 * proxies trusted as Express's "trust proxy" values are: false, true, a hop
 * count, CIDRs, or a function). Refused: next(err) with err.message "rate
 * limited" and err.data { retryAfterMs, policy }: the client gets both in
 * its connect_error.
 */
function connectionLimiter(opts) {
  if (!opts?.client) throw new TypeError('floodgate: connectionLimiter needs { client }');
  checkIpv6Prefix(opts.ipv6Prefix);
  const { client } = opts;
  const trust = compileTrust(opts.trustProxy ?? false);
  const defaultKey = (socket) => handshakeAddress(socket, trust, opts.ipv6Prefix);
  const decide = decider(opts, defaultKey, 'connectionLimiter');
  return async function floodgateConnectionLimiter(socket, next) {
    let r;
    try {
      r = await decide(socket);
    } catch (err) {
      return next(err);
    }
    socket.data ??= {};
    socket.data.rateLimit = r;
    if (r.allowed) return next();
    opts.onAudit?.({ type: 'connect_refused', socketId: socket.id, key: r.key, policy: r.policy,
      refused: r.refused, count: r.limit - r.remaining, limit: r.limit, retryAfterMs: r.retryAfterMs, source: r.source });
    const err = new Error(opts.message ?? 'rate limited');
    err.data = { policy: r.policy, retryAfterMs: r.retryAfterMs, state: r.state };
    if (r.refused) err.data.refused = r.refused;
    next(err);
  };
}

// One key (RL.CHECK) or named keys (one RL.CHECKM): (ctx) -> CheckResult,
// with refused naming the key that refused when keys are named.
function decider(opts, defaultKey, who) {
  if (opts.keys && opts.key) throw new TypeError(`floodgate: ${who} takes key or keys, not both`);
  if (opts.keys) {
    const specs = compileKeys(opts.keys, opts.policy, defaultKey, who);
    return (ctx) => decideKeys(opts.client, specs, [ctx]);
  }
  if (!opts.policy) throw new TypeError(`floodgate: ${who} needs { policy }`);
  const keyFn = opts.key ?? defaultKey;
  return async (ctx) => opts.client.check(opts.policy, await keyFn(ctx));
}

/**
 * eventLimiter({ client, policy, policyFor?, exempt?, warnEvent?, limitEvent?,
 * connId?, userId?, onAudit? }) -> { attach(socket), middleware }
 *
 * Every event a socket sends is one RL.EVENT (policyFor(event) may pick a
 * policy per event type; default policy). The agent's answer decides:
 * ok/exempt: the event goes on; warn: warnEvent { event, eventType, count,
 * limit } is sent to the client first; disconnect: limitEvent { reason, event,
 * eventType, count, limit } is sent, the event dropped and the socket disconnected (the client
 * sees limitEvent, then "io server disconnect") once every earlier event the agent allowed has
 * reached its handler. Names in exempt are never
 * counted; Socket.IO's own events (connect, disconnect, ...) never pass
 * socket.use. On disconnect, RL.CONN.CLOSE for each policy the socket used.
 * onAudit gets { type: warn | disconnect | close, socketId, userId, event,
 * eventType, count, limit, policy, source }; eventType (also in the warn
 * and limit payloads) is the event type whose count answered, given only by a
 * policy with per-type limits under `events:` ('*' for the types it does not
 * name).
 */
function eventLimiter(opts) {
  if (!opts?.client) throw new TypeError('floodgate: eventLimiter needs { client }');
  if (!opts.policy && !opts.policyFor) throw new TypeError('floodgate: eventLimiter needs { policy } or { policyFor }');
  const { client } = opts;
  const exempt = new Set(opts.exempt ?? []);
  const warnEvent = opts.warnEvent ?? 'rate_limit:warning';
  const limitEvent = opts.limitEvent ?? 'rate_limit:exceeded';
  const policyFor = opts.policyFor ?? (() => opts.policy);
  const connIdOf = opts.connId ?? ((socket) => socket.id);
  const userIdOf = opts.userId ?? ((socket) => socket.data?.userId ?? socket.data?.user?.id ?? null);
  const audit = (e) => {
    try {
      opts.onAudit?.(e);
    } catch { /* an audit hook must not break the connection */ }
  };

  function attach(socket) {
    const connId = connIdOf(socket);
    const used = new Set();
    let cut = false;
    // Settles once the decision of every event so far has (one promise per
    // event, whatever is in flight): an event over the limit cuts the socket
    // only once every earlier one has gone on.
    let decidedSoFar = Promise.resolve();
    // Socket.IO hands an event to its handler on a later process.nextTick
    // after next(), and drops it if the socket is disconnected by then. The
    // replies of a batch of events come in one read, so disconnecting in the
    // over-limit event's callback dropped the allowed events before it. The
    // cut waits for the earlier decisions, then goes through process.nextTick
    // itself: queued after their hand-overs, it runs once they are handled.
    function cutAfterEarlier(earlier, done) {
      earlier.then(() => process.nextTick(() => {
        done();
        socket.disconnect(true);
      }));
    }
    socket.use((packet, next) => {
      const event = String(packet[0]);
      if (cut) return undefined; // disconnecting: later events are dropped
      if (exempt.has(event)) return next();
      const policy = policyFor(event);
      if (!policy) return next();
      used.add(policy);
      const earlier = decidedSoFar;
      const decided = client.event(policy, connId, event).then((r) => {
        if (cut) return;
        // Only a policy with per-type limits answers a type: other payloads keep their shape.
        const typed = r.type == null ? {} : { eventType: r.type };
        const base = { socketId: socket.id, userId: userIdOf(socket), event, ...typed, count: r.count,
          limit: r.limit, policy, source: r.source };
        if (r.state === 'warn') {
          socket.emit(warnEvent, { event, ...typed, count: r.count, limit: r.limit });
          audit({ type: 'warn', ...base });
          next();
        } else if (r.state === 'disconnect') {
          cut = true;
          cutAfterEarlier(earlier, () => {
            socket.emit(limitEvent, { reason: 'rate limit exceeded', event, ...typed, count: r.count, limit: r.limit });
            audit({ type: 'disconnect', ...base });
          });
        } else next();
      }, (err) => {
        // A usage error (unknown policy, an event name longer than the agent
        // takes): the event is not let through unchecked.
        if (cut) return;
        cut = true;
        cutAfterEarlier(earlier, () =>
          audit({ type: 'error', socketId: socket.id, userId: userIdOf(socket), event, policy, error: err }));
      });
      decidedSoFar = Promise.allSettled([earlier, decided]);
      return undefined;
    });
    socket.once('disconnect', () => {
      for (const policy of used)
        client.connClose(policy, connId).then((ok) => audit({ type: 'close', socketId: socket.id,
          userId: userIdOf(socket), policy, recorded: ok }), () => {});
    });
  }

  return {
    attach,
    middleware(socket, next) {
      attach(socket);
      next();
    },
  };
}

/**
 * handshakeLimiter({ client, policy, key? | keys?, trustProxy?, ipv6Prefix?,
 * onAudit? }) -> allowRequest(req, callback) for new Server(http, { allowRequest }).
 *
 * keys: several keys in one RL.CHECKM (as connectionLimiter); the 403 says
 * which refused: "rate limited (ip), retry after N s".
 * Engine.IO asks it for each new session only (a request without a sid),
 * before any session state exists: the cheapest place to refuse a connection
 * flood. Refused: HTTP 403 with "rate limited, retry after N s". Requests of
 * established sessions (polling, upgrades) are not counted.
 */
function handshakeLimiter(opts) {
  if (!opts?.client) throw new TypeError('floodgate: handshakeLimiter needs { client }');
  checkIpv6Prefix(opts.ipv6Prefix);
  const trust = compileTrust(opts.trustProxy ?? false);
  const decide = decider(opts, (req) => {
    const addr = clientAddress(req.socket?.remoteAddress, req.headers?.['x-forwarded-for'], trust);
    return normalizeIp(addr, opts.ipv6Prefix) ?? String(addr);
  }, 'handshakeLimiter');
  return function floodgateAllowRequest(req, callback) {
    Promise.resolve()
      .then(() => decide(req))
      .then((r) => {
        if (r.allowed) return callback(null, true);
        opts.onAudit?.({ type: 'connect_refused', socketId: null, key: r.key, policy: r.policy, refused: r.refused,
          count: r.limit - r.remaining, limit: r.limit, retryAfterMs: r.retryAfterMs, source: r.source });
        const wait = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
        return callback(`rate limited${r.refused ? ` (${r.refused})` : ''}, retry after ${wait} s`, false);
      }, (err) => {
        // A usage error refuses rather than lets everyone in; say why in the server's log.
        opts.onAudit?.({ type: 'error', socketId: null, policy: opts.policy ?? null, error: err });
        callback('rate limiter error', false);
      });
  };
}

/**
 * vouchOnConnect({ client, trustProxy?, seconds?, authenticated?, onAudit? })
 * -> io.use middleware (socket, next)
 *
 * After the application's own authentication middleware: vouches (XDP.VOUCH)
 * for the connecting socket's client address (through trusted proxies, as
 * connectionLimiter) when authenticated(socket) is true (default: the app put
 * its user on socket.data.user or socket.data.userId), so the user's media
 * reaches the media hosts through a spoofed flood. It never holds up or
 * refuses the connection: the vouch is sent and the socket goes on; a
 * refusal (an address the agent may not vouch for, this process not named in
 * vouch.peer_uids, a quota) goes to onAudit as { type: 'vouch_refused' }.
 */
function vouchOnConnect(opts) {
  if (!opts?.client) throw new TypeError('floodgate: vouchOnConnect needs { client }');
  const { client } = opts;
  const trust = compileTrust(opts.trustProxy ?? false);
  const authenticated = opts.authenticated ?? ((socket) => socket.data?.user != null || socket.data?.userId != null);
  const audit = (e) => {
    try {
      opts.onAudit?.(e);
    } catch { /* an audit hook must not break the connection */ }
  };
  return function floodgateVouchOnConnect(socket, next) {
    if (authenticated(socket)) {
      const addr = handshakeAddress(socket, trust);
      client.vouch(addr, opts.seconds).then((seconds) => audit({ type: 'vouched', socketId: socket.id, addr, seconds }),
        (error) => audit({ type: 'vouch_refused', socketId: socket.id, addr, error }));
    }
    next();
  };
}

module.exports = { connectionLimiter, eventLimiter, handshakeLimiter, handshakeAddress, vouchOnConnect };

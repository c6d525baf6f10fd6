'use strict';
// A video meeting signaling server (Express + Socket.IO) limited by floodgated:
// meeting tokens per user AND per address in one decision, Socket.IO handshakes
// per address, rooms created per user, and every signaling event per socket
// (offers, ICE candidates, host actions) with a warning, a disconnect and an
// audit log line each.
//   FLOODGATE_SOCKET=/tmp/fg/floodgate.sock node server.js
const http = require('node:http');
const crypto = require('node:crypto');
const express = require('express');
const { Server } = require('socket.io');
const { Client, rateLimit, handshakeLimiter, eventLimiter } = require('floodgate');
const { EVENT_POLICIES, policyFor } = require('./events');

// One audit line per limiter event: JSON with a timestamp (warnings, disconnects,
// refused handshakes and tokens, RL.CONN.CLOSE of each socket).
const jsonLine = (e) => console.log(JSON.stringify({ ts: new Date().toISOString(), ...e }));

function createServer({ client = new Client({ failure: 'insurance' }), trustProxy = 'loopback', audit = jsonLine } = {}) {
  const tokens = new Map(); // token -> user (a demo session store)
  const hosts = new Map(); // room -> host user
  const app = express();
  app.set('trust proxy', trustProxy);
  app.use(express.json());

  // A meeting token for a user: refused when the user OR the address is over its limit,
  // in one decision (a refusal by the address does not use up the user's tokens).
  app.post('/token', rateLimit({
    client,
    keys: {
      user: { policy: 'meet_token_user', key: (req) => `user:${String(req.body?.user ?? '')}` },
      ip: { policy: 'meet_token_ip' },
    },
    handler: (req, res, _next, r) => {
      audit({ type: 'token_refused', violation: r.refused, key: r.refusedKey, retryAfterMs: r.retryAfterMs });
      res.status(429).json({ error: 'rate_limited', violation: r.refused, retryAfterMs: r.retryAfterMs });
    },
  }), (req, res) => {
    const user = String(req.body?.user ?? '');
    if (!/^[a-z0-9_-]{1,32}$/.test(user)) return res.status(400).json({ error: 'bad_user' });
    const token = crypto.randomBytes(16).toString('hex');
    tokens.set(token, user);
    res.json({ token });
  });

  const httpServer = http.createServer(app);
  const io = new Server(httpServer, {
    // New Engine.IO sessions per address, refused before any session exists (HTTP 403).
    allowRequest: handshakeLimiter({ client, policy: 'meet_connect', trustProxy, onAudit: audit }),
  });
  io.use((socket, next) => {
    const user = tokens.get(socket.handshake.auth?.token);
    if (!user) return next(new Error('unauthorized'));
    socket.data.userId = user;
    next();
  });
  io.use(eventLimiter({
    client,
    policyFor, // events.js
    warnEvent: 'slow_down', // { event, count, limit }
    limitEvent: 'rate_limited', // { reason, event, count, limit }, then the disconnect
    onAudit: audit, // warn, disconnect, close (RL.CONN.CLOSE of each policy the socket used)
  }).middleware);

  io.on('connection', (socket) => {
    const user = socket.data.userId;
    const reply = (ack, v) => typeof ack === 'function' && ack(v);
    socket.on('create-room', async (ack) => {
      const r = await client.check('meet_create', `user:${user}`);
      if (!r.allowed) {
        audit({ type: 'create_refused', userId: user, retryAfterMs: r.retryAfterMs });
        return reply(ack, { ok: false, error: 'rate_limited', retryAfterMs: r.retryAfterMs });
      }
      const room = crypto.randomBytes(6).toString('hex');
      hosts.set(room, user);
      socket.join(room);
      return reply(ack, { ok: true, room });
    });
    socket.on('join-room', (room, ack) => {
      socket.join(String(room));
      socket.to(String(room)).emit('peer-joined', { user });
      reply(ack, { ok: true });
    });
    // Signaling relayed to the room; host actions only from the room's host.
    for (const event of Object.keys(EVENT_POLICIES)) {
      if (event === 'join-room') continue;
      const hostOnly = EVENT_POLICIES[event] === EVENT_POLICIES.kick;
      socket.on(event, (room, payload, ack) => {
        if (hostOnly && hosts.get(String(room)) !== user) return reply(ack, { ok: false, error: 'not_host' });
        socket.to(String(room)).emit(event, { from: user, payload });
        return reply(ack, { ok: true });
      });
    }
  });
  return { app, httpServer, io, client };
}

if (require.main === module) {
  const { httpServer } = createServer();
  httpServer.listen(Number(process.env.PORT ?? 3003), () => console.log(`meeting server on :${httpServer.address().port}`));
}

module.exports = { createServer };

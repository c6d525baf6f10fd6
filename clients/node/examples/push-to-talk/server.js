'use strict';
// Push-to-talk signaling server: Express login + Socket.IO, limited by floodgated.
//   FLOODGATE_SOCKET=/tmp/fg/floodgate.sock node server.js
const http = require('node:http');
const crypto = require('node:crypto');
const express = require('express');
const { Server } = require('socket.io');
const { Client, rateLimit, progressiveLogin, connectionLimiter } = require('floodgate');

const USERS = new Map([['alice', 'wonderland'], ['bob', 'builder']]); // a demo user store

function createServer({ client = new Client({ failure: 'insurance' }), trustProxy = 'loopback' } = {}) {
  const tokens = new Map(); // token -> user
  const app = express();
  app.set('trust proxy', trustProxy);
  app.use(express.json());

  const attempts = rateLimit({ client, policy: 'ptt_login_attempts' });
  // The slowdown per account (a success forgets that account's failures), the attempts per address.
  const login = progressiveLogin({ client, policy: 'ptt_login', key: (req) => `user:${req.body?.user}` });
  app.post('/login', attempts, login.check, async (req, res) => {
    const { user, password } = req.body ?? {};
    if (USERS.get(user) !== password) {
      const { delayMs } = await req.floodgateLogin.fail(); // sets Retry-After
      return res.status(401).json({ error: 'bad_credentials', retryAfterMs: delayMs });
    }
    await req.floodgateLogin.ok();
    const token = crypto.randomBytes(16).toString('hex');
    tokens.set(token, user);
    res.json({ token });
  });

  const httpServer = http.createServer(app);
  const io = new Server(httpServer);
  io.use(connectionLimiter({ client, policy: 'ptt_connect', trustProxy }));
  io.use((socket, next) => {
    const user = tokens.get(socket.handshake.auth?.token);
    if (!user) return next(new Error('unauthorized'));
    socket.data.userId = user;
    next();
  });
  io.on('connection', (socket) => {
    socket.on('ptt:start', async (channel, ack) => {
      if (typeof ack !== 'function') return;
      const r = await client.check('ptt_talk', `user:${socket.data.userId}`);
      if (!r.allowed) return ack({ ok: false, error: 'rate_limited', retryAfterMs: r.retryAfterMs });
      socket.to(String(channel)).emit('ptt:talking', { user: socket.data.userId });
      ack({ ok: true, remaining: r.remaining });
    });
  });
  return { app, httpServer, io, client };
}

if (require.main === module) {
  const { httpServer } = createServer();
  httpServer.listen(Number(process.env.PORT ?? 3000), () => console.log(`push-to-talk on :${httpServer.address().port}`));
}

module.exports = { createServer };

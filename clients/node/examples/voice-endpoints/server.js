'use strict';
// Voice endpoints as a Next.js app's API routes would be (pages/api/...), here as
// Express routes: transcription and synthesis limited per user AND per address in
// one decision (sliding windows, temporary blocks, the violation type in the 429),
// a login with a progressive slowdown, and an assistant whose daily AI-token
// budget is charged with the tokens each call actually used.
//   FLOODGATE_SOCKET=/tmp/fg/floodgate.sock node server.js
const crypto = require('node:crypto');
const express = require('express');
const { Client, rateLimit, progressiveLogin, budget } = require('floodgate');

const USERS = new Map([['ann', 'opensesame'], ['ben', 'letmein']]); // a demo user store

// Stand-ins for the speech and model services: what they cost is known after the call.
const transcribe = async (audio) => ({ text: `(${String(audio).length} bytes of speech)` });
const synthesize = async (text) => ({ audio: Buffer.from(String(text)).toString('base64') });
async function assistant(prompt) {
  if (prompt === 'fail') throw new Error('model unavailable');
  return { text: `echo: ${prompt}`, usage: { totalTokens: 10 * String(prompt).length } };
}

function createApp({ client = new Client({ failure: 'insurance' }), trustProxy = 'loopback' } = {}) {
  const sessions = new Map(); // token -> user
  const app = express();
  app.set('trust proxy', trustProxy); // req.ip: the client behind the proxy
  app.use(express.json());
  const userOf = (req) => sessions.get(/^Bearer ([0-9a-f]{32})$/.exec(req.get('authorization') ?? '')?.[1]);
  const signedIn = (req, res, next) => (userOf(req) ? next() : res.status(401).json({ error: 'unauthorized' }));

  // pages/api/auth/login
  const login = progressiveLogin({ client, policy: 'voice_login', key: (req) => `user:${req.body?.user}` });
  app.post('/api/auth/login', login.check, async (req, res) => {
    const { user, password } = req.body ?? {};
    if (USERS.get(user) !== password) {
      const { delayMs } = await req.floodgateLogin.fail(); // sets Retry-After when a wait applies
      return res.status(401).json({ error: 'bad_credentials', retryAfterMs: delayMs });
    }
    await req.floodgateLogin.ok();
    const token = crypto.randomBytes(16).toString('hex');
    sessions.set(token, user);
    return res.json({ token });
  });

  // Per user AND per address, one decision: the 429 says which one ("user" or "ip").
  const voiceLimit = rateLimit({
    client,
    keys: { user: { policy: 'voice_user', key: (req) => `user:${userOf(req)}` }, ip: { policy: 'voice_ip' } },
    handler: (req, res, _next, r) => res.status(429).json({
      error: r.state === 'blocked' ? 'temporarily_blocked' : 'rate_limited',
      violation: r.refused,
      retryAfterMs: r.retryAfterMs,
    }),
  });

  // pages/api/voice/transcribe, pages/api/voice/synthesize
  app.post('/api/voice/transcribe', signedIn, voiceLimit, async (req, res) => res.json(await transcribe(req.body?.audio)));
  app.post('/api/voice/synthesize', signedIn, voiceLimit, async (req, res) => res.json(await synthesize(req.body?.text)));

  // pages/api/voice/assistant: 200 tokens reserved before the call, the actual use
  // settled after it (res.locals.floodgateCost), refunded when the call fails.
  const tokens = budget({ client, policy: 'voice_ai_tokens', key: (req) => `user:${userOf(req)}`, estimate: 200 });
  app.post('/api/voice/assistant', signedIn, tokens.check, async (req, res) => {
    let out;
    try {
      out = await assistant(req.body?.prompt ?? '');
    } catch (err) {
      return res.status(502).json({ error: err.message }); // a failed response: the reservation is refunded
    }
    res.locals.floodgateCost = out.usage.totalTokens; // settled when the response is sent
    return res.json({ text: out.text, tokens: out.usage.totalTokens });
  });
  return app;
}

if (require.main === module) {
  const app = createApp();
  const srv = app.listen(Number(process.env.PORT ?? 3004), () => console.log(`voice endpoints on :${srv.address().port}`));
}

module.exports = { createApp };

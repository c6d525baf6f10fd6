'use strict';
// A NestJS API behind a proxy: every route limited per user and role by floodgated
// (3/30 s, 20/10 min, 100/h, x3 OWNER, x2 MAINTAINER, x1.5 WRITER), and an AI endpoint
// whose daily token budget is checked before and charged with the actual use after.
// Written without TypeScript so it runs as is: the decorators are applied the way
// TypeScript's output applies them.
//   FLOODGATE_SOCKET=/tmp/fg/floodgate.sock node app.js
require('reflect-metadata');
const { Controller, Get, Post, Module, Req, Res } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { Client, FloodgateGuard, RateLimit, SkipRateLimit, budget } = require('floodgate');

// A demo authentication: "Authorization: Bearer <user>:<ROLE>".
function user(req) {
  const m = /^Bearer ([a-z0-9_-]{1,64}):(OWNER|MAINTAINER|WRITER|READER)$/.exec(req.get('authorization') ?? '');
  return m ? { id: m[1], role: m[2] } : { id: `anon:${req.ip}`, role: 'READER' };
}

// A stand-in for a model call: the tokens used are known only afterwards.
async function complete(prompt) {
  return { text: `echo: ${prompt}`, usage: { totalTokens: 10 * String(prompt).length } };
}

function createApp({ client = new Client({ failure: 'insurance' }) } = {}) {
  const tokens = budget({ client, policy: 'nest_ai_tokens', key: (req) => `user:${user(req).id}`,
    role: (req) => user(req).role });

  class ApiController {
    profile(req) {
      return { user: user(req), remaining: req.rateLimit.remaining };
    }

    async ask(req, res) {
      await new Promise((resolve, reject) => tokens.check(req, res, (err) => (err ? reject(err) : resolve())));
      if (res.headersSent) return undefined; // refused: 429 already sent
      const out = await complete(req.query.prompt ?? '');
      const charge = await req.floodgateBudget.charge(out.usage.totalTokens);
      return res.json({ text: out.text, tokens: out.usage.totalTokens, ...charge });
    }

    health() {
      return { ok: true };
    }
  }
  const P = ApiController.prototype;
  const d = (name) => Object.getOwnPropertyDescriptor(P, name);
  Get('profile')(P, 'profile', d('profile'));
  Req()(P, 'profile', 0);
  Post('ask')(P, 'ask', d('ask'));
  Req()(P, 'ask', 0);
  Res()(P, 'ask', 1);
  Get('health')(P, 'health', d('health'));
  SkipRateLimit()(P, 'health', d('health'));
  RateLimit({ policy: 'nest_api', key: (req) => `user:${user(req).id}`, role: (req) => user(req).role })(ApiController);
  Controller('api')(ApiController);

  class AppModule {}
  Module({ controllers: [ApiController] })(AppModule);

  return async () => {
    const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
    app.set('trust proxy', 'loopback'); // behind a proxy on this host: req.ip is the client
    app.useGlobalGuards(new FloodgateGuard({ client }));
    return app;
  };
}

if (require.main === module) {
  createApp()().then((app) => app.listen(Number(process.env.PORT ?? 3002)));
}

module.exports = { createApp };

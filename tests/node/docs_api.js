// docs/api.md's Node.js code, run as written with one client in one protocol
// against a real floodgated: the blocks marked <!-- node:NAME --> are taken
// from the doc (so doc and test cannot drift), only the socket path is
// replaced, and the client's default protocol is overridden only when the
// run asks for the other one. Exits 0 when every decision is exact.
//
// usage: node docs_api.js CLIENT PROTO SOCKET DOC AGENT_PID
//   CLIENT: ioredis5 | ioredis6 | node-redis; PROTO: 2 | 3.
// AGENT_PID is stopped (SIGSTOP) for a moment and continued, to show what the
// doc's code does when the agent does not answer.
'use strict';
const assert = require('assert/strict');
const fs = require('fs');

const [client, proto, sock, doc, agentPid] = process.argv.slice(2);
if (!agentPid) {
  console.error('usage: node docs_api.js CLIENT PROTO SOCKET DOC AGENT_PID');
  process.exit(2);
}
const tag = `${client}/RESP${proto}`;

// The doc's blocks by name.
function blocks(text) {
  const out = {};
  for (const m of text.matchAll(/<!-- node:(\S+) -->\n```js\n([\s\S]*?)```/g)) out[m[1]] = m[2];
  return out;
}

// What `require` gives the doc's code: the client under test, in the asked
// protocol. Defaults: ioredis 5 RESP2 (it has no RESP3), ioredis 6 and
// node-redis RESP3; the other protocol is the option an app would set.
function fakeRequire(name) {
  if (client === 'ioredis5' && name === 'ioredis') {
    assert.equal(proto, '2', 'ioredis 5 speaks RESP2 only');
    return require('ioredis');
  }
  if (client === 'ioredis6' && name === 'ioredis') {
    const Redis = require('ioredis6');
    if (proto === '3') return Redis;
    return class extends Redis {
      constructor(opts) { super({ ...opts, protocol: 2 }); }
    };
  }
  if (client === 'node-redis' && name === 'redis') {
    const redis = require('redis');
    if (proto === '3') return redis;
    return { ...redis, createClient: (opts) => redis.createClient({ ...opts, RESP: 2 }) };
  }
  throw new Error(`${tag}: the doc's code requires "${name}", not the client under test`);
}

async function load() {
  const b = blocks(fs.readFileSync(doc, 'utf8'));
  const connect = b[client === 'node-redis' ? 'node-redis' : 'ioredis'];
  for (const name of ['fields', 'check', 'login'])
    assert.ok(b[name], `docs/api.md lost its <!-- node:${name} --> block`);
  assert.ok(connect, `docs/api.md lost the connect block for ${client}`);
  const docPath = '"/run/floodgate/floodgate.sock"';
  assert.equal(connect.split(docPath).length, 2, 'the connect block names the socket once');
  const src = [connect.replace(docPath, JSON.stringify(sock)), b.fields, b.check, b.login]
    .join('\n') + '\nreturn { fg, rl, fields, check, login, CHECK, AUTH_FAIL, AUTH_CHECK, EVENT };';
  const AsyncFunction = (async () => {}).constructor;
  const env = { passwordChecks: 0, log: [] };
  const verifyPassword = async (user, password) => { env.passwordChecks++; return password === 'right'; };
  const console_ = { ...console, error: (...a) => env.log.push(a.join(' ')) };
  const api = await new AsyncFunction('require', 'verifyPassword', 'console', src)(
    fakeRequire, verifyPassword, console_);
  return { ...api, env };
}

async function main() {
  const { fg, rl, fields, check, login, CHECK, AUTH_CHECK, EVENT, env } = await load();
  if (fg.status !== undefined && fg.status !== 'ready') // ioredis: wait for the ready check
    await new Promise((resolve, reject) => { fg.once('ready', resolve); fg.once('end', reject); });
  const id = `${client}-${proto}-${process.pid}`;

  // The protocol really is the one under test: a RESP3 record is no flat array.
  const raw = await rl('RL.CHECK', 'api10', `probe:${id}`, 'PEEK');
  if (proto === '2') assert.ok(Array.isArray(raw) && raw[0] === 1, `${tag}: RESP2 array: ${raw}`);
  else assert.ok(!Array.isArray(raw) || raw[0] === 'allowed', `${tag}: RESP3 map: ${raw}`);

  // 15 requests at once on "10 per minute": exactly the first 10 pass, however
  // slowly a loaded machine answers (a minute window does not refill meanwhile).
  const t0 = Date.now();
  const res = await Promise.all(Array.from({ length: 15 }, () => check('api10', `user:${id}`)));
  const took = Date.now() - t0;
  const allowed = res.filter((r) => r.allowed === true).length;
  console.log(`${tag}: ${allowed} of 15 allowed on 10/min (${took} ms)`);
  assert.equal(allowed, 10, `${tag}: allowed on 10/min`);
  res.forEach((r, i) => {
    const ok = i < 10;
    assert.equal(r.allowed, ok, `${tag}: request ${i + 1}`);
    assert.equal(r.limit, 10);
    assert.equal(r.remaining, ok ? 9 - i : 0, `${tag}: remaining after ${i + 1}`);
    assert.equal(typeof r.resetMs, 'number');
    assert.ok(r.resetMs > 0 && r.resetMs <= 60000, `${tag}: reset_ms ${r.resetMs}`);
    assert.equal(typeof r.retryAfterMs, 'number');
    if (ok) assert.equal(r.retryAfterMs, 0);
    else assert.ok(r.retryAfterMs > 0 && r.retryAfterMs <= 6000, `retry_after_ms ${r.retryAfterMs}`);
    assert.ok(ok ? ['ok', 'warn'].includes(r.state) : r.state === 'deny', `${tag}: state ${r.state}`);
    assert.equal(r.unchecked, undefined);
  });

  // Every field of every record, by name, with its type.
  const c = fields(CHECK, await rl('RL.CHECK', 'api10', `user:${id}`, 'PEEK'));
  assert.deepEqual(Object.keys(c).sort(), [...CHECK].sort(), `${tag}: RL.CHECK fields`);
  for (const f of ['allowed', 'limit', 'remaining', 'reset_ms', 'retry_after_ms'])
    assert.equal(typeof c[f], 'number', `${tag}: ${f} is a number`);
  assert.equal(c.allowed, 0);
  assert.equal(c.state, 'deny');
  assert.equal(c.window, '1m');
  const ev = fields(EVENT, await rl('RL.EVENT', 'events10', `conn:${id}`, 'msg'));
  assert.deepEqual(ev, { state: 'ok', count: 1, limit: 10 }, `${tag}: RL.EVENT`);

  // Roles, and errors that are mistakes in the call: they surface, never fail open.
  assert.equal((await check('api10', `owner:${id}`, { role: 'OWNER' })).limit, 20);
  await assert.rejects(check('api10', `x:${id}`, { role: 'NOSUCH' }),
    /unknown role for policy 'api10': ROLE takes one of the names listed under the policy's roles:/);
  await assert.rejects(check('nosuch', 'k'), /unknown policy 'nosuch'/);
  await assert.rejects(check('events10', 'k'), /policy 'events10' is an events policy: RL.CHECK/);
  await assert.rejects(rl('RL.EVENT', 'api10', 'c', 'm'), /policy 'api10' is a window policy/);

  // A login: check, password, fail/ok. 0, 0, 0, 1 s; a guess during the wait
  // never reaches the password check.
  const user = `alice-${id}`;
  const delays = [];
  for (let i = 0; i < 4; i++) {
    const r = await login(user, 'wrong');
    assert.equal(r.ok, false);
    delays.push(r.retryAfterMs);
  }
  assert.deepEqual(delays, [0, 0, 0, 1000], `${tag}: login delays`);
  assert.equal(env.passwordChecks, 4);
  const waiting = await login(user, 'right');
  assert.equal(waiting.ok, false, `${tag}: a login during the wait is refused`);
  assert.ok(waiting.retryAfterMs > 0 && waiting.retryAfterMs <= 1000, `wait ${waiting.retryAfterMs}`);
  assert.equal(env.passwordChecks, 4, `${tag}: the password was not tried during the wait`);
  const bob = `bob-${id}`;
  await login(bob, 'wrong');
  assert.deepEqual(await login(bob, 'right'), { ok: true });
  assert.equal(fields(AUTH_CHECK, await rl('RL.AUTH.CHECK', 'login', `user:${bob}`)).failures, 0,
    `${tag}: RL.AUTH.OK forgot the failures`);

  // The agent stops answering: check fails open (or closed when asked) within
  // the doc's timeout, login fails closed without trying the password.
  const checks = env.passwordChecks;
  process.kill(Number(agentPid), 'SIGSTOP');
  let open, closed, stoppedLogin, stoppedMs;
  try {
    const t = Date.now();
    open = await check('api10', `stopped:${id}`);
    closed = await check('api10', `stopped:${id}`, { failOpen: false });
    stoppedLogin = await login(`carol-${id}`, 'right');
    stoppedMs = Date.now() - t;
  } finally {
    process.kill(Number(agentPid), 'SIGCONT');
  }
  console.log(`${tag}: agent stopped: 3 calls answered in ${stoppedMs} ms; log: ${env.log[0]}`);
  assert.deepEqual(open, { allowed: true, unchecked: true, retryAfterMs: 1000 }, `${tag}: fail open`);
  assert.equal(closed.allowed, false, `${tag}: failOpen: false refuses`);
  assert.equal(stoppedLogin.ok, false, `${tag}: login fails closed`);
  assert.equal(env.passwordChecks, checks, `${tag}: no password tried unchecked`);
  assert.ok(stoppedMs < 1500, `${tag}: the timeout bounds the wait (${stoppedMs} ms)`);
  assert.equal(env.log.length, 3, `${tag}: each unanswered call logged`);

  // Decisions resume once the agent answers again (late replies are dropped).
  let again;
  for (let i = 0; i < 50; i++) {
    again = await check('api10', `resumed:${id}`);
    if (!again.unchecked) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(again.unchecked, undefined, `${tag}: decisions resume`);
  assert.equal(again.allowed, true);
  assert.equal(again.remaining, 9);

  await fg.quit();
  console.log(`${tag}: ok`);
}

main().catch((e) => {
  console.error(`${tag}: FAIL`, e);
  process.exit(1);
});

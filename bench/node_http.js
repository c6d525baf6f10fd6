'use strict';
// make bench (section node): one Express app four ways, driven by autocannon
// in one run: no limiter, floodgate's rateLimit on floodgated's socket,
// express-rate-limit with its default memory store, and express-rate-limit
// with rate-limit-redis on a local redis-server (ioredis); same limit, high
// enough that every request passes (the cost of a decision, not of a refusal).
//
//   node bench/node_http.js --socket SOCK --redis RSOCK [--agent-pid PID] [--redis-pid PID]
//                           [--clk-tck HZ] [--smoke] [--rounds N] [--duration S] [--csv FILE]
//                           [--variants V,V...] [--compare-pkg DIR]
//   node bench/node_http.js --serve VARIANT --socket SOCK --redis RSOCK [--compare-pkg DIR]
//                           (one server; prints its port)
//
// --compare-pkg DIR adds the variant floodgate-compare: floodgate's rateLimit
// from another tree's clients/node (DIR, with its node_modules), so a change
// of the package is measured against its base in the same run, in turns.
//
// Each server runs in a process of its own, so autocannon (in this process)
// does not share its event loop; the variants are run in turns, round after
// round, so a change of the shared machine's load touches each alike; the
// median round of each is reported. On a shared machine requests/s moves with
// the others' load; the CPU time each request cost the app's process (and the
// agent, for floodgate), read from /proc/PID/stat around each run, moves much
// less, so it is reported too. Modules come from clients/node (its
// devDependencies, pinned by its lockfile).
const path = require('node:path');
const { spawn } = require('node:child_process');
const { createRequire } = require('node:module');
const fs = require('node:fs');
const os = require('node:os');

const PKG = path.resolve(__dirname, '..', 'clients', 'node');
const need = createRequire(path.join(PKG, 'package.json'));
const ALL_VARIANTS = ['none', 'floodgate', 'floodgate-compare', 'express-rate-limit', 'rate-limit-redis'];
const LIMIT = 50_000_000; // per minute: never reached, so every request is decided and passes

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : process.argv[i + 1];
}

async function serve(variant, socket, redisSocket, comparePkg) {
  const express = need('express');
  const app = express();
  if (variant === 'floodgate' || variant === 'floodgate-compare') {
    const pkg = variant === 'floodgate' ? need : createRequire(path.join(path.resolve(comparePkg), 'package.json'));
    const { Client, rateLimit } = pkg('floodgate');
    const client = new Client({ path: socket, failure: 'deny', logger: null, timeoutMs: 1000 });
    await client.ping();
    app.use(rateLimit({ client, policy: 'bench_api' }));
  } else if (variant === 'express-rate-limit') {
    const { rateLimit } = need('express-rate-limit');
    app.use(rateLimit({ windowMs: 60_000, limit: LIMIT, standardHeaders: 'draft-8', legacyHeaders: false }));
  } else if (variant === 'rate-limit-redis') {
    const { rateLimit } = need('express-rate-limit');
    const { RedisStore } = need('rate-limit-redis');
    const Redis = need('ioredis');
    const redis = new Redis({ path: redisSocket, lazyConnect: true, enableOfflineQueue: false });
    await redis.connect();
    app.use(rateLimit({ windowMs: 60_000, limit: LIMIT, standardHeaders: 'draft-8', legacyHeaders: false,
      store: new RedisStore({ sendCommand: (command, ...args) => redis.call(command, ...args) }) }));
  } else if (variant !== 'none') throw new Error(`unknown variant ${variant}`);
  app.get('/r', (req, res) => res.json({ ok: true }));
  const srv = app.listen(0, '127.0.0.1', () => process.stdout.write(`${srv.address().port}\n`));
}

function startServer(variant, socket, redisSocket, comparePkg) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [__filename, '--serve', variant, '--socket', socket, '--redis', redisSocket,
      ...(comparePkg ? ['--compare-pkg', comparePkg] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve({ p, port: Number(m[1]) });
    });
    p.once('exit', (code) => reject(new Error(`${variant} server exited (${code}) before listening`)));
  });
}

// utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat).
function cpuTicks(pid) {
  if (!pid) return 0;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

// The process a variant's decisions are made in besides the app: the agent, or redis-server.
const sidePid = (variant, opts) => ({ floodgate: opts.agentPid, 'floodgate-compare': opts.agentPid,
  'rate-limit-redis': opts.redisPid })[variant] ?? 0;

async function measure(variant, socket, opts) {
  const autocannon = need('autocannon');
  const { p, port } = await startServer(variant, socket, opts.redisSocket, opts.comparePkg);
  try {
    const app0 = cpuTicks(p.pid);
    const side0 = cpuTicks(sidePid(variant, opts));
    // autocannon's own latency histogram counts whole milliseconds: each response's
    // time (a float in ms) is kept here instead, for percentiles in microseconds.
    const times = [];
    const inst = autocannon({ url: `http://127.0.0.1:${port}/r`, connections: opts.connections,
      pipelining: 1, ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration }) });
    inst.on('response', (_c, _code, _bytes, ms) => times.push(ms));
    const r = await inst;
    if (r.non2xx || r.errors || r.timeouts)
      throw new Error(`${variant}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
    const usPerReq = (ticks) => (ticks * 1e6) / opts.clkTck / r.requests.total;
    const appUs = usPerReq(cpuTicks(p.pid) - app0);
    const sidePidNow = sidePid(variant, opts);
    const agentUs = sidePidNow ? usPerReq(cpuTicks(sidePidNow) - side0) : 0;
    times.sort((a, b) => a - b);
    const pct = (q) => Number(times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(3));
    const rps = r.requests.total / (r.duration || 1);
    return { rps, p50: pct(0.5), p99: pct(0.99), total: r.requests.total, appUs, agentUs };
  } finally {
    p.kill('SIGTERM');
  }
}

const version = (m) => JSON.parse(fs.readFileSync(path.join(PKG, 'node_modules', m, 'package.json'), 'utf8')).version;
const median = (xs, f) => [...xs].sort((a, b) => f(a) - f(b))[Math.floor((xs.length - 1) / 2)];

async function main() {
  const socket = arg('socket');
  const redisSocket = arg('redis');
  if (!socket || !redisSocket)
    throw new Error('usage: node bench/node_http.js --socket SOCK --redis RSOCK [--smoke] [--rounds N] [--duration S] ' +
      '[--variants V,V...] [--compare-pkg DIR]');
  const comparePkg = arg('compare-pkg');
  const VARIANTS = arg('variants', ALL_VARIANTS.filter((v) => v !== 'floodgate-compare' || comparePkg).join(',')).split(',');
  for (const v of VARIANTS) {
    if (!ALL_VARIANTS.includes(v)) throw new Error(`unknown variant ${v} (${ALL_VARIANTS.join(', ')})`);
    if (v === 'floodgate-compare' && !comparePkg) throw new Error('floodgate-compare needs --compare-pkg DIR');
  }
  const smoke = process.argv.includes('--smoke');
  const opts = { connections: smoke ? 2 : 10, amount: smoke ? 300 : 0, duration: Number(arg('duration', 10)),
    agentPid: Number(arg('agent-pid', 0)), redisPid: Number(arg('redis-pid', 0)), redisSocket,
    clkTck: Number(arg('clk-tck', 100)), comparePkg };
  const rounds = smoke ? 1 : Number(arg('rounds', 3));
  const runs = Object.fromEntries(VARIANTS.map((v) => [v, []]));
  const load0 = os.loadavg();
  for (let i = 0; i < rounds; i++)
    for (const v of VARIANTS) runs[v].push(await measure(v, socket, opts));
  const load1 = os.loadavg();
  const med = Object.fromEntries(VARIANTS.map((v) => [v, median(runs[v], (r) => r.rps)]));
  const csv = arg('csv');
  if (csv)
    fs.writeFileSync(csv, ['variant,round,rps,p50_ms,p99_ms,requests,app_cpu_us_per_req,agent_cpu_us_per_req',
      ...VARIANTS.flatMap((v) => runs[v].map((r, i) =>
        `${v},${i},${r.rps},${r.p50},${r.p99},${r.total},${r.appUs},${r.agentUs}`))].join('\n') + '\n');
  const fmt = (x) => x.toFixed(2);
  const name = { none: 'no limiter', floodgate: 'floodgate rateLimit (floodgated socket)',
    'floodgate-compare': `floodgate rateLimit of ${comparePkg} (floodgated socket)`,
    'express-rate-limit': 'express-rate-limit, default memory store',
    'rate-limit-redis': 'express-rate-limit + rate-limit-redis (ioredis, local redis-server)' };
  console.log(`- load average: ${load0.map(fmt).join(' ')} before, ${load1.map(fmt).join(' ')} after ` +
    `(${os.cpus().length} CPUs; the machine is shared)`);
  console.log(`- method: autocannon ${version('autocannon')}, ${opts.connections} connections, ` +
    `${opts.amount ? `${opts.amount} requests` : `${opts.duration} s`} per run, ${rounds} round(s) in turns, ` +
    `median round by req/s (requests / run time), latency percentiles from each response's time; express ${version('express')}, express-rate-limit ` +
    `${version('express-rate-limit')}, rate-limit-redis ${version('rate-limit-redis')}, ioredis ${version('ioredis')}, ` +
    `Node.js ${process.version}; one key (127.0.0.1), ` +
    `a limit of ${LIMIT} a minute: every request is decided and passes`);
  console.log('');
  // CPU per request: the median over the rounds, each figure on its own.
  const cpu = Object.fromEntries(VARIANTS.map((v) => [v, {
    app: median(runs[v], (r) => r.appUs).appUs, agent: median(runs[v], (r) => r.agentUs).agentUs }]));
  const total = (v) => cpu[v].app + cpu[v].agent;
  // Ratios to the variants of the run; '-' for one left out by --variants.
  const ratio = (x, v) => (med[v] ? `${fmt(x / med[v].rps)}x` : '-');
  console.log('| app | req/s | p50 ms | p99 ms | req/s vs no limiter | req/s vs express-rate-limit | ' +
    'req/s vs rate-limit-redis | added p99 ms | app CPU µs/req | agent or Redis CPU µs/req | ' +
    'limiter CPU µs/req (over no limiter) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const v of VARIANTS) {
    const r = med[v];
    const overNone = v !== 'none' && med.none;
    console.log(`| ${name[v]} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${ratio(r.rps, 'none')} | ` +
      `${ratio(r.rps, 'express-rate-limit')} | ${ratio(r.rps, 'rate-limit-redis')} | ` +
      `${overNone ? fmt(r.p99 - med.none.p99) : ''} | ` +
      `${cpu[v].app.toFixed(1)} | ${sidePid(v, opts) ? cpu[v].agent.toFixed(1) : ''} | ` +
      `${overNone ? (total(v) - total('none')).toFixed(1) : ''} |`);
  }
  if (rounds > 1) printPaired(VARIANTS, runs, name);
}


// Each round runs the variants back to back, so a ratio taken inside a round
// moves less with the shared machine's load than one between the medians of
// different rounds: the median (and range) of those per-round figures.
function printPaired(VARIANTS, runs, name) {
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const span = (xs, f, unit) => `${f(med(xs))}${unit} [${f(Math.min(...xs))} to ${f(Math.max(...xs))}]`;
  const per = (v, g) => runs[v].map((r, i) => g(r, i));
  const x = (n) => `${n.toFixed(2)}x`;
  const signed = (d) => (n) => `${n >= 0 ? '+' : ''}${n.toFixed(d)}`;
  console.log('');
  console.log('Per round (the variants back to back; median [range] over the rounds):');
  for (const v of VARIANTS) {
    if (v === 'none') continue;
    const parts = [];
    for (const ref of ['rate-limit-redis', 'express-rate-limit'])
      if (runs[ref] && ref !== v) parts.push(`req/s ${span(per(v, (r, i) => r.rps / runs[ref][i].rps), x, '')} ${ref}`);
    if (runs.none) {
      parts.push(`p99 ${span(per(v, (r, i) => r.p99 - runs.none[i].p99), signed(2), ' ms')} over no limiter`);
      parts.push(`app CPU ${span(per(v, (r, i) => r.appUs - runs.none[i].appUs), signed(1), ' µs/req')} over no limiter`);
    }
    console.log(`- ${name[v]}: ${parts.join('; ')}`);
  }
}

if (process.argv.includes('--serve')) serve(arg('serve'), arg('socket'), arg('redis'), arg('compare-pkg')).catch((e) => { console.error(e); process.exit(1); });
else main().catch((e) => { console.error(e.message); process.exit(1); });

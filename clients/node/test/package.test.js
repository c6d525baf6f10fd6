'use strict';
// The package as npm ships it: CommonJS and ESM give the same objects, the
// types compile (and catch misuse), the tarball holds what it needs.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const PKG = path.resolve(__dirname, '..');

test('require and import give the same objects', async () => {
  const cjs = require('floodgate');
  const esm = await import('floodgate');
  for (const name of ['Client', 'rateLimit', 'progressiveLogin', 'connectionLimiter', 'eventLimiter',
    'FloodgateCommandError', 'FloodgateUnavailableError', 'FloodgateArgumentError', 'normalizeIp', 'draftHeaders',
    'FloodgateGuard', 'RateLimit', 'SkipRateLimit', 'handshakeLimiter', 'budget', 'vouchOnConnect'])
    assert.equal(esm[name], cjs[name], name);
  assert.equal(esm.default, cjs);
});

test('no runtime dependencies', () => {
  const pkg = require('../package.json');
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}), []);
  assert.match(pkg.engines.node, />=18/);
});

const tsc = path.join(PKG, 'node_modules', 'typescript', 'bin', 'tsc');

// One tsc run for both files (tsc is slow to start): usage.ts must compile,
// misuse.ts must fail on exactly its two mistakes.
test('the declarations compile under --strict, and catch misuse', {
  skip: !require('node:fs').existsSync(tsc) && 'typescript not installed',
}, () => {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--target', 'es2022', '--experimentalDecorators', 'test/types/usage.ts', 'test/types/misuse.ts'],
  { cwd: PKG, encoding: 'utf8' });
  const errors = r.stdout.split('\n').filter((l) => /error TS/.test(l));
  assert.deepEqual(errors.filter((l) => !l.startsWith('test/types/misuse.ts')), [], 'usage.ts compiles');
  assert.equal(errors.length, 2, r.stdout);
  assert.match(errors[0], /misuse\.ts\(3,.*"open"/);
  assert.match(errors[1], /misuse\.ts\(4,.*'string' is not assignable to type 'number'/);
});

test('the tarball holds the code, the types and the README, not the tests', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PKG, encoding: 'utf8' });
  const files = JSON.parse(out)[0].files.map((f) => f.path).sort();
  for (const f of ['README.md', 'index.d.ts', 'index.mjs', 'lib/client.js', 'lib/express.js', 'lib/index.js',
    'lib/insurance.js', 'lib/ip.js', 'lib/keys.js', 'lib/nestjs.js', 'lib/resp.js', 'lib/socketio.js', 'package.json'])
    assert.ok(files.includes(f), `${f} missing from ${files}`);
  assert.ok(!files.some((f) => f.startsWith('test/')), 'tests are not shipped');
});

'use strict';
// Starts a real floodgated for a test file: the ONE place that knows how.
//
// An agent with --app-only (no XDP) runs unprivileged: as the test's own
// user, or, when the tests run as root, as nobody (setpriv, no capability)
// with its socket and config in a directory nobody owns. An older agent
// without it runs as root in a network namespace of its own with a veth pair
// (192.0.2.1/24 <-> 192.0.2.2/24) to attach to, pins under
// /sys/fs/bpf/<namespace>, all removed on stop and on process exit; without
// root then, the tests skip (startAgent resolves { skip: reason }).

const { spawn, execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');

const ROOT = path.resolve(__dirname, '../../../..');
const BUILD = process.env.BUILD ? path.resolve(ROOT, process.env.BUILD) : path.join(ROOT, 'build');
const FLOODGATED = process.env.FLOODGATED ?? path.join(BUILD, 'floodgated');
const NOBODY = 65534;

let seq = 0;
const live = new Set();

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts }).toString();
}

function hasAppOnly() {
  const r = spawnSync(FLOODGATED, ['--help'], { encoding: 'utf8' });
  return /--app-only/.test(`${r.stdout}${r.stderr}`);
}

function cleanupSync(a) {
  if (a.proc && a.proc.exitCode === null && a.proc.signalCode === null) {
    try { process.kill(a.proc.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (a.ns) try { sh('ip', ['netns', 'del', a.ns]); } catch { /* gone */ }
  if (a.pinDir) fs.rmSync(a.pinDir, { recursive: true, force: true });
  if (a.bpffsMounted) {
    const left = fs.readdirSync('/sys/fs/bpf').filter((n) => n !== 'maps.debug' && n !== 'progs.debug');
    if (left.length === 0) try { sh('umount', ['/sys/fs/bpf']); } catch { /* busy */ }
  }
  fs.rmSync(a.dir, { recursive: true, force: true });
  live.delete(a);
}

process.on('exit', () => { for (const a of [...live]) cleanupSync(a); });
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));

function waitFor(pred, ms, what) {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      let ok = false;
      try { ok = await pred(); } catch { ok = false; }
      if (ok) return resolve();
      if (Date.now() > end) return reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

function canConnect(p) {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: p });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * startAgent(yamlPolicies) -> { socket, stop(), start(), close(), log() } or { skip }.
 * yaml: the config text (policies ...), written as the agent's config file.
 */
async function startAgent(yaml) {
  if (!fs.existsSync(FLOODGATED)) return { skip: `${FLOODGATED} missing: run make` };
  const appOnly = hasAppOnly();
  if (!appOnly && process.getuid?.() !== 0)
    return { skip: 'floodgated needs root (no --app-only mode yet)' };
  const n = seq++;
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fgn-${process.pid}-`));
  // As root with app-only, nobody runs the agent in a directory of its own,
  // reached through this one (0711).
  fs.chmodSync(dir, appOnly && asRoot ? 0o711 : 0o700);
  const home = appOnly && asRoot ? path.join(dir, 'u') : dir;
  if (home !== dir) {
    fs.mkdirSync(home, { mode: 0o700 });
    fs.chownSync(home, NOBODY, NOBODY);
  }
  const a = { dir, socket: path.join(home, 'fg.sock'), conf: path.join(home, 'fg.yaml'),
    logFile: path.join(dir, 'agent.log'), proc: null, ns: null, pinDir: null, appOnly };
  fs.writeFileSync(a.conf, yaml);
  if (home !== dir) fs.chownSync(a.conf, NOBODY, NOBODY);
  live.add(a);
  if (!appOnly) {
    // FG_NS_PREFIX: tests/netns/test_99_node_pkg.sh passes its own, so its
    // cleanup finds whatever a killed test file left.
    a.ns = `${process.env.FG_NS_PREFIX ?? 'fgn-'}${process.pid}-${n}`;
    sh('ip', ['netns', 'add', a.ns]);
    sh('ip', ['-n', a.ns, 'link', 'set', 'lo', 'up']);
    sh('ip', ['link', 'add', 'fg0', 'netns', a.ns, 'type', 'veth', 'peer', 'name', 'fg1', 'netns', a.ns]);
    sh('ip', ['-n', a.ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'fg0']);
    sh('ip', ['-n', a.ns, 'addr', 'add', '192.0.2.2/24', 'dev', 'fg1']);
    sh('ip', ['-n', a.ns, 'link', 'set', 'fg0', 'up']);
    sh('ip', ['-n', a.ns, 'link', 'set', 'fg1', 'up']);
    const fsType = spawnSync('stat', ['-f', '-c', '%T', '/sys/fs/bpf'], { encoding: 'utf8' }).stdout.trim();
    if (fsType !== 'bpf_fs') {
      sh('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
      a.bpffsMounted = true;
    }
    a.pinDir = `/sys/fs/bpf/${a.ns}`;
    fs.mkdirSync(a.pinDir, { mode: 0o700 });
  }

  a.start = async () => {
    const out = fs.openSync(a.logFile, 'a');
    const args = ['-c', a.conf, '--socket', a.socket, '--metrics-listen', ''];
    if (appOnly && asRoot)
      a.proc = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all',
        '--bounding-set=-all', '--', FLOODGATED, '--app-only', ...args], { stdio: ['ignore', out, out] });
    else if (appOnly) a.proc = spawn(FLOODGATED, ['--app-only', ...args], { stdio: ['ignore', out, out] });
    else
      a.proc = spawn('nsenter', [`--net=/run/netns/${a.ns}`, '--', FLOODGATED, ...args, '-i', 'fg0',
        '--pin-dir', a.pinDir], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const proc = a.proc;
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error('exited');
      return canConnect(a.socket);
    }, 20_000, 'floodgated to listen').catch((e) => {
      throw new Error(`floodgated did not start: ${e.message}\n${a.log()}`);
    });
  };

  // SIGTERM and wait for the exit: the socket is gone afterwards.
  a.stop = async () => {
    const p = a.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(t);
  };

  a.close = async () => {
    await a.stop();
    cleanupSync(a);
  };
  a.log = () => { try { return fs.readFileSync(a.logFile, 'utf8'); } catch { return ''; } };

  try {
    await a.start();
  } catch (e) {
    cleanupSync(a);
    throw e;
  }
  return a;
}

module.exports = { startAgent, waitFor };

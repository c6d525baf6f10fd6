// A busy service on one ioredis connection with auto-pipelining (every
// command issued in the same tick goes out in one write): N concurrent
// RL.CHECKs of one key. Prints "allowed=A first=F n=N", F being how many of
// the first A calls (in call order) were the allowed ones: with replies in
// order and one key decided in arrival order, F == A.
'use strict';
const Redis = require('ioredis');

const [path, policy, key, n] = process.argv.slice(2);
if (!n) {
  console.error('usage: node ioredis_burst.js SOCKET POLICY KEY N');
  process.exit(2);
}

async function main() {
  const fg = new Redis({ path, enableAutoPipelining: true, maxRetriesPerRequest: 1 });
  const calls = [];
  for (let i = 0; i < Number(n); i++) calls.push(fg.call('RL.CHECK', policy, key));
  const res = await Promise.all(calls);
  const allowed = res.filter((r) => r[0] === 1).length;
  const first = res.slice(0, allowed).filter((r) => r[0] === 1).length;
  console.log(`allowed=${allowed} first=${first} n=${res.length}`);
  await fg.quit();
}

main().catch((e) => { console.error('ioredis_burst: FAIL', e); process.exit(1); });

'use strict';
// Several named keys (user AND ip) decided by one RL.CHECKM, shared by the
// Express middleware and the Socket.IO limiters: the names the application
// gives are what a refusal reports ("user", "ip").

const { MAX_PAIRS } = require('./client');

/**
 * compileKeys(keys, defaultPolicy, defaultKeyFn, who) -> [{ name, policy, key }]
 *
 * keys: { name: keyFn | { key?: keyFn, policy?: string | fn } }, 1-16 names.
 * A name without its own key function gets defaultKeyFn (the client address);
 * without its own policy, defaultPolicy. Mistakes are thrown when the limiter
 * is made, not on the first request.
 */
function compileKeys(keys, defaultPolicy, defaultKeyFn, who) {
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys))
    throw new TypeError(`floodgate: ${who} keys must be an object of named key functions ({ user: fn, ip: fn })`);
  const names = Object.keys(keys);
  if (names.length < 1 || names.length > MAX_PAIRS)
    throw new TypeError(`floodgate: ${who} keys names ${names.length} keys; one decision takes 1-${MAX_PAIRS}`);
  return names.map((name) => {
    const spec = typeof keys[name] === 'function' ? { key: keys[name] } : keys[name];
    if (typeof spec !== 'object' || spec === null || (spec.key !== undefined && typeof spec.key !== 'function'))
      throw new TypeError(`floodgate: ${who} keys.${name} must be a key function or { key?, policy? }`);
    const policy = spec.policy ?? defaultPolicy;
    if (!policy) throw new TypeError(`floodgate: ${who} keys.${name} has no policy (give { policy } to it or to ${who})`);
    return { name, policy, key: spec.key ?? defaultKeyFn };
  });
}

/**
 * decideKeys(client, specs, args, { cost, role }) -> CheckResult with
 * refused (the refusing name, null when allowed), keys ({ name: key }) and
 * names; one RL.CHECKM for all of them. args are what the key and policy
 * functions get ((req, res) or (socket)).
 */
async function decideKeys(client, specs, args, opts = {}) {
  const pairs = [];
  const keys = {};
  for (const s of specs) {
    const key = await s.key(...args);
    if (key === undefined || key === null || key === '')
      throw new Error(`floodgate: the key function of "${s.name}" returned no key`);
    const policy = typeof s.policy === 'function' ? await s.policy(...args) : s.policy;
    keys[s.name] = key;
    pairs.push({ policy, key });
  }
  let r;
  try {
    r = await client.checkMulti(pairs, opts);
  } catch (err) {
    if (!err.neverPasses) throw err;
    // The agent names the pair's policy in its message: that pair refused.
    let at = pairs.findIndex((p) => err.message.includes(`'${p.policy}'`));
    if (at < 0) at = 0;
    r = { ...pairs[at], allowed: false, limit: 0, remaining: 0, resetMs: 0, retryAfterMs: 0, state: 'never',
      window: '', refusedIndex: at, refusedKey: pairs[at].key, source: 'agent' };
  }
  const refused = r.refusedIndex >= 0 ? specs[r.refusedIndex].name : null;
  const binding = specs[r.bindingIndex ?? r.refusedIndex]?.name ?? null;
  return { ...r, refused, binding, keys };
}

module.exports = { compileKeys, decideKeys };

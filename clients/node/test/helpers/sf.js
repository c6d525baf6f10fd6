'use strict';
// A strict reader of the RateLimit and RateLimit-Policy fields: an RFC 8941
// List of Items (a String or Token naming the policy) with Parameters, as the
// httpapi ratelimit-headers draft defines them. Throws on anything else.

function parseList(text) {
  let i = 0;
  const s = text;
  const fail = (why) => { throw new Error(`not a valid field value (${why} at ${i}): ${s}`); };
  const ows = () => { while (s[i] === ' ' || s[i] === '\t') i++; };
  const bare = () => {
    if (s[i] === '"') {
      let out = '';
      i++;
      for (;;) {
        if (i >= s.length) fail('unterminated string');
        const c = s[i++];
        if (c === '\\') {
          const n = s[i++];
          if (n !== '"' && n !== '\\') fail('bad escape');
          out += n;
        } else if (c === '"') return { type: 'string', value: out };
        else if (c < ' ' || c > '~') fail('non-printable in string');
        else out += c;
      }
    }
    let m = /^-?[0-9]{1,15}(?![0-9.])/.exec(s.slice(i));
    if (m) { i += m[0].length; return { type: 'integer', value: Number(m[0]) }; }
    m = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(s.slice(i));
    if (m) { i += m[0].length; return { type: 'token', value: m[0] }; }
    m = /^:[A-Za-z0-9+/=]*:/.exec(s.slice(i));
    if (m) { i += m[0].length; return { type: 'bytes', value: m[0] }; }
    if (s[i] === '?' && (s[i + 1] === '0' || s[i + 1] === '1')) { i += 2; return { type: 'boolean', value: s[i - 1] === '1' }; }
    return fail('bad bare item');
  };
  const items = [];
  ows();
  if (i >= s.length) fail('empty list');
  for (;;) {
    const item = bare();
    const params = {};
    while (s[i] === ';') {
      i++;
      while (s[i] === ' ') i++;
      const k = /^[a-z*][a-z0-9_\-.*]*/.exec(s.slice(i));
      if (!k) fail('bad parameter key');
      i += k[0].length;
      if (k[0] in params) fail('repeated parameter');
      if (s[i] === '=') { i++; params[k[0]] = bare(); } else params[k[0]] = { type: 'boolean', value: true };
    }
    items.push({ item, params });
    ows();
    if (i >= s.length) return items;
    if (s[i] !== ',') fail('expected ","');
    i++;
    ows();
    if (i >= s.length) fail('trailing comma');
  }
}

const nonNegInt = (p) => p && p.type === 'integer' && p.value >= 0;

// RateLimit-Policy: each item names a policy with q (required), w, qu, pk.
function checkPolicyField(text) {
  const items = parseList(text);
  for (const { item, params } of items) {
    if (item.type !== 'string' && item.type !== 'token') throw new Error(`policy id is a ${item.type}: ${text}`);
    if (!nonNegInt(params.q)) throw new Error(`q missing or not a non-negative integer: ${text}`);
    if ('w' in params && !(nonNegInt(params.w) && params.w.value > 0)) throw new Error(`bad w: ${text}`);
    if ('qu' in params && params.qu.type !== 'string') throw new Error(`bad qu: ${text}`);
    if ('pk' in params && params.pk.type !== 'bytes') throw new Error(`bad pk: ${text}`);
  }
  return items.map(({ item, params }) => ({ id: item.value, q: params.q.value, w: params.w?.value }));
}

// RateLimit: each item names a policy with r (required), t, pk.
function checkLimitField(text) {
  const items = parseList(text);
  for (const { item, params } of items) {
    if (item.type !== 'string' && item.type !== 'token') throw new Error(`policy id is a ${item.type}: ${text}`);
    if (!nonNegInt(params.r)) throw new Error(`r missing or not a non-negative integer: ${text}`);
    if ('t' in params && !nonNegInt(params.t)) throw new Error(`bad t: ${text}`);
    if ('pk' in params && params.pk.type !== 'bytes') throw new Error(`bad pk: ${text}`);
  }
  return items.map(({ item, params }) => ({ id: item.value, r: params.r.value, t: params.t?.value }));
}

module.exports = { parseList, checkPolicyField, checkLimitField };

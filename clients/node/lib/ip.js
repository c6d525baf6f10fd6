'use strict';
// Client addresses as rate-limit keys: one spelling per address, IPv6 by
// prefix when asked, and the client behind trusted proxies.

const net = require('node:net');

// The 8 groups of an IPv6 address as numbers, or null.
function v6groups(addr) {
  let s = addr;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  let tail = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > lastColon) {
    const v4 = s.slice(lastColon + 1).split('.').map(Number);
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    s = s.slice(0, lastColon + 1); // ends with ':'
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h) => (h === '' ? [] : h.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - rest.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return null;
  const g = [...head, ...new Array(halves.length === 2 ? fill : 0).fill(0), ...rest, ...tail];
  return g.length === 8 && g.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? g : null;
}

/**
 * One spelling of an address for keys: IPv4 as is, IPv4-mapped IPv6
 * (::ffff:192.0.2.7) as the IPv4 address, IPv6 compressed lower case; with
 * ipv6Prefix (1-128) an IPv6 address becomes its network, "2001:db8:1:2::/64".
 * Returns null for something that is not an address.
 */
function normalizeIp(addr, ipv6Prefix) {
  checkIpv6Prefix(ipv6Prefix);
  if (typeof addr !== 'string') return null;
  const fam = net.isIP(addr.includes('%') ? addr.slice(0, addr.indexOf('%')) : addr);
  if (fam === 4) return addr;
  if (fam !== 6) return null;
  const g = v6groups(addr);
  if (!g) return null;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff)
    return `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  let plen = 128;
  if (ipv6Prefix !== undefined && ipv6Prefix !== null) {
    plen = ipv6Prefix;
    for (let i = 0; i < 8; i++) {
      const bits = Math.max(0, Math.min(16, plen - 16 * i));
      g[i] &= bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    }
  }
  return compress(g) + (plen < 128 ? `/${plen}` : '');
}

// RFC 5952 text: the longest run (2+) of zero groups as "::".
function compress(g) {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/**
 * A trust function (addr, hopIndex) => boolean from what Express's
 * "trust proxy" takes: false (default), true, a number of hops, a CIDR or
 * address string (comma separated), an array of them, or a function.
 */
function compileTrust(trust) {
  if (typeof trust === 'function') return trust;
  if (trust === true) return () => true;
  if (!trust) return () => false;
  if (typeof trust === 'number') return (_a, i) => i < trust;
  const list = Array.isArray(trust) ? trust : String(trust).split(',');
  const bl = new net.BlockList();
  for (const raw of list) {
    const e = String(raw).trim();
    const named = { loopback: ['127.0.0.1/8', '::1/128'], linklocal: ['169.254.0.0/16', 'fe80::/10'],
      uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] }[e];
    for (const c of named ?? [e]) {
      const [a, p] = c.split('/');
      const fam = net.isIP(a);
      if (!fam) throw new TypeError(`floodgate: trustProxy: "${c}" is not an address or CIDR`);
      const type = fam === 4 ? 'ipv4' : 'ipv6';
      const plen = p === undefined ? (fam === 4 ? 32 : 128) : Number(p);
      if (!Number.isInteger(plen) || plen < 0 || plen > (fam === 4 ? 32 : 128))
        throw new TypeError(`floodgate: trustProxy: "${c}" has a bad prefix length`);
      bl.addSubnet(a, plen, type);
    }
  }
  return (addr) => {
    const n = normalizeIp(addr);
    if (!n) return false;
    return bl.check(n, net.isIP(n) === 4 ? 'ipv4' : 'ipv6');
  };
}

/**
 * The client address of a connection from remoteAddress and an
 * X-Forwarded-For value, walking back from the peer while trust(addr, i) holds
 * (as Express's req.ip does).
 */
function clientAddress(remoteAddress, xff, trust) {
  let addr = remoteAddress;
  if (!xff || !trust(addr, 0)) return addr;
  const hops = String(xff).split(',').map((s) => s.trim()).filter(Boolean).reverse();
  for (let i = 0; i < hops.length; i++) {
    const hop = hops[i];
    if (!net.isIP(hop)) return addr; // a garbled entry: stop at the last trusted one
    addr = hop;
    if (!trust(addr, i + 1)) return addr;
  }
  return addr;
}

/**
 * Throws unless ipv6Prefix is absent (undefined or null) or an integer
 * 1-128. The middleware call it when they are made: a bad value found only
 * by the first IPv6 client would fail that client's requests alone.
 */
function checkIpv6Prefix(ipv6Prefix) {
  if (ipv6Prefix === undefined || ipv6Prefix === null) return;
  if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < 1 || ipv6Prefix > 128)
    throw new RangeError(`floodgate: ipv6Prefix must be 1-128, not ${ipv6Prefix}`);
}

module.exports = { normalizeIp, checkIpv6Prefix, compileTrust, clientAddress };

'use strict';
// A strict, bounded RESP2 reader and a command writer for floodgated's socket.
//
// The client never sends HELLO 3, so every reply is RESP2. Anything else is a
// protocol error: the connection is then unusable (replies can no longer be
// matched to calls) and the client drops it. Every size is bounded, so a
// hostile or broken peer cannot make this process buffer without end.

const CR = 13;
const LF = 10;

const DEFAULT_LIMITS = Object.freeze({
  maxBulk: 1024 * 1024, // largest bulk string ($)
  maxElements: 1024, // elements of one array (*), nested ones counted too
  maxDepth: 4, // nesting of arrays
  maxLine: 4096, // a +, -, : line or a length line
  maxBuffered: 4 * 1024 * 1024, // bytes held while a reply is incomplete
});

class RespProtocolError extends Error {
  constructor(message) {
    super(`floodgate: bad reply from the agent: ${message}`);
    this.name = 'RespProtocolError';
    this.code = 'EFGPROTO';
  }
}

// An error reply (-ERR ..., -NOPERM ...): a value, not a broken connection.
class ReplyError extends Error {
  constructor(line) {
    super(line);
    this.name = 'ReplyError';
    const sp = line.indexOf(' ');
    this.code = sp > 0 ? line.slice(0, sp) : line;
  }
}

const INCOMPLETE = Symbol('incomplete');

class RespReader {
  constructor(limits = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.buf = Buffer.alloc(0);
    // When the last attempt stopped in a bulk string, the bytes it needs in
    // all: no need to parse again before they are here.
    this.need = 0;
  }

  // Adds bytes and returns the replies they complete, in order. Throws
  // RespProtocolError on anything that is not valid, bounded RESP2; the
  // reader is then dead (feed() keeps throwing).
  feed(chunk) {
    if (this.dead) throw this.dead;
    if (this.buf.length + chunk.length > this.limits.maxBuffered)
      return this.fail(`more than ${this.limits.maxBuffered} bytes of an unfinished reply`);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out = [];
    let pos = 0;
    while (pos < this.buf.length) {
      if (this.need && this.buf.length < this.need) break;
      this.elements = 0;
      this.need = 0;
      let r;
      try {
        r = this.value(pos, 0);
      } catch (e) {
        if (e instanceof RespProtocolError) this.dead = e;
        throw e;
      }
      if (r === INCOMPLETE) break;
      out.push(r.v);
      pos = r.p;
    }
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
    if (this.need) this.need -= pos;
    return out;
  }

  fail(msg) {
    this.dead = new RespProtocolError(msg);
    throw this.dead;
  }

  // The line starting at pos (after the type byte), without CRLF.
  line(pos) {
    const max = Math.min(this.buf.length, pos + this.limits.maxLine + 2);
    const i = this.buf.indexOf(LF, pos);
    if (i < 0 || i >= max) {
      if (this.buf.length - pos > this.limits.maxLine + 1)
        this.fail(`a line longer than ${this.limits.maxLine} bytes`);
      return INCOMPLETE;
    }
    if (i === pos || this.buf[i - 1] !== CR) this.fail('a line not ended by CRLF');
    return { s: this.buf.toString('latin1', pos, i - 1), p: i + 1 };
  }

  int(s, what) {
    if (!/^-?(0|[1-9][0-9]{0,17})$/.test(s)) this.fail(`${what} "${s.slice(0, 40)}" is not an integer`);
    return Number(s);
  }

  value(pos, depth) {
    if (pos >= this.buf.length) return INCOMPLETE;
    const t = this.buf[pos];
    const l = this.line(pos + 1);
    if (l === INCOMPLETE) return INCOMPLETE;
    switch (t) {
      case 0x2b: // +
        return { v: this.buf.toString('utf8', pos + 1, l.p - 2), p: l.p };
      case 0x2d: // -
        return { v: new ReplyError(this.buf.toString('utf8', pos + 1, l.p - 2)), p: l.p };
      case 0x3a: // :
        return { v: this.int(l.s, 'integer'), p: l.p };
      case 0x24: { // $
        const n = this.int(l.s, 'bulk length');
        if (n === -1) return { v: null, p: l.p };
        if (n < 0 || n > this.limits.maxBulk)
          this.fail(`bulk length ${n} outside 0..${this.limits.maxBulk}`);
        const end = l.p + n + 2;
        if (this.buf.length < end) {
          this.need = end;
          return INCOMPLETE;
        }
        if (this.buf[end - 2] !== CR || this.buf[end - 1] !== LF)
          this.fail('a bulk string not followed by CRLF');
        return { v: this.buf.toString('utf8', l.p, end - 2), p: end };
      }
      case 0x2a: { // *
        const n = this.int(l.s, 'array length');
        if (n === -1) return { v: null, p: l.p };
        if (n < 0 || n > this.limits.maxElements)
          this.fail(`array length ${n} outside 0..${this.limits.maxElements}`);
        if (depth >= this.limits.maxDepth) this.fail(`arrays nested deeper than ${this.limits.maxDepth}`);
        this.elements += n;
        if (this.elements > this.limits.maxElements)
          this.fail(`more than ${this.limits.maxElements} elements in one reply`);
        const arr = new Array(n);
        let p = l.p;
        for (let i = 0; i < n; i++) {
          const r = this.value(p, depth + 1);
          if (r === INCOMPLETE) return INCOMPLETE;
          arr[i] = r.v;
          p = r.p;
        }
        return { v: arr, p };
      }
      default:
        return this.fail(`unexpected type byte 0x${t.toString(16).padStart(2, '0')}` +
          (t === 0x25 || t === 0x3e || t === 0x5f || t === 0x23 ? ' (a RESP3 reply; the client speaks RESP2)' : ''));
    }
  }
}

// A command as a RESP array of bulk strings. Arguments are strings, Buffers
// or finite numbers. Without a Buffer among them it is a string (the socket
// writes it as UTF-8): no Buffer is made per part and joined per call.
function encodeCommand(args) {
  let s = `*${args.length}\r\n`;
  for (const a of args) {
    if (typeof a === 'string') s += `$${Buffer.byteLength(a, 'utf8')}\r\n${a}\r\n`;
    else if (typeof a === 'number' && Number.isFinite(a)) {
      const t = String(a);
      s += `$${t.length}\r\n${t}\r\n`;
    } else if (Buffer.isBuffer(a)) return encodeBuffers(args);
    else throw badArgument(a);
  }
  return s;
}

function encodeBuffers(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    let b;
    if (Buffer.isBuffer(a)) b = a;
    else if (typeof a === 'string') b = Buffer.from(a, 'utf8');
    else if (typeof a === 'number' && Number.isFinite(a)) b = Buffer.from(String(a));
    else throw badArgument(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const badArgument = (a) =>
  new TypeError(`floodgate: a command argument must be a string, Buffer or number, not ${typeof a}`);

module.exports = { RespReader, RespProtocolError, ReplyError, encodeCommand, DEFAULT_LIMITS };

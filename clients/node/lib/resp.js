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
const EMPTY = Buffer.alloc(0);

class RespReader {
  constructor(limits = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.buf = EMPTY;
    // When the last attempt stopped in a bulk string, the bytes it needs in
    // all: no need to parse again before they are here.
    this.need = 0;
    this.pos = 0; // where value() reads
    this.elements = 0;
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
      this.pos = pos;
      let v;
      try {
        v = this.value(0);
      } catch (e) {
        if (e instanceof RespProtocolError) this.dead = e;
        throw e;
      }
      if (v === INCOMPLETE) break;
      out.push(v);
      pos = this.pos;
    }
    // What is kept of the caller's chunk is copied: it may be the
    // connection's read buffer, which the next read overwrites.
    const rest = pos >= this.buf.length ? EMPTY : this.buf.subarray(pos);
    this.buf = rest.length && this.buf === chunk ? Buffer.from(rest) : rest;
    if (this.need) this.need -= pos;
    return out;
  }

  fail(msg) {
    this.dead = new RespProtocolError(msg);
    throw this.dead;
  }

  // The end (the CR of CRLF) of the line starting at pos (after the type
  // byte), or -1 when it is not all here yet. Scanned here rather than with
  // Buffer#indexOf: the lines of a reply are a few bytes, shorter than a call
  // into C++.
  lineEnd(pos) {
    const buf = this.buf;
    const max = Math.min(buf.length, pos + this.limits.maxLine + 2);
    let i = pos;
    while (i < max && buf[i] !== LF) i++;
    if (i >= max) {
      if (buf.length - pos > this.limits.maxLine + 1)
        this.fail(`a line longer than ${this.limits.maxLine} bytes`);
      return -1;
    }
    if (i === pos || buf[i - 1] !== CR) this.fail('a line not ended by CRLF');
    return i - 1;
  }

  // The integer of the bytes start..end: -?(0|[1-9][0-9]{0,17}), read from
  // the bytes without a string or a regex; longer than 15 digits (past exact
  // doubles) through Number() of the text, as before.
  int(start, end, what) {
    const buf = this.buf;
    let i = start;
    const neg = buf[i] === 0x2d;
    if (neg) i++;
    const digits = end - i;
    if (digits >= 1 && digits <= 18 && (buf[i] !== 0x30 || digits === 1)) {
      let n = 0;
      for (; i < end; i++) {
        const d = buf[i] - 0x30;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
      }
      if (i === end) {
        if (digits > 15) return Number(buf.toString('latin1', start, end));
        return neg ? -n : n;
      }
    }
    return this.fail(`${what} "${buf.toString('latin1', start, end).slice(0, 40)}" is not an integer`);
  }

  // The value at this.pos, which moves past it; INCOMPLETE when its bytes are
  // not all here (feed() then starts the reply again when more come).
  value(depth) {
    const buf = this.buf;
    const pos = this.pos;
    if (pos >= buf.length) return INCOMPLETE;
    const t = buf[pos];
    const end = this.lineEnd(pos + 1);
    if (end < 0) return INCOMPLETE;
    this.pos = end + 2;
    switch (t) {
      case 0x2b: // +
        return buf.toString('utf8', pos + 1, end);
      case 0x2d: // -
        return new ReplyError(buf.toString('utf8', pos + 1, end));
      case 0x3a: // :
        return this.int(pos + 1, end, 'integer');
      case 0x24: { // $
        const n = this.int(pos + 1, end, 'bulk length');
        if (n === -1) return null;
        if (n < 0 || n > this.limits.maxBulk)
          this.fail(`bulk length ${n} outside 0..${this.limits.maxBulk}`);
        const from = end + 2;
        const to = from + n + 2;
        if (buf.length < to) {
          this.need = to;
          return INCOMPLETE;
        }
        if (buf[to - 2] !== CR || buf[to - 1] !== LF) this.fail('a bulk string not followed by CRLF');
        this.pos = to;
        return buf.toString('utf8', from, to - 2);
      }
      case 0x2a: { // *
        const n = this.int(pos + 1, end, 'array length');
        if (n === -1) return null;
        if (n < 0 || n > this.limits.maxElements)
          this.fail(`array length ${n} outside 0..${this.limits.maxElements}`);
        if (depth >= this.limits.maxDepth) this.fail(`arrays nested deeper than ${this.limits.maxDepth}`);
        this.elements += n;
        if (this.elements > this.limits.maxElements)
          this.fail(`more than ${this.limits.maxElements} elements in one reply`);
        const arr = new Array(n);
        for (let i = 0; i < n; i++) {
          const v = this.value(depth + 1);
          if (v === INCOMPLETE) return INCOMPLETE;
          arr[i] = v;
        }
        return arr;
      }
      default:
        return this.fail(`unexpected type byte 0x${t.toString(16).padStart(2, '0')}` +
          (t === 0x25 || t === 0x3e || t === 0x5f || t === 0x23 ? ' (a RESP3 reply; the client speaks RESP2)' : ''));
    }
  }
}

// The agent reads one request of at most this many bytes, framing included;
// a longer one it answers "-ERR Protocol error" and closes the connection
// (docs/api.md, "Request size").
const MAX_REQUEST = 1024 * 1024;

// An argument the agent would refuse for its size, refused by this client
// before it is sent: that call alone fails. Sent, an argument over the
// agent's request size would close the one connection every call shares.
class FloodgateArgumentError extends RangeError {
  constructor(command, what, bytes, max) {
    super(`floodgate: ${command}: the ${what} is ${bytes} bytes; the agent takes at most ${max}`);
    this.name = 'FloodgateArgumentError';
    this.code = 'EFGARG';
    this.command = command;
    this.argument = what;
    this.bytes = bytes;
    this.max = max;
  }
}

// A command as a RESP array of bulk strings. Arguments are strings, Buffers
// or finite numbers. Without a Buffer among them it is a string (the socket
// writes it as UTF-8): no Buffer is made per part and joined per call.
// Throws FloodgateArgumentError for a request larger than the agent reads
// (the commands check each argument's own bound before; this is the last
// guard of the shared connection).
function encodeCommand(args) {
  let s = `*${args.length}\r\n`;
  let bytes = s.length;
  for (const a of args) {
    if (typeof a === 'string') {
      const n = Buffer.byteLength(a, 'utf8');
      const head = `$${n}\r\n`;
      bytes += head.length + n + 2;
      s += `${head}${a}\r\n`;
    } else if (typeof a === 'number' && Number.isFinite(a)) {
      const t = String(a);
      const head = `$${t.length}\r\n`;
      bytes += head.length + t.length + 2;
      s += `${head}${t}\r\n`;
    } else if (Buffer.isBuffer(a)) return encodeBuffers(args);
    else throw badArgument(a);
  }
  if (bytes > MAX_REQUEST) throw new FloodgateArgumentError(args[0], 'request', bytes, MAX_REQUEST);
  return s;
}

function encodeBuffers(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  let bytes = parts[0].length;
  for (const a of args) {
    let b;
    if (Buffer.isBuffer(a)) b = a;
    else if (typeof a === 'string') b = Buffer.from(a, 'utf8');
    else if (typeof a === 'number' && Number.isFinite(a)) b = Buffer.from(String(a));
    else throw badArgument(a);
    const head = Buffer.from(`$${b.length}\r\n`);
    bytes += head.length + b.length + 2;
    parts.push(head, b, Buffer.from('\r\n'));
  }
  if (bytes > MAX_REQUEST) throw new FloodgateArgumentError(String(args[0]), 'request', bytes, MAX_REQUEST);
  return Buffer.concat(parts);
}

const badArgument = (a) =>
  new TypeError(`floodgate: a command argument must be a string, Buffer or number, not ${typeof a}`);

module.exports = { RespReader, RespProtocolError, ReplyError, FloodgateArgumentError, encodeCommand, MAX_REQUEST,
  DEFAULT_LIMITS };

// ticker-client.js: the JavaScript client of /v1/stream (docs/CLIENT.md,
// "JavaScript"; the wire format is docs/PROTOCOL.md).
//
// An ES module with no DOM, so it runs unchanged in browsers and in
// Node >= 20, and another origin can import it straight from the server
// (`GET /assets/ticker-client.js` and the one module it imports,
// `delta.js`, carry `Access-Control-Allow-Origin: *`).
// It is the same client as the Swift `AsyncTickerClient`: it connects with a
// list of symbols, reconnects with exponential back-off and jitter, resumes
// every symbol with `from` and the `epoch` of the connection it was seen on,
// reports what could not be resumed (`reset`) and any undeclared sequence
// jump (`gap`), and hands out decoded records (`ticks`). The dashboard uses
// it too, so the page and this module can never disagree about the bytes.
// It asks for the delta encoding (docs/PROTOCOL.md, message type 2; the
// decoder is delta.js) unless told `encoding: 'raw'`, and decodes either
// kind of message whatever the server chose (`welcome.encoding`).
// On a server with auth it presents a token (`token`, or a `tokenProvider`
// asked before every attempt and on `token_expiring`), and stops instead of
// retrying in a loop when the server says the token cannot succeed (4401
// without a provider, 4403).
//
//   const client = new TickerClient({ url: 'ws://127.0.0.1:8080/v1/stream', symbols: ['AAPL'] });
//   client.addEventListener('ticks', (e) => { for (const t of e.ticks) console.log(t.symbol, t.lastPrice); });

import { DeltaDecoder, DeltaError, DELTA } from './delta.js';

export { DeltaDecoder, DeltaError, DELTA };

// ============================================================== wire format
// Little-endian: a 16-byte header, then recordCount records of recordSize
// bytes (>= 64; the bytes past 64 are skipped, for forward compatibility).
export const WIRE = Object.freeze({
  HEADER_SIZE: 16, MIN_RECORD_SIZE: 64, VERSION: 1, TYPE_TICK_BATCH: 1,
  FLAG_SNAPSHOT: 1, FLAG_CONFLATED: 2,
});
const TWO_32 = 4294967296;

/** u64 as a Number; exact below 2^53 (sequences are, by the protocol). */
export function readU64(dv, off) { return dv.getUint32(off + 4, true) * TWO_32 + dv.getUint32(off, true); }
/** i64 as a Number; exact below 2^53 in magnitude (price mantissas). */
export function readI64(dv, off) { return dv.getInt32(off + 4, true) * TWO_32 + dv.getUint32(off, true); }
/** ns since the epoch, given as 32-bit halves, to float milliseconds (~0.2 us resolution). */
export function nsHiLoToMs(hi, lo) { return hi * 4294.967296 + lo / 1e6; }
function hiLoToBigInt(hi, lo) { return (BigInt(hi) << 32n) | BigInt(lo); }

/** Exact decimal text of mantissa x 10^exponent, with -exponent decimals (string maths, no float rounding). */
export function formatPrice(mantissa, exponent) {
  if (exponent >= 0) return String(mantissa * Math.pow(10, exponent));
  const decimals = -exponent;
  let digits = String(Math.abs(mantissa));
  if (digits.length <= decimals) digits = '0'.repeat(decimals - digits.length + 1) + digits;
  const text = digits.slice(0, digits.length - decimals) + '.' + digits.slice(digits.length - decimals);
  return mantissa < 0 ? '-' + text : text;
}
/** mantissa x 10^exponent as the nearest Number (dividing, so 22749 at -2 is 227.49, not 227.49000000000001). */
export function priceToNumber(mantissa, exponent) {
  return exponent >= 0 ? mantissa * Math.pow(10, exponent) : mantissa / Math.pow(10, -exponent);
}

/**
 * One decoded record (docs/PROTOCOL.md, "Tick record"). Prices are integer
 * mantissas: price = mantissa x 10^priceExponent. The event time is kept as
 * its two 32-bit halves (a u64 of nanoseconds does not fit a Number); the
 * getters turn it into a BigInt or float milliseconds when asked.
 */
export class Tick {
  constructor() {
    this.symbolId = 0; this.symbol = null; this.flags = 0; this.priceExponent = 0; this.sequence = 0;
    this.eventTimeHi = 0; this.eventTimeLo = 0;
    this.bid = 0; this.ask = 0; this.last = 0; this.bidSize = 0; this.askSize = 0; this.lastSize = 0;
    this.conflatedCount = 0;
    // null, or {sequence, bid, ask, last} as exact BigInts when one of them
    // is not a safe integer (a delta record only; never on a real feed).
    this.exact = null;
  }
  get snapshot() { return (this.flags & WIRE.FLAG_SNAPSHOT) !== 0; }
  get conflated() { return (this.flags & WIRE.FLAG_CONFLATED) !== 0; }
  get eventTimeNs() { return hiLoToBigInt(this.eventTimeHi, this.eventTimeLo); }
  get eventTimeMs() { return nsHiLoToMs(this.eventTimeHi, this.eventTimeLo); }
  get bidPrice() { return priceToNumber(this.bid, this.priceExponent); }
  get askPrice() { return priceToNumber(this.ask, this.priceExponent); }
  get lastPrice() { return priceToNumber(this.last, this.priceExponent); }
  toJSON() {
    const { eventTimeHi, eventTimeLo, exact, ...fields } = this;
    const wide = exact ? Object.fromEntries(Object.entries(exact).map(([k, v]) => [k, v.toString()])) : {};
    return { ...fields, ...wide, eventTimeNs: this.eventTimeNs.toString() };
  }
}

/** Returns {count, size, sendHi, sendLo}, or a string saying why the message is rejected. */
export function readHeader(dv) {
  if (dv.byteLength < WIRE.HEADER_SIZE) return 'short message (' + dv.byteLength + ' bytes)';
  const version = dv.getUint8(0), type = dv.getUint8(1);
  const count = dv.getUint16(2, true), size = dv.getUint16(4, true);
  if (version !== WIRE.VERSION) return 'unknown version ' + version;
  if (type !== WIRE.TYPE_TICK_BATCH) return 'unknown message type ' + type;
  if (size < WIRE.MIN_RECORD_SIZE) return 'record size ' + size + ' < 64';
  if (dv.byteLength !== WIRE.HEADER_SIZE + count * size) return 'length ' + dv.byteLength + ' != 16 + ' + count + ' x ' + size;
  return { count, size, sendHi: dv.getUint32(12, true), sendLo: dv.getUint32(8, true) };
}

/** Decodes the record at byte offset `off` into `t` (a Tick, or any object to reuse). */
export function readRecord(dv, off, t = new Tick()) {
  t.symbolId = dv.getUint32(off, true);
  t.flags = dv.getUint8(off + 4);
  t.priceExponent = dv.getInt8(off + 5);
  t.sequence = readU64(dv, off + 8);
  t.eventTimeLo = dv.getUint32(off + 16, true);
  t.eventTimeHi = dv.getUint32(off + 20, true);
  t.bid = readI64(dv, off + 24);
  t.ask = readI64(dv, off + 32);
  t.last = readI64(dv, off + 40);
  t.bidSize = dv.getUint32(off + 48, true);
  t.askSize = dv.getUint32(off + 52, true);
  t.lastSize = dv.getUint32(off + 56, true);
  t.conflatedCount = dv.getUint32(off + 60, true);
  return t;
}

/**
 * Thrown by decodeMessage for bytes that are not a v1 tick batch. `code` is
 * the name the delta decoder uses for the same fault (docs/PROTOCOL.md,
 * "Decoder errors"); `fatal` is set by a StreamDecoder that dropped its
 * delta state for it (the connection must be replaced).
 */
export class TickerWireError extends Error {
  constructor(message, code = 'bad_message') { super(message); this.code = code; this.fatal = false; }
}
function rawErrorCode(dv) {
  if (dv.byteLength < WIRE.HEADER_SIZE) return 'truncated_header';
  if (dv.getUint8(0) !== WIRE.VERSION) return 'unsupported_version';
  if (dv.getUint8(1) !== WIRE.TYPE_TICK_BATCH) return 'unknown_message_type';
  if (dv.getUint16(4, true) < WIRE.MIN_RECORD_SIZE) return 'bad_record_size';
  return dv.byteLength > WIRE.HEADER_SIZE + dv.getUint16(2, true) * dv.getUint16(4, true) ? 'trailing_bytes' : 'truncated';
}

/**
 * One binary message (an ArrayBuffer or a view of one, e.g. a Node Buffer)
 * to {sendTimeNs (BigInt), sendTimeMs, ticks: Tick[]}. Throws TickerWireError.
 */
export function decodeMessage(data) {
  const dv = ArrayBuffer.isView(data) ? new DataView(data.buffer, data.byteOffset, data.byteLength) : new DataView(data);
  const h = readHeader(dv);
  if (typeof h === 'string') throw new TickerWireError(h, rawErrorCode(dv));
  const ticks = new Array(h.count);
  for (let i = 0, off = WIRE.HEADER_SIZE; i < h.count; i++, off += h.size) ticks[i] = readRecord(dv, off, new Tick());
  return { sendTimeNs: hiLoToBigInt(h.sendHi, h.sendLo), sendTimeMs: nsHiLoToMs(h.sendHi, h.sendLo), ticks };
}

/**
 * What a connection holds to read binary messages of either encoding: raw
 * (type 1) messages decode on their own, delta (type 2) ones against the
 * per-symbol state kept here. One per connection; `reset()` on every new
 * one, with the encoding its `welcome` named. `decode` returns what
 * decodeMessage does plus `encoding`. It throws a DeltaError or a
 * TickerWireError, each with a stable `code`; when `fatal` is true the
 * delta state is gone and the connection must be replaced (reconnect and
 * resume): always for a delta message, and for any undecodable message on
 * a delta connection, since it may have been a delta whose loss would make
 * the next delta of its symbol wrong.
 */
export class StreamDecoder {
  constructor(encoding = 'delta') { this.encoding = encoding; this.delta = new DeltaDecoder(() => new Tick()); }
  reset(encoding = this.encoding) { this.encoding = encoding; this.delta.reset(); }
  decode(data) {
    const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    if (bytes.length > 1 && bytes[1] === DELTA.MESSAGE_TYPE) {
      const m = this.delta.decode(bytes);
      return { sendTimeNs: hiLoToBigInt(m.sendHi, m.sendLo), sendTimeMs: nsHiLoToMs(m.sendHi, m.sendLo), ticks: m.ticks, encoding: 'delta' };
    }
    try {
      const m = decodeMessage(data);
      m.encoding = 'raw';
      return m;
    } catch (e) {
      if (this.encoding === 'delta' || this.delta.references.size > 0) { this.delta.reset(); e.fatal = true; }
      throw e;
    }
  }
}

/**
 * The sequence rule per symbol. `prev` is the last sequence seen, or null
 * (no baseline yet). Returns 'baseline' (a snapshot, or the first record),
 * 'ok' (prev + 1 + conflatedCount), or 'gap'.
 */
export function classifySequence(prev, seq, flags, conflatedCount) {
  if ((flags & WIRE.FLAG_SNAPSHOT) !== 0 || prev === null) return 'baseline';
  return seq === prev + 1 + conflatedCount ? 'ok' : 'gap';
}

// ============================================================== reconnect policy
/**
 * Exponential back-off with jitter, the rules of the Swift client's
 * `Backoff`: attempt n waits a delay drawn from [base x (1 - jitter), base],
 * base = initialMs x multiplier^n capped at maxMs. Jitter keeps the clients
 * of a restarted server from all coming back in the same millisecond.
 */
export class Backoff {
  constructor({ initialMs = 100, maxMs = 10000, multiplier = 2, jitter = 0.5 } = {}) {
    for (const [name, v] of Object.entries({ initialMs, maxMs, multiplier, jitter })) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`backoff.${name} must be a finite number >= 0, got ${v}`);
    }
    this.initialMs = initialMs;
    this.maxMs = Math.max(initialMs, maxMs);
    this.multiplier = Math.max(1, multiplier);
    this.jitter = Math.min(1, jitter);
  }
  /** The ceiling of attempt `attempt`'s delay, before jitter. */
  baseMs(attempt) {
    let base = this.initialMs;
    for (let i = 0; i < attempt; i++) {
      base *= this.multiplier;
      if (base >= this.maxMs) return this.maxMs;
    }
    return Math.min(this.maxMs, base);
  }
  /** The delay of `attempt` for a uniform draw `unit` in [0, 1). */
  delayMs(attempt, unit) {
    return Math.round(this.baseMs(attempt) * (1 - this.jitter * Math.min(Math.max(unit, 0), 1)));
  }
}

/**
 * Which URL to try next and after how long (the Swift `ReconnectSchedule`):
 * a failed attempt moves to the next URL and backs off by the failures in a
 * row; a session that was up (subscribed) and is lost retries the same URL
 * after the first, shortest delay.
 */
export class ReconnectSchedule {
  constructor(urls, backoff, random = Math.random) {
    this.urls = urls; this.backoff = backoff; this.random = random;
    this.current = 0; this.failures = 0;
  }
  get currentURL() { return this.urls[this.current]; }
  sessionLost() { this.failures = 0; return this.backoff.delayMs(0, this.random()); }
  attemptFailed() {
    this.failures++;
    this.current = (this.current + 1) % this.urls.length;
    return this.backoff.delayMs(this.failures - 1, this.random());
  }
  sessionEstablished() { this.failures = 0; }
}

// ============================================================== resume bookkeeping
// Subscribe requests carry at most this many symbols, which keeps them far
// below the 10,000 symbols and 64 KiB a request may have (docs/PROTOCOL.md).
const SYMBOLS_PER_REQUEST = 500;

/**
 * What the caller wants and where each symbol stands, across connections
 * (the Swift `ResumeBook`). Each symbol keeps the last sequence seen and the
 * `welcome.epoch` of the connection it was seen on, so a resume never sends
 * one server's sequences under another server's epoch, even when a
 * connection is lost between the replies to a resubscription sent in
 * several requests. It keeps each symbol's interval too (`interval_ms`,
 * docs/PROTOCOL.md "Throttled subscriptions"), so a reconnect asks for the
 * same throttle. Pure: no socket, no clock.
 */
export class ResumeBook {
  constructor(symbols = [], from = {}, epoch = null, intervalMs = 0) {
    this.intervals = new Map();         // name (or '*') -> interval in ms (0: every tick), as last asked
    this.wanted = [];                   // names in the order first asked; may hold '*'
    this.symbols = new Map();           // name -> {name, seq, epoch, id}: seq null = no baseline yet
    this.byId = [];                     // wire id -> symbol state, learned per connection
    this.names = [];                    // wire id -> name, per connection (labels every record)
    this.epoch = null;                  // this connection's welcome.epoch
    this.add(symbols);
    this.noteInterval(intervalMs, symbols);
    for (const [name, seq] of Object.entries(from)) {
      const s = this.#state(name);
      s.seq = seq;
      s.epoch = epoch;
    }
  }
  #state(name) {
    let s = this.symbols.get(name);
    if (!s) { s = { name, seq: null, epoch: null, id: -1 }; this.symbols.set(name, s); }
    return s;
  }
  get all() { return this.wanted.includes('*'); }
  /** The interval `name` is held at (0: every tick). */
  intervalOf(name) { return this.intervals.get(name) ?? (this.all ? this.intervals.get('*') ?? 0 : 0); }
  /** The server's rule: a subscribe sets the interval of what it names, and '*' that of everything held. */
  noteInterval(ms, names) {
    if (names.includes('*')) for (const n of this.intervals.keys()) this.intervals.set(n, ms);
    for (const n of names) this.intervals.set(n, ms);
  }
  /** The resume points to save: {from: {name: seq}, epoch} (epoch null when they span several). */
  get position() {
    const from = {}, epochs = new Set();
    for (const s of this.symbols.values()) if (s.seq !== null) { from[s.name] = s.seq; epochs.add(s.epoch); }
    return { from, epoch: epochs.size === 1 ? [...epochs][0] : null };
  }

  /** A new connection was welcomed: ids are per server, relearned from its replies. */
  connectionOpened(epoch) { this.byId = []; this.names = []; this.epoch = epoch; }

  /** Adds names to what is wanted; returns those not wanted before (none when '*' covers them). */
  add(names) {
    const fresh = [];
    for (const n of names) {
      if (this.wanted.includes(n) || (this.all && n !== '*') || fresh.includes(n)) continue;
      fresh.push(n);
      this.wanted.push(n);
      if (n !== '*') this.#state(n);
    }
    return fresh;
  }
  /** Removes names ('*': everything) and their positions; returns what the server should drop. */
  remove(names) {
    if (names.includes('*')) {
      const gone = this.wanted.slice();
      this.forget([...this.wanted, ...this.symbols.keys()]);
      return gone;
    }
    const gone = names.filter((n) => this.all || this.wanted.includes(n));
    this.forget(names);
    return gone;
  }
  /** Removes exactly these names ('*' only as the literal wildcard) from what is wanted, with their positions. */
  forget(names) {
    this.wanted = this.wanted.filter((n) => !names.includes(n));
    for (const n of names) {
      this.intervals.delete(n);
      const s = this.symbols.get(n);
      if (!s) continue;
      if (this.byId[s.id] === s) this.byId[s.id] = undefined;
      this.symbols.delete(n);
    }
  }

  /**
   * The subscribe requests for `names`: symbols without a position plainly,
   * the others with `from`, one request per epoch their positions belong to
   * and per interval (`intervalMs`), at most SYMBOLS_PER_REQUEST symbols
   * each. A wildcard is one request, at the interval of '*'; a position of
   * another epoch than the one it carries cannot ride on it, so that symbol
   * gets the wildcard's snapshot and is reported reset when the reply comes
   * (`localReset`, never sent). Named symbols held at another interval than
   * '*' follow it (the wildcard sets every interval; they override it),
   * without `from`: their positions went with the wildcard.
   */
  requests(names) {
    const all = names.includes('*');
    const plain = new Map(), groups = new Map();   // ms -> [name]; "epoch ms" -> {epoch, ms, list}
    for (const s of all ? this.symbols.values() : names.map((n) => this.symbols.get(n) ?? { name: n, seq: null })) {
      const ms = all ? 0 : this.intervalOf(s.name);
      if (s.seq === null) {
        if (!all) { if (!plain.has(ms)) plain.set(ms, []); plain.get(ms).push(s.name); }
        continue;
      }
      const key = `${s.epoch} ${ms}`;
      if (!groups.has(key)) groups.set(key, { epoch: s.epoch, ms, list: [] });
      groups.get(key).list.push(s);
    }
    const at = (req, ms) => (ms ? Object.assign(req, { intervalMs: ms }) : req);   // 0 is the default: not sent
    const withFrom = (list, epoch, ms) => {
      const req = { op: 'subscribe', symbols: all ? ['*'] : list.map((s) => s.name), from: {} };
      for (const s of list) req.from[s.name] = s.seq;
      if (epoch !== null) req.epoch = epoch;
      return at(req, ms);
    };
    const chunks = (list, make) => {
      const out = [];
      for (let i = 0; i < list.length; i += SYMBOLS_PER_REQUEST) out.push(make(list.slice(i, i + SYMBOLS_PER_REQUEST)));
      return out;
    };
    if (all) {
      const star = this.intervalOf('*');
      let first = at({ op: 'subscribe', symbols: ['*'] }, star);
      if (groups.size > 0) {
        const [{ epoch, list }, ...others] = [...groups.values()].sort((a, b) => b.list.length - a.list.length);
        first = withFrom(list, epoch, star);
        first.localReset = others.flatMap((g) => g.list.map((s) => s.name));
      }
      const overrides = new Map();
      for (const [n, ms] of this.intervals) {
        if (n === '*' || ms === star) continue;
        if (!overrides.has(ms)) overrides.set(ms, []);
        overrides.get(ms).push(n);
      }
      return [first, ...[...overrides].flatMap(([ms, list]) => chunks(list, (c) => at({ op: 'subscribe', symbols: c }, ms)))];
    }
    const out = [];
    for (const [ms, list] of plain) out.push(...chunks(list, (c) => at({ op: 'subscribe', symbols: c }, ms)));
    for (const { epoch, ms, list } of groups.values()) out.push(...chunks(list, (c) => withFrom(c, epoch, ms)));
    return out;
  }

  /**
   * A `subscribed` reply to `request` (what was sent, or undefined): learns
   * the ids and returns the events, as [type, fields]. A symbol sent with
   * `from` is either resumed (its missed updates follow) or reset (a new
   * baseline follows); a server that ignored `from` (no report) reset them all.
   */
  subscribed(refs, request, reply) {
    for (const ref of refs) {
      this.names[ref.id] = ref.symbol;
      if (!this.all && !this.wanted.includes(ref.symbol)) continue;   // unsubscribed meanwhile
      const s = this.#state(ref.symbol);
      s.id = ref.id;
      this.byId[ref.id] = s;
    }
    const events = [['subscribed', { symbols: refs }]];
    const asked = request && request.from ? Object.keys(request.from) : [];
    const hasReport = Array.isArray(reply.resumed) && Array.isArray(reply.reset);
    const resumed = hasReport ? reply.resumed.filter((n) => asked.includes(n)) : [];
    const reset = (hasReport ? reply.reset.filter((n) => asked.includes(n)) : asked).concat((request && request.localReset) || []);
    if (resumed.length) events.push(['resumed', { symbols: resumed }]);
    for (const name of reset) {
      const s = this.symbols.get(name);
      if (s) { s.seq = null; s.epoch = null; }
      events.push(['reset', { symbol: name }]);
    }
    return events;
  }

  /** One record: labels it, advances its symbol, and returns a gap {symbol, expected, received} or null. */
  observe(t) {
    t.symbol = this.names[t.symbolId] ?? null;
    const s = this.byId[t.symbolId];
    if (s === undefined) return null;
    const prev = s.seq;
    s.seq = t.sequence;
    s.epoch = this.epoch;
    if (classifySequence(prev, t.sequence, t.flags, t.conflatedCount) !== 'gap') return null;
    return { symbol: s.name, expected: prev + 1 + t.conflatedCount, received: t.sequence };
  }
}

// ============================================================== the client
/** Every event of a TickerClient: its type plus the fields listed in docs/CLIENT.md. */
export class TickerEvent extends Event {
  constructor(type, fields) { super(type); Object.assign(this, fields); }
}

const OPEN = 1;                          // WebSocket.OPEN, the same in browsers and in `ws`
const CLOSE_NAMES = {
  1000: 'normal', 1001: 'going away', 1006: 'abnormal', 1008: 'policy', 1009: 'too big', 4001: 'slow consumer',
  4002: 'heartbeat timeout', 4401: 'unauthorized', 4403: 'forbidden', 4429: 'too many connections',
};
// The auth close codes (docs/PROTOCOL.md, "Close codes").
const UNAUTHORIZED = 4401, FORBIDDEN = 4403, TOO_MANY_CONNECTIONS = 4429;

/**
 * Why the client stopped on an auth close: `code` is 4401 (the token is
 * missing, invalid, expired or revoked, and no provider can give another)
 * or 4403 (the token's role may not read the stream). The `closed` event
 * carries it as `error`; the message never contains the token.
 */
export class TickerAuthError extends Error {
  constructor(message, code) { super(message); this.name = 'TickerAuthError'; this.code = code; }
}

/**
 * The URL the socket opens: `url` with `?encoding=` and, when there is one,
 * `?token=` (browsers cannot send Authorization on a WebSocket; Node uses
 * the same path). A server before the delta encoding ignores `encoding`.
 */
function socketURL(url, token, encoding) {
  const u = new URL(url);
  u.searchParams.set('encoding', encoding);
  if (token !== null) u.searchParams.set('token', token);
  return u.href;
}

const ENCODINGS = ['delta', 'raw'];
/** `interval_ms`: 0 (every tick) or 50 to 60,000 (docs/PROTOCOL.md, "Throttled subscriptions"). */
function checkInterval(ms, what) {
  if (!Number.isInteger(ms) || (ms !== 0 && (ms < 50 || ms > 60000))) {
    throw new TypeError(`${what} must be 0 (every tick) or an integer from 50 to 60000 ms, got ${ms}`);
  }
  return ms;
}

function checkToken(token, what) {
  if (typeof token !== 'string' || token.length === 0) {
    throw new TypeError(`${what} must be a non-empty string (a token from the server's operator, e.g. \`ticker token\`), got ${token === '' ? 'an empty string' : typeof token}`);
  }
  return token;
}

function parseURL(text) {
  let url;
  try { url = new URL(String(text)); } catch (_) { url = null; }
  if (url && (url.protocol === 'http:' || url.protocol === 'https:')) url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:') || !url.host) {
    throw new TypeError(`'${text}' is not a ws:// or wss:// URL (e.g. ws://127.0.0.1:8080/v1/stream)`);
  }
  if (url.pathname === '/') url.pathname = '/v1/stream';
  return url.href;
}

function checkSymbols(symbols, what) {
  if (!Array.isArray(symbols)) throw new TypeError(`${what} must be an array of symbol names, e.g. ['AAPL', 'MSFT'] (got ${symbols === undefined ? 'nothing' : typeof symbols})`);
  for (const s of symbols) {
    if (typeof s !== 'string' || s.length === 0 || new TextEncoder().encode(s).length > 32) {
      throw new TypeError(`${what}: ${JSON.stringify(s)} is not a symbol name (a non-empty string of at most 32 bytes)`);
    }
  }
  return symbols;
}

/**
 * A `/v1/stream` client that stays subscribed. Options:
 *   url | urls        ws:// or wss:// URL(s); each failed attempt moves to the next
 *   symbols           names to subscribe ([] to start with none; '*' = all)
 *   from, epoch       resume points from an earlier run ({AAPL: 18233}) and their welcome epoch
 *   WebSocket         the WebSocket class (default globalThis.WebSocket; in Node pass `ws`)
 *   backoff           {initialMs: 100, maxMs: 10000, multiplier: 2, jitter: 0.5}
 *   reconnect         default true; false: the first loss ends the client
 *   failFast          default false; true: a first attempt that fails ends the client
 *   connectTimeoutMs  default 5000: the WebSocket must open within this
 *   idleTimeoutMs     default 2 heartbeats + 5 s of silence = a dead connection
 *   probe             async (url) => boolean, awaited before each reconnect attempt;
 *                     false counts as a failed attempt without opening a WebSocket
 *   token             a token for a server with auth, sent as ?token= on every attempt
 *   tokenProvider     async () => token, asked before every attempt and on token_expiring
 *                     (then sent with {"op":"auth"}); use one of token and tokenProvider
 *   encoding          'delta' (default) or 'raw', asked for with ?encoding=; the client
 *                     decodes whatever the server sends (`encoding`: what welcome said)
 *   intervalMs        interval of `symbols` (0, every tick, or 50-60000; `interval_ms`)
 * Events (TickerEvent): connected {url, reconnect}, subscribed {symbols},
 * unsubscribed {symbols, reason}, resumed {symbols}, reset {symbol}, gap {symbol,
 * expected, received}, ticks {sendTimeNs, sendTimeMs, ticks}, error {code,
 * message, id, symbols, op}, disconnected {reason, code, retryInMs},
 * token_expiring {inMs, refreshing}, authenticated {id, exp},
 * unauthorized {code, reason, message}, pong {roundTripMs, sentAtMs,
 * receivedAtMs, serverTimeMs}, closed {error}. A binary message that does
 * not decode on a delta connection is an `error` with the decoder's code and
 * `decoding: 'delta'`, then a reconnect that resumes (its records are never
 * handed out: the ones before it were right, the ones after could not be).
 */
export class TickerClient extends EventTarget {
  #urls; #WS; #reconnect; #failFast; #connectTimeoutMs; #idleTimeoutMs; #probe;
  #token = null; #tokenProvider = null; #refreshing = false;
  #schedule; #book; #ws = null; #timer = 0; #keepalive = 0;
  #state = 'connecting'; #welcomed = false; #established = false; #sessions = 0;
  #nextId = 0; #pending = new Map(); #lastHeard = 0; #notBefore = 0; #lastError = '';
  #encoding; #decoder; #decodeFailures = 0;

  constructor(options = {}) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('TickerClient needs an options object: { url, symbols }');
    const urls = options.urls ?? (options.url !== undefined ? [options.url] : []);
    if (!Array.isArray(urls) || urls.length === 0) throw new TypeError('TickerClient needs a url (or urls), e.g. ws://127.0.0.1:8080/v1/stream');
    this.#urls = urls.map(parseURL);
    if (options.symbols === undefined) throw new TypeError("TickerClient needs symbols, e.g. ['AAPL', 'MSFT'] ([] to subscribe later)");
    const symbols = checkSymbols(options.symbols, 'symbols');
    const from = options.from ?? {};
    for (const [name, seq] of Object.entries(from)) {
      if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError(`from.${name} must be an integer sequence >= 0, got ${seq}`);
    }
    this.#WS = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.#WS !== 'function') {
      throw new TypeError("no WebSocket class: pass { WebSocket } (in Node: import WebSocket from 'ws')");
    }
    if (options.epoch !== undefined && options.epoch !== null && !Number.isSafeInteger(options.epoch)) {
      throw new TypeError(`epoch must be the integer welcome.epoch the from positions were read under, got ${options.epoch}`);
    }
    this.#reconnect = options.reconnect ?? true;
    this.#failFast = options.failFast ?? false;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? null;
    this.#probe = options.probe ?? null;
    if (options.token !== undefined && options.token !== null) this.#token = checkToken(options.token, 'token');
    if (options.tokenProvider !== undefined && options.tokenProvider !== null) {
      if (typeof options.tokenProvider !== 'function') {
        throw new TypeError(`tokenProvider must be a function returning a token (or a promise of one), got ${typeof options.tokenProvider}`);
      }
      if (this.#token !== null) throw new TypeError('pass token or tokenProvider, not both (a provider is asked before every attempt)');
      this.#tokenProvider = options.tokenProvider;
    }
    this.#encoding = options.encoding ?? 'delta';
    if (!ENCODINGS.includes(this.#encoding)) throw new TypeError(`encoding must be 'delta' or 'raw', got ${options.encoding}`);
    this.#decoder = new StreamDecoder(this.#encoding);
    const intervalMs = checkInterval(options.intervalMs ?? 0, 'intervalMs');
    this.#schedule = new ReconnectSchedule(this.#urls, new Backoff(options.backoff));
    this.#book = new ResumeBook(symbols, from, options.epoch ?? null, intervalMs);
    /** The last `welcome` (limits, heartbeat_ms, epoch), or null before the first. */
    this.welcome = null;
    /** Round trip of the last keep-alive ping, in ms (null before the first pong). */
    this.roundTripMs = null;
    /** Bytes of every message received (binary: byteLength; text: its length), all connections. */
    this.bytesReceived = 0;
    // Like `new WebSocket(url)`: connecting starts now, events come later,
    // so listeners added right after the constructor miss nothing.
    queueMicrotask(() => this.#connect());
  }

  /** 'connecting', 'open' (welcomed), 'waiting' (to reconnect) or 'closed'. */
  get state() { return this.#state; }
  /** The URL of the current (or next) attempt. */
  get url() { return this.#schedule.currentURL; }
  /** What is subscribed (or will be, once connected), in the order asked. */
  get symbols() { return this.#book.wanted.slice(); }
  /** Resume points to save for a later run: {from, epoch}, both options of the constructor. */
  get position() { return this.#book.position; }
  /** The encoding of this connection's binary messages as `welcome` said ('raw' from a server that says none); null before it. */
  get encoding() { return this.welcome ? (this.welcome.encoding === 'delta' ? 'delta' : 'raw') : null; }
  /** The interval `name` is held at (0: every tick). */
  intervalOf(name) { return this.#book.intervalOf(name); }

  /**
   * Adds symbols at `intervalMs` (0: every tick); kept across reconnects,
   * with their interval. A symbol already held at another interval changes
   * to this one (the server's rule), without a new snapshot.
   */
  subscribe(symbols, { intervalMs = 0 } = {}) {
    const names = checkSymbols(symbols, 'subscribe()');
    checkInterval(intervalMs, 'subscribe() intervalMs');
    const held = names.filter((n) => this.#book.wanted.includes(n) || (this.#book.all && n !== '*'));
    const changed = held.filter((n) => this.#book.intervalOf(n) !== intervalMs);
    const fresh = this.#book.add(names);
    this.#book.noteInterval(intervalMs, [...fresh, ...changed]);
    if (!this.#welcomed) return;
    for (const req of this.#book.requests(fresh)) this.#send(req);
    for (let i = 0; i < changed.length; i += SYMBOLS_PER_REQUEST) {
      this.#send({ op: 'subscribe', symbols: changed.slice(i, i + SYMBOLS_PER_REQUEST), intervalMs });
    }
  }

  /** Sends the protocol's JSON ping now (the keep-alive sends one per heartbeat); its answer is a `pong` event. */
  ping() { if (this.#welcomed) this.#send({ op: 'ping' }); }

  /** Removes symbols ('*' = all); their records stop once the server has answered. */
  unsubscribe(symbols) {
    const gone = this.#book.remove(checkSymbols(symbols, 'unsubscribe()'));
    if (this.#welcomed && gone.length) {
      for (let i = 0; i < gone.length; i += SYMBOLS_PER_REQUEST) this.#send({ op: 'unsubscribe', symbols: gone.slice(i, i + SYMBOLS_PER_REQUEST) });
    }
  }

  /** Closes the connection (close 1000) and ends the client: `closed` is the last event. */
  close() {
    if (this.#state === 'closed') return;
    this.#drop(1000, 'client closed');
    this.#finish(null);
  }

  /**
   * Fault injection for tests and demos: drops the connection now and stays
   * away at least `pauseMs`; then reconnects and resumes as after any loss.
   */
  dropConnection(pauseMs = 0) {
    if (this.#state !== 'open') return;
    this.#notBefore = performance.now() + pauseMs;
    this.#lost(`dropped by the client for ${pauseMs} ms`, null);
  }

  // ------------------------------------------------------------ connection life
  /** Dispatches one event; after close() (even from a listener) only `closed` goes out. */
  #emit(type, fields) {
    if (this.#state === 'closed' && type !== 'closed') return;
    this.dispatchEvent(new TickerEvent(type, fields));
  }

  async #connect() {
    if (this.#state === 'closed') return;
    this.#state = 'connecting';
    const url = this.#schedule.currentURL;
    if (this.#probe && this.#sessions + this.#schedule.failures > 0) {
      let ok = false;
      try { ok = await this.#probe(url); } catch (_) { ok = false; }
      if (this.#state === 'closed') return;
      if (!ok) { this.#failed(`${url} is not answering (probe failed)`, null); return; }
    }
    let token = this.#token;
    if (this.#tokenProvider) {
      try {
        token = checkToken(await this.#fetchToken(), 'the token provider\'s answer');
      } catch (e) {
        if (this.#state === 'closed') return;
        this.#failed(`the token provider failed: ${e.message}`, null);
        return;
      }
      if (this.#state === 'closed') return;
    }
    let ws;
    try {
      // Only the socket sees the token: `url` (events, errors, `client.url`) never carries it.
      ws = new this.#WS(socketURL(url, token, this.#encoding));
      ws.binaryType = 'arraybuffer';
    } catch (e) {
      this.#failed(`cannot open ${url}: ${e.message}`, null);
      return;
    }
    this.#ws = ws;
    this.#decoder.reset(this.#encoding);   // per-symbol delta state never outlives its connection
    this.#welcomed = false;
    this.#established = false;
    this.#lastError = '';
    let opened = false;
    this.#timer = setTimeout(() => { if (ws === this.#ws) this.#failed(`timed out connecting to ${url}`, null); }, this.#connectTimeoutMs);
    ws.onopen = () => {
      if (ws !== this.#ws) return;
      opened = true;
      clearTimeout(this.#timer);
      this.#lastHeard = performance.now();
    };
    // Node's `ws` says why (e.g. "connect ECONNREFUSED ..."); browsers never do.
    ws.onerror = (e) => { if (ws === this.#ws && e && e.message) this.#lastError = e.message; };
    ws.onclose = (e) => {
      if (ws !== this.#ws) return;
      const code = e.code;
      if (code === UNAUTHORIZED || code === FORBIDDEN || code === TOO_MANY_CONNECTIONS) {
        this.#closedForAuth(code, e.reason || '');
        return;
      }
      if (!opened) {
        const why = this.#lastError || `the WebSocket failed (close code ${code}: refused, unreachable, `
          + "or the upgrade was refused, e.g. this page's origin is not in the server's --allow-origin)";
        this.#failed(`cannot connect to ${url}: ${why}`, code);
        return;
      }
      const named = CLOSE_NAMES[code] ? ` ${CLOSE_NAMES[code]}` : '';
      this.#lost(`the server closed the connection (code ${code}${named}${e.reason ? ': ' + e.reason : ''})`, code);
    };
    ws.onmessage = (e) => {
      if (ws !== this.#ws) return;
      this.#lastHeard = performance.now();
      if (typeof e.data === 'string') {
        this.bytesReceived += e.data.length;
        this.#onControl(e.data);
      } else {
        this.bytesReceived += e.data.byteLength;
        this.#onTicks(e.data);
      }
    };
  }

  /**
   * The provider's token, or a rejection after connectTimeoutMs: an attempt
   * never waits forever for a login service.
   */
  #fetchToken() {
    let timer = 0;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no token within ${this.#connectTimeoutMs} ms`)), this.#connectTimeoutMs);
    });
    return Promise.race([Promise.resolve().then(() => this.#tokenProvider()), late]).finally(() => clearTimeout(timer));
  }

  /**
   * The server closed with an auth code (the Swift client's rules). 4429:
   * the subject holds its max_conns already, a failed attempt retried after
   * back-off. 4401 with a provider: the next attempt asks for a fresh token,
   * as after any loss. 4401 with a fixed token (or none) and 4403: the same
   * token cannot succeed, so the client stops (`unauthorized`, then
   * `closed` with a TickerAuthError) instead of reconnecting in a loop.
   */
  #closedForAuth(code, serverReason) {
    const said = serverReason ? ` (${serverReason})` : '';
    if (code === TOO_MANY_CONNECTIONS) {
      this.#established = false;
      this.#failed(`the server closed the connection with 4429: too many connections for this token's subject${said}`, code);
      return;
    }
    if (code === UNAUTHORIZED && this.#tokenProvider) {
      this.#lost(`the server closed the connection with 4401: the token is invalid or expired${said}; asking the provider for a new one`, code);
      return;
    }
    const message = code === FORBIDDEN
      ? `the server closed the connection with 4403: the token's role may not read the stream${said}`
      : `the server closed the connection with 4401: the token is ${this.#token === null ? `missing${said}; get one` : `invalid, expired or revoked${said}; get a new one`}`;
    this.#drop(1000, 'client stops');
    this.#emit('unauthorized', { code, reason: serverReason, message });
    if (this.#sessions > 0) this.#emit('disconnected', { reason: message, code, retryInMs: null });
    this.#finish(new TickerAuthError(message, code));
  }

  /** Detaches and closes the socket and stops its timers; events of the old socket are ignored from here. */
  #drop(code, reason) {
    clearTimeout(this.#timer); this.#timer = 0;
    clearInterval(this.#keepalive); this.#keepalive = 0;
    const ws = this.#ws;
    this.#ws = null;
    this.#welcomed = false;
    this.#pending.clear();
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Not null: Node's `ws` throws an 'error' nobody listens to (closing a
    // socket that is still connecting reports one).
    ws.onerror = () => {};
    try { ws.close(code, reason); } catch (_) { /* already closing */ }
  }

  /** A session that was up ended: retry the same URL soon. */
  #lost(reason, code) {
    if (!this.#established) { this.#failed(reason, code); return; }
    this.#established = false;
    this.#drop(4000, 'client reconnects');
    this.#next(reason, code, this.#reconnect ? this.#schedule.sessionLost() : null);
  }

  /** An attempt that never got as far as a subscription: the next URL, later each time. */
  #failed(reason, code) {
    this.#drop(4000, 'client gives up this attempt');
    const retry = this.#reconnect && !(this.#failFast && this.#sessions === 0);
    this.#next(reason, code, retry ? this.#schedule.attemptFailed() : null);
  }

  #next(reason, code, delayMs) {
    if (delayMs === null) {
      if (this.#sessions > 0) this.#emit('disconnected', { reason, code, retryInMs: null });
      const url = this.#schedule.currentURL;
      this.#finish(this.#sessions > 0 ? null : new Error(reason.includes(url) ? reason : `cannot connect to ${url}: ${reason}`));
      return;
    }
    const due = Math.max(delayMs, Math.ceil(this.#notBefore - performance.now()));
    this.#state = 'waiting';
    this.#timer = setTimeout(() => this.#connect(), due);
    this.#emit('disconnected', { reason, code, retryInMs: due });
  }

  /**
   * A message the delta decoder refused: its state is gone, so the
   * connection is replaced and every symbol resumes from the last record
   * handed out. Repeated refusals back off like failed attempts.
   */
  #decodeFailed(e) {
    this.#emit('error', { code: e.code, message: 'undecodable binary message: ' + e.message, id: null, symbols: undefined, op: null, decoding: 'delta' });
    if (this.#state === 'closed') return;
    const reason = `a binary message did not decode (${e.code}); reconnecting to resume`;
    if (!this.#established) { this.#failed(reason, null); return; }
    this.#established = false;
    this.#drop(4000, 'client reconnects: undecodable message');
    const n = this.#decodeFailures++;
    const delay = !this.#reconnect ? null
      : n === 0 ? this.#schedule.sessionLost() : this.#schedule.backoff.delayMs(n, this.#schedule.random());
    this.#next(reason, null, delay);
  }

  #finish(error) {
    clearTimeout(this.#timer); this.#timer = 0;
    this.#state = 'closed';
    this.#emit('closed', { error });
  }

  // ------------------------------------------------------------ control messages
  /** Sends {op, symbols?, from?, epoch?} with the next id, remembered until its answer. */
  #send(req) {
    if (!this.#ws || this.#ws.readyState !== OPEN) return;
    const msg = { op: req.op, id: ++this.#nextId };
    if (req.symbols) msg.symbols = req.symbols;
    if (req.from) msg.from = req.from;
    if (req.epoch !== undefined) msg.epoch = req.epoch;
    if (req.token !== undefined) msg.token = req.token;
    if (req.intervalMs) msg.interval_ms = req.intervalMs;
    if (this.#pending.size >= 1024) this.#pending.delete(this.#pending.keys().next().value);
    this.#pending.set(msg.id, { ...req, token: undefined, sentAt: performance.now() });
    this.#ws.send(JSON.stringify(msg));
  }

  #onControl(text) {
    let msg;
    try { msg = JSON.parse(text); } catch (_) { return; }
    if (!msg || typeof msg !== 'object') return;
    const req = typeof msg.id === 'number' ? this.#pending.get(msg.id) : undefined;
    if (req) this.#pending.delete(msg.id);
    switch (msg.type) {
      case 'welcome': this.#onWelcome(msg); break;
      case 'subscribed':
        this.#subscribeAnswered();
        for (const [type, fields] of this.#book.subscribed(msg.symbols || [], req, msg)) this.#emit(type, fields);
        break;
      case 'unsubscribed': this.#onUnsubscribed(msg); break;
      case 'pong': this.#onPong(msg, req); break;
      case 'error': this.#onError(msg, req); break;
      case 'token_expiring': this.#onTokenExpiring(msg); break;
      case 'authenticated': this.#emit('authenticated', { id: msg.id ?? null, exp: typeof msg.exp === 'number' ? msg.exp : null }); break;
      default: break;             // unknown types are ignored (forward compatible)
    }
  }

  /**
   * The answer to a JSON ping: its round trip, and the server clock
   * (`time_ns`) with the local send and receive times, for an NTP-style
   * clock offset (the dashboard's latency figure uses it).
   */
  #onPong(msg, req) {
    if (!req) return;
    const now = performance.now();
    this.roundTripMs = now - req.sentAt;
    if (typeof msg.time_ns !== 'number') return;
    this.#emit('pong', {
      roundTripMs: this.roundTripMs, sentAtMs: performance.timeOrigin + req.sentAt,
      receivedAtMs: performance.timeOrigin + now, serverTimeMs: msg.time_ns / 1e6,
    });
  }

  #onWelcome(msg) {
    this.welcome = msg;
    this.#decoder.reset(msg.encoding === 'delta' ? 'delta' : 'raw');
    this.#welcomed = true;
    this.#state = 'open';
    this.#book.connectionOpened(typeof msg.epoch === 'number' ? msg.epoch : null);
    this.#emit('connected', { url: this.#schedule.currentURL, reconnect: this.#sessions > 0 });
    this.#sessions++;
    const requests = this.#book.requests(this.#book.wanted);
    if (requests.length === 0) this.#subscribeAnswered();
    for (const req of requests) this.#send(req);
    this.#startKeepalive(typeof msg.heartbeat_ms === 'number' && msg.heartbeat_ms > 0 ? msg.heartbeat_ms : 15000);
  }

  /**
   * The answer to an `unsubscribe`, or the server ending subscriptions on
   * its own (`reason` `entitlement`: a refreshed token no longer allows
   * them). Those are dropped from what the client wants, so no reconnect
   * asks for them again.
   */
  #onUnsubscribed(msg) {
    const symbols = Array.isArray(msg.symbols) ? msg.symbols : [];
    const reason = typeof msg.reason === 'string' ? msg.reason : null;
    if (reason !== null) this.#book.forget(symbols.map((r) => r.symbol));
    this.#emit('unsubscribed', { symbols, reason });
  }

  /**
   * `token_expiring`: with a provider, a fresh token is sent with `auth` on
   * this connection (the answer is `authenticated`, or an `error` with
   * `forbidden` / `invalid_token`, and the server closes with 4401 at the old
   * token's `exp`, after which the next attempt asks the provider again).
   * A fixed token has no successor: the event says so (`refreshing` false).
   */
  #onTokenExpiring(msg) {
    const refreshing = this.#tokenProvider !== null;
    this.#emit('token_expiring', { inMs: typeof msg.in_ms === 'number' ? msg.in_ms : null, refreshing });
    if (!refreshing || this.#refreshing) return;
    this.#refreshing = true;
    const ws = this.#ws;
    this.#fetchToken().then((token) => {
      this.#refreshing = false;
      if (ws !== this.#ws || !this.#welcomed) return;   // that connection is gone; the next attempt asks again
      this.#send({ op: 'auth', token: checkToken(token, 'the token provider\'s answer') });
    }).catch((e) => {
      this.#refreshing = false;
      if (ws !== this.#ws) return;
      this.#emit('error', { code: 'token_provider', message: `the token provider failed: ${e.message}`, id: null, symbols: undefined, op: 'auth' });
    });
  }

  /** The server answered a subscribe: the session is up, and losing it now is not a failed attempt. */
  #subscribeAnswered() {
    if (this.#established) return;
    this.#established = true;
    this.#schedule.sessionEstablished();
  }

  /**
   * A refused request. A subscribe refused for `unknown_symbol` or
   * `forbidden` (outside the token's entitlement) drops those names and
   * asks again for the rest (the server refused the request whole);
   * `rate_limited` is retried a second later; any other refused subscribe
   * drops its names, so what the client wants is what the server holds.
   * Every refusal is reported.
   */
  #onError(msg, req) {
    const symbols = Array.isArray(msg.symbols) ? msg.symbols : undefined;
    this.#emit('error', { code: msg.code, message: msg.message || '', id: msg.id ?? null, symbols, op: req ? req.op : null });
    if (!req || !req.symbols) return;
    if (msg.code === 'rate_limited') { setTimeout(() => this.#retry(req), 1000); return; }
    if (req.op !== 'subscribe') return;
    this.#subscribeAnswered();
    const names = req.symbols.includes('*') ? ['*'] : req.symbols;
    const bad = (msg.code === 'unknown_symbol' || msg.code === 'forbidden') && symbols ? symbols : names;
    this.#book.forget(bad);
    const rest = names.filter((n) => !bad.includes(n) && this.#book.wanted.includes(n));
    if (rest.length) for (const r of this.#book.requests(rest)) this.#send(r);
  }

  /** Sends a rate-limited request again, for the names it still concerns (the server's window is a second). */
  #retry(req) {
    if (!this.#welcomed) return;            // a new connection resubscribes anyway
    const wanted = this.#book.wanted;
    if (req.op === 'subscribe') {
      const again = req.symbols.filter((n) => wanted.includes(n));
      for (const r of this.#book.requests(again)) this.#send(r);
    } else if (req.op === 'unsubscribe') {
      const again = req.symbols.filter((n) => !wanted.includes(n));
      if (again.length) this.#send({ op: 'unsubscribe', symbols: again });
    }
  }

  /**
   * Browsers cannot see WebSocket pings, so liveness is checked with the
   * protocol's JSON ping: one per heartbeat, and a connection silent for
   * two heartbeats plus 5 s (a half-open TCP path never says so) is replaced.
   */
  #startKeepalive(heartbeatMs) {
    clearInterval(this.#keepalive);
    const every = Math.max(1000, Math.min(heartbeatMs, 15000));
    const limit = this.#idleTimeoutMs ?? 2 * heartbeatMs + 5000;
    this.#keepalive = setInterval(() => {
      const silent = performance.now() - this.#lastHeard;
      if (silent > limit) this.#lost(`nothing heard from the server for ${Math.round(silent / 1000)} s`, null);
      else this.#send({ op: 'ping' });
    }, every);
  }

  // ------------------------------------------------------------ market data
  #onTicks(data) {
    let message;
    try { message = this.#decoder.decode(data); } catch (e) {
      if (!e.fatal) {
        this.#emit('error', { code: 'bad_message', message: 'undecodable binary message: ' + e.message, id: null, symbols: undefined, op: null });
        return;
      }
      this.#decodeFailed(e);
      return;
    }
    if (message.encoding === 'delta') this.#decodeFailures = 0;
    for (const t of message.ticks) {
      const gap = this.#book.observe(t);
      if (gap) this.#emit('gap', gap);
    }
    this.#emit('ticks', message);
  }
}

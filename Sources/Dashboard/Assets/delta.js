// delta.js: the decoder of the delta encoding (message type 2,
// docs/PROTOCOL.md "Delta encoding"), imported by ticker-client.js.
//
// A record restates only what changed since the symbol's previous record on
// this connection, so the decoder keeps, per symbol, the last record it
// decoded (its reference). It rejects, never guesses: every malformed
// message throws a DeltaError whose `code` is one of the stable names the
// Swift (`TickDeltaError.code`) and Python (Scripts/decode_stream.py)
// decoders use, and after any error it has forgotten every symbol, so a
// stream that went wrong can never yield a wrong record later: the caller
// reconnects and resumes. A message decodes whole or not at all.
//
// Numbers: the wire's arithmetic is modulo 2^64. Values that are safe
// integers (|v| < 2^53: every sequence and price of a real feed) stay
// Numbers and take the fast path; anything wider is carried as an exact
// BigInt in the reference, so a delta against it is still exact.

export const DELTA = Object.freeze({
  MESSAGE_TYPE: 2,
  /** Symbols kept at most: bounds the memory a hostile stream can claim (as the Swift decoder). */
  MAX_SYMBOLS: 1 << 16,
  KEYFRAME: 0x01, BID: 0x02, SPREAD: 0x04, LAST_OFFSET: 0x08,
  BID_SIZE: 0x10, ASK_SIZE: 0x20, LAST_SIZE: 0x40, EXTENDED: 0x80,
  /** Presence bits a keyframe must leave clear. */
  DELTA_FIELDS: 0x7e,
});

/** Why a delta message was rejected; `code` is stable (docs/PROTOCOL.md, "Decoder errors"). */
export class DeltaError extends Error {
  constructor(code, detail) {
    super(code + ': ' + detail);
    this.name = 'DeltaError';
    this.code = code;
    /** Always: the decoder has forgotten every symbol; reconnect and resume. */
    this.fatal = true;
  }
}

const TWO_32 = 4294967296;
const U32_MAX = 4294967295;
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000];

const big = (v) => (typeof v === 'bigint' ? v : BigInt(v));
/** An exact BigInt back to a Number when that loses nothing. */
const narrow = (b) => (b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b);

/** Signed 64-bit a + b, wrapping. Numbers in, Numbers out while exact. */
function add64(a, b) {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  return narrow(BigInt.asIntN(64, big(a) + big(b)));
}
/** Signed 64-bit a - b, wrapping. */
function sub64(a, b) {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  return narrow(BigInt.asIntN(64, big(a) - big(b)));
}
/** The sequence rule, unsigned 64-bit: prev + 1 + count. */
function nextSequence(prev, count) {
  if (typeof prev === 'number') {
    const r = prev + 1 + count;
    if (Number.isSafeInteger(r)) return r;
  }
  return narrow(BigInt.asUintN(64, big(prev) + 1n + BigInt(count)));
}
/** Zigzag back to signed: (u >>> 1) ^ -(u & 1). */
function unzigzag(u) {
  if (typeof u === 'number') return u % 2 === 1 ? -(u + 1) / 2 : u / 2;
  return narrow((u >> 1n) ^ -(u & 1n));
}
/** A signed 64-bit value (Number or BigInt) as its two's-complement u32 halves. */
function halves(v) {
  if (typeof v === 'number') {
    const hi = Math.floor(v / TWO_32);
    return [((hi % TWO_32) + TWO_32) % TWO_32, v - hi * TWO_32];
  }
  const u = BigInt.asUintN(64, v);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

/** Bounds-checked reads over one message. */
class Reader {
  constructor(bytes, at) { this.bytes = bytes; this.at = at; this.record = 0; this.fresh = 0; }
  byte() {
    if (this.at >= this.bytes.length) throw new DeltaError('truncated', `message ends in record ${this.record}`);
    return this.bytes[this.at++];
  }
  /** LEB128, at most 10 bytes, the tenth at most 1: a Number below 2^49, a BigInt beyond. */
  varint() {
    let value = 0, scale = 1;
    for (let i = 0; i < 7; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    let wide = BigInt(value);
    for (let i = 7; i < 10; i++) {
      const b = this.byte();
      if (i === 9 && b > 1) throw new DeltaError('varint_overflow', `record ${this.record}`);
      wide |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return narrow(wide);
    }
    throw new DeltaError('varint_overflow', `record ${this.record}`);
  }
  u32() {
    const v = this.varint();
    if (typeof v !== 'number' || v > U32_MAX) throw new DeltaError('varint_overflow', `record ${this.record}`);
    return v;
  }
  /** A size: varint n << 3 | k, size = n x 10^k, which must fit a u32. */
  size() {
    const x = this.varint();
    if (typeof x !== 'number') throw new DeltaError('varint_overflow', `record ${this.record}`);
    const k = x % 8, n = (x - k) / 8;
    const v = n * POW10[k];
    if (v > U32_MAX) throw new DeltaError('varint_overflow', `record ${this.record}`);
    return v;
  }
}

/**
 * The receiving side of the delta encoding: one per connection, `reset()`
 * whenever a new connection starts. `newTick()` makes the record objects
 * handed out (ticker-client.js passes its Tick).
 */
export class DeltaDecoder {
  constructor(newTick = () => ({})) {
    this.newTick = newTick;
    /** symbolId -> the last record decoded for it, exact: {sequence, priceExponent, bid, ask, last, sizes}. */
    this.references = new Map();
  }

  reset() { this.references.clear(); }

  /**
   * Decodes one delta message (header included) from a Uint8Array to
   * {sendHi, sendLo, ticks}. Throws DeltaError, after forgetting every symbol.
   */
  decode(bytes) {
    try {
      return this.#decode(bytes);
    } catch (e) {
      this.references.clear();
      if (e instanceof DeltaError) throw e;
      throw new DeltaError('truncated', String(e && e.message));   // not reached: every read is bounds-checked
    }
  }

  #decode(bytes) {
    if (bytes.length < 16) throw new DeltaError('truncated_header', `message of ${bytes.length} bytes`);
    if (bytes[0] !== 1) throw new DeltaError('unsupported_version', `version ${bytes[0]}`);
    if (bytes[1] !== DELTA.MESSAGE_TYPE) throw new DeltaError('unknown_message_type', `type ${bytes[1]}`);
    const count = bytes[2] | (bytes[3] << 8);
    const size = bytes[4] | (bytes[5] << 8);
    if (size !== 0) throw new DeltaError('bad_record_size', `record size ${size}, a delta message declares 0`);
    const sendLo = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
    const sendHi = (bytes[12] | (bytes[13] << 8) | (bytes[14] << 16) | (bytes[15] << 24)) >>> 0;
    const r = new Reader(bytes, 16);
    // Decoded into a scratch map first: a message that fails half-way
    // changes nothing (and the caller drops everything anyway).
    const touched = new Map();
    const ticks = new Array(count);
    for (let i = 0; i < count; i++) {
      r.record = i;
      ticks[i] = this.#record(r, sendHi, sendLo, touched);
    }
    if (r.at !== bytes.length) throw new DeltaError('trailing_bytes', `${bytes.length - r.at} bytes after the last record`);
    for (const [id, ref] of touched) this.references.set(id, ref);
    return { sendHi, sendLo, ticks };
  }

  #record(r, sendHi, sendLo, touched) {
    const symbolId = r.u32();
    const presence = r.byte();
    let flags = 0, conflatedCount = 0;
    if (presence & DELTA.EXTENDED) {
      flags = r.byte();
      conflatedCount = r.u32();
    }
    let ref;
    if (presence & DELTA.KEYFRAME) {
      if (presence & DELTA.DELTA_FIELDS) throw new DeltaError('reserved_bits', `record ${r.record} is a keyframe with delta bits`);
      const sequence = r.varint();
      const e = r.byte();
      const priceExponent = e > 127 ? e - 256 : e;
      const time = unzigzag(r.varint());
      const bid = unzigzag(r.varint());
      const ask = add64(bid, unzigzag(r.varint()));
      const last = add64(bid, unzigzag(r.varint()));
      const bidSize = r.size(), askSize = r.size(), lastSize = r.size();
      if (!touched.has(symbolId) && !this.references.has(symbolId) && this.references.size + r.fresh++ >= DELTA.MAX_SYMBOLS) {
        throw new DeltaError('too_many_symbols', `record ${r.record}`);
      }
      ref = { sequence, priceExponent, time, bid, ask, last, bidSize, askSize, lastSize };
    } else {
      const prev = touched.get(symbolId) ?? this.references.get(symbolId);
      if (prev === undefined) throw new DeltaError('missing_keyframe', `record ${r.record} is a delta for symbol ${symbolId} without a keyframe`);
      const time = unzigzag(r.varint());
      const bid = presence & DELTA.BID ? add64(prev.bid, unzigzag(r.varint())) : prev.bid;
      let spread = sub64(prev.ask, prev.bid);
      if (presence & DELTA.SPREAD) spread = add64(spread, unzigzag(r.varint()));
      let offset = sub64(prev.last, prev.bid);
      if (presence & DELTA.LAST_OFFSET) offset = add64(offset, unzigzag(r.varint()));
      ref = {
        sequence: nextSequence(prev.sequence, conflatedCount), priceExponent: prev.priceExponent, time,
        bid, ask: add64(bid, spread), last: add64(bid, offset),
        bidSize: presence & DELTA.BID_SIZE ? r.size() : prev.bidSize,
        askSize: presence & DELTA.ASK_SIZE ? r.size() : prev.askSize,
        lastSize: presence & DELTA.LAST_SIZE ? r.size() : prev.lastSize,
      };
    }
    touched.set(symbolId, ref);
    return this.#tick(symbolId, flags, conflatedCount, ref, sendHi, sendLo);
  }

  /** The record handed out: eventTimeNs = sendTimeNs - time, modulo 2^64, as u32 halves. */
  #tick(symbolId, flags, conflatedCount, ref, sendHi, sendLo) {
    const t = this.newTick();
    const [dHi, dLo] = halves(ref.time);
    let lo = sendLo - dLo, hi = sendHi - dHi;
    if (lo < 0) { lo += TWO_32; hi -= 1; }
    if (hi < 0) hi += TWO_32;
    t.symbolId = symbolId; t.flags = flags; t.priceExponent = ref.priceExponent;
    t.eventTimeHi = hi; t.eventTimeLo = lo;
    t.bidSize = ref.bidSize; t.askSize = ref.askSize; t.lastSize = ref.lastSize;
    t.conflatedCount = conflatedCount;
    const { sequence, bid, ask, last } = ref;
    if (typeof sequence === 'number' && typeof bid === 'number' && typeof ask === 'number' && typeof last === 'number') {
      t.sequence = sequence; t.bid = bid; t.ask = ask; t.last = last;
    } else {
      // Beyond 2^53: the Numbers are the nearest doubles (as the raw
      // decoder's), and `exact` carries the true values.
      t.sequence = Number(sequence); t.bid = Number(bid); t.ask = Number(ask); t.last = Number(last);
      t.exact = { sequence: big(sequence), bid: big(bid), ask: big(ask), last: big(last) };
    }
    return t;
  }
}

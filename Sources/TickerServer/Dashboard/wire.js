// The dashboard's wire decoder: binary tick batches (docs/PROTOCOL.md) to
// plain numbers. Pure (no DOM, no state), so Tests/browser/decode_golden.mjs
// checks this very file against the golden batch under node.
//
// Wire protocol v1: little-endian, 16-byte header, then recordCount records
// of recordSize bytes (>= 64; extra bytes are skipped).
export const WIRE = Object.freeze({
  HEADER_SIZE: 16, MIN_RECORD_SIZE: 64, VERSION: 1, TYPE_TICK_BATCH: 1,
  FLAG_SNAPSHOT: 1, FLAG_CONFLATED: 2,
});
const TWO_32 = 4294967296;

/** u64 as a Number; exact below 2^53 (sequences, sizes). */
export function readU64(dv, off) { return dv.getUint32(off + 4, true) * TWO_32 + dv.getUint32(off, true); }
/** i64 as a Number; exact below 2^53 in magnitude (price mantissas). */
export function readI64(dv, off) { return dv.getInt32(off + 4, true) * TWO_32 + dv.getUint32(off, true); }
/** ns since the epoch, split in 32-bit halves, to float milliseconds (~0.2 us resolution). */
export function nsHiLoToMs(hi, lo) { return hi * 4294.967296 + lo / 1e6; }

/** Returns {count, size, sendHi, sendLo}, or a string saying why the frame is rejected. */
export function readHeader(dv) {
  if (dv.byteLength < WIRE.HEADER_SIZE) return 'short frame';
  const version = dv.getUint8(0), type = dv.getUint8(1);
  const count = dv.getUint16(2, true), size = dv.getUint16(4, true);
  if (version !== WIRE.VERSION) return 'unknown version ' + version;
  if (type !== WIRE.TYPE_TICK_BATCH) return 'unknown message type ' + type;
  if (size < WIRE.MIN_RECORD_SIZE) return 'record size ' + size + ' < 64';
  if (dv.byteLength !== WIRE.HEADER_SIZE + count * size) return 'length ' + dv.byteLength + ' != 16 + ' + count + ' x ' + size;
  return { count, size, sendHi: dv.getUint32(12, true), sendLo: dv.getUint32(8, true) };
}

/** Decodes the record at byte offset `off` into `r` (reused: no allocation on the hot path). */
export function readRecord(dv, off, r) {
  r.symbolId = dv.getUint32(off, true);
  r.flags = dv.getUint8(off + 4);
  r.exponent = dv.getInt8(off + 5);
  r.seq = readU64(dv, off + 8);
  r.timeLo = dv.getUint32(off + 16, true);
  r.timeHi = dv.getUint32(off + 20, true);
  r.bid = readI64(dv, off + 24);
  r.ask = readI64(dv, off + 32);
  r.last = readI64(dv, off + 40);
  r.bidSize = dv.getUint32(off + 48, true);
  r.askSize = dv.getUint32(off + 52, true);
  r.lastSize = dv.getUint32(off + 56, true);
  r.conflatedCount = dv.getUint32(off + 60, true);
  return r;
}

/** Exact decimal text of mantissa x 10^exponent, with -exponent decimals (integer string maths, no float rounding). */
export function formatPrice(mantissa, exponent) {
  if (exponent >= 0) return String(mantissa * Math.pow(10, exponent));
  const decimals = -exponent;
  let digits = String(Math.abs(mantissa));
  if (digits.length <= decimals) digits = '0'.repeat(decimals - digits.length + 1) + digits;
  const text = digits.slice(0, digits.length - decimals) + '.' + digits.slice(digits.length - decimals);
  return mantissa < 0 ? '-' + text : text;
}

/**
 * Sequence rule per symbol. `prev` is the last sequence seen or null (no baseline).
 * Returns 'baseline' (snapshot, or first record), 'ok', or 'gap'.
 */
export function classifySequence(prev, seq, flags, conflatedCount) {
  if ((flags & WIRE.FLAG_SNAPSHOT) !== 0 || prev === null) return 'baseline';
  return seq === prev + 1 + conflatedCount ? 'ok' : 'gap';
}

// Checks the JavaScript client's wire decoder (Sources/Dashboard/Assets/
// ticker-client.js, the very module the dashboard and other pages import)
// against the golden tick batch written by an independent Python encoder
// (Fixtures/golden/tick_batch.hex).
//
//   node Tests/browser/decode_golden.mjs [path/to/tick_batch.hex]
//
// Exits non-zero on any mismatch.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// ticker-client.js is an ES module named .js with no package.json around it:
// Node 20 recognises its import/export syntax and loads it (and the delta.js
// it imports) as ES modules.
const api = await import(pathToFileURL(join(root, 'Sources/Dashboard/Assets/ticker-client.js')).href);

const fixture = process.argv[2] || join(root, 'Fixtures/golden/tick_batch.hex');
if (!existsSync(fixture)) { console.error('fixture not found: ' + fixture); process.exit(2); }
const hex = readFileSync(fixture, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean).join('');
const bytes = Uint8Array.from(hex.match(/../g).map((h) => parseInt(h, 16)));

let failures = 0;
function eq(what, got, want) {
  const ok = typeof want === 'bigint' ? got === want : Object.is(got, want);
  if (!ok) { failures++; console.log(`FAIL ${what}: got ${String(got)}, want ${String(want)}`); }
}

// Mirrors Fixtures/golden/make_tick_batch.py.
const SEND_TIME_NS = 1717171200123456789n;
const TICKS = [
  [0, 0, -2, 1001n, 1717171200000001000n, 22749, 22751, 22750, 300, 500, 100, 0],
  [1, 1, -2, 77n, 1717171200000002000n, 41518, 41521, 41521, 200, 100, 200, 0],
  [142, 2, -4, 5012n, 1717171200050000000n, 10841, 10842, 10841, 1000000, 2500000, 100000, 3],
  [519, 3, -2, (1n << 40n) + 5n, 1717171200123000000n, 1, 4, 1, 4294967295, 1000, 500, 65536],
];
const PRICE_TEXT = [['227.49', '227.51', '227.50'], ['415.18', '415.21', '415.21'],
  ['1.0841', '1.0842', '1.0841'], ['0.01', '0.04', '0.01']];

const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const h = api.readHeader(dv);
if (typeof h === 'string') { console.log('FAIL header rejected: ' + h); process.exit(1); }
eq('header.count', h.count, TICKS.length);
eq('header.size', h.size, 64);
eq('header.sendTimeNs', (BigInt(h.sendHi) << 32n) | BigInt(h.sendLo), SEND_TIME_NS);
eq('header.sendTimeNs (getBigUint64)', dv.getBigUint64(8, true), SEND_TIME_NS);

TICKS.forEach((t, i) => {
  const off = 16 + i * h.size;
  const r = api.readRecord(dv, off);
  const [sid, flags, exp, seq, ev, bid, ask, last, bs, as, ls, cc] = t;
  eq(`rec${i}.symbolId`, r.symbolId, sid);
  eq(`rec${i}.flags`, r.flags, flags);
  eq(`rec${i}.snapshot`, r.snapshot, (flags & 1) !== 0);
  eq(`rec${i}.conflated`, r.conflated, (flags & 2) !== 0);
  eq(`rec${i}.priceExponent`, r.priceExponent, exp);
  eq(`rec${i}.sequence`, BigInt(r.sequence), seq);
  eq(`rec${i}.sequence (getBigUint64)`, dv.getBigUint64(off + 8, true), seq);
  eq(`rec${i}.eventTimeNs`, r.eventTimeNs, ev);
  eq(`rec${i}.eventTimeNs (halves)`, (BigInt(r.eventTimeHi) << 32n) | BigInt(r.eventTimeLo), ev);
  eq(`rec${i}.eventTimeMs`, Math.abs(r.eventTimeMs - Number(ev / 1000n) / 1000) < 0.001, true);
  eq(`rec${i}.bid`, r.bid, bid);
  eq(`rec${i}.bid (getBigInt64)`, BigInt(r.bid), dv.getBigInt64(off + 24, true));
  eq(`rec${i}.ask`, r.ask, ask);
  eq(`rec${i}.last`, r.last, last);
  eq(`rec${i}.bidSize`, r.bidSize, bs);
  eq(`rec${i}.askSize`, r.askSize, as);
  eq(`rec${i}.lastSize`, r.lastSize, ls);
  eq(`rec${i}.conflatedCount`, r.conflatedCount, cc);
  eq(`rec${i}.bidText`, api.formatPrice(r.bid, r.priceExponent), PRICE_TEXT[i][0]);
  eq(`rec${i}.askText`, api.formatPrice(r.ask, r.priceExponent), PRICE_TEXT[i][1]);
  eq(`rec${i}.lastText`, api.formatPrice(r.last, r.priceExponent), PRICE_TEXT[i][2]);
  eq(`rec${i}.lastPrice`, r.lastPrice, Number(PRICE_TEXT[i][2]));
});

// decodeMessage: the whole batch at once, from an ArrayBuffer and from a view
// (Node's `ws` and Buffers), with the send time as a BigInt.
for (const [what, data] of [['ArrayBuffer', bytes.slice().buffer], ['Uint8Array view', new Uint8Array([0, 0, 0, ...bytes]).subarray(3)]]) {
  const m = api.decodeMessage(data);
  eq(`decodeMessage(${what}).sendTimeNs`, m.sendTimeNs, SEND_TIME_NS);
  eq(`decodeMessage(${what}).ticks`, m.ticks.length, TICKS.length);
  eq(`decodeMessage(${what}).ticks[3].sequence`, BigInt(m.ticks[3].sequence), TICKS[3][3]);
  eq(`decodeMessage(${what}).ticks[2].bidText`, api.formatPrice(m.ticks[2].bid, m.ticks[2].priceExponent), '1.0841');
}
{
  let threw = null;
  try { api.decodeMessage(bytes.slice(0, 20).buffer); } catch (e) { threw = e; }
  eq('decodeMessage(truncated) throws TickerWireError', threw instanceof api.TickerWireError, true);
}

// Forward compatibility: recordSize 80 (16 extra bytes per record) decodes the same.
{
  const n = TICKS.length, big = new Uint8Array(16 + n * 80);
  big.set(bytes.subarray(0, 16));
  new DataView(big.buffer).setUint16(4, 80, true);
  for (let i = 0; i < n; i++) big.set(bytes.subarray(16 + i * 64, 16 + (i + 1) * 64), 16 + i * 80);
  const dv2 = new DataView(big.buffer);
  const h2 = api.readHeader(dv2);
  eq('stride80.size', typeof h2 === 'string' ? h2 : h2.size, 80);
  const r = api.readRecord(dv2, 16 + 3 * 80, {});
  eq('stride80.rec3.symbolId', r.symbolId, 519);
  eq('stride80.rec3.conflatedCount', r.conflatedCount, 65536);
}
// Rejections.
eq('reject truncated', typeof api.readHeader(new DataView(bytes.buffer, 0, bytes.length - 1)), 'string');
{
  const bad = bytes.slice(); bad[0] = 2;
  eq('reject version 2', typeof api.readHeader(new DataView(bad.buffer)), 'string');
  const bad2 = bytes.slice(); bad2[1] = 9;
  eq('reject type 9', typeof api.readHeader(new DataView(bad2.buffer)), 'string');
}
// Price formatting edge cases and the sequence rule.
eq('fmt negative', api.formatPrice(-5, -2), '-0.05');
eq('fmt zero', api.formatPrice(0, -4), '0.0000');
eq('fmt exp0', api.formatPrice(123, 0), '123');
eq('fmt big', api.formatPrice(123456789012, -2), '1234567890.12');
eq('fmt i64 negative', api.readI64(new DataView(new BigInt64Array([-123456789n]).buffer), 0), -123456789);
eq('seq first is baseline', api.classifySequence(null, 500, 0, 0), 'baseline');
eq('seq snapshot is baseline', api.classifySequence(10, 3, 1, 0), 'baseline');
eq('seq snapshot+conflated is baseline', api.classifySequence(10, 3, 3, 7), 'baseline');
eq('seq +1 ok', api.classifySequence(10, 11, 0, 0), 'ok');
eq('seq conflated ok', api.classifySequence(10, 14, 2, 3), 'ok');
eq('seq skip is gap', api.classifySequence(10, 12, 0, 0), 'gap');
eq('seq repeat is gap', api.classifySequence(10, 10, 0, 0), 'gap');
eq('seq conflated wrong count is gap', api.classifySequence(10, 14, 2, 2), 'gap');

if (failures) { console.log(`decode_golden: ${failures} FAILED`); process.exit(1); }
console.log(`decode_golden: PASS (ticker-client.js: ${TICKS.length} golden records, decodeMessage, stride 80, rejections, formatting, sequence rule)`);

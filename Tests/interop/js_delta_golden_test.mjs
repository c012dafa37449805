// The JavaScript client's delta decoder (Sources/Dashboard/Assets/delta.js,
// through ticker-client.js's StreamDecoder, the object the client itself
// decodes with) against every golden fixture in Fixtures/golden/delta
// (written by make_delta.py there, an encoder independent of the server's
// and of this decoder): each NAME.hex decoded in order by one decoder must
// give exactly NAME.json's records, every field, the wide values (2^63 - 1
// prices, event times after the send time) compared as exact BigInts.
// Then bad input on a delta connection: every fixture message cut at every
// length, each byte replaced, a delta without its keyframe, keyframe bits,
// trailing bytes, an over-long varint and a size past u32 must each throw
// (a DeltaError, or a TickerWireError when the type byte no longer says 2)
// with the stable code and `fatal`, never a record, and leave the decoder
// holding nothing.
//
//   node Tests/interop/js_delta_golden_test.mjs [Fixtures/golden/delta]
//
// No server, no network. Prints one line per check; exit 1 when any failed.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checker } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = process.argv[2] || join(root, 'Fixtures/golden/delta');
const api = await import(pathToFileURL(join(root, 'Sources/Dashboard/Assets/ticker-client.js')).href);
const { StreamDecoder, DeltaError, TickerWireError } = api;
const { check, finish } = checker('js-delta-golden');

const hexBytes = (line) => Uint8Array.from(line.match(/../g).map((h) => parseInt(h, 16)));
/** JSON with every integer kept exact: integers become BigInts before parsing can round them. */
const exactJSON = (text) => JSON.parse(text.replace(/([:\[,]\s*)(-?\d+)(?=\s*[,\]}])/g, '$1"#$2"'),
  (_, v) => (typeof v === 'string' && v.startsWith('#') ? BigInt(v.slice(1)) : v));
const FIELDS = ['symbolId', 'flags', 'priceExponent', 'sequence', 'eventTimeNs', 'bid', 'ask', 'last',
  'bidSize', 'askSize', 'lastSize', 'conflatedCount'];
/** A decoded Tick's field as an exact BigInt. */
function exactField(t, f) {
  if (f === 'eventTimeNs') return t.eventTimeNs;
  if (t.exact && f in t.exact) return t.exact[f];
  return BigInt(t[f]);
}

const cases = readFileSync(join(dir, 'cases.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
const files = readdirSync(dir).filter((f) => f.endsWith('.hex')).map((f) => f.slice(0, -4)).sort();
check(files.length === cases.length && cases.every((c) => files.includes(c)),
  `cases.txt names every .hex fixture (${cases.length} cases, ${files.length} .hex files)`);

// ------------------------------------------------------------ goldens
const allMessages = [];            // [case, [Uint8Array]] for the bad-input checks
let records = 0;
for (const name of files) {
  const messages = readFileSync(join(dir, name + '.hex'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean).map(hexBytes);
  const expected = exactJSON(readFileSync(join(dir, name + '.json'), 'utf8'));
  allMessages.push([name, messages]);
  const decoder = new StreamDecoder();
  const diffs = [];
  if (messages.length !== expected.length) diffs.push(`${messages.length} messages, ${expected.length} expected`);
  messages.forEach((bytes, m) => {
    const want = expected[m];
    if (!want) return;
    let got;
    try { got = decoder.decode(bytes); } catch (e) { diffs.push(`message ${m} threw ${e.message}`); return; }
    if (got.encoding !== 'delta') diffs.push(`message ${m} decoded as ${got.encoding}`);
    if (got.sendTimeNs !== want.sendTimeNs) diffs.push(`message ${m} sendTimeNs ${got.sendTimeNs} != ${want.sendTimeNs}`);
    if (got.ticks.length !== want.records.length) diffs.push(`message ${m}: ${got.ticks.length} records, ${want.records.length} expected`);
    want.records.forEach((w, i) => {
      const t = got.ticks[i];
      if (!t) return;
      records++;
      for (const f of FIELDS) {
        const g = exactField(t, f);
        if (g !== w[f]) diffs.push(`message ${m} record ${i} ${f}: ${g} != ${w[f]}`);
      }
      // The Number fields are the exact values whenever those are safe integers.
      for (const f of ['sequence', 'bid', 'ask', 'last']) {
        const safe = w[f] >= -(2n ** 53n) + 1n && w[f] <= 2n ** 53n - 1n;
        if (safe && t[f] !== Number(w[f])) diffs.push(`message ${m} record ${i} ${f} as a Number: ${t[f]}`);
        if (!safe && t.exact === null) diffs.push(`message ${m} record ${i} ${f} is wide but the tick has no exact values`);
      }
    });
  });
  check(diffs.length === 0, `${name}: ${messages.length} message(s), ${expected.reduce((n, e) => n + e.records.length, 0)} record(s) identical to ${name}.json` +
    (diffs.length ? ` — ${diffs.slice(0, 4).join('; ')}` : ''));
}
check(records > 0, `${records} golden records compared, every field`);

// ------------------------------------------------------------ bad input
/** Decodes `prefix` messages, then `bad`: returns the DeltaError code, or a description of what else happened. */
function outcome(prefix, bad) {
  const d = new StreamDecoder('delta');
  for (const m of prefix) d.decode(m);
  try {
    const got = d.decode(bad);
    return { ok: true, ticks: got.ticks.length, decoder: d };
  } catch (e) {
    const stable = (e instanceof DeltaError || e instanceof TickerWireError) && e.fatal && /^[a-z_]+$/.test(e.code);
    return { code: stable ? e.code : `not a fatal error with a stable code: ${e}`, left: d.delta.references.size, decoder: d };
  }
}

// Every message of every fixture cut at every length: truncated_header below
// 16 bytes, else truncated (never a record, never anything but a DeltaError).
{
  const bad = [];
  let cuts = 0;
  for (const [name, messages] of allMessages) {
    messages.forEach((bytes, m) => {
      for (let n = 0; n < bytes.length; n++) {
        cuts++;
        const o = outcome(messages.slice(0, m), bytes.subarray(0, n));
        const want = n < 16 ? 'truncated_header' : 'truncated';
        if (o.code !== want || o.left !== 0) bad.push(`${name}[${m}] cut at ${n}: ${o.code ?? 'decoded'} (${o.left} symbols left)`);
      }
    });
  }
  check(bad.length === 0, `${cuts} truncations of the golden messages each throw truncated(_header) and drop every symbol` +
    (bad.length ? ` — ${bad.slice(0, 3).join('; ')}` : ''));
}

// Every byte of every message replaced by each of a few values: the decoder
// either decodes (a different but well-formed message) or throws a fatal
// error with a stable code; it never throws anything else or loops.
{
  const others = [];
  let tries = 0;
  for (const [, messages] of allMessages) {
    messages.forEach((bytes, m) => {
      for (let i = 0; i < bytes.length; i++) {
        for (const v of [0x00, 0x01, 0x7f, 0x80, 0xff]) {
          const mutated = bytes.slice();
          mutated[i] = v;
          tries++;
          const o = outcome(messages.slice(0, m), mutated);
          if (!o.ok && (!/^[a-z_]+$/.test(o.code) || o.left !== 0)) others.push(`${o.code} (${o.left} left)`);
        }
      }
    });
  }
  check(others.length === 0, `${tries} one-byte mutations: each decodes or throws a DeltaError that drops every symbol` +
    (others.length ? ` — ${others.slice(0, 3).join('; ')}` : ''));
}

const [, keyframeMsgs] = allMessages.find(([n]) => n === 'keyframe');
const [, bidMsgs] = allMessages.find(([n]) => n === 'bid_changed');
const kf = keyframeMsgs[0], delta = bidMsgs[1];
const withByte = (bytes, at, v) => { const b = bytes.slice(); b[at] = v; return b; };
const header = (type, size, count = 1) => { const h = new Uint8Array(16); h[0] = 1; h[1] = type; h[2] = count; h[4] = size; return h; };
const cat = (...parts) => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let at = 0; for (const p of parts) { out.set(p, at); at += p.length; } return out; };
const expectCode = (o, code, what) => check(o.code === code && o.left === 0, `${what}: ${o.code ?? 'decoded ' + o.ticks + ' record(s)'}`);

expectCode(outcome([], delta), 'missing_keyframe', 'a delta as the first message (no keyframe)');
{
  // After an error the decoder has forgotten the keyframe: the next delta is refused too.
  const d = new StreamDecoder();
  d.decode(kf);
  try { d.decode(kf.subarray(0, kf.length - 1)); } catch (_) { /* truncated */ }
  let code = 'decoded';
  try { d.decode(delta); } catch (e) { code = e.code; }
  check(code === 'missing_keyframe', `after an error the state is gone: the next delta is ${code}`);
  d.decode(kf);
  check(d.decode(delta).ticks.length === 1, 'a new keyframe starts again (a reconnect)');
}
{
  // StreamDecoder.reset (every new connection) forgets the references.
  const d = new StreamDecoder();
  d.decode(kf);
  d.reset();
  let code = 'decoded';
  try { d.decode(delta); } catch (e) { code = e.code; }
  check(code === 'missing_keyframe', `reset() forgets every symbol: the next delta is ${code}`);
}
expectCode(outcome([], withByte(kf, 17, kf[17] | 0x02)), 'reserved_bits', 'a keyframe with a delta bit');
expectCode(outcome([], cat(kf, new Uint8Array([0]))), 'trailing_bytes', 'a byte after the last record');
expectCode(outcome([], withByte(kf, 2, 2)), 'truncated', 'recordCount 2 with one record');
expectCode(outcome([], withByte(kf, 0, 2)), 'unsupported_version', 'version 2');
expectCode(outcome([], withByte(kf, 1, 9)), 'unknown_message_type', 'type 9');
expectCode(outcome([], withByte(kf, 4, 64)), 'bad_record_size', 'record size 64 in a delta message');
expectCode(outcome([], cat(header(2, 0), new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02]))),
  'varint_overflow', 'a symbol id varint whose tenth byte is 2');
expectCode(outcome([], cat(header(2, 0), new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x10]))), 'varint_overflow', 'a symbol id past u32');
// keyframe of symbol 0: sequence 1, exponent -2, time 0, prices 0, bidSize varint (2^32 << 3) = past u32.
expectCode(outcome([], cat(header(2, 0), new Uint8Array([0, 1, 1, 0xfe, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0]))),
  'varint_overflow', 'a size past u32');
{
  // The oversized message: 65,535 records declared, the bytes of one.
  const big = withByte(withByte(kf, 2, 0xff), 3, 0xff);
  expectCode(outcome([], big), 'truncated', 'recordCount 65535 with the bytes of one record');
}
{
  // A raw (type 1) message still decodes through the same StreamDecoder.
  const raw = hexBytes(readFileSync(join(root, 'Fixtures/golden/tick_batch.hex'), 'utf8').split('\n').map((l) => l.trim()).join(''));
  const got = new StreamDecoder().decode(raw);
  check(got.encoding === 'raw' && got.ticks.length === 4 && got.ticks[2].priceExponent === -4,
    `a raw v1 batch through the same decoder: ${got.encoding}, ${got.ticks.length} records`);
}
finish();

// The JavaScript client's delta and throttle plumbing
// (Sources/Dashboard/Assets/ticker-client.js) against a scripted server: a
// fake WebSocket class passed as the `WebSocket` option plays the server's
// side message by message, so the faults a real server never makes can be
// made: a truncated delta message, a delta without its keyframe on a new
// connection. Checks: `?encoding=` on the socket URL ('delta' by default),
// `welcome.encoding` honoured (none = an older server = raw), `interval_ms`
// on subscribe and kept across reconnects per symbol, an interval change of
// a held symbol, and a decode error: an `error` event with the decoder's
// code, no record from the bad message, a reconnect that resumes with
// `from`, and per-symbol state that never outlives its connection.
//
//   node Tests/interop/js_client_delta_test.mjs
//
// No server, no network. Prints one line per check; exit 1 when any failed.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checker, until } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { TickerClient } = await import(pathToFileURL(join(root, 'Sources/Dashboard/Assets/ticker-client.js')).href);
const { check, throwsLike, finish } = checker('js-client-delta');
setTimeout(() => { console.log('js-client-delta: FAIL watchdog: not finished within 30 s'); process.exit(1); }, 30_000).unref();

const golden = (name) => readFileSync(join(root, 'Fixtures/golden/delta', name + '.hex'), 'utf8')
  .split('\n').map((l) => l.trim()).filter(Boolean).map((l) => Uint8Array.from(l.match(/../g).map((h) => parseInt(h, 16))));
const [keyframe, delta] = golden('bid_changed');            // symbol 0: keyframe seq 1001, then delta seq 1002
const rawBatch = Uint8Array.from(readFileSync(join(root, 'Fixtures/golden/tick_batch.hex'), 'utf8').replace(/\s/g, '').match(/../g).map((h) => parseInt(h, 16)));

/** The server's side of one connection, driven by the test. */
class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = new URL(url);
    this.sent = [];
    this.readyState = 0;
    this.binaryType = 'blob';
    FakeSocket.all.push(this);
    setTimeout(() => { if (this.readyState === 0) { this.readyState = 1; this.onopen && this.onopen({}); } }, 1);
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; }
  text(obj) { this.onmessage && this.onmessage({ data: JSON.stringify(obj) }); }
  binary(bytes) { this.onmessage && this.onmessage({ data: bytes.slice().buffer }); }
  /** The last subscribe sent, answered like the server: ids, and the resume report when it carried `from`. */
  answerSubscribe(resumed = []) {
    const req = this.sent.filter((m) => m.op === 'subscribe').at(-1);
    const reply = { type: 'subscribed', id: req.id, symbols: req.symbols.map((s) => ({ symbol: s, id: s === 'AAPL' ? 0 : 1 })) };
    if (req.from) { reply.resumed = resumed; reply.reset = Object.keys(req.from).filter((s) => !resumed.includes(s)); }
    this.text(reply);
    return req;
  }
}
const latest = () => FakeSocket.all.at(-1);
const welcome = (extra = {}) => ({ type: 'welcome', protocol: 1, server: 'ticker', heartbeat_ms: 15000, symbols: 520, epoch: 5, ...extra });

throwsLike(() => new TickerClient({ url: 'ws://x/v1/stream', symbols: [], WebSocket: FakeSocket, encoding: 'gzip' }), /encoding must be 'delta' or 'raw'/, 'an unknown encoding');
throwsLike(() => new TickerClient({ url: 'ws://x/v1/stream', symbols: [], WebSocket: FakeSocket, intervalMs: 49 }), /intervalMs must be 0/, 'intervalMs 49');

const events = [];
const client = new TickerClient({ url: 'ws://fake.example/v1/stream', symbols: ['AAPL'], intervalMs: 250, WebSocket: FakeSocket,
  backoff: { initialMs: 5, maxMs: 40 } });
for (const type of ['connected', 'subscribed', 'resumed', 'reset', 'gap', 'error', 'disconnected', 'ticks']) {
  client.addEventListener(type, (e) => events.push({ type, ...Object.fromEntries(Object.keys(e).map((k) => [k, e[k]])) }));
}
throwsLike(() => client.subscribe(['MSFT'], { intervalMs: 60001 }), /intervalMs must be 0/, 'subscribe() with intervalMs 60001');
const ticks = () => events.filter((e) => e.type === 'ticks').flatMap((e) => e.ticks);

try {
  // 1. A delta connection: the URL asks, welcome says so, the subscribe is throttled.
  await until(() => FakeSocket.all.length === 1 && latest().readyState === 1, 2000, 'the first socket');
  const s1 = latest();
  check(s1.url.searchParams.get('encoding') === 'delta', `the socket URL asks for delta: ${s1.url.search}`);
  s1.text(welcome({ encoding: 'delta' }));
  check(client.encoding === 'delta', `client.encoding after welcome: ${client.encoding}`);
  await until(() => s1.sent.some((m) => m.op === 'subscribe'), 1000, 'the subscribe');
  const sub1 = s1.answerSubscribe();
  check(sub1.interval_ms === 250 && sub1.symbols.join() === 'AAPL' && !sub1.from, `subscribe carries interval_ms: ${JSON.stringify(sub1)}`);
  s1.binary(keyframe);
  s1.binary(delta);
  check(ticks().length === 2 && ticks()[0].sequence === 1001 && ticks()[1].sequence === 1002 && ticks()[1].symbol === 'AAPL'
    && ticks()[1].bid === 22750 && ticks()[1].ask === 22752, `keyframe and delta decoded: ${ticks().map((t) => `${t.symbol} ${t.sequence} ${t.bid}/${t.ask}`).join(', ')}`);

  check(client.bytesReceived > keyframe.length + delta.length, `bytesReceived counts text and binary: ${client.bytesReceived}`);
  // ping(): the pong event carries the server clock and the local send and receive times.
  const pongs = [];
  client.addEventListener('pong', (e) => pongs.push(e));
  client.ping();
  const ping = s1.sent.at(-1);
  const serverNs = Math.round((performance.timeOrigin + performance.now()) * 1e6) + 5e9;   // a server clock 5 s ahead
  s1.text({ type: 'pong', id: ping.id, time_ns: serverNs });
  const p = pongs[0];
  const offset = p ? p.serverTimeMs - (p.sentAtMs + p.receivedAtMs) / 2 : NaN;
  check(ping.op === 'ping' && p && p.roundTripMs >= 0 && p.receivedAtMs >= p.sentAtMs && Math.abs(offset - 5000) < 50,
    `ping() and its pong: round trip ${p && p.roundTripMs.toFixed(2)} ms, NTP-style offset ${offset.toFixed(1)} ms (5000 set)`);

  // An interval change of a held symbol: a plain subscribe at the new interval, no `from`.
  client.subscribe(['AAPL'], { intervalMs: 0 });
  const change = s1.sent.at(-1);
  check(change.op === 'subscribe' && change.symbols.join() === 'AAPL' && change.interval_ms === undefined && !change.from && client.intervalOf('AAPL') === 0,
    `AAPL to every tick: ${JSON.stringify(change)}`);
  client.subscribe(['MSFT'], { intervalMs: 500 });
  const fresh = s1.sent.at(-1);
  check(fresh.symbols.join() === 'MSFT' && fresh.interval_ms === 500, `a new symbol at 500 ms: ${JSON.stringify(fresh)}`);
  s1.answerSubscribe();

  // 2. A truncated delta message: an error with the decoder's code, no record, a reconnect.
  const before = ticks().length;
  s1.binary(delta.subarray(0, delta.length - 2));
  const err = events.find((e) => e.type === 'error');
  check(err && err.code === 'truncated' && err.decoding === 'delta' && ticks().length === before,
    `a truncated delta: error ${err && err.code} (${err && err.message}), no record handed out`);
  const lost = events.find((e) => e.type === 'disconnected');
  check(lost && lost.retryInMs !== null && /did not decode \(truncated\)/.test(lost.reason), `then disconnected to reconnect: ${lost && lost.reason}`);
  await until(() => FakeSocket.all.length === 2 && latest().readyState === 1, 2000, 'the second socket');
  check(s1.readyState === 3, 'the old socket was closed');

  // 3. The new connection resumes with `from` at the last record handed out, intervals kept per symbol.
  const s2 = latest();
  s2.text(welcome({ encoding: 'delta' }));
  await until(() => s2.sent.filter((m) => m.op === 'subscribe').length >= 2, 1000, 'the resubscription');
  const resubs = s2.sent.filter((m) => m.op === 'subscribe');
  const aapl = resubs.find((m) => m.symbols.includes('AAPL')), msft = resubs.find((m) => m.symbols.includes('MSFT'));
  check(aapl && aapl.from && aapl.from.AAPL === 1002 && aapl.epoch === 5 && aapl.interval_ms === undefined,
    `AAPL resumes from 1002 at every tick: ${JSON.stringify(aapl)}`);
  check(msft && msft.interval_ms === 500, `MSFT keeps its 500 ms: ${JSON.stringify(msft)}`);
  s2.text({ type: 'subscribed', id: aapl.id, symbols: [{ symbol: 'AAPL', id: 0 }], resumed: ['AAPL'], reset: [] });
  s2.text({ type: 'subscribed', id: msft.id, symbols: [{ symbol: 'MSFT', id: 1 }] });

  // 4. State never outlives its connection: the old connection's keyframe
  // does not make a delta on this one decodable.
  const n2 = ticks().length;
  s2.binary(delta);
  const err2 = events.filter((e) => e.type === 'error')[1];
  check(err2 && err2.code === 'missing_keyframe' && ticks().length === n2, `a delta without a keyframe on the new connection: ${err2 && err2.code}`);
  await until(() => FakeSocket.all.length === 3 && latest().readyState === 1, 2000, 'the third socket');
  const s3 = latest();
  s3.text(welcome({ encoding: 'delta' }));
  await until(() => s3.sent.some((m) => m.op === 'subscribe'), 1000, 'the third resubscription');
  // Reported reset (the fixture's keyframe is sequence 1001 again: a new baseline).
  for (const m of s3.sent.filter((x) => x.op === 'subscribe')) {
    s3.text({ type: 'subscribed', id: m.id, symbols: m.symbols.map((s) => ({ symbol: s, id: s === 'AAPL' ? 0 : 1 })), ...(m.from ? { resumed: [], reset: Object.keys(m.from) } : {}) });
  }
  const n3 = ticks().length;
  s3.binary(keyframe);
  check(ticks().length === n3 + 1, 'a keyframe on the new connection decodes');
  check(!events.some((e) => e.type === 'gap'), 'no gap reported');

  // 5. An older server: no `encoding` in welcome, raw messages.
  client.dropConnection(0);
  await until(() => FakeSocket.all.length === 4 && latest().readyState === 1, 2000, 'the fourth socket');
  const s4 = latest();
  s4.text(welcome());
  check(client.encoding === 'raw', `welcome without encoding: client.encoding ${client.encoding}`);
  const n4 = ticks().length;
  s4.binary(rawBatch);
  check(ticks().length === n4 + 4, 'raw v1 records decode');
  const rawErrors = events.filter((e) => e.type === 'error').length;
  s4.binary(rawBatch.subarray(0, 20));
  const bad = events.filter((e) => e.type === 'error')[rawErrors];
  check(bad && bad.code === 'bad_message' && FakeSocket.all.length === 4, `a bad raw message on a raw connection is skipped: ${bad && bad.code}`);
  client.close();

  // 6. encoding: 'raw' asks for raw.
  const rawClient = new TickerClient({ url: 'ws://fake.example/v1/stream', symbols: ['AAPL'], WebSocket: FakeSocket, encoding: 'raw' });
  await until(() => FakeSocket.all.length === 5, 1000, 'the raw client socket');
  check(latest().url.searchParams.get('encoding') === 'raw', `encoding 'raw' asks for raw: ${latest().url.search}`);
  rawClient.close();
} catch (e) {
  check(false, e.message);
  client.close();
}
finish();

// The JavaScript client (Sources/Dashboard/Assets/ticker-client.js) under
// Node, with Debian's node-ws as the WebSocket, against a live `ticker serve`.
// Run by Scripts/js-client-test.sh, which starts the server and restarts it
// (kill by PID, start again on the same port) when this test asks for it by
// creating CONTROL_DIR/restart.
//
//   NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs node js_client_test.mjs HOST PORT CONTROL_DIR
//
// Checks: the module as the server serves it (type, CORS header, same bytes
// as the source), clear errors for bad input, the back-off and resume rules
// without sockets, then live: ticks for every symbol; a dropped connection
// resumed with no gap (every symbol `resumed`, the next record is last + 1);
// a server restart survived (`disconnected` with 1001, `connected` again,
// every symbol `reset` since a new process has a new epoch, ticks again, no
// gap); a client started from a saved position resumes; close() ends it;
// a throttled symbol (intervalMs 250) beside one at every tick on one
// connection, both kept across a reconnect; a raw and a delta connection
// decode identical records.
// Prints one line per check and exits non-zero when any failed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checker, sleep, until } from './harness.mjs';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');            // Debian's node-ws, found through NODE_PATH
const [host, port, controlDir] = process.argv.slice(2);
if (!host || !port || !controlDir) { console.error('usage: js_client_test.mjs HOST PORT CONTROL_DIR'); process.exit(2); }
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const base = `http://${host}:${port}`;
const url = `ws://${host}:${port}/v1/stream`;
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA'];

// Whatever happens, the test ends: a hung wait fails it instead of hanging CI.
setTimeout(() => { console.log('js-client: FAIL watchdog: the test did not finish within 110 s'); process.exit(1); }, 110_000).unref();

const { check, throwsLike, finish } = checker('js-client');

// ------------------------------------------------------------ the module, as served
const response = await fetch(base + '/assets/ticker-client.js', { headers: { Origin: 'http://elsewhere.example' } });
const served = await response.text();
check(response.status === 200, `GET /assets/ticker-client.js: ${response.status}`);
check(response.headers.get('content-type') === 'text/javascript; charset=utf-8', `content type ${response.headers.get('content-type')}`);
check(response.headers.get('access-control-allow-origin') === '*', `Access-Control-Allow-Origin: ${response.headers.get('access-control-allow-origin')}`);
check(served === readFileSync(join(root, 'Sources/Dashboard/Assets/ticker-client.js'), 'utf8'), 'served bytes are the source file');
// ...and the delta decoder it imports, importable from another origin too.
const deltaResponse = await fetch(base + '/assets/delta.js', { headers: { Origin: 'http://elsewhere.example' } });
const servedDelta = await deltaResponse.text();
check(deltaResponse.status === 200 && deltaResponse.headers.get('access-control-allow-origin') === '*',
  `GET /assets/delta.js: ${deltaResponse.status}, Access-Control-Allow-Origin: ${deltaResponse.headers.get('access-control-allow-origin')}`);
check(servedDelta === readFileSync(join(root, 'Sources/Dashboard/Assets/delta.js'), 'utf8'), 'served delta.js is the source file');
// The modules as the server sent them (Node cannot import over http): saved
// side by side under the control directory, as a user would save them.
mkdirSync(join(controlDir, 'served'), { recursive: true });
writeFileSync(join(controlDir, 'served', 'ticker-client.js'), served);
writeFileSync(join(controlDir, 'served', 'delta.js'), servedDelta);
const api = await import(pathToFileURL(join(controlDir, 'served', 'ticker-client.js')).href);
const { TickerClient, Backoff, ReconnectSchedule, ResumeBook } = api;

// ------------------------------------------------------------ bad input
throwsLike(() => new TickerClient({ url, WebSocket }), /needs symbols/, 'no symbols');
throwsLike(() => new TickerClient({ url, symbols: 'AAPL', WebSocket }), /must be an array/, 'symbols not an array');
throwsLike(() => new TickerClient({ url, symbols: [''], WebSocket }), /not a symbol name/, 'empty symbol name');
throwsLike(() => new TickerClient({ url: 'ftp://example.com/', symbols: SYMBOLS, WebSocket }), /not a ws:\/\/ or wss:\/\/ URL/, 'bad URL scheme');
throwsLike(() => new TickerClient({ url: 'not a url', symbols: SYMBOLS, WebSocket }), /not a ws:\/\/ or wss:\/\/ URL/, 'unparsable URL');
throwsLike(() => new TickerClient({ symbols: SYMBOLS, WebSocket }), /needs a url/, 'no URL');
throwsLike(() => new TickerClient({ url, symbols: SYMBOLS, from: { AAPL: -1 }, WebSocket }), /from\.AAPL/, 'bad resume point');
throwsLike(() => new TickerClient({ url, symbols: SYMBOLS, backoff: { initialMs: -5 }, WebSocket }), /backoff\.initialMs/, 'bad back-off');
if (typeof globalThis.WebSocket !== 'function') {
  throwsLike(() => new TickerClient({ url, symbols: SYMBOLS }), /no WebSocket class/, 'no WebSocket in this Node');
}

// ------------------------------------------------------------ rules without sockets
{
  const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
  const plan = [0, 1, 2, 3, 4, 5].map((a) => b.delayMs(a, 0.7));
  check(JSON.stringify(plan) === '[100,200,400,800,1000,1000]', `back-off doubles to its cap: ${plan}`);
  const j = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5 });
  check(j.delayMs(0, 0) === 1000 && j.delayMs(0, 0.5) === 750 && j.delayMs(0, 0.999999) === 500, 'jitter takes up to its fraction off');
  const s = new ReconnectSchedule(['a', 'b', 'c'], new Backoff({ initialMs: 100, maxMs: 800, jitter: 0.5 }), () => 0);
  const steps = [];
  for (let i = 0; i < 5; i++) steps.push(s.attemptFailed() + s.currentURL);
  check(steps.join() === '100b,200c,400a,800b,800c', `failed attempts fail over and back off: ${steps}`);
  check(s.sessionLost() === 100 && s.currentURL === 'c', 'a lost session retries the same URL after the first delay');

  const book = new ResumeBook(['AAPL', 'MSFT'], {}, null);
  book.connectionOpened(7);
  book.subscribed([{ symbol: 'AAPL', id: 0 }, { symbol: 'MSFT', id: 1 }], { op: 'subscribe', symbols: ['AAPL', 'MSFT'] }, {});
  const tick = (id, sequence, flags = 0, conflatedCount = 0) => Object.assign(new api.Tick(), { symbolId: id, sequence, flags, conflatedCount });
  book.observe(tick(0, 10, 1));
  check(book.observe(tick(0, 11)) === null && book.observe(tick(0, 14, 2, 2)) === null, 'sequence rule: +1 and declared conflation are no gap');
  const gap = book.observe(tick(0, 20));
  check(gap && gap.symbol === 'AAPL' && gap.expected === 15 && gap.received === 20, `undeclared jump is a gap: ${JSON.stringify(gap)}`);
  book.observe(tick(1, 5));
  book.connectionOpened(7);
  const reqs = book.requests(book.wanted);
  check(JSON.stringify(reqs) === '[{"op":"subscribe","symbols":["AAPL","MSFT"],"from":{"AAPL":20,"MSFT":5},"epoch":7}]',
    `resubscription carries from and epoch: ${JSON.stringify(reqs)}`);
  const events = book.subscribed([{ symbol: 'AAPL', id: 3 }, { symbol: 'MSFT', id: 4 }], reqs[0], { resumed: ['AAPL'], reset: ['MSFT'] });
  const told = events.map(([t, f]) => t + ':' + (f.symbol ?? f.symbols.map((x) => x.symbol ?? x).join('+'))).join(' ');
  check(told === 'subscribed:AAPL+MSFT resumed:AAPL reset:MSFT', `reply reported as subscribed, resumed, reset: ${told}`);
  check(book.observe(tick(4, 99)) === null && book.observe(tick(3, 21)) === null, 'after the reply: reset symbol takes a new baseline, resumed one continues');
}

// ------------------------------------------------------------ failFast against a closed port
{
  const closedPort = await new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); });
  });
  const c = new TickerClient({ url: `ws://127.0.0.1:${closedPort}/v1/stream`, symbols: ['AAPL'], WebSocket, failFast: true });
  const closed = await new Promise((resolve) => c.addEventListener('closed', resolve));
  check(closed.error instanceof Error && /cannot connect to ws:\/\/127\.0\.0\.1:\d+\/v1\/stream: .*ECONNREFUSED/.test(closed.error.message) && c.state === 'closed',
    `failFast on a closed port ends with a clear error: "${closed.error && closed.error.message}"`);
}

// ------------------------------------------------------------ live
const log = [];                              // every event of the client under test: {type, at, phase, ...}
let phase = 'start';
const lastSeq = {};                          // symbol -> last sequence seen (the test's own count)
const firstAfter = {};                       // phase -> symbol -> first record of the phase's last connection
const ticksIn = {};                          // phase -> records
function record(client) {
  // Records of a connection count for the phase it was opened in (records of
  // the old connection still arrive after the phase changes, until it drops).
  let connectionPhase = null;
  client.addEventListener('connected', () => { connectionPhase = phase; delete firstAfter[phase]; });
  for (const type of ['connected', 'subscribed', 'unsubscribed', 'resumed', 'reset', 'gap', 'error', 'disconnected', 'closed']) {
    client.addEventListener(type, (e) => {
      const { type: _t, ...fields } = Object.fromEntries(Object.keys(e).map((k) => [k, e[k]]));
      log.push({ type, phase, ...fields });
    });
  }
  client.addEventListener('ticks', (e) => {
    ticksIn[phase] = (ticksIn[phase] || 0) + e.ticks.length;
    for (const t of e.ticks) {
      if (!t.symbol) continue;
      (firstAfter[connectionPhase] ??= {})[t.symbol] ??= { sequence: t.sequence, snapshot: t.snapshot, conflatedCount: t.conflatedCount, before: lastSeq[t.symbol] };
      lastSeq[t.symbol] = t.sequence;
    }
  });
}
const count = (type, ph) => log.filter((e) => e.type === type && (ph === undefined || e.phase === ph)).length;
const has = (type, ph, pred = () => true) => log.some((e) => e.type === type && e.phase === ph && pred(e));

const client = new TickerClient({ url, symbols: SYMBOLS, WebSocket, backoff: { initialMs: 100, maxMs: 1000 } });
record(client);
try {
  // 1: connect, subscribe, ticks for every symbol.
  await until(() => has('connected', 'start') && SYMBOLS.every((s) => firstAfter.start && firstAfter.start[s]), 10_000, 'ticks for every symbol');
  const c0 = log.find((e) => e.type === 'connected');
  check(c0.reconnect === false && c0.url === url, `connected ${c0.url} (reconnect ${c0.reconnect})`);
  check(SYMBOLS.every((s) => firstAfter.start[s].snapshot), 'first record of each symbol is its snapshot');
  const epoch1 = client.welcome.epoch;
  await sleep(1000);
  check(ticksIn.start > 0, `ticks received before any fault: ${ticksIn.start} records`);

  // A refused subscribe is reported with its stable code; the client keeps going.
  client.subscribe(['ZZZZQ']);
  await until(() => has('error', 'start'), 5_000, 'the unknown_symbol error');
  const err = log.find((e) => e.type === 'error' && e.code !== 'rate_limited');
  check(err.code === 'unknown_symbol' && err.symbols.join() === 'ZZZZQ' && err.op === 'subscribe' && !client.symbols.includes('ZZZZQ'),
    `unknown symbol reported (${err.code}: ${err.message}) and dropped from the subscription`);

  // Over the server's rate limit (50 requests a second, a burst of 50): the
  // refused requests are reported and sent again a second later by the client.
  const directory = await (await fetch(base + '/v1/symbols')).json();
  const burst = directory.map((d) => d.symbol).filter((n) => !SYMBOLS.includes(n)).slice(0, 70);
  for (const name of burst) client.subscribe([name]);
  const subscribedNames = () => new Set(log.filter((e) => e.type === 'subscribed').flatMap((e) => e.symbols.map((r) => r.symbol)));
  await until(() => burst.every((n) => subscribedNames().has(n)), 10_000, 'every symbol of the burst subscribed');
  const limited = log.filter((e) => e.type === 'error' && e.code === 'rate_limited').length;
  check(limited > 0 && burst.every((n) => client.symbols.includes(n)),
    `${burst.length} subscribes at once: ${limited} refused as rate_limited, all subscribed after the client's retry`);
  client.unsubscribe(burst);
  await until(() => has('unsubscribed', 'start', (e) => e.symbols.length === burst.length), 5_000, 'the burst unsubscribed');
  check(client.symbols.join() === SYMBOLS.join(), `unsubscribed again in one request: ${client.symbols}`);

  // 2: a dropped connection, same server: resumed, contiguous, no gap.
  phase = 'drop';
  client.dropConnection(500);
  await until(() => has('resumed', 'drop') && SYMBOLS.every((s) => firstAfter.drop && firstAfter.drop[s]), 10_000, 'resume after the drop');
  const d = log.find((e) => e.type === 'disconnected' && e.phase === 'drop');
  check(d && d.retryInMs >= 490 && /dropped by the client/.test(d.reason), `disconnected (${d && d.reason}), retry in ${d && d.retryInMs} ms`);
  check(has('connected', 'drop', (e) => e.reconnect === true), 'connected again (reconnect true)');
  const resumed = log.filter((e) => e.type === 'resumed' && e.phase === 'drop').flatMap((e) => e.symbols);
  check(SYMBOLS.every((s) => resumed.includes(s)) && count('reset', 'drop') === 0, `every symbol resumed, none reset: ${resumed}`);
  const contiguous = SYMBOLS.map((s) => [s, firstAfter.drop[s]]).filter(([, f]) => f.snapshot || f.sequence !== f.before + 1 + f.conflatedCount);
  check(contiguous.length === 0, `the first record after the resume continues each symbol's sequence (${SYMBOLS.map((s) => `${s} ${firstAfter.drop[s].before}->${firstAfter.drop[s].sequence}`).join(', ')})`);
  await sleep(1000);
  check(ticksIn.drop > 0, `ticks after the resume: ${ticksIn.drop} records`);

  // 3: the server restarts (killed by PID, started again on the same port).
  phase = 'restart';
  writeFileSync(join(controlDir, 'restart'), String(Date.now()));
  await until(() => has('connected', 'restart') && count('reset', 'restart') >= SYMBOLS.length
    && SYMBOLS.every((s) => firstAfter.restart && firstAfter.restart[s]), 45_000, 'reconnect after the restart');
  const lost = log.find((e) => e.type === 'disconnected' && e.phase === 'restart');
  check(lost && lost.code === 1001, `disconnected by the restart with close ${lost && lost.code} (${lost && lost.reason})`);
  const failed = log.filter((e) => e.type === 'disconnected' && e.phase === 'restart').slice(1);
  check(failed.length >= 1 && failed.every((e) => e.retryInMs <= 1000),
    `${failed.length} failed attempt(s) while the server was down (1 s), retried in ${failed.map((e) => e.retryInMs).join(', ')} ms (back-off capped at 1000 ms here)`);
  check(has('connected', 'restart', (e) => e.reconnect === true), 'connected again after the restart');
  check(client.welcome.epoch !== epoch1, `the new process has a new epoch (${epoch1} -> ${client.welcome.epoch})`);
  const reset = log.filter((e) => e.type === 'reset' && e.phase === 'restart').map((e) => e.symbol);
  check(SYMBOLS.every((s) => reset.includes(s)) && count('resumed', 'restart') === 0, `every symbol reported reset: ${reset}`);
  // The new baseline is the snapshot, or update 1 for a symbol that had not ticked yet in the new process.
  check(SYMBOLS.every((s) => firstAfter.restart[s].snapshot || firstAfter.restart[s].sequence === 1),
    `the first record after the reset is the new baseline (${SYMBOLS.map((s) => `${s} ${firstAfter.restart[s].before}->${firstAfter.restart[s].sequence}${firstAfter.restart[s].snapshot ? ' snapshot' : ''}`).join(', ')})`);
  await sleep(1000);
  check(ticksIn.restart > 0, `ticks after the restart: ${ticksIn.restart} records`);
  check(count('gap') === 0, `no sequence gap reported in the whole run (${count('gap')})`);

  // 4: a saved position resumes in a new client (as a program restarted by its user would).
  const saved = client.position;
  client.close();
  const closedEvent = log.find((e) => e.type === 'closed');
  check(closedEvent && closedEvent.error === null && client.state === 'closed', 'close() ends the client with a closed event');
  phase = 'saved';
  const again = new TickerClient({ url, symbols: SYMBOLS, WebSocket, from: saved.from, epoch: saved.epoch });
  record(again);
  await until(() => has('resumed', 'saved') && SYMBOLS.every((s) => firstAfter.saved && firstAfter.saved[s]), 10_000, 'resume from a saved position');
  const ok = SYMBOLS.every((s) => !firstAfter.saved[s].snapshot && firstAfter.saved[s].sequence === saved.from[s] + 1 + firstAfter.saved[s].conflatedCount);
  check(ok && count('reset', 'saved') === 0, `new client from {from, epoch ${saved.epoch}} resumed contiguously: ${SYMBOLS.map((s) => `${s} ${saved.from[s]}->${firstAfter.saved[s].sequence}`).join(', ')}`);
  again.close();
  const quiet = log.length;
  await sleep(300);
  check(log.length === quiet, 'no event after close()');

  // 5: throttled symbols on one connection (interval_ms), kept across a reconnect:
  // AMZN at 250 ms (at most one record per 250 ms), GOOGL at every tick.
  const throttled = new TickerClient({ url, symbols: ['AMZN', 'GOOGL'], intervalMs: 250, WebSocket });
  const perSymbol = { AMZN: 0, GOOGL: 0 };
  let counting = false;
  throttled.addEventListener('ticks', (e) => { if (counting) for (const t of e.ticks) perSymbol[t.symbol]++; });
  await until(() => throttled.state === 'open', 10_000, 'the throttled client');
  throttled.subscribe(['GOOGL'], { intervalMs: 0 });
  const rates = async () => {
    await sleep(500);                      // the interval change and any catch-up record
    perSymbol.AMZN = perSymbol.GOOGL = 0;
    counting = true;
    await sleep(2000);
    counting = false;
    return { AMZN: perSymbol.AMZN / 2, GOOGL: perSymbol.GOOGL / 2 };
  };
  const r1 = await rates();
  // 2 s at 250 ms: at most 8 samples, 9 when the window starts on one; one more for timer jitter.
  const throttledOk = (r) => r.AMZN * 2 <= 10 && r.AMZN * 2 >= 4;
  check(throttledOk(r1) && r1.GOOGL >= 20,
    `AMZN at 250 ms: ${r1.AMZN}/s, GOOGL changed to every tick: ${r1.GOOGL}/s (encoding ${throttled.encoding})`);
  throttled.dropConnection(100);
  await until(() => throttled.state === 'waiting', 2_000, 'the drop');
  await until(() => throttled.state === 'open', 10_000, 'the throttled client reconnected');
  const r2 = await rates();
  check(throttledOk(r2) && r2.GOOGL >= 20 && throttled.intervalOf('AMZN') === 250 && throttled.intervalOf('GOOGL') === 0,
    `after a reconnect the intervals hold: AMZN ${r2.AMZN}/s, GOOGL ${r2.GOOGL}/s`);
  throttled.close();

  // 6: the same stream on two connections, raw and delta (the client's
  // default): every record both received is identical (a snapshot may
  // differ from the live record of the same sequence by its flag only).
  const pair = { raw: new Map(), delta: new Map() };
  const clients = ['raw', 'delta'].map((encoding) => {
    const c = new TickerClient({ url, symbols: SYMBOLS, WebSocket, ...(encoding === 'raw' ? { encoding } : {}) });
    c.addEventListener('ticks', (e) => {
      for (const t of e.ticks) {
        pair[encoding].set(`${t.symbol} ${t.sequence}`, { snapshot: t.snapshot, fields: [t.flags & ~1, t.priceExponent, t.bid, t.ask, t.last,
          t.bidSize, t.askSize, t.lastSize, t.conflatedCount, String(t.eventTimeNs)].join() });
      }
    });
    return c;
  });
  await until(() => clients.every((c) => c.state === 'open'), 10_000, 'the raw and delta clients');
  await sleep(2000);
  for (const c of clients) c.close();
  const both = [...pair.delta.keys()].filter((k) => pair.raw.has(k));
  const differ = both.filter((k) => pair.raw.get(k).fields !== pair.delta.get(k).fields);
  check(clients[0].encoding === 'raw' && clients[1].encoding === 'delta' && both.length > 100 && differ.length === 0,
    `raw and delta connections (welcome: ${clients[0].encoding}, ${clients[1].encoding}): ${both.length} records received by both, ` +
    `${differ.length} differ${differ.length ? ': ' + differ.slice(0, 2).map((k) => `${k} raw ${pair.raw.get(k).fields} delta ${pair.delta.get(k).fields}`).join('; ') : ''}`);
} catch (e) {
  check(false, e.message);
  client.close();
}

const counts = {};
for (const e of log) counts[e.type] = (counts[e.type] || 0) + 1;
console.log(`js-client: events ${JSON.stringify(counts)}, records ${JSON.stringify(ticksIn)}`);
// No process.exit on success: the client must leave no timer or socket
// behind, so Node exits by itself (the script's timeout catches a hang).
finish();

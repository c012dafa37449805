// The page's model: the symbol catalogue, the watched symbols' latest ticks
// and histories, and the counters the status bar shows. The client's events
// (stream.js) change it here; nothing here touches the DOM or the socket.
import { WIRE } from './ticker-client.js';

export const SPARK_POINTS = 120;     // one per 500 ms: 60 s
export const DETAIL_POINTS = 600;    // one per 100 ms: 60 s
export const SAMPLE_MS = 100;
const SPARK_EVERY = 5;
const LAT_RING = 4096, LAT_WINDOW_MS = 3000;

export const catalogue = new Map();       // symbol -> {symbol, id, exponent, tickSize, price}
export const catalogueById = [];          // id -> symbol name (for counting ticks of symbols no longer watched)
export const watchlist = [];              // ordered symbol names (edited in place)
export const states = new Map();          // symbol -> SymbolState (watched symbols only)
export const byId = [];                   // symbol id -> SymbolState, for the current connection
export const subscribed = new Set();      // names the server confirmed on this connection
export const refPrices = new Map();       // symbol -> {m, exp}: first last price since the page opened
// symbol id -> records received (watched or not); an array, not a Map
// keyed by name: this is touched for every one of ~52,000 records a second.
export const tickCountById = [];
/** Scalars other modules read and set: the selected symbol, whether the catalogue arrived. */
export const page = { selected: null, catalogueLoaded: false };

export const stats = {
  messages: 0, ticks: 0, gaps: 0, conflated: 0, conflatedUpdates: 0, badFrames: 0, unrouted: 0,
  reconnects: 0, msgRate: 0, tickRate: 0, latencyP50: null, rttMs: null, fps: 0, frames: 0,
  bytesRate: 0,                 // bytes received per second (the client's bytesReceived, as the browser got them)
  latencyRawMin: null,          // smallest corrected latency before the clamp at 0 (how far the offset estimate erred)
};

// ---------------------------------------------------------------- clock offset
// The server's clock minus ours, NTP-style, from the JSON ping: offset =
// pong.time_ns - midpoint(send, receive), whose error is at most half the
// round trip; so the sample with the smallest round trip is kept (of the
// last OFFSET_SAMPLES, so a clock that drifts over hours is followed).
// Without it the latency figure is only right when the browser runs on the
// server's host. A new connection (perhaps another server) starts over.
const OFFSET_SAMPLES = 32;
const offsetSamples = [];
export const clock = { offsetMs: null, rttMs: null };
export function noteClockSample(e) {
  offsetSamples.push({ rtt: e.roundTripMs, offset: e.serverTimeMs - (e.sentAtMs + e.receivedAtMs) / 2 });
  if (offsetSamples.length > OFFSET_SAMPLES) offsetSamples.shift();
  let best = offsetSamples[0];
  for (const s of offsetSamples) if (s.rtt < best.rtt) best = s;
  if (best.offset !== clock.offsetMs) stats.latencyRawMin = null;   // measured against the estimate in force
  clock.offsetMs = best.offset;
  clock.rttMs = best.rtt;
}
export function resetClock() { offsetSamples.length = 0; clock.offsetMs = null; clock.rttMs = null; }
/** Now on the server's clock (as far as we know it), ms since the epoch. */
const serverNowMs = () => performance.timeOrigin + performance.now() + (clock.offsetMs ?? 0);
/** The stream's connection, as the status bar and the watchlist editor see it. */
export const link = {
  // 'connecting', 'live', 'reconnecting', or stopped for good: 'unauthorized'
  // (4401), 'forbidden' (4403) or 'stopped' (the client ended otherwise)
  state: 'connecting',
  lastCloseCode: null, limits: null,
  client: null,                           // the TickerClient (ticker-client.js)
  reconnectAt: 0,                         // performance.now() of the next attempt
};
/** What the next animation frame must repaint besides dirty rows. */
export const dirty = { status: true, detail: true, chart: true };

const latTimes = new Float64Array(LAT_RING), latVals = new Float64Array(LAT_RING);
let latHead = 0, latCount = 0;

/** A fixed-size ring of numbers; `at(0)` is the oldest. */
export function Ring(n) { this.a = new Float64Array(n); this.head = 0; this.count = 0; }
Ring.prototype.push = function (v) {
  this.a[this.head] = v; this.head = (this.head + 1) % this.a.length;
  if (this.count < this.a.length) this.count++;
};
Ring.prototype.at = function (i) {
  const n = this.a.length;
  return this.a[(this.head - this.count + i + n) % n];
};

export function newState(symbol) {
  const info = catalogue.get(symbol);
  return {
    symbol, id: info ? info.id : -1, exponent: info ? info.exponent : -2,
    seq: 0, flags: 0, conflatedCount: 0, timeHi: 0, timeLo: 0,
    bid: 0, ask: 0, last: 0, bidSize: 0, askSize: 0, lastSize: 0, has: false,
    updates: 0, updatesMark: 0, rate: 0, gaps: 0, conflated: 0, stale: true,
    dirty: true, sparkDirty: true, resyncAt: 0,
    // What the last reconnect did for this row ('resumed', 'reset' or ''):
    // the client resumes with `from` and `epoch` and reports the outcome.
    resume: '',
    spark: new Ring(SPARK_POINTS), dLast: new Ring(DETAIL_POINTS), dBid: new Ring(DETAIL_POINTS), dAsk: new Ring(DETAIL_POINTS),
    row: null,
  };
}

// Gap recovery (docs/PROTOCOL.md): unsubscribe + resubscribe yields a fresh
// snapshot. Symbols wait here (at most once per 10 s each) for the stream to
// batch them into one request a second.
export const resyncQueue = new Set();
function requestResync(S) {
  const now = performance.now();
  if (now < S.resyncAt) return;
  S.resyncAt = now + 10000;
  resyncQueue.add(S.symbol);
}

// ---------------------------------------------------------------- ticks
/** Applies the records of one binary message (Tick objects of ticker-client.js). */
export function applyTicks(ticks) {
  stats.messages++;
  let newestMs = 0;
  for (let i = 0; i < ticks.length; i++) {
    const t = ticks[i];
    stats.ticks++;
    if (t.flags & WIRE.FLAG_CONFLATED) { stats.conflated++; stats.conflatedUpdates += t.conflatedCount; }
    const ms = t.eventTimeMs;
    if (ms > newestMs) newestMs = ms;
    tickCountById[t.symbolId] = (tickCountById[t.symbolId] || 0) + 1;
    const S = byId[t.symbolId];
    if (S === undefined) { stats.unrouted++; continue; }
    S.seq = t.sequence;
    S.flags = t.flags;
    S.conflatedCount = t.conflatedCount;
    if (t.flags & WIRE.FLAG_CONFLATED) S.conflated++;
    S.exponent = t.priceExponent;
    S.timeHi = t.eventTimeHi; S.timeLo = t.eventTimeLo;
    S.bid = t.bid; S.ask = t.ask; S.last = t.last;
    S.bidSize = t.bidSize; S.askSize = t.askSize; S.lastSize = t.lastSize;
    S.has = true;
    S.stale = false;
    S.updates++;
    S.dirty = true;
    if (!refPrices.has(S.symbol)) refPrices.set(S.symbol, { m: t.last, exp: t.priceExponent });
  }
  if (newestMs > 0) {
    // Event times are causal (at or before the server published the tick),
    // so a negative age can only be the offset estimate's error (at most
    // half a round trip): the figure is clamped at 0, never shown negative.
    const age = serverNowMs() - newestMs;
    if (clock.offsetMs !== null && (stats.latencyRawMin === null || age < stats.latencyRawMin)) stats.latencyRawMin = age;
    latTimes[latHead] = performance.now();
    latVals[latHead] = Math.max(0, age);
    latHead = (latHead + 1) % LAT_RING;
    if (latCount < LAT_RING) latCount++;
  }
  if (page.selected !== null) dirty.detail = true;
}

/** The client reported an undeclared sequence jump: count it and resubscribe the symbol for a fresh snapshot. */
export function noteGap(symbol) {
  stats.gaps++;
  const S = states.get(symbol);
  if (S) { S.gaps++; requestResync(S); }
}

// ---------------------------------------------------------------- control replies
/** A `subscribed` reply: the wire id of each symbol on this connection. */
export function applySubscribed(refs) {
  for (const ref of refs) {
    catalogueById[ref.id] = ref.symbol;
    const S = states.get(ref.symbol);
    if (!S) continue;
    S.id = ref.id;
    byId[ref.id] = S;
    subscribed.add(ref.symbol);
  }
}

export function applyUnsubscribed(refs) {
  for (const ref of refs) {
    subscribed.delete(ref.symbol);
    const S = byId[ref.id];
    if (S && !states.has(S.symbol)) byId[ref.id] = undefined;
  }
}

/** After a reconnect: `mark` is 'resumed' (no update missed) or 'reset' (a fresh snapshot follows). */
export function markResume(names, mark) {
  for (const name of names) {
    const S = states.get(name);
    if (S) { S.resume = mark; S.dirty = true; }
  }
}

/** The connection is gone: every symbol is stale until its next record. */
export function markDisconnected() {
  subscribed.clear();
  byId.length = 0;
  for (const S of states.values()) { S.stale = true; S.dirty = true; }
  dirty.detail = true;
}

// ---------------------------------------------------------------- sampling and rates
let sampleTick = 0;
/** Every SAMPLE_MS: one chart point per watched symbol, one sparkline point every SPARK_EVERY. */
export function sampleHistories() {
  sampleTick++;
  const spark = sampleTick % SPARK_EVERY === 0;
  for (const S of states.values()) {
    if (!S.has) continue;
    const f = Math.pow(10, S.exponent);
    S.dLast.push(S.last * f); S.dBid.push(S.bid * f); S.dAsk.push(S.ask * f);
    if (spark) { S.spark.push(S.last * f); S.sparkDirty = true; }
  }
  dirty.chart = true;
}

let rateMark = performance.now(), msgMark = 0, tickMark = 0, frameMark = 0, byteMark = 0;
/** Every second: message, tick, frame and per-symbol update rates, and the latency p50. */
export function updateRates() {
  const now = performance.now();
  const dt = (now - rateMark) / 1000;
  rateMark = now;
  stats.msgRate = (stats.messages - msgMark) / dt;
  stats.tickRate = (stats.ticks - tickMark) / dt;
  stats.fps = (stats.frames - frameMark) / dt;
  msgMark = stats.messages; tickMark = stats.ticks; frameMark = stats.frames;
  const bytes = link.client ? link.client.bytesReceived : 0;
  stats.bytesRate = (bytes - byteMark) / dt;
  byteMark = bytes;
  for (const S of states.values()) {
    S.rate = (S.updates - S.updatesMark) / dt;
    S.updatesMark = S.updates;
    if (S.row) S.dirty = true;
  }
  // p50 latency over the last LAT_WINDOW_MS
  const vals = [];
  for (let i = 0; i < latCount; i++) {
    const j = (latHead - 1 - i + LAT_RING) % LAT_RING;
    if (now - latTimes[j] > LAT_WINDOW_MS) break;
    vals.push(latVals[j]);
  }
  if (vals.length) {
    vals.sort((a, b) => a - b);
    stats.latencyP50 = vals[(vals.length - 1) >> 1];
  } else {
    stats.latencyP50 = null;
  }
  dirty.status = true;
}

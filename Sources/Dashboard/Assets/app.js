// The page's entry point: loads the symbol catalogue, opens the watchlist
// and the stream, wires the form and the list to the watchlist editor, and
// publishes a read-only view (window.tickerDashboard) for tests and tools.
import { WIRE, formatPrice } from './ticker-client.js';
import {
  catalogue, catalogueById, watchlist, states, byId, subscribed, tickCountById, page, stats, link, clock,
  sampleHistories, updateRates, SAMPLE_MS,
} from './state.js';
import { el, renderEmpty, startRendering } from './render.js';
import { connect, clientEvents } from './stream.js';
import {
  DEFAULT_WATCHLIST, addSymbols, removeSymbol, replaceWatchlist, select, saveWatchlist,
  parseSymbolList, initialWatchlist, storedSelection,
} from './watchlist.js';

setInterval(sampleHistories, SAMPLE_MS);
setInterval(updateRates, 1000);

// ---------------------------------------------------------------- UI events
document.getElementById('adder').addEventListener('submit', (e) => {
  e.preventDefault();
  const names = parseSymbolList(el.search.value);
  if (names.length === 0) return;
  const added = addSymbols(names, true);
  if (added.length) {
    el.search.value = '';
    select(added[added.length - 1]);
    const S = states.get(added[added.length - 1]);
    if (S && S.row) S.row.el.scrollIntoView({ block: 'nearest' });
  }
});
document.getElementById('reset-btn').addEventListener('click', () => {
  replaceWatchlist(DEFAULT_WATCHLIST.filter((s) => !page.catalogueLoaded || catalogue.has(s)), true);
});
el.list.addEventListener('click', (e) => {
  const rowEl = e.target.closest('.row');
  if (!rowEl) return;
  const name = rowEl.dataset.symbol;
  if (e.target.closest('[data-action="remove"]')) { removeSymbol(name, true); return; }
  select(name);
});

// ---------------------------------------------------------------- read-only view for tests and tools
function snapshotSymbol(S) {
  return {
    symbol: S.symbol, id: S.id, seq: S.has ? S.seq : null, exponent: S.exponent,
    bid: S.has ? S.bid * Math.pow(10, S.exponent) : null,
    ask: S.has ? S.ask * Math.pow(10, S.exponent) : null,
    last: S.has ? S.last * Math.pow(10, S.exponent) : null,
    bidText: S.has ? formatPrice(S.bid, S.exponent) : null,
    askText: S.has ? formatPrice(S.ask, S.exponent) : null,
    lastText: S.has ? formatPrice(S.last, S.exponent) : null,
    bidSize: S.bidSize, askSize: S.askSize, lastSize: S.lastSize,
    eventTimeNs: S.has ? ((BigInt(S.timeHi) << 32n) | BigInt(S.timeLo)).toString() : null,
    snapshot: (S.flags & WIRE.FLAG_SNAPSHOT) !== 0, conflatedCount: S.conflatedCount,
    updates: S.updates, updatesPerSecond: S.rate, gaps: S.gaps, conflated: S.conflated, stale: S.stale,
    resume: S.resume,
  };
}
const view = {
  get state() { return link.state; },
  get symbols() { const o = {}; for (const S of states.values()) o[S.symbol] = snapshotSymbol(S); return o; },
  get watchlist() { return watchlist.slice(); },
  get subscribed() { return [...subscribed]; },
  get selected() { return page.selected; },
  get gaps() { return stats.gaps; },
  get conflated() { return stats.conflated; },
  get conflatedUpdates() { return stats.conflatedUpdates; },
  get messages() { return stats.messages; },
  get ticks() { return stats.ticks; },
  get badFrames() { return stats.badFrames; },
  get reconnects() { return stats.reconnects; },
  get lastCloseCode() { return link.lastCloseCode; },
  get rates() {
    return { messagesPerSecond: stats.msgRate, ticksPerSecond: stats.tickRate, latencyP50Ms: stats.latencyP50, rttMs: stats.rttMs,
      fps: stats.fps, bytesPerSecond: stats.bytesRate };
  },
  /** Bytes received (binary byteLength + text length, every connection), as the browser got them. */
  get bytesReceived() { return link.client ? link.client.bytesReceived : 0; },
  /** The connection's encoding as welcome said ('delta' or 'raw'), null before it. */
  get encoding() { return link.client ? link.client.encoding : null; },
  /** Per symbol: the interval it is subscribed at (0: every tick). */
  get intervals() { const o = {}; if (link.client) for (const n of link.client.symbols) o[n] = link.client.intervalOf(n); return o; },
  /** The clock offset to the server (ms, server minus browser; null before the first pong) and its sample's round trip. */
  get clock() { return { offsetMs: clock.offsetMs, rttMs: clock.rttMs, latencyRawMinMs: stats.latencyRawMin }; },
  get tickCounts() {
    const out = {};
    tickCountById.forEach((n, id) => {
      const name = catalogueById[id] ?? byId[id]?.symbol;
      if (name !== undefined && n) out[name] = n;
    });
    return out;
  },
  get catalogueSize() { return catalogue.size; },
  /** The TickerClient the page runs on: its state and the events it delivered, by type. */
  get client() {
    return { module: 'ticker-client.js', state: link.client ? link.client.state : null,
      url: link.client ? link.client.url : null, roundTripMs: link.client ? link.client.roundTripMs : null,
      events: { ...clientEvents } };
  },
};
Object.defineProperty(window, 'tickerDashboard', { value: Object.freeze(view), writable: false, configurable: false });

// ---------------------------------------------------------------- start
const CATALOGUE_RETRY_CAP_MS = 5000;

async function loadCatalogue() {
  for (let wait = 500; ; wait = Math.min(wait * 2, CATALOGUE_RETRY_CAP_MS)) {
    try {
      const r = await fetch('/v1/symbols', { cache: 'no-store' });
      if (r.ok) {
        const list = await r.json();
        const frag = document.createDocumentFragment();
        for (const s of list) {
          catalogue.set(s.symbol, { symbol: s.symbol, id: s.id, exponent: s.price_exponent, tickSize: s.tick_size, price: s.price });
          catalogueById[s.id] = s.symbol;
          const o = document.createElement('option');
          o.value = s.symbol;
          frag.appendChild(o);
        }
        el.options.appendChild(frag);
        page.catalogueLoaded = true;
        return;
      }
    } catch (_) { /* retried below */ }
    await new Promise((res) => setTimeout(res, wait));
  }
}

async function start() {
  startRendering();
  renderEmpty();
  await loadCatalogue();
  const fromUrl = new URLSearchParams(location.search).get('symbols');
  addSymbols(initialWatchlist(), false);
  if (fromUrl !== null && fromUrl.trim() !== '') saveWatchlist();
  const sel = storedSelection();
  select(sel && states.has(sel) ? sel : (watchlist[0] || null));
  connect();
}
start();

// The stream, as the page sees it: one TickerClient (ticker-client.js, the
// JavaScript client other pages and Node use too) owns the WebSocket, the
// decoding, reconnects with back-off and resumes with `from`/`epoch`; this
// file only ties its events to the page's state, notices and counters.
// On a server with auth the page is opened with `?token=`: the client sends
// it on every attempt, and a refused token stops the page with a banner
// saying what to do instead of reconnecting in a loop.
// One connection, in the delta encoding (`?encoding=raw` on the page asks
// for raw): the watchlist at WATCH_INTERVAL_MS, enough for a person and a
// fraction of the bytes, and the selected symbol, the one charted, at
// every tick. Changing the selection moves the old one back to the
// interval and the new one to every tick (a subscribe of a held symbol
// changes its interval on the server).
import { TickerClient } from './ticker-client.js';
import {
  watchlist, states, subscribed, stats, dirty, link, resyncQueue, page,
  applyTicks, applySubscribed, applyUnsubscribed, markDisconnected, markResume, noteGap, noteClockSample, resetClock,
} from './state.js';
import { notice, showBanner } from './render.js';

/**
 * Set by the watchlist editor: the server rejected these names (unknown),
 * or the token does not allow them (not entitled: dropped from the page,
 * kept in the stored watchlist, since another token may allow them).
 */
export const hooks = { unknownSymbols: (_names) => {}, notEntitled: (_names) => {} };

/** How many events of each type the page got from the client (for tests: window.tickerDashboard.client). */
export const clientEvents = {};

function setState(s) {
  link.state = s;
  dirty.status = true;
}

/** The watchlist's interval (ms); the selected symbol gets every tick (0). */
export const WATCH_INTERVAL_MS = 250;
const intervalFor = (name) => (name === page.selected ? 0 : WATCH_INTERVAL_MS);

export function sendSubscribe(names) {
  if (!link.client || !names.length) return;
  const selected = names.filter((n) => intervalFor(n) === 0);
  const rest = names.filter((n) => intervalFor(n) !== 0);
  if (rest.length) link.client.subscribe(rest, { intervalMs: WATCH_INTERVAL_MS });
  if (selected.length) link.client.subscribe(selected, { intervalMs: 0 });
}
/** The selection moved: the old symbol back to the watchlist's interval, the new one to every tick (held ones only). */
export function sendSelection(oldName, newName) {
  const c = link.client;
  if (!c) return;
  const held = (n) => n && c.symbols.includes(n);
  if (held(oldName) && oldName !== newName) c.subscribe([oldName], { intervalMs: WATCH_INTERVAL_MS });
  if (held(newName)) c.subscribe([newName], { intervalMs: 0 });
}
export function sendUnsubscribe(names) {
  if (link.client && names.length) link.client.unsubscribe(names);
}

// Symbols with a sequence gap (state.js queues them): one unsubscribe +
// subscribe a second for all of them, which yields fresh snapshots.
setInterval(() => {
  if (link.client) stats.rttMs = link.client.roundTripMs;
  if (resyncQueue.size === 0 || link.state !== 'live') return;
  const names = [...resyncQueue].filter((s) => states.has(s) && subscribed.has(s));
  resyncQueue.clear();
  if (names.length === 0) return;
  sendUnsubscribe(names);
  sendSubscribe(names);
}, 1000);

function streamURL() {
  return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/v1/stream';
}

/** The page's `?token=` (null when absent): the stream's credential on a server with auth. */
function pageToken() {
  const token = new URLSearchParams(location.search).get('token');
  return token !== null && token.trim() !== '' ? token.trim() : null;
}

// Before opening a WebSocket after a disconnect, ask /healthz whether the
// server is back, so a down server costs one cheap HTTP probe per back-off
// step instead of a failed WebSocket handshake. (While the server is down
// the browser logs each refused probe as a network error; that is expected.)
function probeServer() {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 3000);
  return fetch(location.origin + '/healthz', { cache: 'no-store', signal: ctl.signal })
    .then((r) => r.ok, () => false)
    .finally(() => clearTimeout(timer));
}

const CLOSE_NOTICES = {
  1001: 'Server is restarting (1001); reconnecting…',
  4001: 'Server closed us as a slow consumer (4001); reconnecting…',
  4002: 'Heartbeat timeout (4002); reconnecting…',
  1008: 'Closed by server policy (1008); reconnecting…',
  4429: 'Too many connections for this access token (4429); retrying…',
};

/** What the page says when the client stops on an auth close (never the token itself). */
function authMessage(code, hasToken, serverReason) {
  const why = serverReason ? ': ' + serverReason : '';
  if (code === 4403) {
    return 'Your access token may not read the stream (4403' + why + ') — open the dashboard with ?token= set to a token for the subscribe role.';
  }
  if (!hasToken) return 'This server needs an access token (4401' + why + ') — open the dashboard with ?token=YOUR_TOKEN.';
  return 'Your access token is invalid or expired (4401' + why + ') — open the dashboard with a new ?token=.';
}

/** Starts the client with the watchlist; its events drive the page from here on. */
export function connect() {
  const token = pageToken();
  const encoding = new URLSearchParams(location.search).get('encoding') === 'raw' ? 'raw' : 'delta';
  const client = new TickerClient({
    url: streamURL(), symbols: watchlist.slice(), intervalMs: WATCH_INTERVAL_MS, encoding, probe: probeServer, token,
  });
  link.client = client;
  if (page.selected && watchlist.includes(page.selected)) client.subscribe([page.selected], { intervalMs: 0 });
  setState('connecting');
  const on = (type, fn) => client.addEventListener(type, (e) => {
    clientEvents[type] = (clientEvents[type] || 0) + 1;
    fn(e);
  });
  on('connected', (e) => {
    link.limits = (client.welcome && client.welcome.limits) || null;
    // A few quick pings for the clock offset (then one per heartbeat).
    resetClock();
    for (let i = 0; i < 5; i++) setTimeout(() => client.ping(), 100 + 300 * i);
    if (client.welcome && client.welcome.protocol !== 1) notice('Server speaks protocol ' + client.welcome.protocol + '; this page knows 1');
    if (e.reconnect) notice('Reconnected');
    setState('live');
  });
  on('subscribed', (e) => applySubscribed(e.symbols));
  on('unsubscribed', (e) => {
    applyUnsubscribed(e.symbols);
    if (e.reason === 'entitlement' && e.symbols.length) {
      const names = e.symbols.map((r) => r.symbol);
      notice('Your access token no longer allows ' + names.slice(0, 8).join(', ') + ': removed');
      hooks.notEntitled(names);
    }
  });
  on('resumed', (e) => markResume(e.symbols, 'resumed'));
  on('reset', (e) => markResume([e.symbol], 'reset'));
  on('gap', (e) => noteGap(e.symbol));
  on('pong', (e) => noteClockSample(e));
  on('ticks', (e) => applyTicks(e.ticks));
  on('error', (e) => {
    const bad = e.symbols || [];
    if (e.code === 'bad_message' || e.decoding) {   // an undecodable message (a delta one: the client reconnects)
      stats.badFrames++;
    } else if (e.code === 'unknown_symbol' && bad.length) {
      // The client drops them and asks again for the rest of the request.
      notice('Server does not know ' + bad.slice(0, 8).join(', ') + ': removed');
      hooks.unknownSymbols(bad);
    } else if (e.code === 'forbidden' && bad.length) {
      // Outside the token's entitlement: the client drops them and asks again for the rest.
      notice('Your access token does not allow ' + bad.slice(0, 8).join(', ') + (bad.length > 8 ? '…' : '') + ': removed');
      hooks.notEntitled(bad);
    } else if (e.code !== 'rate_limited') {  // the client retries those itself
      notice('Server error ' + e.code + ': ' + e.message);
    }
  });
  on('disconnected', (e) => {
    if (e.code !== null) link.lastCloseCode = e.code;
    markDisconnected();
    if (e.retryInMs === null) return;            // the client stops: `unauthorized` / `closed` say why
    if (link.state === 'live') stats.reconnects++;
    if (CLOSE_NOTICES[e.code]) notice(CLOSE_NOTICES[e.code]);
    link.reconnectAt = performance.now() + e.retryInMs;
    setState('reconnecting');
  });
  // The page's token has no successor (the page has no provider): say when it runs out.
  on('token_expiring', (e) => {
    if (!e.refreshing) notice('Your access token expires in ' + Math.max(1, Math.round((e.inMs ?? 0) / 1000)) + ' s; open the dashboard with a new ?token= to keep the stream');
  });
  // 4401 (no token, or one that is invalid, expired or revoked) or 4403:
  // the same token cannot succeed, so the client has stopped; say what to do.
  on('unauthorized', (e) => {
    link.lastCloseCode = e.code;
    markDisconnected();
    showBanner(authMessage(e.code, token !== null, e.reason));
    setState(e.code === 4403 ? 'forbidden' : 'unauthorized');
  });
  on('closed', (e) => {
    if (link.state === 'unauthorized' || link.state === 'forbidden') return;
    markDisconnected();
    if (e.error) showBanner('The stream stopped: ' + e.error.message + ' — reload the page to try again.');
    setState('stopped');
  });
}

// The stream: one WebSocket to /v1/stream, the JSON control requests and
// replies, gap resyncs, an application ping, and reconnection with back-off.
import {
  watchlist, states, subscribed, stats, dirty, link, resyncQueue,
  applyTickBatch, applySubscribed, applyUnsubscribed, markDisconnected, resumeGroups,
} from './state.js';
import { notice } from './render.js';

const BACKOFF_BASE_MS = 250;
export const BACKOFF_CAP_MS = 5000;

/** Set by the watchlist editor: the server rejected these names. */
export const hooks = { unknownSymbols: (_names) => {} };

let reqId = 1;
const pending = new Map();          // request id -> {op, symbols, sentAt}

function setState(s) {
  link.state = s;
  dirty.status = true;
}

// ---------------------------------------------------------------- control messages out
function send(obj) {
  if (!link.ws || link.ws.readyState !== WebSocket.OPEN) return false;
  link.ws.send(JSON.stringify(obj));
  return true;
}
function request(op, symbols, from, epoch) {
  const id = reqId++;
  const msg = symbols ? { op, id, symbols } : { op, id };
  if (from) {
    // Resume (docs/PROTOCOL.md): the last sequence per symbol and the epoch
    // of the connection it was seen on.
    msg.from = from;
    if (epoch !== null && epoch !== undefined) msg.epoch = epoch;
  }
  if (send(msg)) pending.set(id, { op, symbols, sentAt: performance.now() });
  if (pending.size > 256) pending.delete(pending.keys().next().value);
  return id;
}
export function sendSubscribe(names) {
  if (link.state !== 'live' || names.length === 0) return;
  for (let i = 0; i < names.length; i += 1000) {
    // After a reconnect every row resumes from the last sequence it saw.
    for (const g of resumeGroups(names.slice(i, i + 1000))) request('subscribe', g.names, g.from, g.epoch);
  }
}
export function sendUnsubscribe(names) {
  if (link.state !== 'live' || names.length === 0) return;
  request('unsubscribe', names);
}

// Symbols with a sequence gap (state.js queues them): one unsubscribe +
// subscribe a second for all of them, which yields fresh snapshots.
setInterval(() => {
  if (resyncQueue.size === 0 || link.state !== 'live') return;
  const names = [...resyncQueue].filter((s) => states.has(s) && subscribed.has(s));
  resyncQueue.clear();
  if (names.length === 0) return;
  request('unsubscribe', names);
  request('subscribe', names);
}, 1000);

// ---------------------------------------------------------------- control messages in
function onControl(text) {
  let msg;
  try { msg = JSON.parse(text); } catch (_) { return; }
  if (!msg || typeof msg !== 'object') return;
  const req = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
  if (req) pending.delete(msg.id);
  switch (msg.type) {
    case 'welcome': {
      if (msg.protocol !== 1) notice('Server speaks protocol ' + msg.protocol + '; this page knows 1');
      if (typeof msg.heartbeat_ms === 'number' && msg.heartbeat_ms > 0) link.heartbeatMs = msg.heartbeat_ms;
      link.limits = msg.limits || null;
      link.epoch = typeof msg.epoch === 'number' ? msg.epoch : null;
      if (stats.reconnects > 0 && link.attempt > 0) notice('Reconnected');
      link.attempt = 0;
      setState('live');
      sendSubscribe(watchlist.slice());
      startPinger();
      break;
    }
    case 'subscribed':
      applySubscribed(msg.symbols || [], msg.resumed);
      break;
    case 'unsubscribed':
      applyUnsubscribed(msg.symbols || []);
      break;
    case 'subscriptions':
      break;
    case 'pong':
      if (req) stats.rttMs = performance.now() - req.sentAt;
      break;
    case 'error': {
      const bad = Array.isArray(msg.symbols) ? msg.symbols : [];
      if (msg.code === 'unknown_symbol' && bad.length) {
        notice('Server does not know ' + bad.slice(0, 8).join(', ') + ': removed');
        hooks.unknownSymbols(bad);
        if (req && req.op === 'subscribe') sendSubscribe(req.symbols.filter((s) => states.has(s) && !bad.includes(s)));
      } else if (msg.code === 'rate_limited' && req && req.symbols) {
        setTimeout(() => {
          const again = req.symbols.filter((s) => req.op === 'subscribe' ? states.has(s) : !states.has(s));
          if (req.op === 'subscribe') sendSubscribe(again); else sendUnsubscribe(again);
        }, 1100);
      } else {
        notice('Server error ' + msg.code + ': ' + (msg.message || ''));
      }
      break;
    }
    default:
      break;   // unknown types are ignored (forward compatible)
  }
}

// ---------------------------------------------------------------- connection
function streamURL() {
  return (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/v1/stream';
}

export function connect() {
  setState(stats.reconnects > 0 || link.attempt > 0 ? 'reconnecting' : 'connecting');
  let sock;
  try {
    sock = new WebSocket(streamURL());
  } catch (e) {
    notice('Cannot open the stream: ' + e.message);
    scheduleReconnect();
    return;
  }
  sock.binaryType = 'arraybuffer';
  link.ws = sock;
  sock.onmessage = (ev) => {
    if (sock !== link.ws) return;
    if (typeof ev.data === 'string') onControl(ev.data); else applyTickBatch(ev.data);
  };
  sock.onerror = () => { /* a close event follows; handled there */ };
  sock.onclose = (ev) => {
    if (sock !== link.ws) return;
    link.ws = null;
    onDisconnected(ev.code);
  };
}

function onDisconnected(code) {
  link.lastCloseCode = code;
  const wasLive = link.state === 'live';
  stopPinger();
  pending.clear();
  markDisconnected();
  if (wasLive) stats.reconnects++;
  if (code === 1001) notice('Server is restarting (1001); reconnecting…');
  else if (code === 4001) notice('Server closed us as a slow consumer (4001); reconnecting…');
  else if (code === 4002) notice('Heartbeat timeout (4002); reconnecting…');
  else if (code === 1008) notice('Closed by server policy (1008); reconnecting…');
  setState('reconnecting');
  scheduleReconnect();
}

function scheduleReconnect() {
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, link.attempt));
  const delay = Math.round(base * (0.6 + 0.4 * Math.random()));
  link.attempt++;
  link.reconnectAt = performance.now() + delay;
  dirty.status = true;
  setTimeout(probeThenConnect, delay);
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
function probeThenConnect() {
  probeServer().then((ok) => { if (ok) connect(); else scheduleReconnect(); });
}

// Application-level ping: measures the round trip and notices a dead link
// (no pong within two heartbeats) faster than TCP would.
let pingTimer = 0;
function startPinger() {
  stopPinger();
  const every = Math.max(1000, Math.min(link.heartbeatMs, 15000));
  pingTimer = setInterval(() => {
    for (const [id, p] of pending) {
      if (p.op === 'ping' && performance.now() - p.sentAt > 2 * every + 2000) {
        pending.delete(id);
        if (link.ws) { try { link.ws.close(4000, 'no pong'); } catch (_) { /* ignore */ } }
        return;
      }
    }
    request('ping');
  }, every);
  request('ping');
}
function stopPinger() { clearInterval(pingTimer); pingTimer = 0; }

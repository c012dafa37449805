// The watchlist: which symbols the page shows, in which order, which one is
// selected, and how that survives a reload (localStorage, ?symbols=).
import { catalogue, watchlist, states, byId, page, dirty, link, newState } from './state.js';
import { addRow, removeRow, markSelected, renderEmpty, notice } from './render.js';
import { sendSubscribe, sendUnsubscribe, sendSelection, hooks } from './stream.js';

const STORAGE_KEY = 'ticker.watchlist.v1';
const SELECTED_KEY = 'ticker.selected.v1';
export const DEFAULT_WATCHLIST = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'JPM', 'SPY', 'QQQ'];

// ---------------------------------------------------------------- persistence
function loadStoredWatchlist() {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const list = JSON.parse(raw);
    return Array.isArray(list) ? list.filter((s) => typeof s === 'string') : null;
  } catch (_) { return null; }
}
export function saveWatchlist() {
  try { localStorage.setItem(STORAGE_KEY, JSON.stringify(watchlist)); } catch (_) { /* storage full or disabled */ }
}
function saveSelected() {
  try { if (page.selected) localStorage.setItem(SELECTED_KEY, page.selected); } catch (_) { /* ignore */ }
}
/** After an edit in the UI, the stored list is the truth: drop ?symbols= so a reload shows the edit. */
function dropUrlSymbols() {
  const url = new URL(location.href);
  if (url.searchParams.has('symbols')) {
    url.searchParams.delete('symbols');
    history.replaceState(null, '', url.pathname + (url.search ? url.search : '') + url.hash);
  }
}
export function parseSymbolList(text) {
  return String(text).split(/[\s,;]+/).map((s) => s.trim().toUpperCase()).filter((s) => s.length > 0);
}

// ---------------------------------------------------------------- watchlist edits
export function addSymbols(names, fromUser) {
  const added = [], unknown = [];
  for (const raw of names) {
    const name = raw.toUpperCase();
    if (states.has(name)) continue;
    if (page.catalogueLoaded && !catalogue.has(name)) { unknown.push(name); continue; }
    const max = link.limits && link.limits.max_symbols_per_connection;
    if (max && watchlist.length >= max) { notice('Watchlist is at the server limit of ' + max + ' symbols'); break; }
    const S = newState(name);
    states.set(name, S);
    watchlist.push(name);
    addRow(S);
    added.push(name);
  }
  if (unknown.length) notice('Unknown symbol' + (unknown.length > 1 ? 's: ' : ': ') + unknown.slice(0, 8).join(', ') + (unknown.length > 8 ? '…' : ''));
  if (added.length) {
    if (fromUser) { saveWatchlist(); dropUrlSymbols(); }
    if (page.selected === null || !states.has(page.selected)) select(added[0]);
    sendSubscribe(added);
  }
  renderEmpty();
  return added;
}

export function removeSymbol(name, fromUser) {
  const S = states.get(name);
  if (!S) return;
  states.delete(name);
  watchlist.splice(watchlist.indexOf(name), 1);
  if (S.id >= 0 && byId[S.id] === S) byId[S.id] = undefined;
  removeRow(S);
  if (fromUser) { saveWatchlist(); dropUrlSymbols(); }
  sendUnsubscribe([name]);   // also covers a subscribe whose reply is still in flight
  if (page.selected === name) select(watchlist.length ? watchlist[0] : null);
  renderEmpty();
}

export function replaceWatchlist(names, fromUser) {
  for (const s of watchlist.slice()) removeSymbol(s, false);
  addSymbols(names, false);
  if (fromUser) { saveWatchlist(); dropUrlSymbols(); }
}

export function select(name) {
  const oldName = page.selected;
  const old = oldName && states.get(oldName);
  if (old) markSelected(old, false);
  page.selected = name;
  sendSelection(oldName, name);   // the charted symbol at every tick, the rest at the watchlist's interval
  const S = name && states.get(name);
  if (S) { markSelected(S, true); S.dirty = true; }
  saveSelected();
  dirty.detail = true;
  dirty.chart = true;
}

/** The symbols to show at start: ?symbols= (`*` or ALL = every symbol), else the stored list, else the default. */
export function initialWatchlist() {
  const param = new URLSearchParams(location.search).get('symbols');
  if (param !== null && param.trim() !== '') {
    const names = parseSymbolList(param);
    if (names.length === 1 && (names[0] === '*' || names[0] === 'ALL')) return [...catalogue.keys()];
    return names;
  }
  const stored = loadStoredWatchlist();
  if (stored !== null) return stored;
  return DEFAULT_WATCHLIST.slice();
}

export function storedSelection() {
  try { return localStorage.getItem(SELECTED_KEY); } catch (_) { return null; }
}

hooks.unknownSymbols = (names) => { for (const s of names) removeSymbol(s, true); };
hooks.notEntitled = (names) => { for (const s of names) removeSymbol(s, false); };

// The page's DOM: watchlist rows, the status bar and the detail panel,
// repainted once per animation frame from the model in state.js, touching
// only the cells whose value changed.
import { formatPrice, nsHiLoToMs } from './ticker-client.js';
import { catalogue, watchlist, states, subscribed, refPrices, page, stats, dirty, link } from './state.js';
import { drawSpark, drawChart } from './charts.js';

const FLASH_MS = 380;
// A row repaints its numbers at most every rowPaintMs (a stale row at once):
// 12 Hz is faster than anyone reads a price, and it keeps a frame's DOM and
// paint work bounded when every symbol ticks 100 times a second. When frames
// come late (a busy machine), the interval stretches up to ROW_PAINT_MAX_MS
// so the page keeps its frame rate and its latency instead of its paint rate.
const ROW_PAINT_MS = 80, ROW_PAINT_MAX_MS = 320;
// At most this many rows' numbers and sparklines are redrawn per frame; the
// rest wait a frame, so a scroll or the 500 ms sparkline tick never lands
// on one frame whole.
const ROWS_PER_FRAME = 12, SPARKS_PER_FRAME = 8;
const DETAIL_PAINT_MS = 80;

const $ = (id) => document.getElementById(id);
export const el = {
  list: $('list'), notice: $('notice'), banner: $('banner'), search: $('search'), options: $('symbol-options'),
  conn: $('st-conn'), connText: $('st-conn-text'), msgs: $('st-msgs'), ticks: $('st-ticks'),
  lat: $('st-lat'), rtt: $('st-rtt'), rx: $('st-rx'), gaps: $('st-gaps'), conf: $('st-conf'), syms: $('st-syms'),
  fps: $('st-fps'), clock: $('st-clock'), wlCount: $('wl-count'),
  detail: $('detail'), dName: $('d-name'), dLast: $('d-last'), dDesc: $('d-desc'), dChg: $('d-chg'),
  dBid: $('d-bid'), dAsk: $('d-ask'), dSpread: $('d-spread'), dLsz: $('d-lsz'), dSeq: $('d-seq'),
  dRate: $('d-rate'), dTime: $('d-time'), dGaps: $('d-gaps'),
};

let noticeTimer = 0;
export function notice(text) {
  el.notice.textContent = text;
  el.notice.title = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { el.notice.textContent = ''; }, 6000);
}

/** A message that stays until the page is reloaded: why the stream stopped and what to do. */
export function showBanner(text) {
  el.banner.textContent = text;
  el.banner.hidden = false;
}

// ---------------------------------------------------------------- rows
// Every row is ROW_HEIGHT pixels tall (.row in dashboard.css), so which rows
// are on screen follows from the list's scroll offset and height: no
// observer, and no layout read, per row.
const ROW_HEIGHT = 30;
const ROW_MARGIN = 4;               // rows painted beyond each edge, for short scrolls
let listScrollTop = 0, listHeight = 0;
let paintedFirst = 0, paintedEnd = 0; // the rows [first, end) the last frame kept current
el.list.addEventListener('scroll', () => { listScrollTop = el.list.scrollTop; }, { passive: true });
if ('ResizeObserver' in window) {
  new ResizeObserver((entries) => { listHeight = entries[entries.length - 1].contentRect.height; }).observe(el.list);
} else {
  listHeight = 4000;
}

function cell(cls, text) {
  const d = document.createElement('div');
  d.className = cls;
  if (text !== undefined) d.textContent = text;
  return d;
}

/** A cell whose text changes: updated through its Text node, which keeps its layout object. */
function textCell(cls) {
  const d = cell(cls);
  d.appendChild(document.createTextNode('–'));
  return d;
}
function setText(cellEl, text) {
  cellEl.firstChild.nodeValue = text;
}

/** Appends the row of a newly watched symbol. */
export function addRow(S) {
  el.list.appendChild(buildRow(S));
  paintedEnd = 0;                   // rows may have moved: repaint what is on screen
}

export function removeRow(S) {
  S.row.el.remove();
  S.row = null;
  paintedEnd = 0;
}

export function markSelected(S, on) {
  if (S.row) S.row.el.classList.toggle('sel', on);
}

function buildRow(S) {
  const r = document.createElement('div');
  r.className = 'row stale';
  r.dataset.symbol = S.symbol;
  r.dataset.seq = '';
  const sym = cell('sym', S.symbol);
  const rs = document.createElement('span');   // the resume marker, painted only when it changes
  rs.className = 'rs';
  sym.appendChild(rs);
  const bsz = textCell('num sz c-bsz');
  const bid = textCell('num px c-bid');
  const ask = textCell('num px c-ask');
  const asz = textCell('num sz c-asz');
  const last = textCell('num px c-last');
  const chg = textCell('num c-chg');
  const chgp = textCell('num c-chgp');
  const rate = textCell('num rate c-rate');
  const sparkBox = cell('spark');
  const canvas = document.createElement('canvas');
  sparkBox.appendChild(canvas);
  const rm = document.createElement('button');
  rm.className = 'rm';
  rm.type = 'button';
  rm.title = 'Remove ' + S.symbol;
  rm.setAttribute('aria-label', 'Remove ' + S.symbol);
  rm.dataset.action = 'remove';
  rm.textContent = '×';
  r.append(sym, bsz, bid, ask, asz, last, chg, chgp, rate, sparkBox, rm);
  S.row = {
    el: r, rs, bid, ask, last, bsz, asz, chg, chgp, rate, canvas, ctx: null,
    shown: { seq: null, bid: null, ask: null, last: null, bsz: null, asz: null, chg: null, rate: null, stale: true, exp: null, resume: '' },
    flashUntil: [0, 0, 0], flashing: false, nextFlash: 0, sel: false, nextPaint: 0,
  };
  return r;
}

export function renderEmpty() {
  let empty = el.list.querySelector('.empty');
  if (watchlist.length === 0 && !empty) {
    empty = cell('empty', 'The watchlist is empty: add a symbol above.');
    el.list.appendChild(empty);
  } else if (watchlist.length > 0 && empty) {
    empty.remove();
  }
  el.wlCount.textContent = watchlist.length + (watchlist.length === 1 ? ' symbol' : ' symbols');
}

// ---------------------------------------------------------------- painting (once per animation frame)
let lastStatusPaint = 0, nextDetailPaint = 0;
let lastFrameAt = 0, frameMsAvg = 1000 / 60, rowPaintMs = ROW_PAINT_MS;
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtSize = (n) => n >= 1e6 ? (n / 1e6).toFixed(2) + 'M' : n >= 1e4 ? (n / 1e3).toFixed(1) + 'k' : String(n);

function changeText(S) {
  const ref = refPrices.get(S.symbol);
  if (!ref || !S.has || ref.exp !== S.exponent) return null;
  const diff = S.last - ref.m;
  const abs = (diff > 0 ? '+' : '') + formatPrice(diff, S.exponent);
  const pct = ref.m !== 0 ? (diff / Math.abs(ref.m)) * 100 : 0;
  return { diff, abs, pct: (pct > 0 ? '+' : '') + pct.toFixed(2) + '%' };
}

function setPx(row, cell, key, idx, value, exp, now) {
  const shown = row.shown;
  if (shown[key] === value && shown.exp === exp) return;
  const prev = shown[key];
  setText(cell, formatPrice(value, exp));
  if (prev !== null && shown.exp === exp) {
    cell.classList.toggle('up', value > prev);
    cell.classList.toggle('down', value < prev);
    row.flashUntil[idx] = now + FLASH_MS;
    row.flashing = true;
    row.nextFlash = Math.min(row.nextFlash || Infinity, now + FLASH_MS);
  }
  shown[key] = value;
}

function paintRow(S, now) {
  const row = S.row;
  const shown = row.shown;
  if (S.dirty && (now >= row.nextPaint || S.stale !== shown.stale)) {
    S.dirty = false;
    // jittered, so rows painted in the same frame drift apart instead of
    // all coming due again together
    row.nextPaint = now + rowPaintMs * (0.75 + 0.5 * Math.random());
    if (shown.stale !== S.stale) { row.el.classList.toggle('stale', S.stale); shown.stale = S.stale; }
    if (shown.resume !== S.resume) {
      row.rs.textContent = S.resume;
      row.rs.className = 'rs ' + S.resume;
      row.rs.title = S.resume === 'resumed' ? 'reconnected without a gap: the missed updates were replayed'
        : S.resume === 'reset' ? 'reconnected, but the server could not replay the missed updates (restarted, or away too long): fresh snapshot' : '';
      row.el.dataset.resume = S.resume;
      shown.resume = S.resume;
    }
    if (S.has) {
      if (shown.seq !== S.seq) { row.el.dataset.seq = String(S.seq); shown.seq = S.seq; }
      const exp = S.exponent;
      setPx(row, row.bid, 'bid', 0, S.bid, exp, now);
      setPx(row, row.ask, 'ask', 1, S.ask, exp, now);
      setPx(row, row.last, 'last', 2, S.last, exp, now);
      shown.exp = exp;
      if (shown.bsz !== S.bidSize) { setText(row.bsz, fmtSize(S.bidSize)); shown.bsz = S.bidSize; }
      if (shown.asz !== S.askSize) { setText(row.asz, fmtSize(S.askSize)); shown.asz = S.askSize; }
      const c = changeText(S);
      if (c && shown.chg !== c.abs + c.pct) {
        shown.chg = c.abs + c.pct;
        setText(row.chg, c.abs);
        setText(row.chgp, c.pct);
        const cls = c.diff > 0 ? 'pos' : c.diff < 0 ? 'neg' : '';
        row.chg.className = 'num c-chg ' + cls;
        row.chgp.className = 'num c-chgp ' + cls;
      }
    }
    const rate = Math.round(S.rate);
    if (shown.rate !== rate) { setText(row.rate, String(rate)); shown.rate = rate; }
  }
  if (row.flashing) {
    let any = false, next = Infinity;
    const cells = [row.bid, row.ask, row.last];
    for (let i = 0; i < 3; i++) {
      const until = row.flashUntil[i];
      if (until === 0) continue;
      if (now >= until) { cells[i].classList.remove('up', 'down'); row.flashUntil[i] = 0; } else { any = true; next = Math.min(next, until); }
    }
    row.flashing = any;
    row.nextFlash = next;
  }
}

function paintStatus(now) {
  lastStatusPaint = now;
  dirty.status = false;
  let text = link.state;
  if (link.state === 'reconnecting') {
    const left = Math.max(0, link.reconnectAt - now);
    const trying = link.client && link.client.state === 'connecting';
    text = trying ? 'reconnecting…' : 'reconnecting in ' + (left / 1000).toFixed(1) + 's';
  }
  el.conn.className = 'conn ' + link.state;
  el.connText.textContent = text;
  el.msgs.textContent = fmtInt(stats.msgRate);
  el.ticks.textContent = fmtInt(stats.tickRate);
  el.lat.textContent = stats.latencyP50 === null ? '–' : stats.latencyP50.toFixed(1) + ' ms';
  el.rtt.textContent = stats.rttMs === null ? '–' : stats.rttMs.toFixed(1) + ' ms';
  const enc = link.client && link.client.encoding;
  el.rx.textContent = enc ? (stats.bytesRate / 1000).toFixed(1) + ' KB/s ' + enc : '–';
  el.gaps.textContent = fmtInt(stats.gaps);
  el.gaps.className = 'v' + (stats.gaps > 0 ? ' neg' : '');
  el.conf.textContent = fmtInt(stats.conflated);
  el.syms.textContent = subscribed.size + ' / ' + watchlist.length;
  el.fps.textContent = stats.fps ? stats.fps.toFixed(0) : '–';
  const d = new Date();
  el.clock.textContent = d.toTimeString().slice(0, 8);
}

function paintDetail() {
  dirty.detail = false;
  const S = page.selected ? states.get(page.selected) : null;
  if (!S) {
    el.dName.textContent = '–'; el.dLast.textContent = '–'; el.dChg.textContent = '';
    el.dDesc.textContent = 'Add a symbol to start';
    for (const k of ['dBid', 'dAsk', 'dSpread', 'dLsz', 'dSeq', 'dRate', 'dTime', 'dGaps']) el[k].textContent = '–';
    return;
  }
  el.detail.classList.toggle('stale', S.stale);
  el.dName.textContent = S.symbol;
  const info = catalogue.get(S.symbol);
  el.dDesc.textContent = (S.stale ? 'stale · ' : '') + 'tick ' + (info && info.tickSize ? info.tickSize : formatPrice(1, S.exponent)) +
    ' · id ' + (S.id >= 0 ? S.id : '?') + (S.stale ? '' : ' · live');
  if (!S.has) { el.dLast.textContent = '–'; el.dChg.textContent = ''; return; }
  el.dLast.textContent = formatPrice(S.last, S.exponent);
  const c = changeText(S);
  if (c) {
    el.dChg.textContent = c.abs + '  (' + c.pct + ')';
    el.dChg.className = 'chg num ' + (c.diff > 0 ? 'pos' : c.diff < 0 ? 'neg' : '');
  }
  el.dBid.textContent = formatPrice(S.bid, S.exponent) + ' × ' + fmtSize(S.bidSize);
  el.dAsk.textContent = formatPrice(S.ask, S.exponent) + ' × ' + fmtSize(S.askSize);
  el.dSpread.textContent = formatPrice(S.ask - S.bid, S.exponent);
  el.dLsz.textContent = fmtSize(S.lastSize);
  el.dSeq.textContent = String(S.seq);
  el.dRate.textContent = String(Math.round(S.rate));
  const ms = nsHiLoToMs(S.timeHi, S.timeLo);
  const t = new Date(ms);
  el.dTime.textContent = t.toTimeString().slice(0, 8) + '.' + String(Math.floor(ms % 1000)).padStart(3, '0');
  el.dGaps.textContent = S.gaps + ' / ' + S.conflated;
}

function frame() {
  requestAnimationFrame(frame);
  stats.frames++;
  const now = performance.now();
  if (lastFrameAt > 0) frameMsAvg += (Math.min(now - lastFrameAt, 250) - frameMsAvg) * 0.1;
  lastFrameAt = now;
  rowPaintMs = frameMsAvg > 24 ? Math.min(ROW_PAINT_MAX_MS, rowPaintMs * 1.05) : Math.max(ROW_PAINT_MS, rowPaintMs * 0.98);
  // Only the rows on screen (and a few beyond) are painted; a row that has
  // just come into view is painted in full at once.
  const first = Math.max(0, Math.floor(listScrollTop / ROW_HEIGHT) - ROW_MARGIN);
  const end = Math.min(watchlist.length, Math.ceil((listScrollTop + listHeight) / ROW_HEIGHT) + ROW_MARGIN);
  let rowBudget = ROWS_PER_FRAME, sparkBudget = SPARKS_PER_FRAME;
  for (let i = first; i < end; i++) {
    const S = states.get(watchlist[i]);
    const row = S && S.row;
    if (!row) continue;
    if (i < paintedFirst || i >= paintedEnd) { S.dirty = true; S.sparkDirty = true; row.nextPaint = 0; }
    const due = S.dirty && (now >= row.nextPaint || S.stale !== row.shown.stale);
    if ((due && rowBudget > 0) || (row.flashing && now >= row.nextFlash)) { if (due) rowBudget--; paintRow(S, now); }
    if (S.sparkDirty && sparkBudget > 0) { sparkBudget--; drawSpark(S); }
  }
  paintedFirst = first; paintedEnd = end;
  if (dirty.detail && now >= nextDetailPaint) { nextDetailPaint = now + DETAIL_PAINT_MS; paintDetail(); }
  if (dirty.chart) drawChart();
  if (dirty.status || now - lastStatusPaint > 250) paintStatus(now);
}

/** Starts the paint loop: one `frame()` per animation frame. */
export function startRendering() {
  requestAnimationFrame(frame);
}

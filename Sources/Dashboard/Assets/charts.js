// Canvas drawing: the 60 s sparkline in each watchlist row and the detail
// chart of the selected symbol. Sizes come from resize events, never from a
// layout read while drawing.
import { states, refPrices, page, dirty, SAMPLE_MS } from './state.js';

const chartCanvas = document.getElementById('chart');
const chartWrap = document.getElementById('chartwrap');
const dpr = () => window.devicePixelRatio || 1;

// Every sparkline has the same CSS size (one grid column): measured once
// per resize, never per canvas, so drawing never forces a layout.
let sparkSize = null;
export function drawSpark(S) {
  const row = S.row, c = row.canvas;
  if (sparkSize === null) {
    const b = c.getBoundingClientRect();
    if (b.width === 0 || b.height === 0) return;   // not laid out yet: retry next frame
    sparkSize = { w: b.width, h: b.height };
  }
  S.sparkDirty = false;
  const w = sparkSize.w, h = sparkSize.h;
  const ratio = dpr();
  const W = Math.round(w * ratio), H = Math.round(h * ratio);
  if (c.width !== W || c.height !== H) { c.width = W; c.height = H; row.ctx = null; }
  const ctx = row.ctx || (row.ctx = c.getContext('2d'));
  ctx.clearRect(0, 0, W, H);
  const ring = S.spark, n = ring.count;
  if (n < 2) return;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) { const v = ring.at(i); if (v < lo) lo = v; if (v > hi) hi = v; }
  if (hi === lo) { hi += 0.5; lo -= 0.5; }
  const pad = 2 * ratio;
  // Until 60 s of history exist, stretch what there is (at least 10 s wide).
  const span = Math.max(n, 10);
  const x = (i) => pad + ((span - n + i) / (span - 1)) * (W - 2 * pad);
  const y = (v) => H - pad - ((v - lo) / (hi - lo)) * (H - 2 * pad);
  const up = ring.at(n - 1) >= ring.at(0);
  ctx.beginPath();
  for (let i = 0; i < n; i++) { const v = ring.at(i); if (i === 0) ctx.moveTo(x(i), y(v)); else ctx.lineTo(x(i), y(v)); }
  ctx.lineWidth = 1.25 * ratio;
  ctx.strokeStyle = up ? '#1fc27a' : '#f0525a';
  ctx.stroke();
  ctx.lineTo(x(n - 1), H); ctx.lineTo(x(0), H); ctx.closePath();
  ctx.fillStyle = up ? 'rgba(31,194,122,0.10)' : 'rgba(240,82,90,0.10)';
  ctx.fill();
}

let chartFont = null;
let chartSize = null;   // from the ResizeObserver: reading clientWidth here would force a layout
export function drawChart() {
  const c = chartCanvas, wrap = chartWrap;
  if (chartSize === null) chartSize = { w: wrap.clientWidth, h: wrap.clientHeight };
  dirty.chart = false;
  const w = chartSize.w, h = chartSize.h;
  if (w === 0 || h === 0) return;
  const ratio = dpr();
  const W = Math.round(w * ratio), H = Math.round(h * ratio);
  if (c.width !== W || c.height !== H) { c.width = W; c.height = H; }
  const ctx = c.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const S = page.selected ? states.get(page.selected) : null;
  ctx.font = chartFont || (chartFont = '11px ' + getComputedStyle(document.body).getPropertyValue('--mono'));
  ctx.textBaseline = 'middle';
  if (!S || S.dLast.count < 2) {
    ctx.fillStyle = '#566070';
    ctx.textAlign = 'center';
    ctx.fillText(S ? 'collecting data…' : 'no symbol selected', w / 2, h / 2);
    return;
  }
  const n = S.dLast.count;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const b = S.dBid.at(i), a = S.dAsk.at(i);
    if (b < lo) lo = b; if (a > hi) hi = a;
  }
  if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  const range = hi - lo; hi += range * 0.08; lo -= range * 0.08;
  const left = 22, right = 74, top = 14, bottom = 24;
  const pw = w - left - right, ph = h - top - bottom;
  // The x axis covers the history there is (10 s at least, 60 s at most).
  const span = Math.max(n, 100);
  const spanS = span * SAMPLE_MS / 1000;
  const X = (i) => left + ((span - n + i) / (span - 1)) * pw;
  const Y = (v) => top + (1 - (v - lo) / (hi - lo)) * ph;
  const decimals = Math.max(0, -S.exponent);

  // grid + price axis
  ctx.strokeStyle = '#1b2330'; ctx.lineWidth = 1;
  ctx.fillStyle = '#7c8797'; ctx.textAlign = 'left';
  for (let k = 0; k <= 5; k++) {
    const v = lo + ((hi - lo) * k) / 5, yy = Math.round(Y(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(left + pw, yy); ctx.stroke();
    ctx.fillText(v.toFixed(decimals), left + pw + 8, yy);
  }
  ctx.textAlign = 'center';
  const step = spanS > 30 ? 10 : spanS > 12 ? 5 : 2;
  for (let s = 0; s <= spanS + 1e-9; s += step) {
    const xx = Math.round(left + ((spanS - s) / spanS) * pw) + 0.5;
    ctx.beginPath(); ctx.moveTo(xx, top); ctx.lineTo(xx, top + ph); ctx.stroke();
    ctx.fillText(s === 0 ? 'now' : '-' + s + 's', xx, top + ph + 12);
  }
  // open reference
  const ref = refPrices.get(S.symbol);
  if (ref && ref.exp === S.exponent) {
    const rv = ref.m * Math.pow(10, ref.exp);
    if (rv > lo && rv < hi) {
      ctx.save(); ctx.setLineDash([4, 4]); ctx.strokeStyle = '#566070';
      ctx.beginPath(); ctx.moveTo(left, Y(rv)); ctx.lineTo(left + pw, Y(rv)); ctx.stroke(); ctx.restore();
    }
  }
  // bid-ask band
  ctx.beginPath();
  for (let i = 0; i < n; i++) { const xx = X(i), yy = Y(S.dAsk.at(i)); if (i === 0) ctx.moveTo(xx, yy); else ctx.lineTo(xx, yy); }
  for (let i = n - 1; i >= 0; i--) ctx.lineTo(X(i), Y(S.dBid.at(i)));
  ctx.closePath();
  ctx.fillStyle = 'rgba(76,141,255,0.30)';
  ctx.fill();
  // last line
  const grad = ctx.createLinearGradient(0, top, 0, top + ph);
  grad.addColorStop(0, 'rgba(76,141,255,0.10)'); grad.addColorStop(1, 'rgba(76,141,255,0)');
  ctx.beginPath();
  for (let i = 0; i < n; i++) { const xx = X(i), yy = Y(S.dLast.at(i)); if (i === 0) ctx.moveTo(xx, yy); else ctx.lineTo(xx, yy); }
  ctx.strokeStyle = '#4c8dff'; ctx.lineWidth = 1.6; ctx.stroke();
  ctx.lineTo(X(n - 1), top + ph); ctx.lineTo(X(0), top + ph); ctx.closePath();
  ctx.fillStyle = grad; ctx.fill();
  // current price tag
  const lastV = S.dLast.at(n - 1), ly = Y(lastV);
  const up = !ref || lastV >= ref.m * Math.pow(10, ref.exp);
  ctx.fillStyle = up ? '#1fc27a' : '#f0525a';
  ctx.fillRect(left + pw + 2, ly - 9, right - 4, 18);
  ctx.fillStyle = '#06110b'; ctx.textAlign = 'left';
  ctx.fillText(lastV.toFixed(decimals), left + pw + 8, ly);
  ctx.beginPath(); ctx.arc(X(n - 1), ly, 3, 0, Math.PI * 2); ctx.fillStyle = '#4c8dff'; ctx.fill();
}

if ('ResizeObserver' in window) {
  new ResizeObserver((entries) => {
    const r = entries[entries.length - 1].contentRect;
    chartSize = { w: r.width, h: r.height };
    dirty.chart = true;
  }).observe(chartWrap);
}
window.addEventListener('resize', () => {
  sparkSize = null; chartSize = null;
  for (const S of states.values()) S.sparkDirty = true;
  dirty.chart = true;
});

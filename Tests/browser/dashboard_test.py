#!/usr/bin/env python3
"""Browser acceptance test for the dashboard served at GET /.

Drives real headless Chromium through Selenium 4 against a `ticker serve`
process this script starts (and restarts) itself:

  1. server up (/healthz)
  2. /?symbols=<20 symbols>: prices change within 2 s
  3. displayed bid/ask/last for one symbol equal `ticker tap --json` for the same sequence number
  4. removing a symbol in the UI stops its row/ticks; the watchlist survives a reload
  5. SIGTERM + restart on the same port: page shows reconnecting/stale, then live with moving prices
  6. no errors in the browser console
  7. screenshot to .build/dashboard.png (docs/dashboard.png only when
     UPDATE_SCREENSHOT=1 is set: a test run never rewrites a tracked file)
  8. all symbols (/?symbols=*): frame rate over 5 s >= 30 fps, long tasks reported
  9. the dashboard runs on the JavaScript client (/assets/ticker-client.js, checked
     in 2 and 5), and a page of another origin imports that module and gets ticks
 10. auth: a second server with --auth-keys (a random key in a temporary
     directory, tokens minted with `ticker token`): the page, its assets and
     /v1/symbols need no token; /?token=VALID for AAPL,MSFT shows their ticks
     (NVDA, outside the token, is removed with a notice); an expired token, no
     token and a publish-role token each show the 4401/4403 message in the page
     and stop: the server counts one upgrade per page over 5 s (/metrics
     ticker_http_responses_total{status="101"}, read with an admin token); a
     token expiring while the page is live: a notice, then the 4401 message;
     screenshot to .build/dashboard-auth.png; no console errors

 11. the wire (a server of its own, default feed): the dashboard with all
     symbols in its watchlist on one connection, the watchlist at 250 ms and
     the selected symbol at every tick, in the delta encoding: over >= 10 s it
     receives at most 60 KB/s as the browser counts the bytes (binary
     byteLength + text length), keeps >= 30 frames/s, and its latency figure
     (corrected by the clock offset from pong.time_ns) is never negative;
     changing the selection swaps the two intervals. A server that offers no
     delta (welcome without `encoding`) is measured on raw + 250 ms and the
     byte limit is reported, not applied.

`--auth-only` runs check 10 alone; `--wire-only` check 11 alone.
Environment: TICKER_BIN (default .build/release/ticker under the repo root),
CHROMEDRIVER (default /usr/bin/chromedriver), CHROMIUM (optional binary path).
Prints one PASS/FAIL line per check and exits 1 if any failed.
"""
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

ROOT = Path(__file__).resolve().parents[2]
TICKER = Path(os.environ.get("TICKER_BIN", ROOT / ".build" / "release" / "ticker"))
if not TICKER.is_absolute():
    TICKER = ROOT / TICKER
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOT = ROOT / ("docs" if os.environ.get("UPDATE_SCREENSHOT") == "1" else ".build") / "dashboard.png"
AUTH_SCREENSHOT = ROOT / ".build" / "dashboard-auth.png"
MIN_FPS = 30.0
MAX_WIRE_BYTES_PER_S = 60_000      # issue 22: all 520 symbols on delta + 250 ms under 60 KB/s
WIRE_SECONDS = 12.0

results = []          # (name, ok, detail)
console_entries = []  # every browser log entry seen, with the phase it was collected in


def log(msg):
    print(msg, flush=True)


def record(name, ok, detail=""):
    results.append((name, ok, detail))
    log(f"{'PASS' if ok else 'FAIL'}  {name}{': ' + detail if detail else ''}")


def check(name):
    """Decorator-ish helper: run fn, record PASS with its returned detail or FAIL with the exception."""
    def run(fn):
        try:
            detail = fn()
            record(name, True, detail or "")
            return True
        except Exception as e:  # noqa: BLE001 - report every failure, keep going
            record(name, False, f"{type(e).__name__}: {e}")
            if os.environ.get("VERBOSE"):
                traceback.print_exc()
            return False
    return run


def wait_for(pred, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port, extra_args=()):
        self.port = port
        self.extra_args = list(extra_args)
        self.proc = None
        self.logfile = tempfile.NamedTemporaryFile(prefix="ticker-serve-", suffix=".log", delete=False)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            self.proc = subprocess.Popen(
                [str(TICKER), "serve", "--port", str(self.port), "--heartbeat-ms", "2000", *self.extra_args],
                stdout=self.logfile, stderr=subprocess.STDOUT, cwd=ROOT)
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break  # exited (e.g. port still busy): retry below
                try:
                    with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                        if r.status == 200:
                            return
                except OSError:
                    pass
                time.sleep(0.1)
            if time.monotonic() >= deadline:
                raise RuntimeError(f"server did not become healthy on port {self.port}; log: {self.logfile.name}")
            time.sleep(0.3)

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


def new_driver():
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000",
                "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    if os.environ.get("CHROMIUM"):
        opts.binary_location = os.environ["CHROMIUM"]
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def drain_console(driver, phase):
    for e in driver.get_log("browser"):
        console_entries.append((phase, e))


ROWS_JS = """
return Array.from(document.querySelectorAll('#list .row')).map(r => ({
  symbol: r.dataset.symbol, seq: r.dataset.seq, stale: r.classList.contains('stale'),
  bid: r.querySelector('.c-bid').textContent, ask: r.querySelector('.c-ask').textContent,
  last: r.querySelector('.c-last').textContent}));
"""


def rows(driver):
    return {r["symbol"]: r for r in driver.execute_script(ROWS_JS)}


def dash(driver, expr):
    return driver.execute_script(f"return window.tickerDashboard && window.tickerDashboard.{expr};")


def wait_live_with_rows(driver, count, timeout=10):
    def ready():
        if dash(driver, "state") != "live":
            return False
        rs = rows(driver)
        live = [r for r in rs.values() if r["seq"] and not r["stale"]]
        return len(rs) == count and len(live) == count and rs
    return wait_for(ready, timeout, what=f"state live with {count} non-stale rows")


def prices_moving(driver, timeout, minimum):
    """Returns how many rows changed a displayed price within `timeout` seconds (asserts >= minimum)."""
    before = rows(driver)
    t0 = time.monotonic()

    def moved():
        now = rows(driver)
        n = sum(1 for s, r in now.items() if s in before and
                (r["bid"], r["ask"], r["last"]) != (before[s]["bid"], before[s]["ask"], before[s]["last"]))
        return n if n >= minimum else False
    n = wait_for(moved, timeout, what=f">= {minimum} rows with a changed price")
    return n, time.monotonic() - t0


def dashboard_scenarios():
    """Checks 1-9 against a server without auth."""
    port = free_port()
    server = Server(port)
    driver = None
    state = {}
    try:
        @check("1 server starts and /healthz answers")
        def _():
            server.start()
            with urllib.request.urlopen(server.base + "/v1/symbols", timeout=5) as r:
                state["symbols"] = [s["symbol"] for s in json.load(r)]
            with urllib.request.urlopen(server.base + "/", timeout=5) as r:
                page = r.read().decode()
            assert 'src="assets/app.js"' in page, "GET / is not the dashboard page"
            with urllib.request.urlopen(server.base + "/assets/app.js", timeout=5) as r:
                app = r.read().decode()
                assert r.headers["Content-Type"].startswith("text/javascript"), r.headers["Content-Type"]
            assert "tickerDashboard" in app, "/assets/app.js is not the dashboard's script"
            with urllib.request.urlopen(server.base + "/assets/ticker-client.js", timeout=5) as r:
                acao = r.headers["Access-Control-Allow-Origin"]
            assert acao == "*", f"/assets/ticker-client.js has Access-Control-Allow-Origin {acao!r}"
            return f"pid {server.proc.pid} port {port}, {len(state['symbols'])} symbols"

        if "symbols" not in state:
            raise SystemExit(1)
        driver = new_driver()
        syms20 = state["symbols"][:20]
        focus = syms20[0]          # compared against `ticker tap`
        victim = syms20[5]         # removed through the UI

        @check("2 twenty symbols: prices change within 2 s")
        def _():
            driver.get(server.base + "/?symbols=" + ",".join(syms20))
            wait_live_with_rows(driver, 20)
            n, dt = prices_moving(driver, 2.0, 10)
            return f"{n}/20 rows changed a displayed price within {dt:.2f}s"

        @check("2b the page runs on the JavaScript client module")
        def _():
            loaded = driver.execute_script(
                "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)"
                ".filter(p => p.startsWith('/assets/'))")
            assert "/assets/ticker-client.js" in loaded, f"ticker-client.js not loaded: {loaded}"
            assert not any(p.endswith("/wire.js") for p in loaded), f"an old decoder was loaded: {loaded}"
            c = dash(driver, "client")
            ev = c["events"]
            assert c["state"] == "open" and ev.get("connected") == 1 and ev.get("subscribed", 0) >= 1, f"client: {c}"
            assert ev.get("ticks", 0) > 0, f"no ticks events from the client: {c}"
            # Read in one script turn, so no message arrives between the two numbers.
            page_msgs, client_ticks = driver.execute_script(
                "const d = window.tickerDashboard; return [d.messages, d.client.events.ticks];")
            assert page_msgs == client_ticks, f"page counted {page_msgs} messages, the client delivered {client_ticks}"
            return f"modules {', '.join(p.rsplit('/', 1)[1] for p in loaded if p.endswith('.js'))}; client {c['state']} at {c['url']}, events {ev}"

        @check(f"3 displayed {focus} equals `ticker tap` for the same sequence")
        def _():
            tap = subprocess.Popen(
                [str(TICKER), "tap", "--url", f"ws://127.0.0.1:{port}/v1/stream", "--symbols", focus,
                 "--json", "--seconds", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            samples = []
            time.sleep(0.3)
            t_end = time.monotonic() + 3.3
            while time.monotonic() < t_end:
                r = rows(driver).get(focus)
                if r and r["seq"]:
                    samples.append(r)
                time.sleep(0.04)
            out, err = tap.communicate(timeout=15)
            assert tap.returncode == 0, f"tap exited {tap.returncode}: {err.strip()[:300]}"
            taps = {}
            for line in out.splitlines():
                obj = json.loads(line, parse_float=Decimal)
                if obj["symbol"] == focus:
                    taps[int(obj["seq"])] = obj
            assert taps, "tap printed no ticks"
            matched, mismatched = 0, []
            for s in samples:
                t = taps.get(int(s["seq"]))
                if t is None:
                    continue
                shown = (Decimal(s["bid"]), Decimal(s["ask"]), Decimal(s["last"]))
                want = (t["bid"], t["ask"], t["last"])
                if shown == want:
                    matched += 1
                else:
                    mismatched.append((s["seq"], shown, want))
            assert not mismatched, f"{len(mismatched)} sampled rows differ from tap, e.g. {mismatched[:3]}"
            assert matched >= 1, f"none of {len(samples)} sampled seqs appears in tap's {len(taps)} ticks"
            ex = next(s for s in samples if int(s['seq']) in taps)
            return (f"{matched}/{len(samples)} samples matched tap exactly (tap printed {len(taps)} ticks, "
                    f"seq {min(taps)}..{max(taps)}); e.g. seq {ex['seq']} bid {ex['bid']} ask {ex['ask']} last {ex['last']}")

        @check(f"4a removing {victim} in the UI stops its row and ticks")
        def _():
            row = driver.find_element(By.CSS_SELECTOR, f'#list .row[data-symbol="{victim}"]')
            driver.execute_script("arguments[0].scrollIntoView({block:'center'})", row)
            btn = row.find_element(By.CSS_SELECTOR, "button[data-action=remove]")
            # the remove button shows on hover, as for a mouse user
            ActionChains(driver).move_to_element(row).pause(0.2).move_to_element(btn).click().perform()
            wait_for(lambda: victim not in rows(driver), 2, what="row removed")
            wait_for(lambda: victim not in dash(driver, "subscribed"), 3, what="server confirmed unsubscribe")
            time.sleep(0.3)  # let records already in flight arrive
            c0 = (dash(driver, "tickCounts") or {}).get(victim, 0)
            time.sleep(1.5)
            c1 = (dash(driver, "tickCounts") or {}).get(victim, 0)
            assert victim not in rows(driver), "row came back"
            assert victim not in dash(driver, "symbols"), "symbol still in page state"
            assert c1 == c0, f"ticks for {victim} still arriving ({c0} -> {c1})"
            others = len(rows(driver))
            assert others == 19, f"expected 19 rows, have {others}"
            return f"row gone, unsubscribe confirmed, tick count frozen at {c1} over 1.5 s, 19 rows left"

        @check("4b watchlist survives a reload (localStorage)")
        def _():
            driver.get(server.base + "/")
            wait_live_with_rows(driver, 19)
            wl = dash(driver, "watchlist")
            assert victim not in wl and wl == [s for s in syms20 if s != victim], f"watchlist after reload: {wl}"
            return f"reload of / shows the same 19 symbols in order"

        @check("4c clicking a row selects it for the chart")
        def _():
            target = syms20[2]
            driver.find_element(By.CSS_SELECTOR, f'#list .row[data-symbol="{target}"] .sym').click()
            wait_for(lambda: dash(driver, "selected") == target and
                     driver.find_element(By.ID, "d-name").text == target, 2, what="selection")
            return f"{target} selected, detail panel shows it"

        @check(f"4d adding {victim} back through the search box (and rejecting an unknown name)")
        def _():
            box = driver.find_element(By.ID, "search")
            box.clear()
            box.send_keys("ZZZZQ" + Keys.ENTER)
            wait_for(lambda: "ZZZZQ" in driver.find_element(By.ID, "notice").text, 2, what="unknown-symbol notice")
            assert "ZZZZQ" not in rows(driver), "unknown symbol got a row"
            box.clear()
            box.send_keys(victim.lower() + Keys.ENTER)
            wait_for(lambda: (rows(driver).get(victim) or {}).get("seq"), 3, what=f"{victim} row ticking")
            seq0 = int(rows(driver)[victim]["seq"])
            wait_for(lambda: int(rows(driver)[victim]["seq"]) > seq0, 2, what=f"{victim} seq advancing")
            driver.find_element(By.CSS_SELECTOR, f'#list .row[data-symbol="{victim}"] .sym').click()
            ActionChains(driver).move_to_element(
                driver.find_element(By.CSS_SELECTOR, f'#list .row[data-symbol="{victim}"]')).perform()
            driver.find_element(By.CSS_SELECTOR, f'#list .row[data-symbol="{victim}"] button[data-action=remove]').click()
            wait_for(lambda: victim not in rows(driver), 2, what="row removed again")
            driver.find_element(By.CSS_SELECTOR, f'#list .row[data-symbol="{syms20[2]}"] .sym').click()
            return f"ZZZZQ rejected with a notice; '{victim.lower()}' added as {victim}, ticked past seq {seq0}, removed again"

        drain_console(driver, "before restart")

        @check("5 server restart: page goes reconnecting/stale, then live with moving prices")
        def _():
            pid = server.proc.pid
            code = server.stop()
            t_kill = time.monotonic()

            def stale():
                rs = rows(driver)
                return dash(driver, "state") == "reconnecting" and rs and all(r["stale"] for r in rs.values())
            wait_for(stale, 5, what="state reconnecting with every row stale")
            status = driver.find_element(By.ID, "st-conn-text").text
            t_stale = time.monotonic() - t_kill
            time.sleep(1.0)
            server.start()
            t_up = time.monotonic()
            wait_live_with_rows(driver, 19, timeout=15)
            t_live = time.monotonic() - t_up
            n, dt = prices_moving(driver, 3.0, 10)
            # The page resubscribed with `from` for every row; a new server
            # process (another epoch) holds none of it, so each row says reset.
            marks = {sym: d.get("resume") for sym, d in dash(driver, "symbols").items()}
            shown = driver.execute_script(
                "return [...document.querySelectorAll('#list .row')].map(r => r.dataset.resume || '')")
            if set(marks.values()) != {"reset"} or set(shown) != {"reset"}:
                raise AssertionError(f"rows after restart should all show reset: {marks} / {shown}")
            # ...as the client reported it: one reset event per row, a second session, no gap.
            ev = dash(driver, "client")["events"]
            assert ev.get("reset", 0) >= 19 and ev.get("connected") == 2 and ev.get("disconnected", 0) >= 1 \
                and not ev.get("gap"), f"client events after the restart: {ev}"
            return (f"every row marked reset (new epoch; client events {ev}); "
                    f"SIGTERM pid {pid} (exit {code}); stale+'{status}' after {t_stale:.2f}s; "
                    f"restarted pid {server.proc.pid}, live again {t_live:.2f}s after restart "
                    f"(close code {dash(driver, 'lastCloseCode')}); {n}/19 rows moved within {dt:.2f}s")

        drain_console(driver, "after restart")

        @check("7 screenshot saved")
        def _():
            time.sleep(5.0)  # some chart and sparkline history since the reload in 4b
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            assert driver.save_screenshot(str(SCREENSHOT)), "save_screenshot returned False"
            return f"{SCREENSHOT.relative_to(ROOT)} ({SCREENSHOT.stat().st_size} bytes)"

        info = {k: dash(driver, k) for k in ("gaps", "conflated", "messages", "ticks", "badFrames", "reconnects")}
        log(f"      scenario 1 totals: {info}")
        drain_console(driver, "end of scenario 1")
        driver.quit()
        driver = None

        # ---- scenario 2: every symbol
        driver = new_driver()

        @check("8a fresh profile at / opens the default watchlist")
        def _():
            driver.get(server.base + "/")
            wait_for(lambda: dash(driver, "state") == "live" and len(dash(driver, "subscribed") or []) >= 5,
                     10, what="default symbols subscribed")
            wl = dash(driver, "watchlist")
            assert "AAPL" in wl and "MSFT" in wl, f"default watchlist: {wl}"
            return ", ".join(wl)

        @check(f"8 all symbols: >= {MIN_FPS:.0f} frames/s over 5 s")
        def _():
            n_all = len(state["symbols"])
            driver.get(server.base + "/?symbols=*")
            wait_for(lambda: dash(driver, "state") == "live" and len(dash(driver, "subscribed") or []) == n_all,
                     15, what=f"{n_all} symbols subscribed")
            time.sleep(2.0)  # warm up: every row has ticked, rates are settled
            driver.execute_script("""
              const m = window.__perf = {frames: 0, longTasks: 0, longTaskMs: 0, longestMs: 0, t0: performance.now()};
              (function f() { m.frames++; m.raf = requestAnimationFrame(f); })();
              try {
                m.obs = new PerformanceObserver((list) => {
                  for (const e of list.getEntries()) { m.longTasks++; m.longTaskMs += e.duration; m.longestMs = Math.max(m.longestMs, e.duration); }
                });
                m.obs.observe({type: 'longtask'});
              } catch (e) { m.longTasks = -1; }
            """)
            t0 = dash(driver, "ticks")
            time.sleep(2.5)
            # scroll half-way through the list mid-measurement, so freshly visible rows must paint
            driver.execute_script("const l = document.getElementById('list'); l.scrollTop = l.scrollHeight / 2;")
            time.sleep(2.5)
            m = driver.execute_script("""
              const m = window.__perf; cancelAnimationFrame(m.raf); if (m.obs) m.obs.disconnect();
              return {frames: m.frames, ms: performance.now() - m.t0, longTasks: m.longTasks,
                      longTaskMs: m.longTaskMs, longestMs: m.longestMs};
            """)
            ticks = dash(driver, "ticks") - t0
            rates = dash(driver, "rates")
            fps = m["frames"] * 1000.0 / m["ms"]
            secs = m["ms"] / 1000
            log(f"      scenario 2: {n_all} rows, {fps:.1f} fps over {secs:.2f}s, long tasks {m['longTasks']} "
                f"(total {m['longTaskMs']:.0f} ms, longest {m['longestMs']:.0f} ms), "
                f"{ticks / secs:,.0f} ticks/s decoded, {rates['messagesPerSecond']:,.0f} msgs/s, "
                f"latency p50 {rates['latencyP50Ms'] or float('nan'):.1f} ms, gaps {dash(driver, 'gaps')}, conflated {dash(driver, 'conflated')}")
            assert fps >= MIN_FPS, f"{fps:.1f} fps < {MIN_FPS}"
            return f"{fps:.1f} fps, {m['longTasks']} long tasks, {ticks / secs:,.0f} ticks/s"

        drain_console(driver, "scenario 2")

        @check("9 a page of another origin imports /assets/ticker-client.js and gets ticks")
        def _():
            # http://localhost:PORT is another origin than http://127.0.0.1:PORT:
            # the module import needs the CORS header; the server has no
            # --allow-origin here, so the stream accepts the page.
            driver.get(f"http://localhost:{port}/healthz")
            driver.set_script_timeout(15)
            got = driver.execute_async_script("""
              const done = arguments[arguments.length - 1];
              const base = arguments[0];
              import(base + '/assets/ticker-client.js').then((m) => {
                const client = new m.TickerClient({ url: base.replace('http:', 'ws:') + '/v1/stream', symbols: ['AAPL', 'MSFT'] });
                const seen = { origin: location.origin, events: [], ticks: 0, text: null };
                for (const t of ['connected', 'subscribed', 'error', 'disconnected', 'gap'])
                  client.addEventListener(t, () => seen.events.push(t));
                client.addEventListener('ticks', (e) => {
                  seen.ticks += e.ticks.length;
                  const t = e.ticks[0];
                  if (!seen.text && t.symbol) seen.text = t.symbol + ' ' + m.formatPrice(t.last, t.priceExponent);
                  if (seen.ticks >= 20) { client.close(); done(seen); }
                });
                setTimeout(() => { client.close(); done(seen); }, 10000);
              }, (e) => done({ importError: String(e) }));
            """, server.base)
            assert "importError" not in got, f"import failed: {got}"
            assert got["origin"] != server.base, f"page origin {got['origin']} is not another origin"
            assert got["ticks"] >= 20 and got["events"][:2] == ["connected", "subscribed"], f"cross-origin client: {got}"
            return f"page at {got['origin']}: events {got['events']}, {got['ticks']} records, e.g. {got['text']}"

        drain_console(driver, "cross-origin")

        @check("6 browser console has no errors")
        def _():
            # The only errors allowed: the browser's own network log line for a
            # /healthz probe refused while the server was deliberately down
            # (collected in the "after restart" phase), and its request for the
            # icon of the plain-text page check 9 runs on (the server has no
            # /favicon.ico; the dashboard page declares none). Everything else fails.
            def expected_refusal(phase, e):
                m = e.get("message", "")
                if phase == "cross-origin":
                    return "/favicon.ico" in m and "404" in m
                return phase == "after restart" and "/healthz" in m and "ERR_CONNECTION_REFUSED" in m
            errors = [(phase, e) for phase, e in console_entries
                      if e.get("level") == "SEVERE" and not expected_refusal(phase, e)]
            refused = sum(1 for phase, e in console_entries if phase == "after restart" and expected_refusal(phase, e))
            for phase, e in console_entries:
                log(f"      console [{phase}] {e.get('level')}: {e.get('message')}")
            assert not errors, f"{len(errors)} error(s): " + " | ".join(f"[{p}] {e['message']}" for p, e in errors[:5])
            return (f"{len(console_entries)} console entries; no errors apart from {refused} refused "
                    f"/healthz probe(s) while the server was down and the plain-text page's favicon")
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001
                pass
        server.stop()

    log(f"      server log: {server.logfile.name}")


def wire_scenario():
    """Check 11: the dashboard's wire cost with every symbol, on a server of its own."""
    port = free_port()
    server = Server(port)
    driver = None
    try:
        server.start()
        with urllib.request.urlopen(server.base + "/v1/symbols", timeout=5) as r:
            n_all = len(json.load(r))
        driver = new_driver()

        @check(f"11 all symbols on delta + 250 ms: <= {MAX_WIRE_BYTES_PER_S // 1000} KB/s, >= {MIN_FPS:.0f} fps, latency never negative")
        def _():
            driver.get(server.base + "/?symbols=*")
            wait_for(lambda: dash(driver, "state") == "live" and len(dash(driver, "subscribed") or []) == n_all,
                     15, what=f"{n_all} symbols subscribed")
            selected = dash(driver, "selected")
            intervals = wait_for(lambda: (lambda iv: iv if iv.get(selected) == 0 else False)(dash(driver, "intervals")),
                                 5, what=f"the selected {selected} at every tick")
            others = {ms for name, ms in intervals.items() if name != selected}
            assert len(intervals) == n_all and others == {250}, f"intervals: selected {intervals.get(selected)}, others {others}"
            encoding = dash(driver, "encoding")
            time.sleep(3.0)  # warm up: snapshots in, the clock offset sampled, rates settled
            driver.execute_script("""
              const m = window.__wire = {frames: 0, t0: performance.now(), b0: window.tickerDashboard.bytesReceived,
                                         tick0: window.tickerDashboard.tickCounts, lat: [], shown: []};
              (function f() { m.frames++; m.raf = requestAnimationFrame(f); })();
              m.timer = setInterval(() => {
                m.lat.push(window.tickerDashboard.rates.latencyP50Ms);
                m.shown.push(document.getElementById('st-lat').textContent);
              }, 250);
            """)
            time.sleep(WIRE_SECONDS / 2)
            driver.execute_script("const l = document.getElementById('list'); l.scrollTop = l.scrollHeight / 2;")
            time.sleep(WIRE_SECONDS / 2)
            m = driver.execute_script("""
              const m = window.__wire; cancelAnimationFrame(m.raf); clearInterval(m.timer);
              const d = window.tickerDashboard;
              return {frames: m.frames, ms: performance.now() - m.t0, bytes: d.bytesReceived - m.b0, lat: m.lat,
                      shown: m.shown, tick0: m.tick0, tick1: d.tickCounts, clock: d.clock, gaps: d.gaps,
                      badFrames: d.badFrames, reconnects: d.reconnects};
            """)
            secs = m["ms"] / 1000
            rate = m["bytes"] / secs
            fps = m["frames"] / secs
            lats = [v for v in m["lat"] if v is not None]
            sel_rate = (m["tick1"].get(selected, 0) - m["tick0"].get(selected, 0)) / secs
            per_symbol = [(m["tick1"].get(n, 0) - m["tick0"].get(n, 0)) / secs for n in intervals if n != selected]
            busiest = max(per_symbol) if per_symbol else 0
            ck = m["clock"]
            log(f"      wire: {encoding}, {n_all} symbols, {rate / 1000:.1f} KB/s over {secs:.1f}s "
                f"({m['bytes']:,} bytes), {fps:.1f} fps, latency p50 {min(lats) if lats else float('nan'):.1f}.."
                f"{max(lats) if lats else float('nan'):.1f} ms, clock offset {ck['offsetMs']} ms (rtt {ck['rttMs']} ms, "
                f"smallest corrected age before the clamp {ck['latencyRawMinMs']} ms), selected {selected} "
                f"{sel_rate:.0f} records/s, busiest other {busiest:.2f} records/s, gaps {m['gaps']}, "
                f"bad frames {m['badFrames']}, reconnects {m['reconnects']}")
            assert secs >= 10, f"measured over {secs:.1f}s < 10 s"
            assert m["badFrames"] == 0 and m["reconnects"] == 0 and m["gaps"] == 0, f"stream faults: {m}"
            assert fps >= MIN_FPS, f"{fps:.1f} fps < {MIN_FPS}"
            assert lats, "no latency figure while measuring"
            assert min(lats) >= 0, f"latency p50 went negative: {min(lats)}"
            neg = [t for t in m["shown"] if t.strip().startswith("-")]
            assert not neg, f"the status bar showed a negative latency: {neg[:3]}"
            assert ck["offsetMs"] is not None, "no clock offset estimated from pong.time_ns"
            assert busiest <= 4.5, f"a watchlist symbol got {busiest:.2f} records/s at 250 ms"
            assert sel_rate >= 20, f"the selected {selected} got only {sel_rate:.1f} records/s at every tick"
            if encoding == "delta":
                assert rate <= MAX_WIRE_BYTES_PER_S, f"{rate / 1000:.1f} KB/s > {MAX_WIRE_BYTES_PER_S // 1000} KB/s"
                limit = f"<= {MAX_WIRE_BYTES_PER_S // 1000} KB/s"
            else:
                limit = f"limit not applied: the server offers no delta (welcome says {encoding}); measured raw + 250 ms"
            return (f"{encoding}: {rate / 1000:.1f} KB/s ({limit}), {fps:.1f} fps, latency p50 "
                    f"{min(lats):.1f}..{max(lats):.1f} ms (never negative), selected {selected} {sel_rate:.0f}/s, others <= {busiest:.2f}/s")

        @check("11b changing the selection swaps the intervals (one connection)")
        def _():
            before = dash(driver, "selected")
            target = next(n for n in dash(driver, "watchlist") if n != before)
            row = driver.find_element(By.CSS_SELECTOR, f'#list .row[data-symbol="{target}"] .sym')
            driver.execute_script("arguments[0].scrollIntoView({block:'center'})", row)
            row.click()
            wait_for(lambda: dash(driver, "selected") == target, 2, what="selection")
            iv = dash(driver, "intervals")
            assert iv[target] == 0 and iv[before] == 250, f"{target} at {iv[target]}, {before} at {iv[before]}"
            time.sleep(0.5)  # the server applies both changes; the old one's pending updates arrive as one record
            t0 = dash(driver, "tickCounts") or {}
            time.sleep(2.0)
            t1 = dash(driver, "tickCounts") or {}
            new_rate = (t1.get(target, 0) - t0.get(target, 0)) / 2
            old_rate = (t1.get(before, 0) - t0.get(before, 0)) / 2
            ev = dash(driver, "client")["events"]
            assert new_rate >= 20, f"{target} got {new_rate:.1f} records/s after the selection"
            # 2 s at 250 ms: at most 8 samples, 9 when the window starts on one; one more for timer jitter
            assert old_rate * 2 <= 10, f"{before} got {old_rate:.1f} records/s back at 250 ms"
            assert ev.get("connected") == 1 and not ev.get("gap"), f"client events: {ev}"
            return f"{target} at every tick ({new_rate:.0f}/s), {before} back at 250 ms ({old_rate:.1f}/s), same connection"

        drain_console(driver, "wire")
        errors = [e for phase, e in console_entries if phase == "wire" and e.get("level") == "SEVERE"]
        record("11c browser console has no errors (wire)", not errors, "; ".join(e.get("message", "") for e in errors[:3]))
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001
                pass
        server.stop()
        log(f"      wire server log: {server.logfile.name}")


def http_get(url, token=None):
    """(status, body) of a GET; `token` goes in Authorization: Bearer."""
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def auth_scenario():
    """Check 10: the dashboard against a server with --auth-keys."""
    keys_dir = Path(tempfile.mkdtemp(prefix="ticker-auth-"))
    keys = keys_dir / "keys"
    keys.write_text("k1:" + base64.b64encode(os.urandom(32)).decode() + "\n")
    keys.chmod(0o600)
    server = Server(free_port(), ["--auth-keys", str(keys)])
    driver = None
    tokens = {}

    def mint(sub, symbols, ttl="1h", role=None):
        out = subprocess.run([str(TICKER), "token", "--auth-keys", str(keys), "--sub", sub, "--symbols", symbols,
                              "--ttl", ttl] + (["--role", role] if role else []),
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip()

    def upgrades():
        status, body = http_get(server.base + "/metrics", tokens["admin"])
        assert status == 200, f"/metrics with an admin token: {status}"
        m = re.search(r'^ticker_http_responses_total\{status="101"\} (\d+)', body, re.M)
        return int(m.group(1)) if m else 0

    def banner():
        return driver.execute_script(
            "const b = document.getElementById('banner'); return b && !b.hidden ? b.textContent : null;")

    def refused_page(query, code, phrase):
        """Opens /?QUERY, waits for the banner, then counts the upgrades over 5 s: (banner text, upgrades, client)."""
        before = upgrades()
        driver.get(server.base + "/?" + query)
        text = wait_for(banner, 10, what="the auth banner")
        assert str(code) in text and phrase in text, f"banner: {text!r}"
        assert dash(driver, "state") == ("forbidden" if code == 4403 else "unauthorized"), dash(driver, "state")
        conn = driver.find_element(By.ID, "st-conn-text").text
        time.sleep(5.0)                  # a reconnect loop (100 ms back-off) would try dozens of times
        n = upgrades() - before
        c = dash(driver, "client")
        assert 1 <= n <= 2, f"{n} upgrades in 5 s (a reconnect loop?)"
        assert c["state"] == "closed" and not c["events"].get("connected") and c["events"].get("unauthorized") == 1, f"client: {c}"
        assert dash(driver, "lastCloseCode") == code, dash(driver, "lastCloseCode")
        return text, n, conn

    try:
        @check("10a auth server: page, assets, /v1/symbols and /healthz need no token; /metrics needs admin")
        def _():
            server.start()
            tokens["admin"] = mint("browser-admin", "*", role="admin")
            tokens["valid"] = mint("browser", "AAPL,MSFT")
            tokens["publish"] = mint("browser-publisher", "AAPL", role="publish")
            tokens["expired"] = mint("browser", "AAPL,MSFT", ttl="1s")     # expired by the time 10c uses it
            tokens["expired_at"] = time.monotonic() + 1.0
            for path in ("/", "/assets/app.js", "/assets/ticker-client.js", "/v1/symbols", "/healthz"):
                status, _ = http_get(server.base + path)
                assert status == 200, f"GET {path} without a token: {status}"
            status, _ = http_get(server.base + "/metrics")
            assert status == 401, f"/metrics without a token: {status}"
            assert upgrades() == 0
            return f"pid {server.proc.pid} port {server.port}: 200 without a token for /, assets, /v1/symbols, /healthz; /metrics 401, 200 with admin"

        if "admin" not in tokens:
            return
        driver = new_driver()

        @check("10b /?token=VALID (AAPL,MSFT): ticks for those; NVDA, outside the token, removed with a notice")
        def _():
            token = tokens["valid"]
            driver.get(server.base + "/?symbols=AAPL,MSFT,NVDA&token=" + token)
            notice = wait_for(lambda: "NVDA" in driver.find_element(By.ID, "notice").text
                              and driver.find_element(By.ID, "notice").text, 10, what="the not-entitled notice")
            wait_live_with_rows(driver, 2)
            assert sorted(rows(driver)) == ["AAPL", "MSFT"], rows(driver)
            n, dt = prices_moving(driver, 3.0, 1)
            counts = dash(driver, "tickCounts")
            assert set(counts) == {"AAPL", "MSFT"}, f"records of other symbols: {counts}"
            c = dash(driver, "client")
            assert token not in c["url"] and banner() is None, f"client url {c['url']}, banner {banner()!r}"
            assert token not in driver.find_element(By.TAG_NAME, "body").text, "the token is shown in the page"
            assert c["events"].get("error") == 1 and c["events"].get("connected") == 1, f"client: {c}"
            return (f"notice '{notice}'; rows AAPL, MSFT live, {n} moved within {dt:.2f}s; records {counts}; "
                    f"client url {c['url']} (no token)")

        @check("10c expired token: the 4401 message in the page, no reconnect loop")
        def _():
            time.sleep(max(0.0, tokens["expired_at"] + 1.0 - time.monotonic()))
            text, n, conn = refused_page("symbols=AAPL,MSFT&token=" + tokens["expired"], 4401, "?token=")
            assert "expired" in text and tokens["expired"] not in text, text
            AUTH_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            assert driver.save_screenshot(str(AUTH_SCREENSHOT)), "save_screenshot returned False"
            return (f"banner '{text}', status '{conn}'; {n} upgrade in 5 s; "
                    f"screenshot {AUTH_SCREENSHOT.relative_to(ROOT)}")

        @check("10d no token: the 4401 message; a publish-role token: the 4403 message; neither reconnects")
        def _():
            missing, n1, _ = refused_page("symbols=AAPL", 4401, "?token=")
            assert "needs an access token" in missing, missing
            role, n2, conn = refused_page("symbols=AAPL&token=" + tokens["publish"], 4403, "?token=")
            return f"'{missing}' ({n1} upgrade); '{role}' ({n2} upgrade, status '{conn}')"

        @check("10e a token that expires while the page is live: a notice, then the 4401 message, no reconnect")
        def _():
            before = upgrades()
            token = mint("browser", "AAPL,MSFT", ttl="6s")
            driver.get(server.base + "/?symbols=AAPL,MSFT&token=" + token)
            wait_live_with_rows(driver, 2)
            t_live = time.monotonic()
            warned = wait_for(lambda: "expires in" in driver.find_element(By.ID, "notice").text
                              and driver.find_element(By.ID, "notice").text, 3, what="the expiry notice")
            text = wait_for(banner, 10, what="the auth banner at exp")
            t_banner = time.monotonic() - t_live
            assert "4401" in text and "?token=" in text and dash(driver, "state") == "unauthorized", f"banner {text!r}"
            assert all(r["stale"] for r in rows(driver).values()), "rows still live after the close"
            time.sleep(3.0)
            n = upgrades() - before
            c = dash(driver, "client")
            assert n == 1 and c["state"] == "closed" and c["events"].get("connected") == 1 \
                and c["events"].get("token_expiring") == 1, f"{n} upgrades; client {c}"
            return f"notice '{warned}'; banner {t_banner:.1f}s after live: '{text}'; {n} upgrade over the whole page"

        drain_console(driver, "auth")

        @check("10f browser console has no errors in the auth scenario")
        def _():
            entries = [e for phase, e in console_entries if phase == "auth"]
            for e in entries:
                log(f"      console [auth] {e.get('level')}: {e.get('message')}")
            errors = [e for e in entries if e.get("level") == "SEVERE"]
            assert not errors, f"{len(errors)} error(s): " + " | ".join(e["message"] for e in errors[:5])
            leaked = [e for e in entries if any(t in e.get("message", "") for k, t in tokens.items() if k != "expired_at")]
            assert not leaked, f"{len(leaked)} console entries show a token"
            return f"{len(entries)} console entries, none an error, none with a token"
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001
                pass
        server.stop()
        shutil.rmtree(keys_dir, ignore_errors=True)
        log(f"      auth server log: {server.logfile.name}")


def main():
    if not TICKER.exists():
        log(f"FAIL  ticker binary not found at {TICKER} (set TICKER_BIN or run swift build -c release)")
        return 1
    args = sys.argv[1:]
    if "--wire-only" in args:
        wire_scenario()
    else:
        if "--auth-only" not in args:
            dashboard_scenarios()
            wire_scenario()
        auth_scenario()
    failed = [r for r in results if not r[1]]
    log("")
    log(f"SUMMARY: {len(results) - len(failed)}/{len(results)} checks passed" +
        (f"; failed: {', '.join(r[0] for r in failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

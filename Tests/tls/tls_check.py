#!/usr/bin/env python3
"""Checks run by Scripts/tls-test.sh against nginx terminating TLS in front of
several `ticker serve` nodes (it starts them; this file only connects).

  1. a client that trusts only the system CAs is refused (the certificate is the test CA's)
  2. https:// /v1/symbols and /healthz through nginx, trusting only the test CA;
     /metrics and /v1/publish answered 403 by the proxy
  3. wss:// /v1/stream with Python `websockets`: CONNS connections subscribe,
     receive binary tick records whose sequences are contiguous or declared
     (snapshot / conflated, docs/PROTOCOL.md), and land on every node
     (each node's own /metrics, read directly, counts its WebSocket connections)
  4. the dashboard in headless Chromium over https:// (and so wss://) goes
     live and counts ticks with no gaps and no console errors

Prints one PASS/FAIL line per check and a summary; exits 1 if any failed.
"""
import argparse
import asyncio
import json
import os
import re
import signal
import ssl
import struct
import sys
import time
import urllib.error
import urllib.request

import websockets

HEADER = struct.Struct("<BBHHHQ")
RECORD = struct.Struct("<IBbHQQqqqIIII")
SNAPSHOT, CONFLATED = 1, 2

results = []


def record(name, ok, detail):
    results.append((name, ok))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)


def run_check(name, fn):
    try:
        record(name, True, fn())
    except Exception as e:  # noqa: BLE001 - report every failure, keep going
        record(name, False, f"{type(e).__name__}: {e}")


def ws_connections(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as r:
        m = re.search(r"^ticker_websocket_connections (\d+)", r.read().decode(), re.M)
    return int(m.group(1))


class SeqChecker:
    """Per-symbol sequence rules of docs/PROTOCOL.md."""

    def __init__(self):
        self.prev = {}
        self.ticks = self.snapshots = self.conflated = 0
        self.violations = []

    def feed(self, frame):
        version, mtype, count, size, _, _ = HEADER.unpack_from(frame, 0)
        if version != 1 or mtype != 1 or size < 64 or len(frame) != 16 + count * size:
            self.violations.append(f"bad header v{version} t{mtype} n{count} size{size} len{len(frame)}")
            return
        for i in range(count):
            sid, flags, _, _, seq, *_rest, conflated = RECORD.unpack_from(frame, 16 + i * size)
            self.ticks += 1
            prev = self.prev.get(sid)
            if flags & SNAPSHOT or prev is None:
                self.snapshots += flags & SNAPSHOT and 1
            elif flags & CONFLATED:
                self.conflated += 1
                if seq != prev + 1 + conflated:
                    self.violations.append(f"id {sid}: conflated seq {seq} after {prev} (+{conflated})")
            elif seq != prev + 1:
                self.violations.append(f"id {sid}: seq {seq} after {prev}")
            self.prev[sid] = seq


async def stream_clients(base, ctx, node_ports, conns, seconds, symbols):
    url = base.replace("https://", "wss://") + "/v1/stream?symbols=" + ",".join(symbols)
    checkers = [SeqChecker() for _ in range(conns)]
    sockets = []
    t_connect = time.monotonic()
    for _ in range(conns):
        ws = await websockets.connect(url, ssl=ctx, compression=None, max_size=2**22, open_timeout=5)
        sockets.append(ws)
    connect_ms = (time.monotonic() - t_connect) * 1000 / conns
    tls = sockets[0].transport.get_extra_info("ssl_object")
    tls_info = f"{tls.version()} {tls.cipher()[0]}"
    per_node = {p: ws_connections(p) for p in node_ports}

    async def read(ws, chk):
        hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert hello.get("type") == "welcome", f"first message {hello}"
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await asyncio.wait_for(ws.recv(), left)
            except asyncio.TimeoutError:
                break
            if isinstance(msg, bytes):
                chk.feed(msg)
            else:
                reply = json.loads(msg)
                assert reply.get("type") != "error", f"error reply {reply}"
        await ws.close()
        return ws.close_code

    t0 = time.monotonic()
    codes = await asyncio.gather(*(read(ws, c) for ws, c in zip(sockets, checkers)))
    elapsed = time.monotonic() - t0
    return checkers, per_node, codes, elapsed, connect_ms, tls_info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--spki", required=True)
    ap.add_argument("--nodes", required=True)
    ap.add_argument("--conns", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    node_ports = [int(p) for p in a.nodes.split(",")]
    ctx = ssl.create_default_context(cafile=a.ca)   # the test CA only, no system CAs
    symbols = ["AAPL", "MSFT"]
    state = {}

    def untrusted():
        try:
            urllib.request.urlopen(a.url + "/healthz", timeout=3, context=ssl.create_default_context())
        except urllib.error.URLError as e:
            assert isinstance(e.reason, ssl.SSLCertVerificationError), f"unexpected error {e.reason!r}"
            return f"refused as expected ({e.reason.verify_message})"
        raise AssertionError("a client without the test CA was accepted")
    run_check("1 untrusted client refused", untrusted)

    def https():
        with urllib.request.urlopen(a.url + "/v1/symbols", timeout=5, context=ctx) as r:
            n = len(json.load(r))
        with urllib.request.urlopen(a.url + "/healthz", timeout=5, context=ctx) as r:
            status = r.status
        blocked = []
        for path in ("/metrics", "/v1/publish"):
            try:
                urllib.request.urlopen(a.url + path, timeout=5, context=ctx)
                blocked.append(f"{path} 200")
            except urllib.error.HTTPError as e:
                blocked.append(f"{path} {e.code}")
        assert blocked == ["/metrics 403", "/v1/publish 403"], f"not blocked at the proxy: {blocked}"
        return f"/v1/symbols lists {n} symbols, /healthz {status}, {', '.join(blocked)} (blocked at the proxy)"
    run_check("2 https:// through nginx with the test CA", https)

    def wss():
        chks, per_node, codes, elapsed, connect_ms, tls_info = asyncio.run(
            stream_clients(a.url, ctx, node_ports, a.conns, a.seconds, symbols))
        ticks = sum(c.ticks for c in chks)
        bad = [v for c in chks for v in c.violations]
        state["wss"] = (ticks, elapsed)
        spread = ", ".join(f"node :{p} {n}" for p, n in per_node.items())
        assert not bad, f"{len(bad)} sequence violation(s), e.g. {bad[:3]}"
        assert all(c.ticks > 0 for c in chks), f"a connection got no ticks: {[c.ticks for c in chks]}"
        assert all(n >= 1 for n in per_node.values()), f"not every node got a connection: {spread}"
        assert all(code == 1000 for code in codes), f"close codes {codes}"
        return (f"{tls_info}; {a.conns} connections ({connect_ms:.0f} ms each to open) spread {spread}; "
                f"{ticks} records in {elapsed:.1f} s ({ticks / elapsed:,.0f}/s), "
                f"{sum(c.snapshots for c in chks)} snapshots, {sum(c.conflated for c in chks)} conflated, "
                f"0 sequence violations, all closed 1000")
    run_check(f"3 wss:// stream {','.join(symbols)}, sequences and balance", wss)

    def browser():
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        opts = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,800",
                    f"--ignore-certificate-errors-spki-list={a.spki}"):
            opts.add_argument(arg)
        if os.environ.get("CHROMIUM"):
            opts.binary_location = os.environ["CHROMIUM"]
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
                                  options=opts)
        state["driver"] = driver
        syms = ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA"]
        driver.get(a.url + "/?symbols=" + ",".join(syms))

        def dash(expr):
            return driver.execute_script(f"return window.tickerDashboard && window.tickerDashboard.{expr};")
        deadline = time.monotonic() + 15
        while dash("state") != "live":
            assert time.monotonic() < deadline, (f"dashboard not live after 15 s (state {dash('state')!r}, "
                                                 f"title {driver.title!r}: certificate refused?)")
            time.sleep(0.1)
        time.sleep(0.5)
        t0, ticks0 = time.monotonic(), dash("ticks")
        time.sleep(2.0)
        dt, dticks = time.monotonic() - t0, dash("ticks") - ticks0
        gaps, scheme = dash("gaps"), driver.execute_script("return location.protocol")
        errors = [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert scheme == "https:", f"page loaded over {scheme}"
        assert dticks > 0, "no ticks counted in 2 s"
        assert gaps == 0, f"dashboard counted {gaps} gaps"
        assert not errors, f"console errors: {errors[:3]}"
        return (f"page over https:, state live, {dticks} ticks in {dt:.1f} s ({dticks / dt:,.0f}/s) "
                f"for {len(syms)} symbols, gaps 0, no console errors")
    try:
        run_check("4 dashboard in headless Chromium over https:// / wss://", browser)
    finally:
        if state.get("driver"):
            state["driver"].quit()

    failed = [n for n, ok in results if not ok]
    print(f"SUMMARY: {len(results) - len(failed)}/{len(results)} TLS checks passed"
          + (f"; failed: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # run `finally` (quit Chromium) when stopped
    sys.exit(main())

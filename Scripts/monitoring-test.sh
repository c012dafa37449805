#!/usr/bin/env bash
# The monitoring pack against real programs (issue 25):
#   1. `promtool check rules` and `promtool test rules` on docs/deploy/alerts.yml;
#   2. a throwaway redis-server, a feed node and a gateway (`ticker feed`,
#      `ticker serve --redis`), each with an admin port; a small load on the
#      gateway that provokes what the panels show (WebSocket clients, a
#      protocol close 1002, a 404, upgrades refused past --max-connections);
#   3. a real Prometheus (Debian `prometheus`) on a free port scraping both
#      admin ports every second, loading the alert rules;
#   4. every query of every panel of docs/deploy/grafana-dashboard.json run
#      through Prometheus' HTTP API ($instance as ".*"): each must return data.
# Everything on 127.0.0.1, under one temp dir (kept on failure), stopped by
# PID; bounded by a watchdog (MONITORING_TIMEOUT, default 120 s).
#   Scripts/monitoring-test.sh                        # builds and uses the release ticker
#   TICKER_BIN=.build/debug/ticker Scripts/monitoring-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
limit=${MONITORING_TIMEOUT:-120}

source Scripts/processes.sh
processes_tools monitoring-test
for tool in promtool prometheus; do
    command -v "$tool" >/dev/null || { echo "monitoring-test: $tool missing (run Scripts/install-test-tools.sh)" >&2; exit 2; }
done

# 1. The alert rules.
(cd docs/deploy && promtool check rules alerts.yml && promtool test rules alerts_test.yml)

mkdir -p "$root/.build"
dir=$(mktemp -d "$root/.build/monitoring-test.XXXXXX")
processes_begin monitoring-test "$dir" "$limit"
wait_http() { # port path: until it answers (10 s)
    for _ in $(seq 100); do
        "$PYTHON" - "$1" "$2" <<'PY' && return 0
import sys, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}{sys.argv[2]}", timeout=1)
except Exception:
    sys.exit(1)
PY
        sleep 0.1
    done
    echo "monitoring-test: nothing answered on port $1 $2" >&2
    return 1
}

# 2. Redis, a feed node and a gateway with admin ports.
read -r redis_port redis_pid redis_dir < <(bash Scripts/redis.sh start)
feed_port=$(free_port); feed_admin=$(free_port)
gw_port=$(free_port); gw_admin=$(free_port)
"$TICKER_BIN" feed --redis "redis://127.0.0.1:$redis_port" --host 127.0.0.1 --port "$feed_port" \
    --admin-port "$feed_admin" --loops 1 --log-level warn >"$dir/feed.log" 2>&1 &
pids+=($!)
wait_http "$feed_admin" /livez
"$TICKER_BIN" serve --redis "redis://127.0.0.1:$redis_port" --host 127.0.0.1 --port "$gw_port" \
    --admin-port "$gw_admin" --loops 1 --max-connections 8 --log-level warn >"$dir/gateway.log" 2>&1 &
pids+=($!)
wait_http "$gw_admin" /readyz

# 3. Prometheus scraping both admin ports every second, from before the load.
prom_port=$(free_port)
cp docs/deploy/alerts.yml "$dir/alerts.yml"
cat > "$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $dir/alerts.yml
scrape_configs:
  - job_name: ticker
    static_configs:
      - targets: ["127.0.0.1:$feed_admin", "127.0.0.1:$gw_admin"]
YML
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$prom_port" >"$dir/prometheus.log" 2>&1 &
pids+=($!)
wait_http "$prom_port" /-/ready
# The load: 8 clients on the gateway's capacity, 4 more refused (503), one
# protocol violation (an unmasked frame: close 1002), one 404; held 40 s.
"$PYTHON" - "$gw_port" >"$dir/load.log" 2>&1 <<'PY' &
import asyncio, socket, sys
import websockets
port = int(sys.argv[1])
url = f"ws://127.0.0.1:{port}/v1/stream?symbols=AAPL,MSFT,GOOG"

async def client(n):
    try:
        async with websockets.connect(url, max_size=None) as ws:
            end = asyncio.get_running_loop().time() + 40
            while asyncio.get_running_loop().time() < end:
                await asyncio.wait_for(ws.recv(), timeout=5)
    except Exception as e:
        print(f"client {n}: {type(e).__name__}: {e}", flush=True)

def raw(request):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(request)
    try:
        return s.recv(4096)
    finally:
        s.close()

async def main():
    tasks = [asyncio.create_task(client(n)) for n in range(7)]
    await asyncio.sleep(1)
    key = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    up = b"GET /v1/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + key + b"\r\n"
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(up); s.recv(4096); s.sendall(b"\x81\x00")     # unmasked: close 1002
    print("violation:", s.recv(4096)[:2].hex(), flush=True)
    print("404:", raw(b"GET /no-such-path HTTP/1.1\r\nHost: x\r\n\r\n").split(b"\r\n")[0], flush=True)
    tasks += [asyncio.create_task(client(100 + n)) for n in range(5)]   # past --max-connections 8
    await asyncio.gather(*tasks)

asyncio.run(main())
PY
pids+=($!)

echo "monitoring-test: redis :$redis_port, feed :$feed_port (admin :$feed_admin), gateway :$gw_port (admin :$gw_admin), prometheus :$prom_port; scraping for 15 s"
sleep 15

# 4. Every panel query returns data.
"$PYTHON" - "$prom_port" docs/deploy/grafana-dashboard.json <<'PY'
import json, sys, urllib.parse, urllib.request
port, path = sys.argv[1], sys.argv[2]
dashboard = json.load(open(path))
failed = 0
targets = 0
up = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?query=" + urllib.parse.quote("up"), timeout=5))
print("scrape targets up:", sorted((r["metric"]["instance"], r["value"][1]) for r in up["data"]["result"]))
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        targets += 1
        expr = target["expr"].replace("$instance", ".*")
        url = f"http://127.0.0.1:{port}/api/v1/query?query=" + urllib.parse.quote(expr)
        answer = json.load(urllib.request.urlopen(url, timeout=5))
        result = answer.get("data", {}).get("result", [])
        ok = answer.get("status") == "success" and len(result) > 0
        failed += not ok
        sample = ", ".join(f'{ {k: v for k, v in r["metric"].items() if k not in ("job",)} }={r["value"][1]}' for r in result[:3])
        print(f'{"PASS" if ok else "FAIL"}  {panel["title"]} [{target["refId"]}]: {len(result)} series  {sample}')
print(f"monitoring-test: {targets - failed} of {targets} panel queries returned data")
sys.exit(1 if failed else 0)
PY

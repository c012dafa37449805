#!/usr/bin/env bash
# TLS front test (issue 12): nginx terminates https:// and wss:// in front of
# three `ticker serve` nodes, rendered from Scripts/nginx/ticker.conf.template.
#
#   Scripts/tls-test.sh                      # builds and uses the release ticker
#   TICKER_BIN=.build/debug/ticker Scripts/tls-test.sh
#   TLS_NODES=2 Scripts/tls-test.sh
#   TLS_GATEWAYS=1 Scripts/tls-test.sh       # scale-out: redis + feed node + gateways
#
# Makes a throwaway CA and a server certificate (SAN 127.0.0.1, localhost)
# with openssl, starts the nodes and a non-root nginx on free loopback ports,
# everything under one temp dir (kept on failure, removed on success), then
# runs Tests/tls/tls_check.py: Python `websockets` over wss:// trusting only
# the test CA (sequences checked, connections spread over the nodes) and the
# dashboard in headless Chromium over https://. Stops what it started by PID.
# With TLS_GATEWAYS=1 the upstreams are Redis-fed gateways (`ticker serve
# --redis`) behind one feed node (`ticker feed --redis`), with a throwaway
# redis-server started by Scripts/redis.sh: the same checks then cover the
# whole scale-out path, feed → Redis → gateways → nginx → clients.
# Bounded: the whole run is killed after TLS_TIMEOUT seconds (default 90).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
nodes=${TLS_NODES:-3}
gateways=${TLS_GATEWAYS:-0}
limit=${TLS_TIMEOUT:-90}

source Scripts/processes.sh
processes_tools tls-test
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x "$NGINX" ]] || { echo "tls-test: nginx missing (run Scripts/install-test-tools.sh)" >&2; exit 2; }

mkdir -p "$root/.build"
dir=$(mktemp -d "$root/.build/tls-test.XXXXXX")
nginx_pid=""
before_stop() { [[ -n "$nginx_pid" ]] && kill -QUIT "$nginx_pid" 2>/dev/null; wait_also=($nginx_pid); }
processes_begin tls-test "$dir" "$limit"

t0=$(date +%s%N)
# 1. The nodes. --max-per-address 0: behind nginx every client shares one address.
# Gateway mode: Redis and the feed node first; the nodes are then gateways of it.
redis_args=()
if [[ "$gateways" != 0 ]]; then
    read -r redis_port redis_pid redis_dir < <(bash Scripts/redis.sh start)
    feed_port=$(free_port)
    "$TICKER_BIN" feed --redis "redis://127.0.0.1:$redis_port" --host 127.0.0.1 --port "$feed_port" \
        --loops 1 --log-level warn >"$dir/feed.log" 2>&1 &
    pids+=($!)
    redis_args=(--redis "redis://127.0.0.1:$redis_port")
fi
node_ports=()
for i in $(seq "$nodes"); do
    p=$(free_port)
    "$TICKER_BIN" serve --host 127.0.0.1 --port "$p" --loops 1 --max-per-address 0 \
        --heartbeat-ms 2000 --log-level warn "${redis_args[@]}" >"$dir/node$i.log" 2>&1 &
    pids+=($!)
    node_ports+=("$p")
done

# 2. Every node answers /healthz; then the test CA, the certificate and nginx
# (Scripts/tls-front.sh, shared with the Swift client's TLS tests).
ready() {
    for p in "${node_ports[@]}"; do curl -sf -o /dev/null "http://127.0.0.1:$p/healthz" || return 1; done
}
for _ in $(seq 100); do ready && break; sleep 0.1; done
ready || { echo "tls-test: nodes not ready; see $dir" >&2; exit 1; }
read -r tls_port nginx_pid < <(bash Scripts/tls-front.sh start "$dir" "${node_ports[@]}")
[[ -n "${nginx_pid:-}" ]] || { echo "tls-test: nginx did not start; see $dir/nginx/logs" >&2; exit 1; }
# Chromium trusts the test CA through --ignore-certificate-errors-spki-list
# with the CA key's SHA-256 SPKI hash (the CA is in the chain nginx sends).
spki=$(openssl x509 -in "$dir/ca.pem" -pubkey -noout | openssl pkey -pubin -outform der |
       openssl dgst -sha256 -binary | base64)
setup_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kind="nodes"
[[ "$gateways" != 0 ]] && kind="gateways of the feed node on :$feed_port through redis :$redis_port (pid $redis_pid)"
echo "tls-test: CA + certificate, $nodes $kind (ports ${node_ports[*]}), nginx pid $nginx_pid on https://127.0.0.1:$tls_port, ready in ${setup_ms} ms"

# In the background, so the watchdog's TERM is handled while it runs.
"$PYTHON" Tests/tls/tls_check.py --url "https://127.0.0.1:$tls_port" --ca "$dir/ca.pem" --spki "$spki" \
    --nodes "$(IFS=,; echo "${node_ports[*]}")" &
check_pid=$!
pids+=("$check_pid")
wait "$check_pid"

# 3. The Swift client (TickerClientTLS) through the same nginx: `ticker tap`
# over wss:// trusting the test CA receives ticks; an untrusted certificate
# (the system's CAs only) and a host the certificate does not name
# (127.0.0.2 reaches the same nginx) each end with a one-line error.
taps=$("$TICKER_BIN" tap --url "wss://127.0.0.1:$tls_port/v1/stream" --ca-file "$dir/ca.pem" \
    --symbols AAPL,MSFT --count 50 --seconds 20 2>"$dir/tap.err" | wc -l)
[[ "$taps" -eq 50 ]] || { echo "tls-test: FAIL ticker tap over wss:// printed $taps of 50 ticks: $(cat "$dir/tap.err")" >&2; exit 1; }
echo "tls-test: ok   ticker tap --url wss://127.0.0.1:$tls_port/v1/stream --ca-file ca.pem: 50 ticks"
refused() { # EXPECTED-TEXT TAP-ARGS...: tap must fail with one line containing the text
    local want=$1; shift
    local rc=0
    "$TICKER_BIN" tap --symbols AAPL --count 1 --seconds 20 "$@" >/dev/null 2>"$dir/refused.err" || rc=$?
    local lines; lines=$(wc -l <"$dir/refused.err")
    if [[ $rc -eq 0 || $lines -ne 1 ]] || ! grep -qF "$want" "$dir/refused.err"; then
        echo "tls-test: FAIL tap $* (exit $rc, $lines lines): $(cat "$dir/refused.err")" >&2; exit 1
    fi
    echo "tls-test: ok   refused in one line: $(cat "$dir/refused.err")"
}
refused "certificate is not trusted" --url "wss://127.0.0.1:$tls_port/v1/stream"
refused "not valid for 127.0.0.2" --url "wss://127.0.0.2:$tls_port/v1/stream" --ca-file "$dir/ca.pem"

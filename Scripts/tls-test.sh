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

# 1. Throwaway CA and a server certificate signed by it (SAN: 127.0.0.1, localhost).
t0=$(date +%s%N)
(
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -keyout ca.key -out ca.pem -subj "/CN=ticker tls-test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile server.ext -out server.pem 2>/dev/null
    cat server.pem ca.pem > fullchain.pem        # nginx sends the leaf and the CA
    openssl verify -CAfile ca.pem server.pem >/dev/null
)
# Chromium trusts the test CA through --ignore-certificate-errors-spki-list
# with the CA key's SHA-256 SPKI hash (the CA is in the chain nginx sends).
spki=$(openssl x509 -in "$dir/ca.pem" -pubkey -noout | openssl pkey -pubin -outform der |
       openssl dgst -sha256 -binary | base64)

# 2. The nodes. --max-per-address 0: behind nginx every client shares one address.
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

# 3. nginx: the template inside a minimal main config, all paths under $dir.
tls_port=$(free_port)
mkdir -p "$dir/nginx/logs" "$dir/nginx/tmp"
NGX_LISTEN="127.0.0.1:$tls_port" NGX_CERT="$dir/fullchain.pem" NGX_KEY="$dir/server.key" \
NGX_UPSTREAMS="$(for p in "${node_ports[@]}"; do printf '    server 127.0.0.1:%s max_fails=1 fail_timeout=5s;\n' "$p"; done)" \
"$PYTHON" - Scripts/nginx/ticker.conf.template "$dir/nginx/ticker.conf" <<'PY'
import os, sys
values = {"@LISTEN@": os.environ["NGX_LISTEN"], "@SERVER_NAME@": "localhost 127.0.0.1",
          "@CERT@": os.environ["NGX_CERT"], "@KEY@": os.environ["NGX_KEY"],
          "@UPSTREAMS@": os.environ["NGX_UPSTREAMS"]}
out = []
for line in open(sys.argv[1]).read().splitlines():
    if not line.lstrip().startswith("#"):      # comments keep their placeholders
        for key, value in values.items():
            line = line.replace(key, value)
        assert "@" not in line, f"unreplaced placeholder: {line}"
    out.append(line)
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
# As root, the workers would otherwise switch to `nobody`, who cannot enter $dir.
user_line=""
[[ $(id -u) -eq 0 ]] && user_line="user $(id -un) $(id -gn);"
cat > "$dir/nginx/nginx.conf" <<NGX
$user_line
worker_processes 2;
error_log $dir/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log $dir/nginx/logs/access.log;
    client_body_temp_path $dir/nginx/tmp/body;
    proxy_temp_path       $dir/nginx/tmp/proxy;
    fastcgi_temp_path     $dir/nginx/tmp/fastcgi;
    uwsgi_temp_path       $dir/nginx/tmp/uwsgi;
    scgi_temp_path        $dir/nginx/tmp/scgi;
    default_type application/octet-stream;
    include $dir/nginx/ticker.conf;
}
NGX
"$NGINX" -t -q -p "$dir/nginx" -e "$dir/nginx/logs/error.log" -c "$dir/nginx/nginx.conf" \
    -g "pid $dir/nginx/nginx.pid;"
"$NGINX" -p "$dir/nginx" -e "$dir/nginx/logs/error.log" -c "$dir/nginx/nginx.conf" \
    -g "daemon off; pid $dir/nginx/nginx.pid;" &
nginx_pid=$!

# Wait until every node answers /healthz and nginx accepts TLS.
ready() {
    for p in "${node_ports[@]}"; do curl -sf -o /dev/null "http://127.0.0.1:$p/healthz" || return 1; done
    curl -sf -o /dev/null --cacert "$dir/ca.pem" "https://127.0.0.1:$tls_port/healthz"
}
for _ in $(seq 100); do ready && break; sleep 0.1; done
ready || { echo "tls-test: nodes or nginx not ready; see $dir" >&2; exit 1; }
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

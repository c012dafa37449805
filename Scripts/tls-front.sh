#!/usr/bin/env bash
# A throwaway TLS front for tests: a test CA, a server certificate signed by
# it (SAN: IP 127.0.0.1, DNS localhost), and a non-root nginx rendered from
# Scripts/nginx/ticker.conf.template in front of the given `ticker serve`
# ports. Used by Scripts/tls-test.sh and the Swift client's TLS tests.
#
#   Scripts/tls-front.sh start DIR PORT...   prints "TLS_PORT NGINX_PID" once
#                                            https://127.0.0.1:TLS_PORT/healthz answers
#   Scripts/tls-front.sh stop PID            stops that nginx (QUIT, then KILL after 5 s)
#
# DIR receives ca.pem (the CA to trust), the certificate and key, and
# nginx/ (config and logs). nginx listens on 127.0.0.1:TLS_PORT and also on
# 127.0.0.2:TLS_PORT, an address the certificate does not name (for
# host-name checks). Exits 3 when nginx or openssl is missing
# (Scripts/install-test-tools.sh installs them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() { # DIR PORT...
    local dir=$1; shift
    [[ -x "$NGINX" ]] || { echo "tls-front: nginx is not installed" >&2; exit 3; }
    command -v openssl >/dev/null 2>&1 || { echo "tls-front: openssl is not installed" >&2; exit 3; }
    [[ $# -gt 0 ]] || { echo "tls-front: no upstream port given" >&2; exit 2; }
    mkdir -p "$dir"
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
    local tls_port; tls_port=$(free_port)
    mkdir -p "$dir/nginx/logs" "$dir/nginx/tmp"
    # The second listen line is added through the @LISTEN@ placeholder.
    NGX_LISTEN="127.0.0.1:$tls_port ssl;
    listen 127.0.0.2:$tls_port" NGX_CERT="$dir/fullchain.pem" NGX_KEY="$dir/server.key" \
    NGX_UPSTREAMS="$(for p in "$@"; do printf '    server 127.0.0.1:%s max_fails=1 fail_timeout=5s;\n' "$p"; done)" \
    python3 - "$root/Scripts/nginx/ticker.conf.template" "$dir/nginx/ticker.conf" <<'PY'
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
    local user_line=""
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
        -g "daemon off; pid $dir/nginx/nginx.pid;" </dev/null >"$dir/nginx/logs/stdout.log" 2>&1 &
    local pid=$!
    for _ in $(seq 100); do
        if curl -sf -o /dev/null --cacert "$dir/ca.pem" "https://127.0.0.1:$tls_port/healthz"; then
            echo "$tls_port $pid"
            exit 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "tls-front: nginx did not answer https://127.0.0.1:$tls_port/healthz; see $dir/nginx/logs" >&2
    kill -KILL "$pid" 2>/dev/null || true
    exit 1
}

stop() { # PID
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

case ${1:-} in
    start) shift; start "$@" ;;
    stop) stop "${2:?usage: tls-front.sh stop PID}" ;;
    *) echo "usage: tls-front.sh start DIR PORT... | stop PID" >&2; exit 2 ;;
esac

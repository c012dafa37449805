#!/usr/bin/env bash
# The JavaScript client (Sources/Dashboard/Assets/ticker-client.js)
# under Node with Debian's node-ws, against a live server started here:
#   0. without a server: Tests/interop/js_delta_golden_test.mjs (every golden
#      fixture of Fixtures/golden/delta decoded by the client's delta decoder,
#      identical to its expected records; bad input refused with stable codes)
#      and Tests/interop/js_client_delta_test.mjs (a scripted fake server:
#      ?encoding=, welcome.encoding, interval_ms kept across reconnects, a
#      decode error reported and resumed after a reconnect);
#   1. docs/CLIENT.md's Node example, run as written (the modules downloaded
#      from the server, `ws` resolved from node_modules), against this server;
#   2. Tests/interop/js_client_test.mjs: ticks, a dropped connection resumed
#      with no gap, and a server restart (killed by PID, started again on the
#      same port when the test asks) survived with every symbol reset;
#   3. Tests/interop/js_client_auth_test.mjs against the server started again
#      with --auth-keys (a fresh random key in the temporary directory): token
#      options, entitlements, 4401/4403 ending the client, 4429 retried, and
#      33-second tokens refreshed on token_expiring (about 40 s).
# The server runs with --allow-origin for a browser page that is not Node's:
# Node sends no Origin, and must not be refused for it.
# Writes only under mktemp; stops what it starts by PID. Exit 0 only when all pass.
set -euo pipefail
source "$(dirname "$0")/test-server.sh"
status=0
node Tests/interop/js_delta_golden_test.mjs || status=1
timeout 60 node Tests/interop/js_client_delta_test.mjs || status=1
serve_args=(--allow-origin http://dashboard.example --heartbeat-ms 2000 --log-level warn)
start_test_server "${serve_args[@]}"
export NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs
work=$(mktemp -d)
node_pid=""
cleanup() {
  [ -z "$node_pid" ] || kill "$node_pid" 2>/dev/null || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The guide's example, as a user would run it: ticker-client.js saved from
# the server as an .mjs next to the script, `ws` in node_modules.
mkdir -p "$work/example/node_modules"
for d in /usr/share/nodejs/ws /usr/lib/nodejs/ws; do
  [ -d "$d" ] && { ln -s "$d" "$work/example/node_modules/ws"; break; }
done
"$py" - "$port" "$work/example" <<'PY' || status=1
import re, subprocess, sys, urllib.request
port, where = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(f"http://127.0.0.1:{port}/assets/ticker-client.js", timeout=5) as r:
    open(f"{where}/ticker-client.mjs", "wb").write(r.read())
with urllib.request.urlopen(f"http://127.0.0.1:{port}/assets/delta.js", timeout=5) as r:
    open(f"{where}/delta.js", "wb").write(r.read())
doc = open("docs/CLIENT.md").read()
assert "/assets/delta.js" in doc.split("<!-- node example -->")[0], "the guide says to save delta.js too"
code = re.search(r"<!-- node example -->\n```js\n(.*?)```", doc, re.S).group(1)
code = code.replace("ws://127.0.0.1:8080", f"ws://127.0.0.1:{port}")
open(f"{where}/example.mjs", "w").write(code)
out = subprocess.run(["node", "example.mjs"], cwd=where, capture_output=True, text=True, timeout=30)
lines = out.stdout.splitlines()
ticks = [l for l in lines if re.match(r"^[A-Z]+ seq \d+ bid [\d.]+ ask [\d.]+", l)]
ok = out.returncode == 0 and len(ticks) >= 10 and any(l.startswith("connected") for l in lines)
print(f"client-doc example: {'ok  ' if ok else 'FAIL'} {len(ticks)} ticks printed (exit {out.returncode})")
for l in lines[:3] + (["..."] if len(lines) > 3 else []): print("client-doc example:", l)
if not ok: print(out.stderr[-2000:])
sys.exit(0 if ok else 1)
PY

# 2. The test proper, in the background: it creates $work/restart when it
# wants the server restarted, and this loop does it.
timeout 130 node Tests/interop/js_client_test.mjs 127.0.0.1 "$port" "$work" &
node_pid=$!
restarted=0
while kill -0 "$node_pid" 2>/dev/null; do
  if [ "$restarted" = 0 ] && [ -e "$work/restart" ]; then
    old=$server
    kill -TERM "$old"
    wait "$old" 2>/dev/null || true
    echo "js-client-test: server pid $old stopped (SIGTERM); down for 1 s, then again on port $port"
    sleep 1                             # long enough for the client to fail and back off
    start_test_server "${serve_args[@]}"
    trap cleanup EXIT                   # start_test_server set its own trap
    echo "js-client-test: server pid $server up"
    restarted=1
  fi
  sleep 0.1
done
wait "$node_pid" || status=1
node_pid=""
[ "$restarted" = 1 ] || { echo "js-client-test: the test never asked for the restart"; status=1; }
require_server_alive

# 3. Auth: the same port, the server started again with a keys file.
kill -TERM "$server"
wait "$server" 2>/dev/null || true
printf 'k1:%s\n' "$(head -c 32 /dev/urandom | base64 -w0)" >"$work/keys"
start_test_server "${serve_args[@]}" --auth-keys "$work/keys"
trap cleanup EXIT                       # start_test_server set its own trap
echo "js-client-test: server pid $server up with --auth-keys"
timeout 90 node Tests/interop/js_client_auth_test.mjs 127.0.0.1 "$port" "$work/keys" "$bin" &
node_pid=$!
wait "$node_pid" || status=1
node_pid=""
require_server_alive
exit $status

#!/usr/bin/env bash
# Interop with real peers: Python `websockets` and Node `ws` against a server
# started here with /echo enabled. Exit 0 only when both pass.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash Scripts/install-test-tools.sh >/dev/null
py="$root/.build-tools/py3-venv/bin/python"
swift build -c release --product ticker >/dev/null
bin="$(swift build -c release --show-bin-path)/ticker"
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
"$bin" serve --port "$port" --echo --log-level warn >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  "$py" -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
  sleep 0.1
done
status=0
timeout 120 "$py" Tests/interop/python_client.py 127.0.0.1 "$port" || status=1
NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs timeout 120 node Tests/interop/node_client.js 127.0.0.1 "$port" || status=1
# The protocol document's own Python example, run as written against this server.
"$py" - "$port" <<'PY' || status=1
import re, subprocess, sys
doc = open("docs/PROTOCOL.md").read()
code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
code = code.replace("ws://localhost:8080", f"ws://127.0.0.1:{sys.argv[1]}")
out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
ticks = [l for l in out.stdout.splitlines() if not l.startswith("{")]
ok = out.returncode == 0 and len(ticks) == 20
print(f"protocol-doc example: {'ok  ' if ok else 'FAIL'} decoded {len(ticks)} ticks from the live stream (exit {out.returncode})")
if ticks: print("protocol-doc example: first tick:", ticks[0])
sys.exit(0 if ok else 1)
PY
kill -0 $server 2>/dev/null || { echo "interop: the server died"; cat "$log"; exit 1; }
exit $status

#!/usr/bin/env bash
# Interop with real peers: Python `websockets` and Node `ws` against a server
# started here with /echo enabled. Exit 0 only when both pass.
set -euo pipefail
source "$(dirname "$0")/test-server.sh"
start_test_server --echo --log-level warn
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
require_server_alive
exit $status

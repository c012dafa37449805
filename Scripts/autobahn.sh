#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing client (cases 1-7, 9, 10) against the
# server's /echo endpoint (same parser and state machine as /v1/stream, with
# 16 MiB messages) and checks every result against docs/TESTING criteria.
# Usage: Scripts/autobahn.sh [case-pattern ...]   (default: 1.* ... 7.* 9.* 10.*)
# Exit status: 0 when every case passes; prints the counts by outcome.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash Scripts/install-test-tools.sh >/dev/null
wstest="$root/.build-tools/autobahn-venv/bin/wstest"
py="$root/.build-tools/py3-venv/bin/python"

swift build -c release --product ticker >/dev/null
bin="$(swift build -c release --show-bin-path)/ticker"

port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out="$root/reports/autobahn"
rm -rf "$out"; mkdir -p "$out"
"$bin" serve --port "$port" --echo --no-feed --loops 1 --log-level warn >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  "$py" -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
  sleep 0.1
done

cases='"1.*","2.*","3.*","4.*","5.*","6.*","7.*","9.*","10.*"'
if [ $# -gt 0 ]; then cases=$(printf '"%s",' "$@"); cases=${cases%,}; fi
cat >"$out/fuzzingclient.json" <<JSON
{
  "outdir": "$out",
  "servers": [{"agent": "ticker", "url": "ws://127.0.0.1:$port/echo"}],
  "cases": [$cases],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
JSON
(cd "$out" && "$wstest" -m fuzzingclient -s fuzzingclient.json >"$out/wstest.log" 2>&1) || {
  echo "autobahn: wstest failed, see $out/wstest.log"; tail -20 "$out/wstest.log"; exit 1; }

kill -0 $server 2>/dev/null || { echo "autobahn: the server died during the run"; tail -20 "$out/server.log"; exit 1; }
"$py" "$root/Scripts/autobahn_check.py" "$out/index.json"

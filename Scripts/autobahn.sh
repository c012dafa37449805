#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing client (cases 1-7, 9, 10) against the
# server's /echo endpoint (same parser and state machine as /v1/stream, with
# 16 MiB messages) and checks every result against docs/TESTING criteria.
# Usage: Scripts/autobahn.sh [case-pattern ...]   (default: 1.* ... 7.* 9.* 10.*)
# Exit status: 0 when every case passes; prints the counts by outcome.
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/reports/autobahn"
rm -rf "$out"; mkdir -p "$out"
SERVER_LOG="$out/server.log"
source "$(dirname "$0")/test-server.sh"
wstest="$root/.build-tools/autobahn-venv/bin/wstest"
start_test_server --echo --no-feed --loops 1 --log-level warn

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

require_server_alive
"$py" "$root/Scripts/autobahn_check.py" "$out/index.json"

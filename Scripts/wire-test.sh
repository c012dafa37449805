#!/usr/bin/env bash
# The compact wire on loopback (issue 22, acceptance 1, 3 and 4): `ticker
# serve` on its defaults (the simulated feed) and three readers of `*` for
# the same WIRE_SECONDS (default 60): raw, delta, and delta at
# interval_ms=250, decoded after the window by Scripts/decode_stream.py (the
# independent Python decoder). Scripts/wire_check.py prints bytes of frames
# per delivered tick, whether every record both raw and delta received is
# identical, and the throttled reader's rate per symbol and record age next
# to the raw reader's; it fails when a check does not hold.
#
#   Scripts/wire-test.sh                          # builds and uses the release ticker
#   TICKER_BIN=.build/release/ticker WIRE_SECONDS=30 Scripts/wire-test.sh [--max-age-ms 60]   # options go to wire_check.py
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${WIRE_SECONDS:-60}
source Scripts/processes.sh
processes_tools wire-test
mkdir -p "$root/.build"
dir=$(mktemp -d "$root/.build/wire-test.XXXXXX")
processes_begin wire-test "$dir" "${WIRE_TIMEOUT:-$(( seconds * 3 + 120 ))}"

port=$(free_port)
"$TICKER_BIN" serve --port "$port" >"$dir/server.log" 2>&1 &
pids+=($!)
wait_healthy wire-test "http://127.0.0.1:$port/healthz" "$dir/server.log"
"$PYTHON" Scripts/wire_check.py same-stream --url "ws://127.0.0.1:$port/v1/stream" --seconds "$seconds" "$@"

#!/usr/bin/env bash
# Measures what the retained history costs: server RSS at the default feed
# (520 symbols, 10 ms mean interval) with retention off and at its default,
# after the window has filled. Release build; ~50 s; loopback only.
#   Scripts/retention-memory.sh [seconds-to-fill (default 20)]
set -euo pipefail
cd "$(dirname "$0")/.."
FILL=${1:-20}
swift build -c release -Xswiftc -warnings-as-errors --product ticker >/dev/null
BIN=.build/release/ticker
measure() {
    local label=$1; shift
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$BIN" serve --port "$port" --log-level warn "$@" &
    local pid=$!
    sleep "$FILL"
    local rss
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
    local ticks
    ticks=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^ticker_feed_ticks_total/ {print $2}')
    kill -TERM $pid; wait $pid || true
    echo "$label: RSS $((rss / 1024)) MiB after ${FILL} s (${ticks:-?} ticks made, $(( ${ticks:-0} / FILL )) ticks/s)"
}
measure "retention off       " --retention-ms 0
measure "retention 10 s (default)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

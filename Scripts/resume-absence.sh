#!/usr/bin/env bash
# A client away for N seconds resumes with `from`: within the retention
# (10 s by default) the missed updates are replayed; past it the symbol is
# reset and a snapshot follows. Release build, loopback, about N + 10 s.
#   Scripts/resume-absence.sh [absence-seconds (default 60)] [symbol (default AAPL)]
set -euo pipefail
cd "$(dirname "$0")/.."
AWAY=${1:-60}
SYMBOL=${2:-AAPL}
swift build -c release -Xswiftc -warnings-as-errors --product ticker >/dev/null
BIN=.build/release/ticker
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=ws://127.0.0.1:$PORT/v1/stream
"$BIN" serve --port "$PORT" --log-level warn &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true' EXIT
sleep 1
LAST=$("$BIN" tap --url "$URL" --symbols "$SYMBOL" --seconds 2 --no-reconnect --json | tail -1 \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
echo "first session saw $SYMBOL up to seq $LAST; away for $AWAY s"
sleep "$AWAY"
echo "second session: ticker tap --symbols $SYMBOL --from $LAST --count 3"
"$BIN" tap --url "$URL" --symbols "$SYMBOL" --from "$LAST" --count 3 --no-reconnect

#!/usr/bin/env bash
# Browser acceptance test of the dashboard (Tests/browser/dashboard_test.py)
# in headless Chromium. Builds the release binary first (a no-op when current).
#
#   Scripts/browser-test.sh            # builds and uses the release ticker
#   TICKER_BIN=.build-x/release/ticker Scripts/browser-test.sh
#
# Needs chromium + chromium-driver and the venv with selenium
# (Scripts/install-test-tools.sh). Exits with the test's status.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${TICKER_BIN:-}" ]]; then
    # Always (re)build: a no-op when up to date, and never a stale page.
    bash Scripts/install-test-tools.sh >/dev/null
    swift build -c release -Xswiftc -warnings-as-errors --product ticker >/dev/null
    export TICKER_BIN="$(swift build -c release -Xswiftc -warnings-as-errors --show-bin-path)/ticker"
elif [[ ! -x "$TICKER_BIN" ]]; then
    echo "browser-test: TICKER_BIN=$TICKER_BIN is not an executable" >&2
    exit 2
fi

PYTHON="${PYTHON:-.build-tools/py3-venv/bin/python}"
if [[ ! -x "$PYTHON" ]]; then
    echo "browser-test: $PYTHON missing (run Scripts/install-test-tools.sh)" >&2
    exit 2
fi

# The decoders of the JavaScript client the page runs on
# (Sources/Dashboard/Assets/ticker-client.js and its delta.js) against the
# golden raw batch and every delta golden fixture first (fast, no browser).
if command -v node >/dev/null 2>&1 && [[ -f Fixtures/golden/tick_batch.hex ]]; then
    node Tests/browser/decode_golden.mjs
    node Tests/interop/js_delta_golden_test.mjs | tail -1
fi

exec "$PYTHON" Tests/browser/dashboard_test.py "$@"

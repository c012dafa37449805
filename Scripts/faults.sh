#!/usr/bin/env bash
# The fault and load suite (docs: Benchmarks/README.md, "Fault and load suite").
#
#   bash Scripts/faults.sh                 full scale (about 8 minutes; 15,000-connection storm)
#   bash Scripts/faults.sh --short         CI scale (under 4 minutes)
#   bash Scripts/faults.sh --short --only storm,capacity   (any TickerBench faults option)
#
# Builds the release binaries (CI's flags, at nice 10), then runs
# `TickerBench faults`: every scenario starts its own `ticker serve` on a free
# 127.0.0.1 port, prints its figures with the load average, PASS/FAIL per
# criterion, and kills its server by PID. Exit status 1 when any criterion
# failed. The transcript goes to reports/faults/ (gitignored), as do the
# server logs; no tracked file is touched.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

limit=900
for arg in "$@"; do
  if [ "$arg" = "--short" ]; then limit=300; fi
done

nice -n 10 swift build -c release -Xswiftc -warnings-as-errors >/dev/null
bin="$(swift build -c release -Xswiftc -warnings-as-errors --show-bin-path)"
mkdir -p reports/faults
log="reports/faults/faults-$(date +%Y%m%d-%H%M%S).log"

# The generator raises its own soft RLIMIT_NOFILE to the hard limit and starts
# each server under prlimit with the same. An outer time limit backs up the
# suite's own watchdog; on SIGTERM the suite kills its server before exiting.
status=0
timeout --kill-after=15 "$limit" "$bin/TickerBench" faults "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
echo "transcript: $log"
exit "$status"

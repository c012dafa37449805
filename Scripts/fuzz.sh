#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of WebSocketProtocol.
#   Scripts/fuzz.sh [frame|http|all] [seconds]      (defaults: all, 60)
# Each target is compiled from Sources/WebSocketProtocol/*.swift plus its entry file in
# Fuzz/, with the fuzzer and AddressSanitizer. Seeds come from Fuzz/seeds/<target>; the
# growing corpus and any crash artifacts go to Fuzz/out/ (git-ignored).
# Exits non-zero if a target crashes, leaks, or breaks its oracle.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
target=${1:-all}
seconds=${2:-60}
rss_mb=${FUZZ_RSS_LIMIT_MB:-2048}
swiftc=${SWIFTC:-swiftc}
out="$here/Fuzz/out"
mkdir -p "$out"

# The Swift backtracer can hang after a crash under the fuzzer; libFuzzer prints its own.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

entry_file() {
  case $1 in
    frame) echo "$here/Fuzz/FrameParserFuzz.swift" ;;
    http) echo "$here/Fuzz/HTTPParserFuzz.swift" ;;
    *) echo "unknown target: $1 (frame, http, all)" >&2; exit 2 ;;
  esac
}

run_target() {
  local name=$1 entry binary corpus log
  entry=$(entry_file "$name")
  binary="$out/$name-fuzzer"
  corpus="$out/corpus-$name"
  log="$out/$name.log"
  mkdir -p "$corpus" "$out/crashes-$name"
  echo "== building $name"
  # The linker's "Cannot export local symbol __asan_*" notes are noise; shown only on failure.
  if ! "$swiftc" -parse-as-library -swift-version 6 -enable-upcoming-feature ExistentialAny \
    -sanitize=fuzzer,address -O \
    "$here"/Sources/WebSocketProtocol/*.swift "$entry" -o "$binary" >"$out/$name-build.log" 2>&1; then
    cat "$out/$name-build.log" >&2
    return 1
  fi
  echo "== running $name for ${seconds}s"
  local status=0
  "$binary" "$corpus" "$here/Fuzz/seeds/$name" \
    -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -detect_leaks=1 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$out/crashes-$name/" >"$log" 2>&1 || status=$?
  local execs rate
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  echo "$name: total execs ${execs:-?}, execs/s ${rate:-?}, corpus $(ls "$corpus" | wc -l) files, exit $status"
  if [ "$status" -ne 0 ]; then
    echo "$name: FAILED, see $log and $out/crashes-$name/" >&2
    grep -E "ERROR|oracle violated|Fatal error|SUMMARY" "$log" | head -20 >&2 || true
    return 1
  fi
}

failed=0
if [ "$target" = all ]; then
  for t in frame http; do run_target "$t" || failed=1; done
else
  run_target "$target" || failed=1
fi
exit $failed

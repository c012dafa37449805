#!/usr/bin/env bash
# Builds and runs the libFuzzer targets.
#   Scripts/fuzz.sh [frame|http|control|resp|token|delta|all] [seconds]   (defaults: all, 60)
#   Scripts/fuzz.sh replay                                     (CI: each target over its seeds, once)
# Each target is compiled from its module's sources (Sources/WebSocketProtocol for frame and
# http, on top of Sources/HTTP built as its own module `HTTP` as in the package; Sources/MarketData
# and its subfolders for control and delta; Sources/RESP for resp; Sources/Auth for token, on top of
# Sources/MarketData built as its own module `MarketData`) plus its entry file in Fuzz/, with the fuzzer and
# AddressSanitizer. Seeds come from Fuzz/seeds/<target>; the growing corpus and any crash
# artifacts go to Fuzz/out/ (git-ignored). The control target has a 10 ms time oracle inside
# its entry point (see Fuzz/ControlParserFuzz.swift) and inputs up to 64 KiB; the token target takes
# inputs up to 8 KiB, so tokens over TokenVerifier.maxTokenBytes (4 KiB) are tried too.
# Exits non-zero if a target crashes, leaks, breaks its oracle, or fails to build.
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
    control) echo "$here/Fuzz/ControlParserFuzz.swift" ;;
    resp) echo "$here/Fuzz/RESPParserFuzz.swift" ;;
    token) echo "$here/Fuzz/TokenFuzz.swift" ;;
    delta) echo "$here/Fuzz/DeltaDecoderFuzz.swift" ;;
    *) echo "unknown target: $1 (frame, http, control, resp, token, delta, all, replay)" >&2; exit 2 ;;
  esac
}

module_sources() {
  case $1 in
    control | delta) find "$here/Sources/MarketData" -name '*.swift' | sort ;;
    resp) echo "$here"/Sources/RESP/*.swift ;;
    token) echo "$here"/Sources/Auth/*.swift ;;
    *) echo "$here"/Sources/WebSocketProtocol/*.swift ;;
  esac
}

# WebSocketProtocol imports HTTP (and uses its `package` helpers), and Auth imports MarketData
# (its `package` JSON reader), so the dependency is built first as a module of the same package
# name, with the same instrumentation, and linked in. Prints the flags that link it.
#   build_module NAME SOURCE...
build_module() {
  local module=$1 lower
  shift
  lower=$(echo "$module" | tr '[:upper:]' '[:lower:]')
  local dir="$out/$lower-module"
  mkdir -p "$dir"
  if ! "$swiftc" -parse-as-library -swift-version 6 -enable-upcoming-feature ExistentialAny \
    -sanitize=fuzzer,address -O -package-name ticker -module-name "$module" \
    -emit-module -emit-module-path "$dir/$module.swiftmodule" -emit-library -static -o "$dir/lib$module.a" \
    "$@" >"$out/$lower-module-build.log" 2>&1; then
    cat "$out/$lower-module-build.log" >&2
    return 1
  fi
  echo "-I $dir -L $dir -l$module"
}

# libFuzzer's default -max_len is 4096; the control oracle is about messages up to 64 KiB.
target_flags() {
  case $1 in
    control) echo "-max_len=65536" ;;
    token) echo "-max_len=8192" ;;
    delta) echo "-max_len=16384" ;;
    *) echo "" ;;
  esac
}

build_target() {
  local name=$1 entry binary extra=()
  entry=$(entry_file "$name")
  binary="$out/$name-fuzzer"
  echo "== building $name"
  if [ "$name" = control ]; then
    # The time oracle runs a plain -O copy of MarketData (no sanitizer, no coverage: what the
    # server runs), built as module TimedMarketData; see Fuzz/ControlParserFuzz.swift.
    local timed="$out/timed"
    mkdir -p "$timed"
    if ! "$swiftc" -parse-as-library -swift-version 6 -enable-upcoming-feature ExistentialAny -O -wmo \
      -package-name ticker -module-name TimedMarketData -emit-module -emit-module-path "$timed/TimedMarketData.swiftmodule" \
      -emit-library -static -o "$timed/libTimedMarketData.a" \
      $(module_sources control) >"$out/$name-timed-build.log" 2>&1; then
      cat "$out/$name-timed-build.log" >&2
      return 1
    fi
    extra=(-I "$timed" -L "$timed" -lTimedMarketData)
  elif [ "$name" = delta ]; then
    extra=()   # MarketData alone: no other module
  else
    local module_flags
    if [ "$name" = token ]; then
      # shellcheck disable=SC2046
      module_flags=$(build_module MarketData $(module_sources control)) || return 1
    else
      module_flags=$(build_module HTTP "$here"/Sources/HTTP/*.swift) || return 1
    fi
    # shellcheck disable=SC2206
    extra=($module_flags)
  fi
  # The linker's "Cannot export local symbol __asan_*" notes are noise; shown only on failure.
  # shellcheck disable=SC2046
  if ! "$swiftc" -parse-as-library -swift-version 6 -enable-upcoming-feature ExistentialAny \
    -sanitize=fuzzer,address -O -package-name ticker \
    $(module_sources "$name") "$entry" "${extra[@]}" -o "$binary" >"$out/$name-build.log" 2>&1; then
    cat "$out/$name-build.log" >&2
    return 1
  fi
}

# Every committed seed run once through the target: a regression check, not a search.
# With file arguments libFuzzer runs exactly those inputs and exits.
replay_target() {
  local name=$1 binary="$out/$1-fuzzer" log="$out/$1-replay.log" status=0
  build_target "$name" || return 1
  local files=("$here/Fuzz/seeds/$name"/*)
  # shellcheck disable=SC2046
  "$binary" $(target_flags "$name") -rss_limit_mb="$rss_mb" -detect_leaks=1 -timeout=10 \
    -artifact_prefix="$out/crashes-$name/" "${files[@]}" >"$log" 2>&1 || status=$?
  echo "$name: replayed ${#files[@]} inputs, exit $status"
  if [ "$status" -ne 0 ]; then
    echo "$name: REPLAY FAILED, see $log" >&2
    grep -E "ERROR|oracle violated|Fatal error|SUMMARY|Running: " "$log" | tail -20 >&2 || true
    return 1
  fi
}

run_target() {
  local name=$1 binary corpus log
  binary="$out/$name-fuzzer"
  corpus="$out/corpus-$name"
  log="$out/$name.log"
  mkdir -p "$corpus" "$out/crashes-$name"
  build_target "$name" || return 1
  echo "== running $name for ${seconds}s"
  local status=0
  # shellcheck disable=SC2046
  "$binary" "$corpus" "$here/Fuzz/seeds/$name" $(target_flags "$name") \
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
if [ "$target" = replay ]; then
  for t in frame http control resp token delta; do
    mkdir -p "$out/crashes-$t"
    replay_target "$t" || failed=1
  done
elif [ "$target" = all ]; then
  for t in frame http control resp token delta; do run_target "$t" || failed=1; done
else
  run_target "$target" || failed=1
fi
exit $failed

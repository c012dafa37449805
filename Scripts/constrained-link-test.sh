#!/usr/bin/env bash
# Constrained link (issue 22, acceptance 5): a `*` reader behind a 10 Mbit/s
# link keeps up on the delta encoding, while a raw reader on the same link is
# conflated (the default feed's raw stream is about 27 Mbit/s).
#
#   Scripts/constrained-link-test.sh            # builds and uses the release ticker
#   TICKER_BIN=.build/release/ticker LINK_SECONDS=30 Scripts/constrained-link-test.sh
#
# Needs root (network namespaces) and iproute2's `ip` and `tc`. Makes a
# network namespace and a veth pair with link-local addresses (169.254.122.1
# on this side, .2 inside; nothing is routed off the machine), shapes this
# side's egress (server to reader) with `tc qdisc ... tbf rate 10mbit`
# (netem is not available here), starts `ticker serve` on its defaults
# listening on 169.254.122.1, and runs Scripts/wire_check.py inside the
# namespace: first a delta reader, then a raw one, one at a time, each for
# LINK_SECONDS (default 30). Removes the namespace, the link and the server
# on exit; bounded by a watchdog (LINK_TIMEOUT, default 150 s).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${LINK_SECONDS:-30}
limit=${LINK_TIMEOUT:-150}
rate=${LINK_RATE:-10mbit}

if [[ $(id -u) -ne 0 ]]; then echo "constrained-link-test: needs root for network namespaces" >&2; exit 2; fi
for tool in ip tc; do
    command -v $tool >/dev/null || { echo "constrained-link-test: $tool missing (apt-get install iproute2)" >&2; exit 2; }
done
source Scripts/processes.sh
processes_tools constrained-link-test

mkdir -p "$root/.build"
dir=$(mktemp -d "$root/.build/constrained-link.XXXXXX")
ns="tklink$$"
host_if="tkh$$"
ns_if="tkn$$"
before_stop() {
    ip link del "$host_if" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
}
processes_begin constrained-link-test "$dir" "$limit"

ip netns add "$ns"
ip link add "$host_if" type veth peer name "$ns_if"
ip link set "$ns_if" netns "$ns"
ip addr add 169.254.122.1/30 dev "$host_if"
ip link set "$host_if" up
ip netns exec "$ns" ip addr add 169.254.122.2/30 dev "$ns_if"
ip netns exec "$ns" ip link set "$ns_if" up
ip netns exec "$ns" ip link set lo up
# The server-to-reader direction: a token bucket at $rate, 32 KB of burst,
# up to 100 ms of queue in the qdisc (beyond that it drops and TCP backs off).
tc qdisc add dev "$host_if" root tbf rate "$rate" burst 32kb latency 100ms
echo "constrained-link-test: $(tc qdisc show dev "$host_if")"

port=$(free_port)
"$TICKER_BIN" serve --host 169.254.122.1 --port "$port" >"$dir/server.log" 2>&1 &
pids+=($!)
wait_healthy constrained-link-test "http://169.254.122.1:$port/healthz" "$dir/server.log"

url="ws://169.254.122.1:$port/v1/stream"
# Connection-level conflation (a reader the link cannot carry) and loop-level
# folds (a loop behind the feed for a moment: every reader alike) look the
# same on the wire; the server's counters tell them apart.
metric() { curl -fsS "http://169.254.122.1:$port/metrics" | awk -v n="$1" '$1 == n { printf "%d", $2 }'; }
status=0
for encoding in delta raw; do
    episodes=$(metric ticker_conflation_episodes_total); folded=$(metric ticker_loop_conflated_updates_total)
    ip netns exec "$ns" "$PYTHON" Scripts/wire_check.py link --encoding "$encoding" --url "$url" --seconds "$seconds" || status=1
    episodes=$(( $(metric ticker_conflation_episodes_total) - episodes )); folded=$(( $(metric ticker_loop_conflated_updates_total) - folded ))
    echo "constrained-link-test: $encoding: the server conflated the connection $episodes time(s); its loops folded $folded update(s) for everyone (behind the feed)"
    if [[ $encoding == delta && $episodes -ne 0 ]]; then
        echo "constrained-link-test: FAIL, the delta reader was conflated: the link did not carry it"
        status=1
    fi
done
[[ $status -eq 0 ]] && echo "constrained-link-test: PASS" || echo "constrained-link-test: FAIL"
exit $status

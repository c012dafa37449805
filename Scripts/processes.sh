# Sourced by the scripts that start servers for a test (tls-test.sh,
# monitoring-test.sh): the processes they start, stopped by PID on exit
# (TERM, then KILL after 5 s), an optional throwaway redis-server, a
# watchdog that bounds the whole run, and a work directory kept on failure.
#
#   source Scripts/processes.sh
#   processes_tools NAME                     # TICKER_BIN (built when unset) and PYTHON (the test venv)
#   processes_begin NAME DIR LIMIT_SECONDS   # installs the traps, starts the watchdog
#   pids+=($!)                               # after each background process
#   read -r redis_port redis_pid redis_dir < <(bash Scripts/redis.sh start)
#   before_stop() { ...; }                   # optional: runs first on exit
#   wait_also=(PID ...)                      # optional: more PIDs to wait for
#   wait_healthy NAME URL LOG                # up to 10 s for URL (a /healthz), else LOG and exit 1
pids=()
wait_also=()
redis_pid=""
redis_dir=""
processes_watchdog=""

processes_cleanup() {
    local rc=$?
    if [[ -n "$processes_watchdog" ]]; then     # the watchdog first, then its sleep
        local nap; nap=$(pgrep -P "$processes_watchdog" || true)
        kill -TERM "$processes_watchdog" $nap 2>/dev/null || true
    fi
    if declare -F before_stop >/dev/null; then before_stop || true; fi
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}" "${wait_also[@]}"; do
        [[ -n "$p" ]] || continue
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    [[ -n "$redis_pid" ]] && bash "$processes_root/Scripts/redis.sh" stop "$redis_pid" "$redis_dir" || true
    if [[ $rc -eq 0 ]]; then rm -rf "$processes_dir"; else echo "$processes_name: FAILED (exit $rc); logs kept in $processes_dir" >&2; fi
    exit $rc
}

processes_begin() { # NAME DIR LIMIT
    processes_name=$1
    processes_dir=$2
    processes_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    trap processes_cleanup EXIT
    trap 'exit 130' INT TERM
    ( sleep "$3"; echo "$1: timed out after ${3}s" >&2; kill -TERM $$ 2>/dev/null ) &
    processes_watchdog=$!
}

processes_tools() { # NAME: sets TICKER_BIN and PYTHON, or exits 2 saying what is missing
    local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    if [[ -z "${TICKER_BIN:-}" ]]; then
        bash "$root/Scripts/install-test-tools.sh" >/dev/null
        swift build -c release -Xswiftc -warnings-as-errors --product ticker >/dev/null
        TICKER_BIN="$(swift build -c release -Xswiftc -warnings-as-errors --show-bin-path)/ticker"
    fi
    [[ -x "$TICKER_BIN" ]] || { echo "$1: TICKER_BIN=$TICKER_BIN is not an executable" >&2; exit 2; }
    PYTHON="${PYTHON:-$root/.build-tools/py3-venv/bin/python}"
    [[ -x "$PYTHON" ]] || { echo "$1: $PYTHON missing (run Scripts/install-test-tools.sh)" >&2; exit 2; }
}

wait_healthy() { # NAME URL LOG
    for _ in $(seq 100); do
        curl -fsS "$2" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "$1: server did not start ($2 did not answer)" >&2
    cat "$3" >&2
    exit 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

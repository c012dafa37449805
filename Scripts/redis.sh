#!/usr/bin/env bash
# Starts and stops a throwaway redis-server for tests: loopback only, a free port, no
# persistence (no RDB snapshots, no AOF), its working directory a fresh temp dir.
#   Scripts/redis.sh start [PORT]   prints "PORT PID DIR" once the server answers PING
#   Scripts/redis.sh stop PID [DIR] stops that server by PID (SIGTERM, then SIGKILL after 2 s)
#                                   and removes DIR if given
# Exits 3 when redis-server is not installed (Scripts/install-test-tools.sh installs it).
set -euo pipefail

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

ping() { # port: true when the server answers +PONG
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  local reply=""
  read -r -t 1 reply <&3 || true
  exec 3<&- 3>&-
  [ "${reply%$'\r'}" = "+PONG" ]
}

case ${1:-} in
  start)
    command -v redis-server >/dev/null 2>&1 || { echo "redis.sh: redis-server is not installed" >&2; exit 3; }
    port=${2:-$(free_port)}
    dir=$(mktemp -d "${TMPDIR:-/tmp}/ticker-redis.XXXXXX")
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
      --daemonize no --logfile "$dir/redis.log" --protected-mode yes </dev/null >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
      if ping "$port"; then echo "$port $pid $dir"; exit 0; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    echo "redis.sh: redis-server did not answer on port $port; log:" >&2
    cat "$dir/redis.log" >&2 || true
    kill -9 "$pid" 2>/dev/null || true
    exit 1
    ;;
  stop)
    pid=${2:?usage: redis.sh stop PID [DIR]}
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    if [ -n "${3:-}" ] && [ -d "$3" ]; then rm -rf "$3"; fi
    ;;
  *)
    echo "usage: Scripts/redis.sh start [PORT] | stop PID [DIR]" >&2
    exit 2
    ;;
esac

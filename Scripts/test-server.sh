# Sourced by the test scripts: builds the release `ticker` (CI's flags, so
# CI's build is reused), starts it on a free loopback port with the given
# `serve` options, waits until it accepts, and stops it (by its PID) on exit.
# Sets: root, py, bin, port, server, server_log.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash Scripts/install-test-tools.sh >/dev/null
py="$root/.build-tools/py3-venv/bin/python"
swift build -c release -Xswiftc -warnings-as-errors --product ticker >/dev/null
bin="$(swift build -c release -Xswiftc -warnings-as-errors --show-bin-path)/ticker"
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server_log=${SERVER_LOG:-$(mktemp)}

start_test_server() {
  "$bin" serve --port "$port" "$@" >"$server_log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    "$py" -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "test-server: ticker did not start; log:" >&2
  cat "$server_log" >&2
  return 1
}

# Exits 1 with the server's log when the server died during a test.
require_server_alive() {
  kill -0 "$server" 2>/dev/null && return 0
  echo "test-server: the server died during the run; log:" >&2
  tail -20 "$server_log" >&2
  exit 1
}

#!/usr/bin/env bash
# Installs every outside tool the build and test suites use: Debian packages
# (libssl-dev and pkg-config for the TLS client, node-ws,
# chromium, redis, nginx, openssl, systemd's systemd-analyze), PyPI packages (websockets, selenium,
# PyJWT for Scripts/gen_jwt_fixtures.py, an independent JWT implementation) and a Python 2.7
# virtualenv holding the Autobahn testsuite (it runs on Python 2 only).
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv_dir=${AUTOBAHN_VENV:-$here/.build-tools/autobahn-venv}
py3_venv=${PY3_VENV:-$here/.build-tools/py3-venv}

need_apt=()
# OpenSSL's headers and pkg-config file: the `ticker` executable and the
# TickerClientTLS product build against them (wss:// in the Swift client).
[ -f /usr/include/openssl/ssl.h ] || need_apt+=(libssl-dev)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
[ -d /usr/share/nodejs/ws ] || [ -d /usr/lib/nodejs/ws ] || need_apt+=(node-ws)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# nginx fronts the TLS test (Scripts/tls-test.sh). The script runs its own
# nginx processes as the current user; the packaged service is never started
# (policy-rc.d below keeps the package's postinst from starting it).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# systemd-analyze checks the service units in docs/deploy (OperatorKitTests);
# Prometheus (promtool, and a server the dashboard test starts on a free
# port of its own) checks the alert rules and the Grafana dashboard's
# queries (Scripts/monitoring-test.sh). The packaged service is not started.
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-test-tools: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Keep maintainer scripts from starting services (the nginx package would
  # otherwise start a system nginx on port 80). Only when no policy exists.
  policy=/usr/sbin/policy-rc.d
  made_policy=""
  if [ ! -e "$policy" ] && [ -w /usr/sbin ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  rc=0
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" </dev/null >/dev/null || rc=$?
  [ -z "$made_policy" ] || rm -f "$policy"
  [ "$rc" -eq 0 ] || exit "$rc"
  # On a systemd host the package also enables its unit for the next boot:
  # undo that for an nginx installed just now (the tests run their own).
  if [[ " ${need_apt[*]} " == *" nginx "* ]] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
  fi
  if [[ " ${need_apt[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
  fi
fi

if [ ! -x "$py3_venv/bin/python" ]; then
  echo "install-test-tools: python3 venv with websockets, selenium, PyJWT"
  python3 -m venv "$py3_venv"
fi
"$py3_venv/bin/python" -c 'import websockets, selenium, jwt' 2>/dev/null || \
  "$py3_venv/bin/pip" install -q 'websockets>=12' 'selenium>=4.10' 'PyJWT>=2.6'

if [ ! -x "$venv_dir/bin/wstest" ]; then
  echo "install-test-tools: python 2.7 venv with autobahntestsuite"
  py27=""
  for c in python2.7 "$HOME/.pyenv/versions/2.7.18/bin/python2.7" /usr/bin/python2.7; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2]==(2,7) else 1)' 2>/dev/null; then py27=$c; break; fi
  done
  [ -n "$py27" ] || { echo "install-test-tools: no Python 2.7 found (needed by the Autobahn testsuite)" >&2; exit 1; }
  "$py3_venv/bin/pip" install -q 'virtualenv<20.22'
  "$py3_venv/bin/virtualenv" -q -p "$py27" "$venv_dir"
  "$venv_dir/bin/pip" install -q autobahntestsuite
fi
echo "install-test-tools: ready"

#!/usr/bin/env bash
# Prepares a checkout to build, run and test xchg on Debian 12 with Node 20: installs the missing system
# packages (nats-server, PostgreSQL and MariaDB server binaries, chromium, promtool), then `npm ci` when needed,
# then builds.
# Idempotent and quiet when there is nothing to do; prints one line per thing it installs. It starts no
# system service: the demo and the tests start their own nats-server, PostgreSQL and MariaDB on free ports.
# XCHG_SETUP_SKIP_APT=1 skips the system packages (machines managed some other way).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*"; }
die() {
  printf 'setup: %s\n' "$*" >&2
  exit 1
}

log=$(mktemp "${TMPDIR:-/tmp}/xchg-setup.XXXXXX")
policy_rc_d_created=0
cleanup() {
  rm -f "$log"
  if [ "$policy_rc_d_created" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

# Runs a command with its output kept in $log; shows the output only when the command fails.
quietly() {
  if ! "$@" >"$log" 2>&1 </dev/null; then
    cat "$log" >&2
    die "failed: $*"
  fi
}

# --- System packages ----------------------------------------------------------------------------------
have_nats_server() { command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; }
# Tests run initdb/postgres from /usr/lib/postgresql/<version>/bin themselves; the cluster Debian's
# package may create is never used.
have_initdb() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
# Tests and the bench run mariadbd on a temp data dir of their own (mariadb-install-db); the server
# Debian's package sets up is never used.
have_mariadbd() { command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; }
have_chromium() { [ -x /usr/bin/chromium ]; }
# The metrics test pipes central's and an agent's /metrics to `promtool check metrics`; Debian ships promtool
# in the prometheus package (whose server is never started: see policy-rc.d below).
have_promtool() { command -v promtool >/dev/null 2>&1 || [ -x /usr/bin/promtool ]; }
# The dashboards speak Chinese: without a CJK font the browser tests' screenshots show empty boxes.
have_cjk_font() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; }

if [ "${XCHG_SETUP_SKIP_APT:-0}" != 1 ]; then
  missing=()
  have_nats_server || missing+=(nats-server)
  have_initdb || missing+=(postgresql)
  have_mariadbd || missing+=(mariadb-server)
  have_chromium || missing+=(chromium)
  have_promtool || missing+=(prometheus)
  have_cjk_font || missing+=(fonts-noto-cjk)

  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      die "missing Debian package(s): ${missing[*]}. Run this script as root, or install them with" \
        "'sudo apt-get install ${missing[*]}', or set XCHG_SETUP_SKIP_APT=1 to skip this step."
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing package(s) ${missing[*]} and no apt-get: this script expects Debian 12"
    export DEBIAN_FRONTEND=noninteractive
    # Package scripts must not start nats-server, PostgreSQL, MariaDB or Prometheus as system services: policy-rc.d exit 101
    # means "action forbidden" to invoke-rc.d and deb-systemd-invoke. An existing policy is left alone.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\n# temporary, from xchg scripts/setup.sh: install packages without starting services\nexit 101\n' \
        >/usr/sbin/policy-rc.d
      chmod 0755 /usr/sbin/policy-rc.d
      policy_rc_d_created=1
    fi
    quietly apt-get update -qq
    for pkg in "${missing[@]}"; do
      say "installing $pkg (apt-get)"
      quietly apt-get install -y -qq --no-install-recommends "$pkg"
    done
  fi
fi

# --- npm dependencies ---------------------------------------------------------------------------------
# npm ci writes node_modules/.package-lock.json last: it is missing or older than package-lock.json
# exactly when node_modules does not match the lock file.
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  quietly npm ci --no-audit --no-fund
fi

# --- Build --------------------------------------------------------------------------------------------
# Always: cheap when nothing changed, and a stale dist/ would run old code in the demo and the tests.
quietly npm run build

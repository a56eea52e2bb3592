#!/usr/bin/env bash
# Runs scripts/test.sh's PostgreSQL decision (ensure_postgres_server) on a pretend machine, for TestScriptTests.
# Usage: test-sh-postgres-setup.sh <repository root>, with
#   FAKE_ROOT, FAKE_DEBIAN, FAKE_BINARIES, FAKE_PG_USER  1 or 0: what the pretend machine is and has;
#   FAKE_APT_FAILS                                       1: the pretend apt-get fails;
#   CALLS                                                a file each stub appends its call to.
# Nothing real is installed, started or stopped: the detection functions, apt-get and the cluster stop are stubs,
# and stubs that fail loudly (and say so in $CALLS) stand before the real tools on PATH.
# The exit code and output are ensure_postgres_server's.
set -euo pipefail

repository="$1"
: "${CALLS:?}" "${FAKE_ROOT:?}" "${FAKE_DEBIAN:?}" "${FAKE_BINARIES:?}" "${FAKE_PG_USER:?}"
FAKE_APT_FAILS="${FAKE_APT_FAILS:-0}"

state="$(mktemp -d)"
trap 'rm -rf -- "$state"' EXIT
mkdir "$state/bin"
for tool in apt-get apt dpkg pg_lsclusters pg_ctlcluster pg_ctl initdb postgres service systemctl runuser sudo; do
  printf '#!/bin/sh\necho "unexpected real call: %s $*" >>"$CALLS"\nexit 99\n' "$tool" >"$state/bin/$tool"
  chmod +x "$state/bin/$tool"
done
export PATH="$state/bin:$PATH"

# shellcheck source=../../../scripts/test.sh
source "$repository/scripts/test.sh"

is_root() { [[ "$FAKE_ROOT" == 1 ]]; }
is_debian_like() { [[ "$FAKE_DEBIAN" == 1 ]]; }
have_postgres_user() { [[ "$FAKE_PG_USER" == 1 || -f "$state/installed" ]]; }
find_pg_bindir() {
  if [[ "$FAKE_BINARIES" == 1 || -f "$state/installed" ]]; then
    echo /pretend/postgresql/bin
  else
    return 1
  fi
}
stop_distribution_clusters() { echo "stop_distribution_clusters" >>"$CALLS"; }
apt-get() {
  echo "apt-get $* (DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-})" >>"$CALLS"
  if [[ "$FAKE_APT_FAILS" == 1 ]]; then
    echo "E: Unable to locate package postgresql"
    return 100
  fi
  echo "Reading package lists... Done"
  if [[ "$1" == install ]]; then
    touch "$state/installed"
  fi
}

ensure_postgres_server

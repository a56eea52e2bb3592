#!/usr/bin/env bash
# Runs every test of CallNotify: `scripts/test.sh [extra dotnet test arguments, e.g. --filter ...]`.
#
# PostgreSQL for the integration tests comes from, in order:
#   1. CALLNOTIFY_TEST_POSTGRES (an Npgsql connection string for a superuser-capable role), if set;
#   2. Testcontainers, if a Docker engine answers (CALLNOTIFY_TEST_POSTGRES is left unset);
#   3. a throwaway local server started here from the installed PostgreSQL binaries, stopped on exit. When
#      there are none (or, as root, no 'postgres' user to run them as) and this runs as root on Debian/Ubuntu,
#      they are installed first (apt-get install -y postgresql, its output in a temp log shown only on failure);
#      anywhere else it stops and says what to do.
# The console's browser tests need Chromium and chromedriver; as root on Debian/Ubuntu they are installed when missing.
# Once the tests have run, the last line printed is "N passed, N failed" (", N skipped" when some
# were skipped); a run that executed no test reports "0 passed, 1 failed". Exits non-zero on any failure.
# Environment: CONFIGURATION (default Debug).
set -euo pipefail

# Set while a throwaway server or result directory exists; the EXIT trap cleans them up.
PG_TMP=""
PG_CTL=""
RESULTS_DIR=""
KEEP_RESULTS=0
# The apt-get log while an install runs; kept (and printed) only when the install fails.
APT_LOG=""

# What the machine is. Functions, so the checks in tests/Api.IntegrationTests/Scripts can stand in for them.
is_root() {
  [[ "$(id -u)" -eq 0 ]]
}

is_debian_like() {
  [[ -f /etc/debian_version ]] && command -v apt-get >/dev/null 2>&1
}

have_postgres_user() {
  id postgres >/dev/null 2>&1
}

# Runs a command as the postgres system user when we are root (initdb and postgres refuse root),
# else as ourselves. Runs from the data directory's parent so postgres never lacks access to the cwd.
as_pg() {
  if is_root; then
    (cd "$PG_TMP" && runuser -u postgres -- "$@")
  else
    (cd "$PG_TMP" && "$@")
  fi
}

cleanup() {
  if [[ -n "$PG_TMP" ]]; then
    if [[ -n "$PG_CTL" && -f "$PG_TMP/data/postmaster.pid" ]]; then
      as_pg "$PG_CTL" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf -- "$PG_TMP"
  fi
  if [[ -n "$RESULTS_DIR" && "$KEEP_RESULTS" -eq 0 ]]; then
    rm -rf -- "$RESULTS_DIR"
  fi
  if [[ -n "$APT_LOG" ]]; then
    rm -f -- "$APT_LOG"
  fi
}

# Prints the directory holding initdb and pg_ctl: newest /usr/lib/postgresql/*/bin first, then PATH.
find_pg_bindir() {
  local dir initdb
  while IFS= read -r dir; do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -t/ -k5,5 -V -r)
  if initdb="$(command -v initdb)"; then
    dir="$(dirname "$initdb")"
    if [[ -x "$dir/pg_ctl" ]]; then
      printf '%s\n' "$dir"
      return 0
    fi
  fi
  return 1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The package may start the distribution's own cluster; the tests use their own server, so stop it.
stop_distribution_clusters() {
  if command -v pg_lsclusters >/dev/null 2>&1; then
    while read -r version cluster _; do
      pg_ctlcluster "$version" "$cluster" stop >/dev/null 2>&1 || true
    done < <(pg_lsclusters -h 2>/dev/null || true)
  fi
  service postgresql stop >/dev/null 2>&1 || true
}

# apt-get update, then apt-get install -y <packages>, quietly: the output goes to a log in the temp directory, printed
# only on failure.
apt_install_quietly() {
  APT_LOG="$(mktemp "${TMPDIR:-/tmp}/callnotify-apt.XXXXXX")"
  if ! (
    export DEBIAN_FRONTEND=noninteractive
    apt-get update && apt-get install -y "$@"
  ) >"$APT_LOG" 2>&1; then
    cat "$APT_LOG" >&2
    echo "error: apt-get install -y $* failed; its output above is kept in $APT_LOG" >&2
    APT_LOG=""
    exit 1
  fi
  rm -f -- "$APT_LOG"
  APT_LOG=""
}

install_postgres_server() {
  apt_install_quietly postgresql
  stop_distribution_clusters
}

# Makes sure there are PostgreSQL server binaries and, as root, a 'postgres' user to run them as (initdb and
# postgres refuse root). As root on Debian/Ubuntu, installs them when they are not; anywhere else stops, saying why.
ensure_postgres_server() {
  local missing
  if ! find_pg_bindir >/dev/null; then
    missing="no PostgreSQL server binaries"
  elif is_root && ! have_postgres_user; then
    missing="no 'postgres' user to run PostgreSQL as"
  else
    return 0
  fi

  if is_root && is_debian_like; then
    echo "Installing PostgreSQL for the integration tests ($missing): apt-get install -y postgresql"
    install_postgres_server
    if ! find_pg_bindir >/dev/null; then
      echo "error: still no PostgreSQL server binaries after apt-get install -y postgresql" >&2
      exit 1
    fi
    if ! have_postgres_user; then
      echo "error: still no 'postgres' user after apt-get install -y postgresql" >&2
      exit 1
    fi
    return 0
  fi

  if [[ "$missing" == "no PostgreSQL server binaries" ]]; then
    {
      echo "error: no PostgreSQL server binaries (initdb, pg_ctl) found, and no Docker engine answers."
      echo "The integration tests need PostgreSQL. Either install it (Debian/Ubuntu: apt-get install -y postgresql)"
      echo "or set CALLNOTIFY_TEST_POSTGRES to an Npgsql connection string for a superuser-capable role, e.g."
      echo "  CALLNOTIFY_TEST_POSTGRES='Host=127.0.0.1;Port=5432;Username=postgres;Password=...;Database=postgres'"
    } >&2
  else
    echo "error: running as root but there is no 'postgres' user to run PostgreSQL as (apt-get install -y postgresql creates it)." >&2
  fi
  exit 1
}

# Starts a throwaway PostgreSQL and exports CALLNOTIFY_TEST_POSTGRES for it.
start_local_postgres() {
  ensure_postgres_server
  local bindir
  bindir="$(find_pg_bindir)"
  PG_CTL="$bindir/pg_ctl"

  local root=0
  if is_root; then
    root=1
  fi

  # A short path under TMPDIR: it also holds the Unix socket, whose path must stay under ~107 bytes.
  local base="${TMPDIR:-/tmp}"
  if ((${#base} > 60)) || [[ ! -d "$base" ]]; then
    base=/tmp
  fi
  PG_TMP="$(mktemp -d "$base/callnotify-pg.XXXXXX")"
  if ((root)); then
    chown postgres: "$PG_TMP"
    # The postgres user must be able to reach the directory (e.g. TMPDIR under /root would not do).
    if [[ "$base" != /tmp ]] && ! runuser -u postgres -- test -w "$PG_TMP"; then
      rm -rf -- "$PG_TMP"
      PG_TMP="$(mktemp -d /tmp/callnotify-pg.XXXXXX)"
      chown postgres: "$PG_TMP"
    fi
  fi

  echo "Starting a throwaway PostgreSQL from $bindir in $PG_TMP"
  if ! as_pg "$bindir/initdb" -D "$PG_TMP/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >"$PG_TMP/initdb.log" 2>&1; then
    cat "$PG_TMP/initdb.log" >&2
    echo "error: initdb failed" >&2
    exit 1
  fi

  # Try ports from 55432 upward; a port taken between the check and the bind just moves us on.
  local port=55432 attempts=0
  while :; do
    while port_in_use "$port"; do
      port=$((port + 1))
    done
    if as_pg "$PG_CTL" -D "$PG_TMP/data" -l "$PG_TMP/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k '$PG_TMP' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null 2>&1; then
      break
    fi
    attempts=$((attempts + 1))
    echo "PostgreSQL did not start on port $port (taken meanwhile?); trying the next port"
    if ((attempts >= 5)); then
      tail -n 30 "$PG_TMP/postgres.log" >&2 || true
      echo "error: could not start PostgreSQL" >&2
      exit 1
    fi
    port=$((port + 1))
  done

  export CALLNOTIFY_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  echo "PostgreSQL is listening on 127.0.0.1:$port"
}

# Chooses where the integration tests get PostgreSQL from (see the header).
setup_postgres() {
  if [[ -n "${CALLNOTIFY_TEST_POSTGRES:-}" ]]; then
    echo "Using PostgreSQL from CALLNOTIFY_TEST_POSTGRES"
  elif command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1; then
    echo "A Docker engine answers: the integration tests start PostgreSQL with Testcontainers"
  else
    start_local_postgres
  fi
}

# Sums the Counters of every .trx file under $1 and prints "passed failed skipped", or nothing if none.
sum_trx_counters() {
  local dir="$1"
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$dir" <<'PY'
import pathlib
import sys
import xml.etree.ElementTree as ET

files = sorted(pathlib.Path(sys.argv[1]).rglob("*.trx"))
passed = failed = skipped = 0
for f in files:
    try:
        root = ET.parse(f).getroot()
    except ET.ParseError as e:
        # A half-written file (e.g. a crashed test host) counts as one failure.
        print(f"error: cannot read {f}: {e}", file=sys.stderr)
        failed += 1
        continue
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] != "Counters":
            continue
        n = lambda a: int(el.get(a, "0") or 0)
        passed += n("passed")
        failed += n("failed") + n("error") + n("timeout") + n("aborted")
        # VSTest's trx logger leaves notExecuted at 0 and counts only passed/failed as executed,
        # so tests it did not run (ignored, inconclusive) show only as total - executed.
        skipped += max(n("notExecuted"), n("total") - n("executed"))
if files:
    print(passed, failed, skipped)
PY
  else
    # Fallback without python3: read the attributes of each <Counters .../> element.
    local f counters passed=0 failed=0 skipped=0 found=0 attr value
    local -A c
    while IFS= read -r -d '' f; do
      found=1
      counters="$(tr '\n' ' ' <"$f" | grep -o '<Counters [^>]*>' || true)"
      for attr in total executed passed failed error timeout aborted notExecuted; do
        value="$(printf '%s\n' "$counters" | grep -o " $attr=\"[0-9]*\"" | grep -o '[0-9]\+' | paste -sd+ - || true)"
        c[$attr]=$((${value:-0}))
      done
      passed=$((passed + c[passed]))
      failed=$((failed + c[failed] + c[error] + c[timeout] + c[aborted]))
      # As above: tests not run show only as total - executed.
      value=$((c[total] - c[executed]))
      skipped=$((skipped + (value > c[notExecuted] ? value : c[notExecuted])))
    done < <(find "$dir" -name '*.trx' -print0)
    if ((found)); then
      echo "$passed $failed $skipped"
    fi
  fi
}

# The console's browser tests drive Debian's Chromium through chromedriver. As root on Debian/Ubuntu they are installed
# when missing (apt-get install -y chromium chromium-driver, quietly); elsewhere a missing browser is said here, and
# those tests fail saying how to install it.
ensure_browser() {
  local chromium="${CALLNOTIFY_CHROMIUM:-/usr/bin/chromium}" driver="${CALLNOTIFY_CHROMEDRIVER:-/usr/bin/chromedriver}"
  if [[ -x "$chromium" && -x "$driver" ]]; then
    return 0
  fi
  if is_root && is_debian_like; then
    echo "Installing Chromium for the console's browser tests: apt-get install -y chromium chromium-driver"
    apt_install_quietly chromium chromium-driver
    return 0
  fi
  echo "warning: no Chromium and chromedriver ($chromium, $driver): the console's browser tests will fail." >&2
  echo "         Install them (Debian/Ubuntu: apt-get install -y chromium chromium-driver) or set CALLNOTIFY_CHROMIUM and CALLNOTIFY_CHROMEDRIVER." >&2
}

main() {
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  command -v dotnet >/dev/null 2>&1 || { echo "error: dotnet is not on PATH" >&2; exit 1; }
  setup_postgres
  ensure_browser

  RESULTS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/callnotify-test-results.XXXXXX")"
  local rc=0
  dotnet test CallNotify.sln -c "${CONFIGURATION:-Debug}" \
    --logger "trx;LogFilePrefix=results" \
    --results-directory "$RESULTS_DIR" \
    --logger "console;verbosity=normal" \
    "$@" || rc=$?

  local counts passed=0 failed=0 skipped=0
  counts="$(sum_trx_counters "$RESULTS_DIR")" || counts=""
  echo
  if [[ -n "$counts" ]]; then
    read -r passed failed skipped <<<"$counts"
  fi
  if [[ -z "$counts" ]] || ((passed + failed == 0)); then
    # An empty run must not pass.
    KEEP_RESULTS=1
    echo "error: no test was executed (dotnet test exit code $rc; results in $RESULTS_DIR)"
    echo "0 passed, 1 failed"
    exit 1
  fi
  if ((rc != 0 || failed > 0)); then
    KEEP_RESULTS=1
    echo "Test results (.trx) kept in $RESULTS_DIR"
    if ((failed == 0)); then
      # e.g. a project that did not build or a crashed test host: never report a failing run as all-green.
      echo "error: dotnet test exited with code $rc although no executed test failed"
      failed=1
    fi
  fi

  if ((skipped > 0)); then
    echo "$passed passed, $failed failed, $skipped skipped"
  else
    echo "$passed passed, $failed failed"
  fi
  if ((rc != 0)); then
    exit "$rc"
  fi
  if ((failed > 0)); then
    exit 1
  fi
}

# Run only when executed, so the functions can be sourced on their own for checks.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi

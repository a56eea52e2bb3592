#!/usr/bin/env bash
# The CallNotify benchmark (issue #6): `bench/run.sh [driver options]`, e.g. `bench/run.sh --scenario websocket`.
#
# Builds CallNotify, bench/Bare and bench/Driver in Release, then runs the driver, which starts each service as a child
# process on loopback, drives signed webhooks at it and writes a Markdown table to bench/results/. See bench/README.md.
#
# PostgreSQL: the server named by --postgres or CALLNOTIFY_BENCH_POSTGRES (an Npgsql connection string for a role that
# may create databases), else a throwaway local server started here from the installed binaries — durable settings
# (fsync and synchronous_commit on), 127.0.0.1 only — and removed on exit. Everything stops by itself.
# Exit code: the driver's (0 measured, whether or not the targets were met; 1 the benchmark broke; 2 bad arguments).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$(pwd)"

PG_TMP=""
PG_CTL=""
WORK=""

# Runs a command as the postgres system user when we are root (initdb and postgres refuse root), else as ourselves.
as_pg() {
  if [[ "$(id -u)" -eq 0 ]]; then
    (cd "$PG_TMP" && runuser -u postgres -- "$@")
  else
    (cd "$PG_TMP" && "$@")
  fi
}

cleanup() {
  # Children of a driver that did not get to stop them itself (it was killed): only the ones it named, and only
  # while they still are the benchmark's processes.
  if [[ -n "$WORK" && -f "$WORK/child-pids" ]]; then
    local pid
    while read -r pid; do
      if [[ -n "$pid" ]] && grep -qsE 'CallNotify\.Api\.dll|Bench\.Bare\.dll' "/proc/$pid/cmdline"; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$WORK/child-pids"
  fi
  if [[ -n "$PG_TMP" ]]; then
    if [[ -n "$PG_CTL" && -f "$PG_TMP/data/postmaster.pid" ]]; then
      as_pg "$PG_CTL" -D "$PG_TMP/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
        || as_pg "$PG_CTL" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf -- "$PG_TMP"
  fi
  if [[ -n "$WORK" ]]; then
    rm -rf -- "$WORK"
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

# Starts a throwaway PostgreSQL with durable settings and exports CALLNOTIFY_BENCH_POSTGRES for it.
start_local_postgres() {
  local bindir
  if ! bindir="$(find_pg_bindir)"; then
    echo "error: no PostgreSQL server binaries (initdb, pg_ctl) found. Install them (Debian/Ubuntu: apt-get install -y postgresql)" >&2
    echo "or give a server: --postgres 'Host=…;Username=…;Password=…;Database=postgres' (a role that may create databases)." >&2
    exit 1
  fi
  PG_CTL="$bindir/pg_ctl"
  if [[ "$(id -u)" -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    echo "error: running as root but there is no 'postgres' user to run PostgreSQL as (apt-get install -y postgresql creates it)." >&2
    exit 1
  fi

  # A short path: it also holds the Unix socket, whose path must stay under ~107 bytes.
  PG_TMP="$(mktemp -d /tmp/callnotify-bench-pg.XXXXXX)"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown postgres: "$PG_TMP"
  fi

  echo "Starting a throwaway PostgreSQL from $bindir in $PG_TMP"
  if ! as_pg "$bindir/initdb" -D "$PG_TMP/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$PG_TMP/initdb.log" 2>&1; then
    cat "$PG_TMP/initdb.log" >&2
    echo "error: initdb failed" >&2
    exit 1
  fi

  # Durability is the point: fsync, synchronous_commit and full_page_writes keep their defaults (on). Each scenario's
  # CallNotify opens up to two pools of 100 connections; 300 leaves room for the driver. track_wal_io_timing times
  # each WAL write and flush, so the report can give the flush's mean time (pg_stat_wal.wal_sync_time).
  local port=56432 attempts=0
  while :; do
    while port_in_use "$port"; do
      port=$((port + 1))
    done
    if as_pg "$PG_CTL" -D "$PG_TMP/data" -l "$PG_TMP/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k '$PG_TMP' -c max_connections=300 -c track_wal_io_timing=on" \
      start >/dev/null 2>&1; then
      break
    fi
    attempts=$((attempts + 1))
    if ((attempts >= 5)); then
      tail -n 30 "$PG_TMP/postgres.log" >&2 || true
      echo "error: could not start PostgreSQL" >&2
      exit 1
    fi
    port=$((port + 1))
  done
  export CALLNOTIFY_BENCH_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  # The postmaster's PID (first line of postmaster.pid): the driver reports the CPU of it and its backends.
  BENCH_POSTGRES_PID="$(head -n 1 "$PG_TMP/data/postmaster.pid" 2>/dev/null || true)"
  export BENCH_POSTGRES_PID
  echo "PostgreSQL is listening on 127.0.0.1:$port"
}

main() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  command -v dotnet >/dev/null 2>&1 || { echo "error: dotnet is not on PATH" >&2; exit 1; }
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1

  local arg postgres_given=0
  for arg in "$@"; do
    case "$arg" in
      -h | --help) postgres_given=1 ;;
      --postgres | --postgres=* | --target-url | --target-url=*) postgres_given=1 ;;
    esac
  done

  echo "Building CallNotify, bench/Bare and bench/Driver (Release)"
  local project
  for project in src/Api bench/Bare bench/Driver; do
    dotnet build -c Release --nologo -v quiet "$project" >/dev/null || {
      echo "error: dotnet build -c Release $project failed:" >&2
      dotnet build -c Release --nologo "$project" >&2 || true
      exit 1
    }
  done

  if ((postgres_given == 0)) && [[ -z "${CALLNOTIFY_BENCH_POSTGRES:-}" ]]; then
    start_local_postgres
  fi

  WORK="$(mktemp -d /tmp/callnotify-bench.XXXXXX)"
  export BENCH_CHILD_PIDS="$WORK/child-pids"
  # Which CallNotify was measured: the last commit that changed src/ (and whether src/ has uncommitted changes).
  BENCH_GIT_COMMIT="$(git log -1 --format=%h -- src 2>/dev/null || true)"
  BENCH_GIT_COMMIT="${BENCH_GIT_COMMIT:-unknown}"
  if [[ -n "$(git status --porcelain -- src 2>/dev/null)" ]]; then
    BENCH_GIT_COMMIT="$BENCH_GIT_COMMIT + uncommitted changes in src/"
  fi
  export BENCH_GIT_COMMIT
  export BENCH_COMMAND="bench/run.sh${*:+ $*}"

  # The driver bounds itself (every scenario, and the whole run); `timeout` is the backstop should it hang anyway.
  local rc=0
  timeout --foreground --kill-after=30 3600 dotnet bench/Driver/bin/Release/net10.0/Bench.Driver.dll --repo "$REPO" "$@" || rc=$?
  exit "$rc"
}

main "$@"

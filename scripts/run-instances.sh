#!/usr/bin/env bash
# Starts several local CallNotify instances against one PostgreSQL database, for trying out multi-instance behaviour.
#
# Usage: scripts/run-instances.sh [COUNT] [FIRST_PORT]        (defaults: 2 instances, ports 5081, 5082, …)
#
# PostgreSQL: set CALLNOTIFY_POSTGRES to an Npgsql connection string. When it is unset, a throwaway server is started
# from the installed PostgreSQL binaries (as scripts/test.sh does) and removed when this script ends.
# The instances run in the Development environment (demo credentials) and listen on 127.0.0.1 only. Ctrl+C stops all.
set -euo pipefail

count="${1:-2}"
first_port="${2:-5081}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pids=()
pg_dir=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "$pg_dir" ]]; then
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf -- "$pg_dir"
  fi
}
trap cleanup EXIT INT TERM

if [[ -z "${CALLNOTIFY_POSTGRES:-}" ]]; then
  pg_bin="$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1)"
  [[ -x "$pg_bin/initdb" ]] || { echo "error: set CALLNOTIFY_POSTGRES or install PostgreSQL (apt-get install -y postgresql)" >&2; exit 1; }
  [[ "$(id -u)" -eq 0 ]] || { echo "error: starting a throwaway PostgreSQL needs root (it runs as the postgres user); or set CALLNOTIFY_POSTGRES" >&2; exit 1; }
  pg_dir="$(mktemp -d /tmp/callnotify-instances.XXXXXX)"
  chown postgres: "$pg_dir"
  (cd "$pg_dir" && runuser -u postgres -- "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust >/dev/null)
  (cd "$pg_dir" && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p 55499 -k $pg_dir" start >/dev/null)
  CALLNOTIFY_POSTGRES="Host=127.0.0.1;Port=55499;Username=postgres;Database=postgres"
  echo "Throwaway PostgreSQL on 127.0.0.1:55499"
fi

echo "Building…"
dotnet build src/Api -c Release --nologo -v quiet >/dev/null

# The first instance applies the migrations; the others start once it is ready.
for ((i = 0; i < count; i++)); do
  port=$((first_port + i))
  ASPNETCORE_ENVIRONMENT=Development \
    Storage__Provider=Postgres \
    ConnectionStrings__CallNotify="$CALLNOTIFY_POSTGRES" \
    dotnet run --project src/Api -c Release --no-build --no-launch-profile -- --urls "http://127.0.0.1:$port" \
    > >(sed -u "s/^/[instance $((i + 1)) :$port] /") 2>&1 &
  pids+=($!)
  for _ in $(seq 60); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 1
  done
  echo "instance $((i + 1)) ready on http://127.0.0.1:$port"
done

echo "All $count instances are up. Try: scripts/send-test-notification.sh --url http://127.0.0.1:$first_port/calls/notificationWebhook"
wait

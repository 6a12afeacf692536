#!/usr/bin/env bash
# PostgreSQL 15 from Debian's packages for the stack suite: a throwaway cluster in the run folder,
# trust auth, loopback only. Usage: postgres.sh provision | start [RUN_DIR] | stop RUN_DIR  (see lib.sh)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_MAJOR="${WSYNC_PG_MAJOR:-15}"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"

provision() {
  if [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]]; then
    log "postgres $PG_MAJOR: installed in $PG_BIN"
    return
  fi
  command -v apt-get >/dev/null || die "postgres $PG_MAJOR is not in $PG_BIN and there is no apt-get to install it"
  local sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  log "postgres $PG_MAJOR: installing Debian's postgresql package"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq postgresql >/dev/null
  [[ -x "$PG_BIN/initdb" ]] || die "apt-get installed postgresql, but not version $PG_MAJOR (set WSYNC_PG_MAJOR)"
}

# PostgreSQL refuses to run as root: then the cluster belongs to, and runs as, the `postgres` user.
as_cluster_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start() {
  provision
  local run_dir
  run_dir="$(run_dir_for "${1:-}")"
  local dir="$run_dir/postgres"
  if [[ -f "$dir/data/postmaster.pid" ]] && as_cluster_owner "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    log "postgres: already running in $dir"
    cat "$run_dir/postgres.env"
    return
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  [[ "$(id -u)" != 0 ]] || chown postgres:postgres "$dir"
  local port
  port="$(free_port)"
  as_cluster_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "postgres: initdb failed"; }
  log "postgres: starting on 127.0.0.1:$port, log $dir/postgres.log"
  as_cluster_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null ||
    { tail -n 40 "$dir/postgres.log" >&2; die "postgres did not start"; }
  write_env "$run_dir/postgres.env" "DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
}

stop() {
  local dir="$1/postgres"
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  as_cluster_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
}

stack_main "$@"

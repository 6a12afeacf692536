#!/usr/bin/env bash
# Redis 7 from Debian's redis-server package: the edge API's shared cache on the scaled stack and in the
# stack suite. A throwaway server in the run folder, loopback only, nothing persisted (it is a cache).
# Usage: redis.sh provision | start [RUN_DIR] | stop RUN_DIR   (see lib.sh)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

provision() {
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    log "redis: $(redis-server --version | cut -d' ' -f3) installed"
    return
  fi
  apt_install redis-server
  command -v redis-server >/dev/null || die "apt-get installed redis-server, but there is no redis-server on PATH"
}

start() {
  provision
  local run_dir
  run_dir="$(run_dir_for "${1:-}")"
  local dir="$run_dir/redis"
  if [[ -f "$dir/redis.pid" ]] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
    log "redis: already running in $dir"
    cat "$run_dir/redis.env"
    return
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  local port
  port="${WSYNC_REDIS_PORT:-$(free_port)}"
  log "redis: starting on 127.0.0.1:$port, log $dir/redis.log"
  # No snapshots, no append-only file: a cache starts empty. A memory bound with LRU eviction, as a
  # cache in production would have.
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$dir" \
    --maxmemory "${WSYNC_REDIS_MAXMEMORY:-256mb}" --maxmemory-policy allkeys-lru \
    --logfile "$dir/redis.log" --daemonize no &
  echo $! >"$dir/redis.pid"
  if ! wait_until 20 "redis" bash -c "[[ \"\$(redis-cli -h 127.0.0.1 -p $port ping)\" == PONG ]]"; then
    tail -n 40 "$dir/redis.log" >&2
    stop "$run_dir"
    die "redis did not become ready"
  fi
  write_env "$run_dir/redis.env" "REDIS_URL=redis://127.0.0.1:$port"
}

stop() {
  stop_pidfile "$1/redis/redis.pid" 10
}

stack_main "$@"

#!/usr/bin/env bash
# Debian's nginx as the load balancer of the scaled stack (npm run start:scaled): the caller writes
# RUN_DIR/nginx/nginx.conf (scripts/src/scaled/nginx-config.ts), this runs it in the foreground of a
# background process, so `stop` can end exactly that master process.
# Usage: nginx.sh provision | start RUN_DIR | stop RUN_DIR   (see lib.sh)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NGINX_BIN="${WSYNC_NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}"

provision() {
  if [[ -x "$NGINX_BIN" ]]; then
    log "nginx: $("$NGINX_BIN" -v 2>&1 | cut -d/ -f2) installed"
    return
  fi
  apt_install nginx
  NGINX_BIN="$(command -v nginx || echo /usr/sbin/nginx)"
  [[ -x "$NGINX_BIN" ]] || die "apt-get installed nginx, but there is no nginx binary"
}

start() {
  provision
  local run_dir="${1:-}"
  [[ -n "$run_dir" && -f "$run_dir/nginx/nginx.conf" ]] || die "usage: $0 start RUN_DIR (with RUN_DIR/nginx/nginx.conf)"
  local dir="$run_dir/nginx"
  if [[ -f "$dir/nginx.pid" ]] && kill -0 "$(cat "$dir/nginx.pid")" 2>/dev/null; then
    log "nginx: already running in $dir"
    return
  fi
  "$NGINX_BIN" -t -q -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" || die "nginx: the configuration does not pass nginx -t"
  log "nginx: starting, log $dir/error.log"
  "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g "daemon off; pid $dir/master.pid;" \
    >>"$dir/error.log" 2>&1 &
  echo $! >"$dir/nginx.pid"
  local port
  for port in ${WSYNC_NGINX_PORTS:-}; do
    wait_until 10 "nginx port $port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" ||
      { tail -n 20 "$dir/error.log" >&2; stop "$run_dir"; die "nginx did not listen on $port"; }
  done
}

stop() {
  # SIGTERM is nginx's fast shutdown: the master stops its workers and exits.
  stop_pidfile "$1/nginx/nginx.pid" 10
}

stack_main "$@"

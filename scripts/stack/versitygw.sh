#!/usr/bin/env bash
# Versity Gateway v1.8.0 (Apache-2.0) as the stack suite's S3 store: one Go binary serving a posix
# folder in the run folder on one loopback port. MinIO is AGPL-3.0 and is not used anywhere here.
# Usage: versitygw.sh provision | start [RUN_DIR] | stop RUN_DIR   (see lib.sh)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSITYGW_VERSION=v1.8.0
VERSITYGW_MODULE=github.com/versity/versitygw
VERSITYGW_BIN="$WSYNC_CACHE/bin/versitygw"
S3_REGION=us-east-1

# True when the cached binary was built from the pinned module version.
cached_binary_is_pinned() {
  [[ -x "$VERSITYGW_BIN" ]] || return 1
  # Without Go the build info cannot be read; a binary in our cache is then taken as ours.
  command -v go >/dev/null || return 0
  go version -m "$VERSITYGW_BIN" | grep -Eq "^\s+mod\s+$VERSITYGW_MODULE\s+$VERSITYGW_VERSION\s"
}

provision() {
  if cached_binary_is_pinned; then
    log "versitygw $VERSITYGW_VERSION: cached at $VERSITYGW_BIN"
    return
  fi
  command -v go >/dev/null || die "go is needed to build Versity Gateway (https://go.dev/dl/)"
  log "versitygw $VERSITYGW_VERSION: building with go install (about 2 minutes on a fresh machine)"
  mkdir -p "$WSYNC_CACHE/bin"
  GOBIN="$WSYNC_CACHE/bin" go install "$VERSITYGW_MODULE/cmd/versitygw@$VERSITYGW_VERSION"
  cached_binary_is_pinned || die "go install did not produce versitygw $VERSITYGW_VERSION"
}

start() {
  provision
  local run_dir
  run_dir="$(run_dir_for "${1:-}")"
  local dir="$run_dir/versitygw"
  if [[ -f "$dir/versitygw.pid" ]] && kill -0 "$(cat "$dir/versitygw.pid")" 2>/dev/null; then
    log "versitygw: already running in $dir"
    cat "$run_dir/versitygw.env"
    return
  fi
  rm -rf "$dir"
  mkdir -p "$dir/data"
  local port access_key secret_key sidecar=()
  port="$(free_port)"
  access_key="wsync$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  secret_key="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  # The posix backend keeps object metadata (checksums among it) in user xattrs; on a file system
  # without them, WSYNC_S3_SIDECAR=1 keeps it in a side folder instead.
  if [[ "${WSYNC_S3_SIDECAR:-0}" == 1 ]]; then
    mkdir -p "$dir/sidecar"
    sidecar=(--sidecar "$dir/sidecar")
  fi
  log "versitygw: starting on 127.0.0.1:$port, log $dir/versitygw.log"
  # Keys through the environment, not argv, so they do not show in `ps`.
  ROOT_ACCESS_KEY_ID="$access_key" ROOT_SECRET_ACCESS_KEY="$secret_key" "$VERSITYGW_BIN" --port "127.0.0.1:$port" \
    --region "$S3_REGION" --quiet posix "${sidecar[@]}" "$dir/data" >"$dir/versitygw.log" 2>&1 &
  echo $! >"$dir/versitygw.pid"
  # Ready when it answers HTTP at all (unauthenticated requests get 403).
  if ! wait_until 30 "versitygw" curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    tail -n 40 "$dir/versitygw.log" >&2
    stop "$run_dir"
    die "versitygw did not become ready"
  fi
  write_env "$run_dir/versitygw.env" \
    "S3_ENDPOINT=http://127.0.0.1:$port" \
    "S3_REGION=$S3_REGION" \
    "S3_ACCESS_KEY_ID=$access_key" \
    "S3_SECRET_ACCESS_KEY=$secret_key"
}

stop() {
  stop_pidfile "$1/versitygw/versitygw.pid" 15
}

stack_main "$@"

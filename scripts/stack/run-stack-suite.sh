#!/usr/bin/env bash
# The stack suite (npm run test:stack): provisions and starts real PostgreSQL 15, Versity Gateway (S3),
# Kafka 4.4.0 and Redis 7 on free loopback ports in a temp folder, runs every test plus src/**/*.stack.test.ts
# against them (vitest.stack.config.ts), then stops them all, whatever happened.
#   npm run test:stack                        the whole suite
#   npm run test:stack -- --project notifier  extra arguments go to vitest
#   WSYNC_STACK_KEEP=1 npm run test:stack     keep the run folder (logs, data) after a green run
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO_ROOT="$(cd "$STACK_DIR/../.." && pwd)"
SERVICES=(postgres versitygw kafka redis)
RUN_DIR="$(run_dir_for "")"
STEPS=()
started=()
passed=0

now_ms() { date +%s%3N; }

# Runs "$@" as a named step and records how long it took and how it ended.
step() {
  local name="$1"
  shift
  local began rc=0
  began="$(now_ms)"
  log "== $name"
  "$@" || rc=$?
  STEPS+=("$(printf '%-28s %7.1f s  %s' "$name" "$(($(now_ms) - began))e-3" \
    "$([[ $rc == 0 ]] && echo ok || echo "FAILED ($rc)")")")
  return "$rc"
}

# Runs every service's ACTION (provision or start) at once, as they are independent; fails if any did.
for_all_services() {
  local action="$1" pids=() service failed=0 i
  for service in "${SERVICES[@]}"; do
    # Counted as started before it is: stopping a service that never came up is a no-op, and a failed
    # or interrupted start may have left a process behind.
    [[ "$action" != start ]] || started+=("$service")
    "$STACK_DIR/$service.sh" "$action" "$RUN_DIR" >/dev/null &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { log "${SERVICES[$i]}: $action failed"; failed=1; }
  done
  return "$failed"
}

stop_all() {
  local service
  for service in "${started[@]}"; do "$STACK_DIR/$service.sh" stop "$RUN_DIR" || log "$service: stop failed"; done
}

run_tests() {
  local service
  set -a
  for service in "${SERVICES[@]}"; do
    # shellcheck disable=SC1090
    source "$RUN_DIR/$service.env" || return 1
  done
  set +a
  log "DATABASE_URL=$DATABASE_URL S3_ENDPOINT=$S3_ENDPOINT KAFKA_BROKERS=$KAFKA_BROKERS REDIS_URL=$REDIS_URL"
  (cd "$REPO_ROOT" && npx vitest run --config vitest.stack.config.ts "$@")
}

finish() {
  local rc=$?
  trap - EXIT INT TERM
  # After Ctrl-C, service scripts still starting in the background finish first (each has its own
  # timeout), so that whatever they start is stopped below.
  wait || true
  if ((${#started[@]})); then step "stop services" stop_all || true; fi
  printf '\n[stack] summary (run folder %s)\n' "$RUN_DIR" >&2
  printf '  %s\n' "${STEPS[@]}" >&2
  printf '  %-28s %7d s\n' "total" "$SECONDS" >&2
  if [[ $rc == 0 && $passed == 1 ]]; then
    [[ "${WSYNC_STACK_KEEP:-0}" == 1 ]] || rm -rf "$RUN_DIR"
    log "stack suite passed"
  else
    log "stack suite FAILED; service logs are in $RUN_DIR/*/"
    ((rc != 0)) || rc=1
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "provision (cache or fetch)" for_all_services provision
step "start services" for_all_services start
step "tests (vitest)" run_tests "$@"
passed=1

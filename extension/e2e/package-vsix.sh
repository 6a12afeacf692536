#!/usr/bin/env bash
# Builds the production bundle and packs dist/wsync-<version>.vsix with @vscode/vsce 4.1.0, which needs
# Node >= 22: it runs on the cached Node 24 that e2e/install.sh provides (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(bash e2e/install.sh vsce)"
node esbuild.config.mjs --production
version="$(node -p 'require("./package.json").version')"
out="dist/wsync-$version.vsix"
# --no-dependencies: the bundle already holds every runtime dependency (and npm workspaces confuse
# vsce's own `npm list`). --allow-missing-repository: the project is not published from a repository URL yet.
# --no-rewrite-relative-links: README images are packed (media/screenshots) and resolve inside the .vsix.
PATH="$WSYNC_NODE24_BIN:$PATH" node "$WSYNC_VSCE" package \
  --no-dependencies --allow-missing-repository --no-rewrite-relative-links --out "$out" >&2
echo "$PWD/$out"

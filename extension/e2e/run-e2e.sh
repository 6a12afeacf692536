#!/usr/bin/env bash
# npm run test:e2e: the extension in a real VS Code (code-server 4.139.1 + Debian chromium, driven by
# playwright-core) against the local stack. Installs what is missing (e2e/install.sh), packs the .vsix,
# runs src/**/*.e2e.test.ts. Screenshots of each step: test-results/e2e/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash e2e/install.sh all >/dev/null
exec npx vitest run --config vitest.e2e.config.ts "$@"

#!/usr/bin/env bash
# Refreshes the README's screenshots (media/screenshots/) from the last e2e run's artifacts, so the
# marketplace page shows what the end-to-end tests saw. Run `npm run test:e2e` first.
set -euo pipefail
cd "$(dirname "$0")/.."
from=../test-results/e2e
to=media/screenshots
mkdir -p "$to"
copy() {
  if [ ! -f "$from/$1" ]; then
    echo "missing $from/$1: run npm run test:e2e first" >&2
    exit 1
  fi
  cp "$from/$1" "$to/$2"
}
copy account-06-sign-in-email.png sign-in.png
copy two-devices-01-status-bar-synced.png status-bar.png
copy two-devices-11b-progress.png progress.png
copy two-devices-07-file-history-diff.png file-history.png
copy two-devices-08-restored.png file-history-restored.png
copy two-devices-03-conflict-notification.png conflict-notification.png
copy two-devices-04-conflict-diff.png conflict-diff.png
copy two-devices-09-unsaved-edits-question.png unsaved-edits.png
copy two-devices-05-conflicts-view.png conflicts-view.png
ls -la "$to"

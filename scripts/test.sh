#!/usr/bin/env bash
# Installs everything the test suite needs, then runs all of it (Python, notebooks, browser).
# Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

# Browser tests drive Debian's Chromium through Playwright; never a downloaded browser.
if ! command -v chromium >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  $sudo_cmd apt-get install -y -q chromium
fi

# Installs the package (the build hook runs npm install + npm run build in js/).
python3 -m pip install -q -e ".[test]"

# Front end: rebuild from the locked toolchain so the bundle matches the source.
(cd js && npm ci --no-audit --no-fund --loglevel=error && npm run build && npm run typecheck && npm test)

# pytest's exit code 5 (no tests collected) fails this script like any other failure.
python3 -m pytest "$@"

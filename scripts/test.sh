#!/usr/bin/env bash
# The whole check, as CI runs it (.ci/run): installs what it needs, runs the linters and
# type checkers, the whole suite (browser tests included), then the suite without
# browsers on every other Python 3.10+ found here.
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

echo "== front end: install (locked) and build once"
(cd js && npm ci --no-audit --no-fund --loglevel=error && npm run build)

echo "== package (the build hook skips the front end: it is built)"
python3 -m pip install -q -e ".[test,e2e,lint,docs]"

echo "== checks: biome, tsc, ruff, ruff format, mypy, import cycles, code shape, docs"
(cd js && npm run lint && npm run typecheck)
python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy
python3 scripts/import_cycles.py   # none: every import arrow points down or sideways
python3 scripts/code_shape.py      # no module over 500 lines, no function over 80
# The docs site: a broken link or anchor, a missing include or an API reference that does
# not resolve fails the build (strict). Built into a temporary folder, then removed.
site_dir="$(mktemp -d)"
NO_MKDOCS_2_WARNING=1 python3 -m mkdocs build --strict --site-dir "$site_dir"
rm -rf "$site_dir"

echo "== front-end tests (vitest)"
(cd js && npm test)

echo "== the whole suite on $(python3 --version)"
# pytest's exit code 5 (no tests collected) fails this script like any other failure.
python3 -m pytest "$@"

echo "== the suite without browsers on the other Pythons"
python3 scripts/other_pythons.py

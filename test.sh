#!/usr/bin/env bash
# Install everything the tests need, check lint, import layers and types, then run every
# test (unit, AppTest, browser).
# Usage: ./test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
# Browser tests drive Debian's Chromium (no browser download is possible or needed).
if [[ ! -x /usr/bin/chromium ]] && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# Lint, import layering and types first: a failure here stops the run (set -e).
python3 -m ruff check .
python3 -m ruff format --check .
lint-imports
python3 -m mypy
export TF_CPP_MIN_LOG_LEVEL=3
exec python3 -m pytest "$@"

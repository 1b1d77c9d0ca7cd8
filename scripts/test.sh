#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs the locked versions (uv.lock, package-lock.json), then runs
# every test.
#   Python: pytest (arguments to this script go to pytest).
#   Node:   apps_script/ loaded into Node's vm against a live gunicorn, and the settings dialog in headless
#           Chromium (Debian's package; installed here with apt-get when missing and we may).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh --dev
export PATH="$PWD/.venv/bin:$PATH" VIRTUAL_ENV="$PWD/.venv"

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test.sh: installing Debian's chromium for the settings-dialog and sidebar tests" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
            || echo "test.sh: could not install chromium; the dialog test will say so" >&2
    else
        echo "test.sh: no chromium and no root to install it; the dialog test will say so" >&2
    fi
fi

python -m pytest "$@"

if ! command -v node >/dev/null 2>&1; then
    if [ "${SCOPE3AI_REQUIRE_SERVICES:-}" = 1 ]; then
        echo "test.sh: node is required for the apps_script tests (Node 20+)" >&2
        exit 1
    fi
    echo "test.sh: SKIPPED the apps_script tests: node is not installed" >&2
    exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
# tsc --checkJs over apps_script/*.gs with @types/google-apps-script; fails the run on any type error.
node scripts/typecheck_apps_script.js
node --test --test-reporter=spec tests/node/

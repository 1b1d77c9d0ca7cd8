#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
python -m pytest "$@"

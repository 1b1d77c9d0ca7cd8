#!/usr/bin/env bash
# Upgrades on purpose: every pin in uv.lock (and so requirements.txt) to the newest release that pyproject.toml
# allows, prints what moved, installs it and runs the whole suite. Commit uv.lock and requirements.txt if it passes.
set -euo pipefail
cd "$(dirname "$0")/.."

before=$(mktemp)
trap 'rm -f "$before"' EXIT
cp uv.lock "$before"
bash scripts/lock.sh --upgrade
python3 scripts/lock_diff.py "$before" uv.lock
bash scripts/test.sh "$@"

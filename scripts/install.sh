#!/usr/bin/env bash
# Installs the locked versions (uv.lock) into .venv, and the project itself (editable).
#   bash scripts/install.sh          the runtime set: what requirements.txt pins for App Engine
#   bash scripts/install.sh --dev    the runtime set and every test tool (the `dev` extra), exactly: whatever
#                                    the lock does not hold is removed from .venv
# Fails, naming the fix, when pyproject.toml and uv.lock disagree. Never downloads a Python interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
    "") sync_args=(--inexact) ;;
    --dev) sync_args=(--extra dev) ;;
    *) echo "install.sh: unknown option '$1' (use --dev or nothing)" >&2; exit 2 ;;
esac

bash scripts/uv.sh
export UV_PYTHON_DOWNLOADS=never
if ! .venv/bin/uv lock --check --quiet 2>/dev/null; then
    echo "install.sh: uv.lock does not match pyproject.toml; run 'bash scripts/lock.sh' and commit both" >&2
    exit 1
fi
.venv/bin/uv sync --locked --quiet --python .venv/bin/python "${sync_args[@]}"

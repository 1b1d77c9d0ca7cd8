#!/usr/bin/env bash
# Writes uv.lock from pyproject.toml, and requirements.txt (App Engine's pinned runtime set) from the lock.
#   bash scripts/lock.sh             after editing pyproject.toml: keeps every pin that still fits
#   bash scripts/lock.sh --upgrade   every pin to the newest release pyproject.toml allows
#                                    (scripts/upgrade.sh does this, then runs the whole suite)
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
    "") lock_args=() ;;
    --upgrade) lock_args=(--upgrade) ;;
    *) echo "lock.sh: unknown option '$1' (use --upgrade or nothing)" >&2; exit 2 ;;
esac

bash scripts/uv.sh
export UV_PYTHON_DOWNLOADS=never
.venv/bin/uv lock "${lock_args[@]}"
.venv/bin/uv export --frozen --no-dev --no-emit-project --no-hashes --quiet -o requirements.txt
# The lock may have moved uv itself: put that version in .venv for what comes next.
bash scripts/uv.sh

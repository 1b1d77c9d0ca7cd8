#!/usr/bin/env bash
# Makes .venv (Python 3.11+, `python3` or $PYTHON) and puts in it the uv version that uv.lock pins, with pip.
# The other scripts call this first; uv then installs everything else from the lock.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
uv_version=$("$python" - <<'PY'
import sys
import tomllib

if sys.version_info < (3, 11):
    sys.exit(f"scripts/uv.sh: Python 3.11 or newer is needed, {sys.executable} is {sys.version.split()[0]}")
lock = tomllib.load(open("uv.lock", "rb"))
print(next(p["version"] for p in lock["package"] if p["name"] == "uv"))
PY
)

installed() { .venv/bin/uv --version 2>/dev/null | cut -d' ' -f2; }
[ -x .venv/bin/python ] || "$python" -m venv .venv
if [ "$(installed)" != "$uv_version" ]; then
    .venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --upgrade >/dev/null
    # (pip's warnings about this machine's extra local package folders are noise; real errors still show)
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$uv_version" 2>&1 \
        | grep -v "^WARNING: Location 'file:" >&2 || true
    [ "$(installed)" = "$uv_version" ] || { echo "scripts/uv.sh: could not install uv $uv_version" >&2; exit 1; }
fi

#!/usr/bin/env bash
# Installs the locked runtime set into .venv and starts the server (arguments go to `python -m server serve`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/python -m server serve "$@"

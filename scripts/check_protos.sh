#!/usr/bin/env bash
# Fails (exit 1) when the committed Python bindings under protos/ are stale or when buf lint finds a problem.
#
#   bash scripts/check_protos.sh
#
# 1. Regenerates every binding from a temporary copy of the .proto files and compares it with protos/
#    (names each stale, missing or orphaned file; never writes to protos/).
# 2. Runs buf lint (STANDARD, see buf.yaml) with buf pinned exactly in package.json / package-lock.json.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

status=0
"$PYTHON" scripts/gen_protos.py --check || status=1

npm ci --silent --no-audit --no-fund
if node_modules/.bin/buf lint; then
  echo "buf lint: clean ($(node_modules/.bin/buf --version))"
else
  echo "buf lint: failed" >&2
  status=1
fi
exit "$status"

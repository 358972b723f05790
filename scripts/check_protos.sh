#!/usr/bin/env bash
# Fails (exit 1) when the committed Python bindings under protos/ are stale or when buf lint finds a problem.
#
#   bash scripts/check_protos.sh
#
# 1. Regenerates every binding from a temporary copy of the .proto files and compares it with protos/
#    (names each stale, missing or orphaned file; never writes to protos/).
# 2. Runs buf lint (STANDARD, see buf.yaml) with buf pinned exactly in package.json / package-lock.json.
# 3. With BUF_BREAKING_AGAINST set (e.g. '.git#branch=main' in CI on a pull request), also runs
#    buf breaking (FILE rules) against that input.
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
if [[ -n "${BUF_BREAKING_AGAINST:-}" ]]; then
  if node_modules/.bin/buf breaking --against "$BUF_BREAKING_AGAINST"; then
    echo "buf breaking: no breaking change against $BUF_BREAKING_AGAINST"
  else
    echo "buf breaking: breaking changes against $BUF_BREAKING_AGAINST" >&2
    status=1
  fi
fi
exit "$status"

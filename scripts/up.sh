#!/usr/bin/env bash
# Install Chorus into .venv (pinned by constraints.txt) and run it all on this machine: an embedded
# nats-server with JetStream in ./var/nats, the identity, touchpoints and experience services, SQLite views.
#
#   ./scripts/up.sh                      # NATS on 4222, identity 50051, touchpoints 50052, experience 50053
#   ./scripts/up.sh --nats-port 14222    # extra arguments go to `chorus up` (see `chorus up --help`)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source scripts/venv.sh
install_into_venv '.'
exec .venv/bin/chorus up "$@"

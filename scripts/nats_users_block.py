"""Write the NATS users block (``services.common.security.nats_users.deployment_block``) into the nats-server
configs of docker-compose.yml and deploy/k8s; without ``--write``, exit 1 when one of them is not current."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.common.security.nats_users import deployment_block, deployment_block_in, with_deployment_block

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = (
    ROOT / "deploy" / "nats" / "nats-server.conf",
    ROOT / "deploy" / "k8s" / "base" / "nats" / "nats-server.conf",
    ROOT / "deploy" / "k8s" / "overlays" / "prod" / "nats" / "nats-server.conf",
)


def main() -> int:
    stale = [path for path in CONFIGS if deployment_block_in(path.read_text()) != deployment_block()]
    if "--write" in sys.argv[1:]:
        for path in stale:
            path.write_text(with_deployment_block(path.read_text()))
        return 0
    for path in stale:
        print(f"{path.relative_to(ROOT)}: the NATS users block is not current (run {Path(__file__).name} --write)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

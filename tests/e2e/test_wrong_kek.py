"""A service started with a KEK that cannot open the key vault refuses to start, in one line, exit 2."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from services.common.nats_server import NatsServer, free_port
from services.common.privacy.vault import Kek, NatsKeyVault

REPO = Path(__file__).resolve().parents[2]


def test_a_wrong_kek_at_start_up_is_refused_in_one_line(own_nats: NatsServer, tmp_path: Path) -> None:
    NatsKeyVault.open(own_nats.url, Kek(os.urandom(32))).close()  # the vault was set up with another KEK
    env = {
        **os.environ,
        "CHORUS_NATS_URL": own_nats.url,
        "CHORUS_GRPC_HOST": "127.0.0.1",
        "CHORUS_IDENTITY_PORT": str(free_port()),
        "CHORUS_DATA_DIR": str(tmp_path),
        "CHORUS_KEK": base64.b64encode(os.urandom(32)).decode(),
    }
    done = subprocess.run(
        [sys.executable, "-c", "from services.cli import app; app()", "serve", "identity"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    refusal = [line for line in done.stderr.splitlines() if "refusing to start" in line]
    assert len(refusal) == 1 and "CHORUS_KEK" in refusal[0]

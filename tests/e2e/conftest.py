"""One ``chorus up`` on free ports with ``chorus demo --size small`` loaded, shared by the CLI's end-to-end tests.

``chorus up`` writes its log to a file (a pipe nobody reads would fill and stall the services)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from services.common.nats_server import free_port
from services.common.testing import eventually

CHORUS = [sys.executable, "-m", "services.cli"]
SERVICES = ("identity", "touchpoints", "experience")


@dataclass
class DemoChorus:
    """A running ``chorus up``, the environment that points the CLI at it, and what ``chorus demo`` printed."""

    ports: dict[str, int]
    env: dict[str, str]
    demo: subprocess.CompletedProcess[str]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """``chorus ARGS`` as a subprocess against this Chorus."""
        return subprocess.run([*CHORUS, *args], env=self.env, input=stdin, capture_output=True, text=True,
                              timeout=300)


@pytest.fixture(scope="session")
def chorus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoChorus]:
    data_dir = tmp_path_factory.mktemp("demo-chorus")
    ports = {name: free_port() for name in ("nats", *SERVICES)}
    log = data_dir / "chorus-up.log"
    with log.open("w") as output:
        up = subprocess.Popen(
            [*CHORUS, "up", "--data-dir", str(data_dir / "data"),
             *(arg for name, port in ports.items() for arg in (f"--{name}-port", str(port)))],
            stdout=output, stderr=subprocess.STDOUT, text=True)
    try:
        def is_up() -> None:
            assert up.poll() is None, log.read_text()
            assert "Chorus is up" in log.read_text()

        eventually(is_up, timeout=60, interval=0.2)
        env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1",
               **{f"CHORUS_{name.upper()}_ADDRESS": f"127.0.0.1:{ports[name]}" for name in SERVICES}}
        demo = subprocess.run([*CHORUS, "demo", "--size", "small"], env=env, capture_output=True, text=True,
                              timeout=300)
        yield DemoChorus(ports=ports, env=env, demo=demo)
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)

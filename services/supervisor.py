"""``chorus up``'s process supervisor: each service as its own process, restarted when it dies, stopped together.

:class:`Supervisor` starts ``chorus serve <service>`` for each :class:`Child`, waits until each answers SERVING on
``grpc.health.v1``, and then watches them: a child that exits while nobody asked it to is started again (one line
on stderr says so), unless it has crashed ``max_crashes`` times within ``crash_window`` seconds, in which case the
supervisor gives up with :class:`GaveUp`, naming the service and its exit codes. :meth:`stop` sends SIGTERM to
every child, waits ``grace`` seconds, then kills what is left.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.common.errors import ChorusError
from services.common.healthcheck import check


class GaveUp(ChorusError):
    """A service kept crashing; the supervisor stopped restarting it."""


@dataclass
class Child:
    """One service process: its name, gRPC port and environment."""

    service: str
    port: int
    env: Mapping[str, str]
    process: subprocess.Popen[bytes] | None = None
    crashes: collections.deque[float] = field(default_factory=collections.deque)
    codes: list[int] = field(default_factory=list)


def serving(host: str, port: int, timeout: float = 1.0, credentials_dir: Path | None = None) -> bool:
    """Whether the gRPC server on ``host:port`` answers SERVING to a health check now (over TLS with the CA in
    ``credentials_dir``, when given)."""
    return check(f"{host}:{port}", timeout=timeout, credentials_dir=credentials_dir) == "SERVING"


class Supervisor:
    """Runs and watches the service processes of ``chorus up`` (see the module docstring)."""

    def __init__(
        self,
        children: list[Child],
        *,
        host: str = "127.0.0.1",
        max_crashes: int = 5,
        crash_window: float = 60.0,
        grace: float = 10.0,
        credentials_dir: Path | None = None,
        say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
    ) -> None:
        self.children = children
        self.host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - where to probe
        self.max_crashes = max_crashes
        self.crash_window = crash_window
        self.grace = grace
        self.say = say
        self.credentials_dir = credentials_dir

    def start(self, timeout: float = 90.0, stopping: Callable[[], bool] = lambda: False) -> None:
        """Start every child and wait until each is SERVING; ChorusError naming the one that is not."""
        for child in self.children:
            self._spawn(child)
        for child in self.children:
            deadline = time.monotonic() + timeout
            while not serving(self.host, child.port, credentials_dir=self.credentials_dir):
                if stopping():
                    return
                if child.process is not None and child.process.poll() is not None:
                    code = child.process.returncode
                    msg = f"{child.service} exited with code {code} while starting (see its log above)"
                    raise ChorusError(msg)
                if time.monotonic() > deadline:
                    msg = f"{child.service} did not become healthy on port {child.port} (see its log above)"
                    raise ChorusError(msg)
                time.sleep(0.2)

    def watch_once(self) -> None:
        """Restart each child that has exited; GaveUp when one crashed too often."""
        for child in self.children:
            process = child.process
            if process is None or process.poll() is None:
                continue
            now = time.monotonic()
            child.crashes.append(now)
            child.codes.append(process.returncode)
            while child.crashes and now - child.crashes[0] > self.crash_window:
                child.crashes.popleft()
            if len(child.crashes) >= self.max_crashes:
                codes = ", ".join(str(code) for code in child.codes[-self.max_crashes :])
                msg = (
                    f"{child.service} crashed {len(child.crashes)} times within {self.crash_window:g}s "
                    f"(exit codes {codes}); not restarting it, see its log above"
                )
                raise GaveUp(msg)
            self.say(
                f"chorus: {child.service} exited with code {process.returncode}; restarting it "
                f"({len(child.crashes)} of {self.max_crashes} crashes allowed within {self.crash_window:g}s)"
            )
            self._spawn(child)

    def stop(self) -> None:
        """SIGTERM every child, wait up to ``grace`` seconds, then kill the rest."""
        for child in self.children:
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"chorus: {child.service} did not stop within {self.grace:g}s; killing it")
                child.process.kill()
                child.process.wait()

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", child.service], env={**os.environ, **child.env}
        )

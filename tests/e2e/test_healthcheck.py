"""The image's probe command against a real Chorus gRPC server: exit 0 only while it reports SERVING."""

from __future__ import annotations

import subprocess
import sys
import threading

from services.common.nats_server import free_port
from services.common.testing import eventually, running_server

PROBE = [sys.executable, "-m", "services.common.healthcheck"]


def probe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PROBE, *args], capture_output=True, text=True, timeout=30)


def test_the_probe_follows_the_servers_readiness() -> None:
    ready = threading.Event()
    with running_server([], readiness=ready.is_set) as (_channel, port):
        address = f"127.0.0.1:{port}"
        not_yet = probe(address)
        assert (not_yet.returncode, not_yet.stdout.strip()) == (1, "NOT_SERVING")

        ready.set()

        def serving() -> subprocess.CompletedProcess[str]:
            answer = probe(address)
            assert answer.returncode == 0, answer.stdout
            return answer

        assert eventually(serving, timeout=20).stdout.strip() == "SERVING"


def test_the_probe_fails_in_one_line_when_nothing_answers() -> None:
    answer = probe(f"127.0.0.1:{free_port()}", "--timeout", "1")
    assert answer.returncode == 1
    assert answer.stdout.strip() in {"UNAVAILABLE", "DEADLINE_EXCEEDED"}
    assert answer.stderr == ""


def test_the_probe_names_a_service_the_server_does_not_know() -> None:
    with running_server([]) as (_channel, port):
        answer = probe(f"127.0.0.1:{port}", "--service", "chorus.nowhere.v1.Nothing")
    assert (answer.returncode, answer.stdout.strip()) == (1, "NOT_FOUND")

"""``chorus up`` as a platform engineer runs it: real processes, real ports, one line when something is wrong."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from chorus.experience.v1 import experience_service_pb2, experience_service_pb2_grpc
from services.common.errors import ChorusError
from services.common.eventstore.connection import JetStreamConnection
from services.common.grpc_runtime import client
from services.common.nats_server import free_port
from services.common.security import nats_users

CHORUS = [sys.executable, "-m", "services.cli"]
LOG_LINE = re.compile(r"^(.*?) +\[(?:debug|info|warning|error|critical) *\]", re.MULTILINE)
"""A console log line: its timestamp, then its level."""
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z")


def test_chorus_up_refuses_a_taken_port_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CHORUS, "up", "--data-dir", str(tmp_path), "--nats-port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"chorus: port 127.0.0.1:{port} wanted by nats-server is already taken by another process "
        "(choose another with --nats-port, or stop that process)"
    )
    assert "Traceback" not in result.stderr


def _serving(port: int, credentials: Path | None) -> str:
    with client.channel(f"127.0.0.1:{port}", credentials) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def _services(port: int, credentials: Path | None) -> set[str]:
    with client.channel(f"127.0.0.1:{port}", credentials) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        return {s.name for reply in replies for s in reply.list_services_response.service}


@pytest.mark.parametrize("insecure", [False, True], ids=["secure", "insecure"])
def test_chorus_up_runs_every_service_healthy_and_stops_on_sigterm(tmp_path: Path, insecure: bool) -> None:
    nats_port, identity_port, touchpoints_port, experience_port = free_port(), free_port(), free_port(), free_port()
    credentials = None if insecure else tmp_path / "credentials"
    process = subprocess.Popen(
        [
            *CHORUS,
            "up",
            "--data-dir",
            str(tmp_path),
            "--nats-port",
            str(nats_port),
            "--identity-port",
            str(identity_port),
            "--touchpoints-port",
            str(touchpoints_port),
            "--experience-port",
            str(experience_port),
            *(["--insecure"] if insecure else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        output = ""
        while "Chorus is up" not in output:
            line = process.stdout.readline() if process.stdout else ""
            assert line or process.poll() is None, f"chorus up exited early:\n{output}"
            output += line
            assert time.monotonic() < deadline, f"chorus up not ready in time:\n{output}"
        assert _serving(identity_port, credentials) == "SERVING"
        assert "touchpoints.no_brand_handles" in output  # social pressure needs them: say so when none are set
        assert _serving(touchpoints_port, credentials) == "SERVING"
        assert "chorus.identity.v1.IdentityService" in _services(identity_port, credentials)
        assert "chorus.touchpoints.v1.TouchpointService" in _services(touchpoints_port, credentials)
        assert _serving(experience_port, credentials) == "SERVING"
        assert "chorus.experience.v1.ExperienceService" in _services(experience_port, credentials)
        if insecure:
            assert "--insecure" in output and "security.open" in output
        else:
            assert "security.open" not in output
            with pytest.raises(grpc.RpcError):  # a plain client cannot talk to a TLS port
                _serving(identity_port, None)
            with client.channel(f"127.0.0.1:{experience_port}", credentials, certificate=None) as anonymous:
                with pytest.raises(grpc.RpcError) as refused:
                    experience_service_pb2_grpc.ExperienceServiceStub(anonymous).GetPulse(
                        experience_service_pb2.GetPulseRequest(), timeout=5
                    )
                assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(ChorusError):  # NATS has users now: nobody connects without one
                JetStreamConnection.open(f"nats://127.0.0.1:{nats_port}", connect_timeout=2).close()
        assert (tmp_path / "nats" / "jetstream").is_dir()
        nats_url = f"nats://127.0.0.1:{nats_port}"
        if not insecure:  # the auditor's NATS user runs the auditor's tools
            passwords = json.loads((tmp_path / "credentials" / "nats-users.json").read_text())
            nats_url = nats_users.user_url(nats_url, "auditor", passwords["auditor"])
        for service in ("identity", "touchpoints"):  # each signs its own stream, with the key generated for both
            asked = subprocess.run(
                [*CHORUS, "audit", "checkpoint", service, "--nats-url", nats_url],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert asked.returncode == 0, asked.stderr
        verified = subprocess.run(
            [
                *CHORUS,
                "audit",
                "verify",
                "--require-signed",
                "--nats-url",
                nats_url,
                "--public-key",
                str(tmp_path / "audit" / "signing-key.pub.pem"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    assert code == 0
    output += process.stdout.read() if process.stdout else ""
    assert "nats.stopped" in output
    stamps = [match.group(1) for match in LOG_LINE.finditer(output)]
    assert len(stamps) > 10
    assert [stamp for stamp in stamps if not ISO_UTC.fullmatch(stamp)] == []  # supervisor and services alike
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a refused client's TIME_WAIT is no listener
        probe.bind(("127.0.0.1", nats_port))  # everything it started has let go of its ports

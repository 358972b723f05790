"""``python -m services.identity.main``: configured by environment, healthy when its stream answers, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as pb
from chorus.identity.v1 import identity_service_pb2_grpc as pb_grpc
from services.common.nats_server import free_port
from services.common.testing import eventually
from services.identity.grpc_api import SERVICE_NAME

REPO = Path(__file__).resolve().parents[2]


def test_the_service_process_serves_and_stops_gracefully(nats_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CHORUS_NATS_URL": nats_url,
        "CHORUS_GRPC_HOST": "127.0.0.1",
        "CHORUS_IDENTITY_PORT": str(port),
        "CHORUS_DATA_DIR": str(tmp_path),
        "CHORUS_IDENTITY_APP_NAME": f"identity_proc_{uuid.uuid4().hex[:8]}",
        "CHORUS_DEFAULT_REGION": "GB",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.identity.main"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        health = health_pb2_grpc.HealthStub(channel)

        def check() -> None:
            status = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME)).status
            assert status == health_pb2.HealthCheckResponse.SERVING, "the service never became SERVING"

        eventually(check)
        national = types.Identifier(type=types.IDENTIFIER_TYPE_PHONE, value="020 7946 0999")
        answer = pb_grpc.IdentityServiceStub(channel).ResolveIdentifier(
            pb.ResolveIdentifierRequest(identifier=national, create_if_missing=True)
        )
        assert answer.created
        assert answer.identifier.value == "+442079460999"  # the default region came from the environment
        channel.close()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0
        assert "grpc.stopped" in output
        assert "+442079460999" not in output, "identifier values are never logged"
        assert (tmp_path / "views.db").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

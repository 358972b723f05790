"""Forgetting a person reaches a touchpoints service that runs as a process of its own.

The end-to-end stack (``tests.support.stack``) runs the three services in the test's process, where the keyring
installed last serves them all, so identity's destroy evicts the very cache touchpoints reads from. Here the
touchpoints service is ``python -m services.touchpoints.main``, with a keyring (and a key cache) of its own: once
it has opened Jane's touchpoint, ForgetParty through identity must still turn her text into "[erased]" in
``GetTouchpoint`` and ``ListTouchpoints``, without a restart or a reconnection of that process.
"""

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
from chorus.identity.v1 import identity_service_pb2 as ipb
from chorus.identity.v1 import identity_service_pb2_grpc as ipb_grpc
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as tpb_grpc
from services.common.config import Settings
from services.common.nats_server import free_port
from services.common.privacy.sealing import ERASED
from services.common.testing import eventually, serving
from services.identity.main import SERVICE as IDENTITY
from services.identity.main import IdentitySettings
from services.touchpoints.grpc_api import SERVICE_NAME as TOUCHPOINTS_SERVICE
from tests.support.stack import ago, ident, inbound_fields

REPO = Path(__file__).resolve().parents[2]
TEXT = "My boiler stopped heating"


def test_a_touchpoints_process_of_its_own_reads_a_forgotten_persons_touchpoint_erased(
    nats_url: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:10]
    email = ident(types.IDENTIFIER_TYPE_EMAIL, f"jane.smith.{run}@example.com")
    port = free_port()
    env = {
        **os.environ,
        "CHORUS_NATS_URL": nats_url,
        "CHORUS_GRPC_HOST": "127.0.0.1",
        "CHORUS_TOUCHPOINTS_PORT": str(port),
        "CHORUS_DATA_DIR": str(tmp_path / "touchpoints"),
        "CHORUS_VIEWS_URL": f"sqlite:///{tmp_path / 'touchpoints.db'}",
        "CHORUS_TOUCHPOINTS_APP_NAME": f"touchpoints_{run}",
        "CHORUS_TOUCHPOINTS_ENRICHMENT_PROCESSES": "0",
        "CHORUS_DEFAULT_REGION": "GB",
        "CHORUS_LOG_LEVEL": "warning",
    }
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp_path / 'identity.db'}", default_region="GB")
    process = subprocess.Popen([sys.executable, "-m", "services.touchpoints.main"], cwd=REPO, env=env)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        with serving(IDENTITY, settings, IdentitySettings(app_name=f"identity_{run}")) as identity_service:
            grpc.channel_ready_future(channel).result(timeout=60)
            health = health_pb2_grpc.HealthStub(channel)
            eventually(
                lambda: check(health.Check(health_pb2.HealthCheckRequest(service=TOUCHPOINTS_SERVICE)).status, 1),
                timeout=60,
            )
            identity = ipb_grpc.IdentityServiceStub(identity_service.channel)
            touchpoints = tpb_grpc.TouchpointServiceStub(channel)
            jane = identity.RegisterParty(
                ipb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name="Jane Smith", identifiers=[email])
            ).party.party_id
            touchpoint_id = touchpoints.RecordTouchpoint(
                tpb.RecordTouchpointRequest(
                    touchpoint=tpb.TouchpointInput(
                        source=tpb.Source(system="story", external_id=f"{run}-boiler"),
                        **inbound_fields(email, TEXT, occurred_at=ago(hours=1)),
                    )
                )
            ).touchpoint_id

            def got() -> str:
                return str(
                    touchpoints.GetTouchpoint(
                        tpb.GetTouchpointRequest(touchpoint_id=touchpoint_id)
                    ).touchpoint.content.text
                )

            def listed() -> list[str]:
                reply = touchpoints.ListTouchpoints(tpb.ListTouchpointsRequest(actor=email, page_size=10))
                return [item.content.text for item in reply.touchpoints]

            assert eventually(lambda: check(listed(), [TEXT])) == [TEXT]  # her key is in that process's cache now
            assert got() == TEXT

            identity.ForgetParty(
                ipb.ForgetPartyRequest(party_id=jane, requested_by="case-10", legal_basis="GDPR Art. 17(1)(a)")
            )

            assert eventually(lambda: check(got(), ERASED)) == ERASED
            assert eventually(lambda: check(listed(), [ERASED])) == [ERASED]
    finally:
        channel.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check(got: object, expected: object) -> object:
    assert got == expected, got
    return got

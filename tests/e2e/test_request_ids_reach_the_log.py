"""A caller's correlation id, and the id of the RPC, travel into the headers of every event the RPC recorded."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from chorus.common.v1 import types_pb2
from chorus.identity.v1 import identity_service_pb2 as pb
from chorus.identity.v1 import identity_service_pb2_grpc as pb_grpc
from services.common.config import Settings
from services.common.testing import serving
from services.identity.main import SERVICE, IdentitySettings


def test_a_correlation_id_sent_with_a_request_is_on_the_events_it_recorded(nats_url: str, tmp_path: Path) -> None:
    app_name = f"identity_ids_{uuid.uuid4().hex[:8]}"
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp_path / 'views.db'}")
    with serving(SERVICE, settings, IdentitySettings(app_name=app_name)) as identity:
        stub = pb_grpc.IdentityServiceStub(identity.channel)
        _, call = stub.RegisterParty.with_call(
            pb.RegisterPartyRequest(kind=types_pb2.PARTY_KIND_PERSON, display_name="Jane Smith"),
            metadata=(("x-correlation-id", "support-call-1234"),),
        )
        request_id = dict(call.trailing_metadata())["x-request-id"]

    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "log", app_name, "--nats-url", nats_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records, "the registration stored no event"
    assert {r["correlation_id"] for r in records} == {"support-call-1234"}
    assert {r["causation_id"] for r in records} == {request_id}  # the RPC that recorded them
    assert records[0]["topic"] == "chorus.identity.events.v1.PartyRegistered"

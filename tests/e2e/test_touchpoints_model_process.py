"""The touchpoints service as its own process with the model enrichment on: a touchpoint recorded through its gRPC
API is classified by the service's child process and shows in GetTouchpoint; SIGKILLed, the service leaves no
process of its own behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import grpc

from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as tpb_grpc
from services.common.config import Settings
from services.common.eventstore.codec import register_events
from services.common.nats_server import free_port
from services.common.testing import eventually
from services.touchpoints.application import TouchpointsApplication
from services.touchpoints.domain import Touchpoint
from services.touchpoints.events import MAPPER_TOPIC, REGISTRATIONS
from tests.support.stack import ago


def children_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` now (Linux)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_the_service_s_child_classifies_and_dies_with_it(nats_url: str, tmp_path: Path) -> None:
    app_name = f"tp_e2e_model_{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        **os.environ,
        "CHORUS_NATS_URL": nats_url,
        "CHORUS_VIEWS_URL": f"sqlite:///{tmp_path / 'views.db'}",
        "CHORUS_TOUCHPOINTS_PORT": str(port),
        "CHORUS_GRPC_HOST": "127.0.0.1",
        "CHORUS_TOUCHPOINTS_APP_NAME": app_name,
        "CHORUS_TOUCHPOINTS_ENRICHMENT_PROCESSES": "0",
        "CHORUS_TOUCHPOINTS_MODEL_ENRICHMENT": "rules",
        "CHORUS_LOG_LEVEL": "warning",
    }
    service = subprocess.Popen([sys.executable, "-m", "services.touchpoints.main"], env=env)
    reader: TouchpointsApplication | None = None
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
            stub = tpb_grpc.TouchpointServiceStub(channel)
            reply = stub.RecordTouchpoint(
                tpb.RecordTouchpointRequest(
                    touchpoint=tpb.TouchpointInput(
                        source=tpb.Source(system="intercom", external_id=app_name),
                        kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
                        channel=types.CHANNEL_CHAT,
                        direction=types.DIRECTION_INBOUND,
                        visibility=types.VISIBILITY_PRIVATE,
                        occurred_at=ago(minutes=1),
                        actors=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="jane@example.org")],
                        content=tpb.Content(text="Can I book a test drive on Saturday?"),
                    )
                )
            )
            touchpoint_id = uuid.UUID(reply.touchpoint_id)
        register_events(REGISTRATIONS)
        settings = Settings(nats_url=nats_url)
        reader = TouchpointsApplication(
            env={**settings.eventstore_env(app_name), "MAPPER_TOPIC": MAPPER_TOPIC}, name=app_name
        )

        def classified() -> None:
            events = reader.repository.event_store.get(touchpoint_id)  # type: ignore[union-attr]
            assert any(isinstance(e, Touchpoint.Classified) for e in events)

        eventually(classified, timeout=120)
        own = children_of(service.pid)
        assert own, "the service runs its model enrichment in a child process"
    finally:
        service.send_signal(signal.SIGKILL)
        service.wait(timeout=30)
        if reader is not None:
            reader.close()

    def all_gone() -> None:
        assert not [pid for pid in own if alive(pid)]

    eventually(all_gone, timeout=30)

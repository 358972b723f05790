"""The identity service on a real nats-server, behind a real gRPC channel, one stream per test module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from chorus.identity.v1 import identity_service_pb2_grpc as pb_grpc
from services.common.config import Settings
from services.common.eventstore.codec import register_events
from services.common.projections import ProjectionRunner
from services.common.testing import serving
from services.identity import events
from services.identity.application import IdentityApplication
from services.identity.main import SERVICE, IdentitySettings


@pytest.fixture(autouse=True, scope="session")
def _identity_events_registered() -> None:
    """The identity events declared to the event codec, as the composition root declares them."""
    register_events(events.REGISTRATIONS)


@dataclass
class IdentityHarness:
    """A running identity service: its application, projection, gRPC stub and settings."""

    app: IdentityApplication
    projection: ProjectionRunner  # the resolution view's runner
    stub: pb_grpc.IdentityServiceStub
    channel: grpc.Channel
    settings: Settings
    identity: IdentitySettings
    tmp: Path
    address: str = ""


@pytest.fixture(scope="module")
def identity(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityHarness]:
    tmp = tmp_path_factory.mktemp("identity")
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp / 'views.db'}")
    identity_settings = IdentitySettings(app_name=f"identity_{uuid.uuid4().hex[:12]}")
    with serving(SERVICE, settings, identity_settings) as service:
        app, projection = service.running
        yield IdentityHarness(
            app=app,
            projection=projection,
            stub=pb_grpc.IdentityServiceStub(service.channel),
            channel=service.channel,
            settings=settings,
            identity=identity_settings,
            tmp=tmp,
            address=service.address,
        )

"""The three services on a real nats-server, each behind a real gRPC channel, on streams of their own (the
end-to-end tests' stack), and the small helpers their stories are told with.

They share the test's process, so the keyring installed last (the experience service's) seals and opens for all
three, and identity's destroys evict the cache touchpoints reads from: a service running as a process of its own
is in ``tests/e2e/test_forget_across_processes.py``."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import timestamp_pb2

from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as xpb
from chorus.experience.v1 import experience_service_pb2_grpc as xpb_grpc
from chorus.identity.v1 import identity_service_pb2 as ipb
from chorus.identity.v1 import identity_service_pb2_grpc as ipb_grpc
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as tpb_grpc
from services.common.config import Settings
from services.common.testing import serving
from services.experience.application import ExperienceApplication, ExperienceSettings
from services.experience.main import SERVICE as EXPERIENCE
from services.identity.main import SERVICE as IDENTITY
from services.identity.main import IdentitySettings
from services.touchpoints.application import RecordingPolicy, TouchpointsApplication
from services.touchpoints.main import SERVICE as TOUCHPOINTS
from services.touchpoints.main import TouchpointsSettings

#: A fixed "now" for the stories: every time in them is relative to it, and queries ask "as of" it.
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


def ago(**delta: float) -> timestamp_pb2.Timestamp:
    return stamp(NOW - timedelta(**delta))


def ident(type_: int, value: str, namespace: str = "") -> types.Identifier:
    return types.Identifier(type=type_, value=value, namespace=namespace)


def inbound_fields(
    actor: types.Identifier,
    text: str,
    *,
    occurred_at: timestamp_pb2.Timestamp,
    channel: int = types.CHANNEL_EMAIL,
    **fields: Any,
) -> dict[str, Any]:
    """The fields of a private inbound ``TouchpointInput`` (an e-mail unless ``channel`` says otherwise) from
    ``actor``, its source aside."""
    return {
        "kind": types.TOUCHPOINT_KIND_TOUCHPOINT,
        "channel": channel,
        "direction": types.DIRECTION_INBOUND,
        "visibility": types.VISIBILITY_PRIVATE,
        "occurred_at": occurred_at,
        "actors": [actor],
        "content": tpb.Content(text=text),
        **fields,
    }


@dataclass
class Stack:
    """Identity, touchpoints and experience, running; stubs to each and the apps behind them."""

    identity: ipb_grpc.IdentityServiceStub
    touchpoints: tpb_grpc.TouchpointServiceStub
    experience: xpb_grpc.ExperienceServiceStub
    touchpoints_app: TouchpointsApplication
    experience_app: ExperienceApplication
    settings: Settings  #: the experience service's (its views URL)
    run: str
    experience_settings: ExperienceSettings

    def register(self, name: str, kind: int = types.PARTY_KIND_PERSON) -> str:
        reply = self.identity.RegisterParty(
            ipb.RegisterPartyRequest(kind=kind, display_name=name, roles=[types.PARTY_ROLE_CUSTOMER])
        )
        return reply.party.party_id

    def link(self, party_id: str, identifier: types.Identifier) -> None:
        self.identity.LinkIdentifier(
            ipb.LinkIdentifierRequest(
                party_id=party_id, identifier=identifier, evidence=ipb.Evidence(source="test", rule="told-us")
            )
        )

    def record(self, external_id: str, **fields: Any) -> str:
        item = tpb.TouchpointInput(source=tpb.Source(system="story", external_id=f"{self.run}-{external_id}"), **fields)
        reply = self.touchpoints.RecordTouchpoint(tpb.RecordTouchpointRequest(touchpoint=item))
        return reply.touchpoint_id

    def inbound(
        self,
        external_id: str,
        actor: types.Identifier,
        text: str,
        *,
        occurred_at: timestamp_pb2.Timestamp,
        channel: int = types.CHANNEL_EMAIL,
        **fields: Any,
    ) -> str:
        """Record a private inbound touchpoint (an e-mail unless ``channel`` says otherwise) from ``actor``."""
        return self.record(
            external_id, **inbound_fields(actor, text, occurred_at=occurred_at, channel=channel, **fields)
        )

    def caught_up(self) -> None:
        """Wait until the experience views reflect everything both streams hold now."""
        self.touchpoints_app.index_runner.catch_up(timeout=30)  # reply links are recorded by the index
        self.experience_app.catch_up(timeout=30)

    def experience_of(self, selector: xpb.PartySelector) -> xpb.Experience:
        self.caught_up()
        reply = self.experience.GetExperience(xpb.GetExperienceRequest(party=selector, as_of_time=stamp(NOW)))
        return reply.experience


@contextlib.contextmanager
def chorus_stack(
    nats_url: str,
    views_url: str,
    *,
    experience_views: tuple[str, str | None] | None = None,
    touchpoints_views: str | None = None,
    at_risk_after: int = 14 * 86_400,
) -> Iterator[Stack]:
    """The three services; ``experience_views`` (URL, PostgreSQL schema) puts the experience views elsewhere,
    ``touchpoints_views`` (URL) the touchpoints index."""
    run = uuid.uuid4().hex[:10]
    settings = Settings(nats_url=nats_url, views_url=views_url, default_region="GB")
    identity_settings = IdentitySettings(app_name=f"identity_{run}")
    touchpoints_settings = TouchpointsSettings(
        app_name=f"touchpoints_{run}", policy=RecordingPolicy(brand_handles=frozenset({"acme"}))
    )
    experience_settings = ExperienceSettings(
        upstream_apps={"identity": identity_settings.app_name, "touchpoints": touchpoints_settings.app_name},
        at_risk_after_seconds=at_risk_after,
        default_region="GB",
        poll_interval=0.2,
        views_schema=experience_views[1] if experience_views else None,
    )
    experience_base = replace(settings, views_url=experience_views[0]) if experience_views else settings
    with contextlib.ExitStack() as stack:
        identity = stack.enter_context(serving(IDENTITY, settings, identity_settings))
        touchpoints_base = replace(settings, views_url=touchpoints_views) if touchpoints_views else settings
        touchpoints = stack.enter_context(serving(TOUCHPOINTS, touchpoints_base, touchpoints_settings))
        experience = stack.enter_context(serving(EXPERIENCE, experience_base, experience_settings))
        yield Stack(
            identity=ipb_grpc.IdentityServiceStub(identity.channel),
            touchpoints=tpb_grpc.TouchpointServiceStub(touchpoints.channel),
            experience=xpb_grpc.ExperienceServiceStub(experience.channel),
            touchpoints_app=touchpoints.running,
            experience_app=experience.running,
            settings=experience_base,
            run=run,
            experience_settings=experience_settings,
        )

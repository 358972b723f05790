"""Helpers for event-store tests: a throwaway application on its own stream."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from chorus.bench.events.v1 import events_pb2
from services.common.eventstore import jetstream
from services.common.eventstore.codec import register_events


class Account(Aggregate):
    """A party-shaped aggregate whose events are stored as the kernel's test contract (chorus.bench.events.v1)."""

    @event("Registered")
    def __init__(self, kind: str, roles: tuple[str, ...], display_name: str, anonymous: bool) -> None:
        self.kind = kind
        self.roles = roles
        self.display_name = display_name
        self.anonymous = anonymous
        self.members: list[str] = []

    @event("MemberAdded")
    def add_member(self, member_id: str) -> None:
        self.members.append(member_id)


register_events(
    [(Account.Registered, events_pb2.AccountRegistered), (Account.MemberAdded, events_pb2.AccountMemberAdded)]
)


def app_env(nats_url: str, **extra: str) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": jetstream.__name__,
        "MAPPER_TOPIC": "services.common.eventstore.codec:ProtobufMapper",
        "NATS_URL": nats_url,
        **extra,
    }


def new_app(nats_url: str, name: str = "", **extra: Any) -> Application[Any]:
    """An application on its own stream (a fresh one unless ``name`` repeats an earlier app's name)."""

    class Accounts(Application[Any]):
        pass

    Accounts.name = name or f"store_{uuid.uuid4().hex[:10]}"
    return Accounts(env=app_env(nats_url, **extra))

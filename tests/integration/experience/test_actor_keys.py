"""The experience views key an actor by the key its sealed value names, without decrypting it, and come out as
if they had normalised the opened value: under the views' own region, and for an erased actor."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import Tracking

from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.events.v1 import events_pb2 as touchpoint_events
from services.common.identifiers import normal_key
from services.common.privacy.keyring import Keyring, install
from services.common.privacy.keys import DeploymentKeys
from services.common.privacy.sealing import ERASED, open_sealed_many, seal
from services.common.privacy.vault import Kek, NatsKeyVault
from services.common.projections import UpstreamEvent
from services.experience.projection import TOUCHPOINTS, ExperienceProjection, ExperienceView

PHONE = "020 7946 0958"  # a national number: its normal form needs a region
EMAIL_TYPE, PHONE_TYPE = "email", "phone"


@pytest.fixture
def keyring(nats_url: str) -> Iterator[Keyring]:
    """The installed keyring of a process whose region is unset (as a writer's and a reader's would be)."""
    vault = NatsKeyVault.open(nats_url, Kek(DeploymentKeys.from_env().kek))
    ring = Keyring(vault)
    previous = install(ring)
    try:
        yield ring
    finally:
        install(previous)
        ring.close()
        vault.close()


def stored_touchpoint(email: str) -> tuple[str, bytes]:
    """A touchpoint by ``email`` to a phone number, sealed as the touchpoints service stores it."""
    touchpoint_id = str(uuid.uuid4())
    message = touchpoint_events.TouchpointRecorded(
        channel=types.CHANNEL_EMAIL,
        direction=types.DIRECTION_INBOUND,
        actors=[
            types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value=email.upper()),
            types.Identifier(type=types.IDENTIFIER_TYPE_PHONE, value=PHONE),
        ],
        text="where is my parcel",
        occurred_at={"seconds": 1_700_000_000},
    )
    return touchpoint_id, seal(message, touchpoint_id).SerializeToString()


def actor_keys(tmp_path: Path, stored: tuple[str, bytes], region: str | None) -> list[str]:
    """The ``exp_actor`` keys of the touchpoint, read as the runner reads it for the projection and applied."""
    touchpoint_id, data = stored
    message = touchpoint_events.TouchpointRecorded.FromString(data)
    open_sealed_many([message], key_only=ExperienceProjection.KEY_ONLY)
    event = UpstreamEvent(
        upstream=TOUCHPOINTS,
        sequence=1000,
        aggregate_id=touchpoint_id,
        version=1,
        topic=message.DESCRIPTOR.full_name,
        message=message,
    )
    with ExperienceView(f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.db'}") as view:
        projection = ExperienceProjection(view, default_region=region)
        with view.transaction(Tracking(TOUCHPOINTS, event.sequence)) as cur:
            projection.apply(cur, event)
            projection.before_commit(cur)
        return [row["id_key"] for row in sorted(view.dump()["exp_actor"], key=lambda row: row["ord"])]


def test_actors_are_keyed_by_their_normal_forms_without_their_values_being_opened(
    keyring: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = f"jane.{uuid.uuid4().hex[:8]}@example.com"
    stored = stored_touchpoint(email)
    message = touchpoint_events.TouchpointRecorded.FromString(stored[1])
    open_sealed_many([message], key_only=ExperienceProjection.KEY_ONLY)
    assert all(actor.value.startswith("pii1:") for actor in message.actors)  # what the handler is given

    def opened(*_: object, **__: object) -> str:
        raise AssertionError("an actor's value was opened")

    monkeypatch.setattr("services.experience.projection.open_value", opened)

    assert actor_keys(tmp_path, stored, None) == [normal_key(EMAIL_TYPE, "", email), normal_key(PHONE_TYPE, "", PHONE)]


def test_views_of_another_region_than_the_writers_key_actors_by_their_own_region(
    keyring: Keyring, tmp_path: Path
) -> None:
    email = f"jane.{uuid.uuid4().hex[:8]}@example.com"
    keys = actor_keys(tmp_path, stored_touchpoint(email), "GB")
    assert keys == [normal_key(EMAIL_TYPE, "", email), normal_key(PHONE_TYPE, "", PHONE, "GB")]
    assert keys[1] != normal_key(PHONE_TYPE, "", PHONE)  # the key the writer sealed it under differs


def test_an_actor_whose_key_is_destroyed_is_keyed_as_its_erased_value(keyring: Keyring, tmp_path: Path) -> None:
    email = f"jane.{uuid.uuid4().hex[:8]}@example.com"
    stored = stored_touchpoint(email)
    assert keyring.destroy(normal_key(EMAIL_TYPE, "", email))

    keys = actor_keys(tmp_path, stored, None)

    assert keys == [normal_key(EMAIL_TYPE, "", ERASED), normal_key(PHONE_TYPE, "", PHONE)]

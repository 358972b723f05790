"""The event codec: registered events stored as their protobuf messages, anything unregistered refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, StoredEvent, UUIDAsHex

from chorus.bench.events.v1 import events_pb2
from services.common.contracts import from_micros, from_timestamp, micros, to_timestamp
from services.common.eventstore.codec import LenientProtobufMapper, ProtobufMapper, UnregisteredEventError
from tests.support.eventstore import Account


class Unregistered(Aggregate):
    """An aggregate nobody declared a contract for."""

    @event("Opened")
    def __init__(self, name: str) -> None:
        self.name = name


def test_an_event_of_an_unregistered_class_is_refused_not_stored_as_json() -> None:
    mapper = ProtobufMapper(transcoder=JSONTranscoder())
    (opened,) = Unregistered(name="x").collect_events()
    with pytest.raises(UnregisteredEventError, match="no registered protobuf message"):
        mapper.to_stored_event(opened)


def test_a_stored_topic_no_registration_names_is_refused() -> None:
    mapper = ProtobufMapper(transcoder=JSONTranscoder())
    stored = StoredEvent(uuid4(), 1, "tests.unit.common.test_codec:Unregistered.Opened", b"{}")
    with pytest.raises(UnregisteredEventError, match="names no registered event"):
        mapper.to_domain_event(stored)


def test_the_lenient_mapper_stores_unregistered_events_with_the_library_transcoding() -> None:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    mapper = LenientProtobufMapper(transcoder=transcoder)
    (opened,) = Unregistered(name="x").collect_events()
    stored = mapper.to_stored_event(opened)
    assert stored.topic.endswith("Unregistered.Opened")
    assert mapper.to_domain_event(stored).name == "x"  # type: ignore[attr-defined]


def test_a_registered_event_is_stored_as_its_message() -> None:
    mapper = ProtobufMapper(transcoder=JSONTranscoder())
    registered = Account(kind="person", roles=(), display_name="Jo", anonymous=False).collect_events()[0]
    stored = mapper.to_stored_event(registered)
    assert stored.topic == events_pb2.AccountRegistered.DESCRIPTOR.full_name
    assert events_pb2.AccountRegistered.FromString(stored.state).display_name == "Jo"
    assert mapper.to_domain_event(stored).timestamp == registered.timestamp


def test_times_convert_exactly_between_datetimes_timestamps_and_microseconds() -> None:
    moment = datetime(2026, 12, 2, 4, 45, 7, 123456, tzinfo=UTC)
    assert from_micros(micros(moment)) == moment
    assert from_timestamp(to_timestamp(moment)) == moment
    assert to_timestamp(moment).nanos == 123456000
    elsewhere = moment.astimezone(timezone(timedelta(hours=5)))
    assert micros(elsewhere) == micros(moment)
    assert micros(moment.replace(tzinfo=None)) == micros(moment)  # naive times are UTC

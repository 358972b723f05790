"""Stored events <-> JetStream messages: the commit envelope, the headers, and the notification ids.

A save's events of one aggregate become one message on the aggregate's subject. One event is stored as itself
(payload = its state, ``Chorus-Topic`` = its topic); two or more are one ``chorus.eventstore.v1.Commit``
(``Chorus-Topic: chorus.eventstore.v1.Commit``) holding each event's topic, version and state. Either way
``Chorus-Version`` is the version of the message's last event. :func:`decode_message` reads both forms; it is
what the recorders, ``chorus log`` and the read side call.

Notification ids number events, not messages: the ``index``-th event (from 0) of the message at stream
sequence ``seq`` has id ``seq * IDS_PER_MESSAGE + index``, see :func:`notification_id`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from eventsourcing.persistence import Notification, StoredEvent

from chorus.eventstore.v1 import commit_pb2
from services.common.eventstore.layout import originator_of_subject

TOPIC_HEADER = "Chorus-Topic"
VERSION_HEADER = "Chorus-Version"
CORRELATION_HEADER = "Chorus-Correlation-Id"
CAUSATION_HEADER = "Chorus-Causation-Id"
MSG_ID_HEADER = "Nats-Msg-Id"
EXPECTED_LAST_SUBJECT_SEQUENCE = "Nats-Expected-Last-Subject-Sequence"
COMMIT_TOPIC = commit_pb2.Commit.DESCRIPTOR.full_name

#: Notification ids per stream sequence; also the most events one message (one save of one aggregate) holds.
IDS_PER_MESSAGE = 1000


@dataclass(frozen=True)
class StoredMessage:
    """A message as JetStream stored it."""

    subject: str
    seq: int
    data: bytes
    headers: Mapping[str, str]


@dataclass
class OutgoingMessage:
    """A message to publish: its subject, payload and headers."""

    subject: str
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)


def notification_id(seq: int, index: int = 0) -> int:
    """The notification id of the ``index``-th event of the message stored at ``seq``."""
    return seq * IDS_PER_MESSAGE + index


def message_sequence(notification_id: int) -> int:
    """The stream sequence of the message that holds (or would hold) ``notification_id``."""
    return notification_id // IDS_PER_MESSAGE


def is_commit(headers: Mapping[str, str]) -> bool:
    """True when the message is a commit envelope of several events."""
    return headers.get(TOPIC_HEADER) == COMMIT_TOPIC


def encode_events(subject: str, events: Sequence[StoredEvent], headers: Mapping[str, str]) -> OutgoingMessage:
    """One message for ``events`` (all of one aggregate, ascending versions): the event itself, or a commit."""
    if not 1 <= len(events) <= IDS_PER_MESSAGE:
        raise ValueError(f"one message holds 1 to {IDS_PER_MESSAGE} events, got {len(events)}")
    last = events[-1]
    out = {**headers, VERSION_HEADER: str(last.originator_version)}
    if len(events) == 1:
        out[TOPIC_HEADER] = last.topic
        return OutgoingMessage(subject, last.state, out)
    commit = commit_pb2.Commit(
        events=[commit_pb2.CommittedEvent(topic=e.topic, version=e.originator_version, state=e.state) for e in events]
    )
    out[TOPIC_HEADER] = COMMIT_TOPIC
    return OutgoingMessage(subject, commit.SerializeToString(), out)


def decode_message(msg: StoredMessage) -> list[Notification]:
    """The events a stored event message holds, each with its notification id, aggregate id, version, topic and
    stored state (payload bytes, still encrypted/compressed when the mapper does that).

    >>> msg = StoredMessage("chorus.demo.e.s-YQ", 7, b"x", {"Chorus-Topic": "t", "Chorus-Version": "1"})
    >>> [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in decode_message(msg)]
    [(7000, 'a', 1, 't', b'x')]
    """
    originator_id = originator_of_subject(msg.subject)
    return [
        Notification(id=id_, originator_id=originator_id, originator_version=version, topic=topic, state=state)
        for id_, version, topic, state in message_events(msg)
    ]


def message_events(msg: StoredMessage) -> list[tuple[int, int, str, bytes]]:
    """The (notification id, version, topic, stored state) of each event ``msg`` holds: :func:`decode_message`
    without the aggregate id (all of them are the subject's)."""
    headers = msg.headers
    if not is_commit(headers):
        return [(notification_id(msg.seq), int(headers[VERSION_HEADER]), headers.get(TOPIC_HEADER, ""), msg.data)]
    return [
        (notification_id(msg.seq, index), event.version, event.topic, event.state)
        for index, event in enumerate(commit_pb2.Commit.FromString(msg.data).events)
    ]


def last_notification_id(msg: StoredMessage) -> int:
    """The notification id of the last event in ``msg``."""
    if not is_commit(msg.headers):
        return notification_id(msg.seq)
    return notification_id(msg.seq, len(commit_pb2.Commit.FromString(msg.data).events) - 1)

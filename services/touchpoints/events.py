"""Which protobuf message stores which touchpoint domain event (``chorus.touchpoints.events.v1``).

The composition root (``services.touchpoints.main``) passes :data:`REGISTRATIONS` to ``register_events`` before the
application stores or reads any event.
The message fields carry the events' attribute names (see ``protos/chorus/touchpoints/events/v1/events.proto``).

:class:`TouchpointMapper` is the shared :class:`ProtobufMapper` with a direct path for ``TouchpointRecorded``,
the event ingest writes (and the index reads) thousands of times a second: it builds and reads that one message
field by field instead of by reflection, for one event and for a bulk save alike. It produces the same bytes and
the same domain event as the generic mapper (``tests/unit/touchpoints/test_touchpoint_events.py`` checks both), and
leaves every other event, sealing, the cipher and the compressor to the generic one. The touchpoints service selects it with
``MAPPER_TOPIC=services.touchpoints.events:TouchpointMapper``.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent
from google.protobuf.message import Message

from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.events.v1 import events_pb2 as pb
from services.common.contracts import EnumWords, from_timestamp, timestamp_fields
from services.common.eventstore.codec import ProtobufMapper
from services.common.privacy.sealing import open_sealed
from services.common.records import made_of
from services.touchpoints.domain import Touchpoint

MAPPER_TOPIC = "services.touchpoints.events:TouchpointMapper"

REGISTRATIONS = (
    (Touchpoint.Recorded, pb.TouchpointRecorded),
    (Touchpoint.Reclassified, pb.TouchpointReclassified),
    (Touchpoint.ReplyLinked, pb.TouchpointReplyLinked),
    (Touchpoint.Classified, pb.TouchpointClassified),
)


RECORDED_TOPIC = pb.TouchpointRecorded.DESCRIPTOR.full_name

_KIND = EnumWords(types.TouchpointKind.DESCRIPTOR)
_CHANNEL = EnumWords(types.Channel.DESCRIPTOR)
_DIRECTION = EnumWords(types.Direction.DESCRIPTOR)
_VISIBILITY = EnumWords(types.Visibility.DESCRIPTOR)
_INTENT = EnumWords(types.Intent.DESCRIPTOR)
_DEGREE = EnumWords(types.SociabilityDegree.DESCRIPTOR)
_BUSINESS = EnumWords(types.BusinessSociabilityDegree.DESCRIPTOR)
_FUNCTION = EnumWords(types.CompanyFunction.DESCRIPTOR)
_IDENTIFIER = EnumWords(types.IdentifierType.DESCRIPTOR)
_SENTIMENT = EnumWords(pb.SentimentLabel.DESCRIPTOR)


def recorded_message(event: Touchpoint.Recorded) -> pb.TouchpointRecorded:
    """The stored message of a ``Recorded`` event (what the generic mapper makes, made directly)."""
    return pb.TouchpointRecorded(
        timestamp=timestamp_fields(event.timestamp),
        kind=_KIND.to_number[event.kind],
        channel=_CHANNEL.to_number[event.channel],
        direction=_DIRECTION.to_number[event.direction],
        visibility=_VISIBILITY.to_number[event.visibility],
        occurred_at=timestamp_fields(event.occurred_at),
        source_system=event.source_system,
        external_id=event.external_id,
        external_url=event.external_url,
        actors=[
            types.Identifier(type=_IDENTIFIER.to_number[a["type"]], value=a["value"], namespace=a["namespace"])
            for a in event.actors
        ],
        followers=event.followers,
        recipients=event.recipients,
        text=event.text,
        language=event.language,
        reply_to_id=event.reply_to_id,
        reply_to_source_system=event.reply_to_source_system,
        reply_to_external_id=event.reply_to_external_id,
        thread_id=event.thread_id,
        intent=_INTENT.to_number[event.intent],
        sentiment_label=_SENTIMENT.to_number[event.sentiment_label],
        sentiment_score=event.sentiment_score,
        sociability_degree=_DEGREE.to_number[event.sociability_degree],
        business_sociability_degree=_BUSINESS.to_number[event.business_sociability_degree],
        company_function=_FUNCTION.to_number[event.company_function],
        tags=event.tags,
        inferred=event.inferred,
        originator_topic=event.originator_topic,
        rating=event.rating,
    )


def recorded_state(message: pb.TouchpointRecorded) -> dict[str, Any]:
    """The attributes of a ``Recorded`` event from its stored message (what the generic mapper reads)."""
    return {
        "timestamp": from_timestamp(message.timestamp),
        "kind": _KIND.to_word[message.kind],
        "channel": _CHANNEL.to_word[message.channel],
        "direction": _DIRECTION.to_word[message.direction],
        "visibility": _VISIBILITY.to_word[message.visibility],
        "occurred_at": from_timestamp(message.occurred_at),
        "source_system": message.source_system,
        "external_id": message.external_id,
        "external_url": message.external_url,
        "actors": tuple(
            {"type": _IDENTIFIER.to_word[a.type], "value": a.value, "namespace": a.namespace} for a in message.actors
        ),
        "followers": message.followers,
        "recipients": message.recipients,
        "text": message.text,
        "language": message.language,
        "reply_to_id": message.reply_to_id,
        "reply_to_source_system": message.reply_to_source_system,
        "reply_to_external_id": message.reply_to_external_id,
        "thread_id": message.thread_id,
        "intent": _INTENT.to_word[message.intent],
        "sentiment_label": _SENTIMENT.to_word[message.sentiment_label],
        "sentiment_score": message.sentiment_score,
        "sociability_degree": _DEGREE.to_word[message.sociability_degree],
        "business_sociability_degree": _BUSINESS.to_word[message.business_sociability_degree],
        "company_function": _FUNCTION.to_word[message.company_function],
        "tags": tuple(message.tags),
        "inferred": tuple(message.inferred),
        "originator_topic": message.originator_topic,
        "rating": message.rating,
    }


class TouchpointMapper(ProtobufMapper):
    """:class:`ProtobufMapper` with a direct path for ``TouchpointRecorded`` (see the module docstring)."""

    def _message(self, domain_event: DomainEventProtocol[Any]) -> Message | None:
        """The message of a ``Recorded`` event built directly; sealing, the cipher and the compressor stay the
        generic mapper's, for one event (``to_stored_event``) and for a bulk save (``to_stored_events``) alike."""
        if type(domain_event) is Touchpoint.Recorded:
            return recorded_message(domain_event)  # type: ignore[arg-type]
        return super()._message(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        if stored_event.topic != RECORDED_TOPIC or self.cipher or self.compressor:
            return super().to_domain_event(stored_event)
        try:
            message = open_sealed(pb.TouchpointRecorded.FromString(stored_event.state), str(stored_event.originator_id))
        except Exception:  # noqa: BLE001 - let the generic path raise its MapperDeserialisationError
            return super().to_domain_event(stored_event)
        state = recorded_state(message)
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        return made_of(Touchpoint.Recorded, state)  # type: ignore[no-any-return]

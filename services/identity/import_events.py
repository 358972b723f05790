"""The stored events of imported parties, built straight from their checked imports (no aggregates, no codec).

:func:`plan_import` gives the events :func:`services.identity.domain.import_party` makes for a checked item, in
the order a save of its aggregates stores them (the party's registration, consents, preferred channels and
links, then each claim it creates or takes), as the protobuf messages the event codec would fill; and
:func:`stored_events` seals and serialises many items' events as the codec does (one vault call for their data
keys), so the stored events are those the aggregate path stores, field for field.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message

from chorus.common.v1 import types_pb2 as types
from chorus.identity.events.v1 import events_pb2 as pb
from services.common.contracts import enum_words, timestamp_fields
from services.common.eventstore.codec import ProtobufMapper
from services.common.privacy.sealing import seal_many
from services.identity.domain import CheckedImport, Evidence, IdentifierClaim, Party

if TYPE_CHECKING:
    from eventsourcing.persistence import Mapper

PARTY_TOPIC = get_topic(Party)
CLAIM_TOPIC = get_topic(IdentifierClaim)
_KIND = enum_words(types.PartyKind.DESCRIPTOR).to_number
_ROLE = enum_words(types.PartyRole.DESCRIPTOR).to_number
_CHANNEL = enum_words(types.Channel.DESCRIPTOR).to_number
_CONSENT = enum_words(types.ConsentStatus.DESCRIPTOR).to_number
_IDENTIFIER_TYPE = enum_words(types.IdentifierType.DESCRIPTOR).to_number
_M = TypeVar("_M", bound=Message)


class PlannedEvent(NamedTuple):
    """One event to store: its aggregate (id, and the id's text), the aggregate's version after it, and its message
    (not sealed yet)."""

    originator_id: uuid.UUID
    aggregate_id: str
    originator_version: int
    message: Message


#: Each message's constant fields, copied into every such event (cheaper than building each by keyword).
_REGISTERED = pb.PartyRegistered(originator_topic=PARTY_TOPIC)
_CLAIMED = pb.IdentifierClaimed(originator_topic=CLAIM_TOPIC)


def _stamped(prototype: _M, stamp: timestamp_pb2.Timestamp) -> _M:
    """A new message of ``prototype``'s type with its fields, stamped ``stamp``."""
    message = type(prototype)()
    message.CopyFrom(prototype)
    message.timestamp.CopyFrom(stamp)
    return message


def _stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(**timestamp_fields(moment))


def _number(table: Mapping[str, int], word: str, what: str) -> int:
    try:
        return table[word]
    except KeyError:
        raise ValueError(f"{word!r} is not a {what}") from None


def plan_import(
    party_id: uuid.UUID,
    checked: CheckedImport,
    claims: Mapping[str, IdentifierClaim],
    link_evidence: Evidence,
    now: datetime,
) -> list[PlannedEvent]:
    """The events that import ``checked`` as party ``party_id`` (``claims``: the existing claims nobody holds, by
    identifier key; they are taken, the others created), each stamped ``now``."""
    stamp = _stamp(now)
    party = str(party_id)
    registered = _stamped(_REGISTERED, stamp)
    registered.kind = _number(_KIND, checked.kind, "party kind")
    registered.roles.extend([_number(_ROLE, role, "party role") for role in checked.roles])
    registered.display_name = checked.display_name
    planned = [PlannedEvent(party_id, party, 1, registered)]
    for answer in checked.consents:
        consent = pb.PartyConsentRecorded(
            timestamp=stamp,
            channel=_number(_CHANNEL, answer.channel, "channel"),
            status=_number(_CONSENT, answer.status, "consent status"),
            at=_stamp(answer.at),
            source=answer.source,
        )
        planned.append(PlannedEvent(party_id, party, len(planned) + 1, consent))
    if checked.preferred_channels:
        channels = [_number(_CHANNEL, channel, "channel") for channel in checked.preferred_channels]
        planned.append(
            PlannedEvent(
                party_id, party, len(planned) + 1, pb.PartyPreferredChannelsSet(timestamp=stamp, channels=channels)
            )
        )
    evidence = pb.Evidence(
        source=link_evidence.source,
        confidence=link_evidence.confidence,
        asserted_by=link_evidence.asserted_by,
        rule=link_evidence.rule,
        note=link_evidence.note,
    )
    claimed: list[PlannedEvent] = []
    for identifier in checked.identifiers:
        key = identifier.key
        type_number = _number(_IDENTIFIER_TYPE, identifier.type, "identifier type")
        claim = claims.get(key)
        if claim is None:
            made = _stamped(_CLAIMED, stamp)
            made.type = type_number
            made.namespace = identifier.namespace
            made.value = identifier.value
            made.party_id = party
            claimed.append(PlannedEvent(identifier.id, key, 1, made))
        else:
            taken = pb.IdentifierTransferred(
                timestamp=stamp, party_id=party, from_party_id=claim.party_id, reason="link"
            )
            claimed.append(PlannedEvent(claim.id, key, claim.version + 1, taken))
        link_event = pb.PartyIdentifierLinked()  # no constant fields: nothing to copy
        link_event.timestamp.CopyFrom(stamp)
        linked = link_event.identifier
        linked.identifier_id = key
        linked.type = type_number
        linked.namespace = identifier.namespace
        linked.value = identifier.value
        linked.evidence.CopyFrom(evidence)
        planned.append(PlannedEvent(party_id, party, len(planned) + 1, link_event))
    return planned + claimed


def stored_events(planned: Sequence[PlannedEvent], mapper: Mapper[uuid.UUID]) -> list[StoredEvent]:
    """``planned`` as the event codec stores them: marked fields sealed (the data keys of all of them made in one
    vault call), then each stored by ``mapper``, the application's event codec
    (:meth:`ProtobufMapper.stored_message`)."""
    if not isinstance(mapper, ProtobufMapper):
        msg = "an import stores protobuf events: the application's mapper must be the event codec (MAPPER_TOPIC)"
        raise TypeError(msg)
    seal_many([(event.message, event.aggregate_id) for event in planned])
    return [mapper.stored_message(event.originator_id, event.originator_version, event.message) for event in planned]

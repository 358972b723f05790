"""The event codec: each domain event stored as the protobuf message declared for it in ``protos/``.

The stored topic is the message's full name (``chorus.identity.events.v1.PartyRegistered``) and the stored
state is the serialised message, so the log decodes with the ``.proto`` files alone, in any language, without
our Python domain classes. Select it with ``MAPPER_TOPIC=services.common.eventstore.codec:ProtobufMapper``; each
service's composition root declares its events once, before its application stores or reads any::

    register_events([(Party.Registered, events_pb2.PartyRegistered), ...])

:class:`ProtobufMapper` is strict: an event of a class nobody registered, or a stored topic no registration
names, is an :class:`UnregisteredEventError` (DESIGN: every stored event is a protobuf message).
:class:`LenientProtobufMapper` stores such events with the library's JSON transcoding instead, for tools and
tests that store the library's own event classes.

Conversion is by field name, with the conventions every service follows (values as in
:mod:`services.common.contracts`):

- every event message has ``google.protobuf.Timestamp timestamp = 1`` (the event's own timestamp); the other
  fields carry the domain event's attribute names; ``originator_id`` and ``originator_version`` live in the
  envelope (the NATS subject), not in the message;
- ``UUID`` <-> ``string``; ``datetime`` <-> ``Timestamp``; scalars as they are; list/tuple <-> ``repeated``;
  ``dict[str, str]`` <-> ``map``; a nested message <-> ``dict`` with the same rules;
- an enum <-> its lower-case word (``"email"`` <-> ``IDENTIFIER_TYPE_EMAIL``, ``""`` <-> unspecified).

Fields marked ``(chorus.privacy.v1.pii)`` are sealed with the data key of their subject on the way in and opened
on the way out, when the process has a keyring (``services.common.privacy.sealing``: the stored shape, and
``[erased]`` for a destroyed key).

An attribute the message has no field for is an error, never silently dropped — with one exception: the
``originator_topic`` of a "created" event (the Python path of the aggregate class, which the library needs to
rebuild the aggregate) is derived from the registered event class when the message does not carry it, so the
contract need not mention Python paths.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic
from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from services.common.contracts import enum_from_proto, enum_to_proto, from_timestamp, timestamp_fields
from services.common.eventstore.errors import EventStoreError
from services.common.privacy.sealing import open_sealed, seal, seal_many
from services.common.records import made_of

_BY_CLASS: dict[type, type[Message]] = {}
_BY_NAME: dict[str, type] = {}
_ENVELOPE = frozenset({"originator_id", "originator_version"})


class EventMappingError(EventStoreError, TypeError):
    """A domain event and its protobuf message do not fit together."""


class UnregisteredEventError(EventMappingError):
    """An event class (or a stored topic) has no registered protobuf message."""


def register_event(event_class: type, message_class: type[Message]) -> None:
    """Declare that ``event_class`` is stored as ``message_class`` (idempotent; conflicting pairs are refused)."""
    name = message_class.DESCRIPTOR.full_name
    known = _BY_NAME.get(name)
    if known is not None and known is not event_class and get_topic(known) != get_topic(event_class):
        raise EventMappingError(f"{name} already stores {get_topic(known)}, cannot also store {get_topic(event_class)}")
    _BY_CLASS[event_class] = message_class
    _BY_NAME[name] = event_class


def register_events(pairs: Iterable[tuple[type, type[Message]]]) -> None:
    """Register each ``(event class, message class)`` pair (what a composition root calls once)."""
    for event_class, message_class in pairs:
        register_event(event_class, message_class)


def registered_message(event_class: type) -> type[Message] | None:
    return _BY_CLASS.get(event_class)


# -- domain values -> message ---------------------------------------------------------------------------------


def _is_map(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated) if hasattr(field, "is_repeated") else field.label == FieldDescriptor.LABEL_REPEATED


def _scalar_to_proto(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_to_proto(field.enum_type, value) if isinstance(value, str) else int(value)
    if isinstance(value, UUID):
        return str(value)
    return value


def fill_message(message: Message, values: Mapping[str, Any], where: str = "") -> Message:
    """Set ``message``'s fields from ``values`` by name (the conventions above); unknown keys are an error."""
    fields = message.DESCRIPTOR.fields_by_name
    unknown = [key for key in values if key not in fields]
    if unknown:
        raise EventMappingError(f"{where or message.DESCRIPTOR.full_name} has no field for {sorted(unknown)}")
    for key, value in values.items():
        if value is None:
            continue
        field = fields[key]
        if _is_map(field):
            target = getattr(message, key)
            value_field = field.message_type.fields_by_name["value"]
            for map_key, item in value.items():
                if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                    _set_message(target[map_key], item, f"{where}{key}[{map_key}]")
                else:
                    target[map_key] = _scalar_to_proto(value_field, item)
        elif _is_repeated(field):
            target = getattr(message, key)
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                for i, item in enumerate(value):
                    _set_message(target.add(), item, f"{where}{key}[{i}].")
            else:
                target.extend(_scalar_to_proto(field, item) for item in value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            _set_message(getattr(message, key), value, f"{where}{key}.")
        else:
            setattr(message, key, _scalar_to_proto(field, value))
    return message


def _set_message(target: Message, value: Any, where: str) -> None:
    if isinstance(target, timestamp_pb2.Timestamp):
        if not isinstance(value, datetime):
            raise EventMappingError(f"{where} expects a datetime, got {type(value).__name__}")
        fields = timestamp_fields(value)
        target.seconds, target.nanos = fields["seconds"], fields["nanos"]
    elif isinstance(value, Message):
        target.CopyFrom(value)
    elif isinstance(value, Mapping):
        fill_message(target, value, where)
    else:
        raise EventMappingError(f"{where} expects a dict for {target.DESCRIPTOR.full_name}, got {type(value).__name__}")


# -- message -> domain values ---------------------------------------------------------------------------------


def _unwrap_optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else Any
    return hint


def _value_from_proto(field: FieldDescriptor, value: Any, hint: Any) -> Any:
    hint = _unwrap_optional(hint)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_from_proto(field.enum_type, value)
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if isinstance(value, timestamp_pb2.Timestamp):
            return from_timestamp(value)
        return message_values(value)
    if hint is UUID and isinstance(value, str):
        return UUID(value) if value else None
    return value


def message_values(message: Message, hints: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The domain-side dict of a message: the inverse of :func:`fill_message` (``hints`` pick UUID, tuple)."""
    hints = hints or {}
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        hint = hints.get(field.name, Any)
        raw = getattr(message, field.name)
        if _is_map(field):
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {k: _value_from_proto(value_field, v, Any) for k, v in raw.items()}
        elif _is_repeated(field):
            origin = typing.get_origin(_unwrap_optional(hint))
            item_hint = (typing.get_args(_unwrap_optional(hint)) or (Any,))[0]
            items = [_value_from_proto(field, v, item_hint) for v in raw]
            out[field.name] = list(items) if origin is list else tuple(items)
        elif field.has_presence and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _value_from_proto(field, raw, hint)
    return out


@functools.cache
def _hints(event_class: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(event_class)
    except Exception:  # noqa: BLE001 - unresolvable annotations: convert without hints
        return {}


def _aggregate_topic(event_class: type) -> str:
    """``pkg.mod:Party.Registered`` -> ``pkg.mod:Party``: the aggregate a nested event class belongs to."""
    return get_topic(event_class).rsplit(".", 1)[0]


def _derives_originator_topic(event_class: type, message_class: type[Message]) -> bool:
    return (
        "originator_topic" in _hints(event_class) and "originator_topic" not in message_class.DESCRIPTOR.fields_by_name
    )


class ProtobufMapper(Mapper[Any]):
    """A library ``Mapper`` whose stored state is the event's protobuf message (cipher/compressor still apply).

    Strict: events and topics without a registered message are refused (:class:`UnregisteredEventError`).
    """

    def _unregistered_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        raise UnregisteredEventError(
            f"{get_topic(type(domain_event))} has no registered protobuf message: register it (register_events) "
            "in the composition root before the application stores events"
        )

    def _unregistered_topic(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        raise UnregisteredEventError(
            f"stored topic {stored_event.topic!r} names no registered event: register the service's events "
            "(register_events) in the composition root before the application reads events"
        )

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        message = self._message(domain_event)
        if message is None:
            return self._unregistered_event(domain_event)
        return self._stored(domain_event, message)

    def to_stored_events(self, domain_events: Sequence[DomainEventProtocol[Any]]) -> list[StoredEvent]:
        """:meth:`to_stored_event` of each event, the data keys their marked fields need made in one vault call
        first (a save of many new data subjects, such as a bulk import, would otherwise wait for one each)."""
        messages = [self._message(event) for event in domain_events]
        seal_many(
            [
                (message, str(event.originator_id))
                for event, message in zip(domain_events, messages, strict=True)
                if message is not None
            ]
        )
        return [
            self._stored(event, message, sealed=True) if message is not None else self._unregistered_event(event)
            for event, message in zip(domain_events, messages, strict=True)
        ]

    def _message(self, domain_event: DomainEventProtocol[Any]) -> Message | None:
        """The event's protobuf message, filled but not sealed yet (None when its class has no message)."""
        message_class = _BY_CLASS.get(type(domain_event))
        if message_class is None:
            return None
        state = {k: v for k, v in vars(domain_event).items() if k not in _ENVELOPE}
        if _derives_originator_topic(type(domain_event), message_class):
            topic = state.pop("originator_topic", None)
            if topic is not None and topic != _aggregate_topic(type(domain_event)):
                raise EventMappingError(
                    f"{get_topic(type(domain_event))} was triggered by {topic}; register a message carrying "
                    "originator_topic to store events of aggregate subclasses"
                )
        return fill_message(message_class(), state, f"{message_class.DESCRIPTOR.full_name}.")

    def _stored(self, domain_event: DomainEventProtocol[Any], message: Message, *, sealed: bool = False) -> StoredEvent:
        if not sealed:
            seal(message, str(domain_event.originator_id))
        return self.stored_message(domain_event.originator_id, domain_event.originator_version, message)

    def stored_message(self, originator_id: UUID, originator_version: int, message: Message) -> StoredEvent:
        """An event's message, filled and sealed already, as stored: serialised deterministically, then compressed
        and encrypted when this mapper does that (for events built without domain objects, such as an import's)."""
        data = message.SerializeToString(deterministic=True)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=message.DESCRIPTOR.full_name,
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        event_class = _BY_NAME.get(stored_event.topic)
        if event_class is None:
            return self._unregistered_topic(stored_event)
        message_class = _BY_CLASS[event_class]
        data = stored_event.state
        try:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            message = open_sealed(message_class.FromString(data), str(stored_event.originator_id))
        except (DecodeError, ValueError) as exc:
            raise MapperDeserialisationError(
                f"cannot decode {stored_event.topic} of {stored_event.originator_id} "
                f"v{stored_event.originator_version}: {exc}"
            ) from None
        state = message_values(message, _hints(event_class))
        if _derives_originator_topic(event_class, message_class):
            state["originator_topic"] = _aggregate_topic(event_class)
        state["originator_id"] = stored_event.originator_id
        state["originator_version"] = stored_event.originator_version
        return made_of(event_class, state)


class LenientProtobufMapper(ProtobufMapper):
    """:class:`ProtobufMapper` that stores events of unregistered classes with the library's JSON transcoding."""

    def _unregistered_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        return Mapper.to_stored_event(self, domain_event)

    def _unregistered_topic(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        return Mapper.to_domain_event(self, stored_event)


def message_class_for(topic: str) -> Descriptor | None:
    """The descriptor of a stored topic, for auditors decoding the log (None when not a registered event)."""
    event_class = _BY_NAME.get(topic)
    return _BY_CLASS[event_class].DESCRIPTOR if event_class is not None else None

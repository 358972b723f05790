"""The values a client command reads from its arguments and shows in its tables: enum words, identifiers, party
ids, times and durations, clipped texts.

A value that cannot be read stops the command with exit code 2 and a line naming the option or field, never the
value typed (:func:`~services.client.runtime.bad_input`).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.descriptor import EnumDescriptor

from chorus.common.v1 import types_pb2 as types
from services.client.runtime import bad_input

# ------------------------------------------------------------------------------------------------ enum words


def word(enum: EnumDescriptor, number: int) -> str:
    """An enum value in the domain's words: ``CHANNEL_X`` -> ``x``; the zero value -> ``""``."""
    if number == 0:
        return ""
    name = enum.values_by_number[number].name if number in enum.values_by_number else str(number)
    prefix = enum.values[0].name.removesuffix("UNSPECIFIED")
    return name.removeprefix(prefix).lower()


def words(enum: EnumDescriptor) -> list[str]:
    return [word(enum, value.number) for value in enum.values if value.number]


def parse_word(enum: EnumDescriptor, raw: str, field: str) -> int:
    """``x`` (or ``CHANNEL_X``) -> the enum number; an unknown word stops with exit code 2 naming ``field``."""
    prefix = enum.values[0].name.removesuffix("UNSPECIFIED")
    name = raw.strip().upper()
    value = enum.values_by_name.get(name) or enum.values_by_name.get(prefix + name)
    if value is None or value.number == 0:
        bad_input(field, f"expected one of {', '.join(words(enum))}")
    return value.number


def optional_word(enum: EnumDescriptor, raw: str, field: str) -> int:
    """:func:`parse_word`, or the zero value ("not given") for an empty option."""
    return parse_word(enum, raw, field) if raw else 0


# ------------------------------------------------------------------------------------------------ identifiers

_NAMESPACED = ("forum_user", "marketplace_reviewer", "chat_id", "other")
IDENTIFIER_HELP = (
    "TYPE:VALUE, e.g. email:jane@example.com, phone:+442079460958, x:@jane; "
    "TYPE@NAMESPACE:VALUE where the type needs one, e.g. forum_user@forum.acme.example:jane s"
)


def parse_identifier(raw: str, field: str = "identifier") -> types.Identifier:
    """``TYPE:VALUE`` or ``TYPE@NAMESPACE:VALUE`` -> an Identifier (the service normalises the value)."""
    head, colon, value = raw.partition(":")
    type_name, _, namespace = head.partition("@")
    if not colon or not value.strip():
        bad_input(field, f"expected {IDENTIFIER_HELP}")
    number = parse_word(types.IdentifierType.DESCRIPTOR, type_name, f"{field} type")
    if word(types.IdentifierType.DESCRIPTOR, number) in _NAMESPACED and not namespace:
        bad_input(field, f"a {type_name.strip().lower()} identifier needs a namespace: TYPE@NAMESPACE:VALUE")
    return types.Identifier(type=number, value=value, namespace=namespace)


def show_identifier(identifier: types.Identifier) -> str:
    kind = word(types.IdentifierType.DESCRIPTOR, identifier.type)
    return f"{kind}@{identifier.namespace}:{identifier.value}" if identifier.namespace else f"{kind}:{identifier.value}"


def is_uuid(raw: str) -> bool:
    try:
        uuid.UUID(raw)
    except ValueError:
        return False
    return True


def party_id(raw: str, field: str = "party_id") -> str:
    if not is_uuid(raw):
        bad_input(field, "expected a party id (a UUID)")
    return raw


# ------------------------------------------------------------------------------------------------ times

_SPAN = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_time(raw: str, field: str) -> timestamp_pb2.Timestamp:
    """An ISO 8601 time, or a span back from now (``30m``, ``12h``, ``7d``)."""
    span = _SPAN.match(raw.strip())
    try:
        if span:
            moment = datetime.now(UTC) - timedelta(seconds=float(span[1]) * _SECONDS[span[2]])
        else:
            moment = datetime.fromisoformat(raw.strip())
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        bad_input(field, "expected an ISO 8601 time (2026-11-30T12:00:00Z) or a span back from now (7d, 12h, 30m)")
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


def show_time(value: timestamp_pb2.Timestamp) -> str:
    if not value.seconds and not value.nanos:
        return ""
    return value.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M")


def show_duration(value: duration_pb2.Duration) -> str:
    seconds = value.ToTimedelta().total_seconds()
    if seconds <= 0:
        return ""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


# ------------------------------------------------------------------------------------------------ texts


def clip(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"

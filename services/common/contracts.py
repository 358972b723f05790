"""How domain values travel in the protobuf contracts: enum words and times.

- an enum <-> the lower-case name of its value without the enum's prefix: ``"email"`` <->
  ``IDENTIFIER_TYPE_EMAIL``, ``""`` <-> ``IDENTIFIER_TYPE_UNSPECIFIED`` (:class:`EnumWords`);
- a time <-> ``google.protobuf.Timestamp`` (:func:`to_timestamp`, :func:`from_timestamp`) and <-> integer
  microseconds since the epoch, the exact sortable form views store on SQLite and PostgreSQL alike
  (:func:`micros`, :func:`from_micros`). Times are UTC; a naive datetime is taken as UTC.

The event codec (:mod:`services.common.eventstore.codec`), the gRPC edges and the views all convert here.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import EnumDescriptor

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- enums ----------------------------------------------------------------------------------------------------


def _enum_descriptor(enum_type: Any) -> EnumDescriptor:
    return enum_type if isinstance(enum_type, EnumDescriptor) else enum_type.DESCRIPTOR


@functools.cache
def _enum_prefix(enum_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum_name).upper() + "_"


class EnumWords:
    """One enum's numbers <-> the domain's lower-case words (``CHANNEL_EMAIL`` <-> ``"email"``, 0 <-> ``""``).

    ``to_word`` and ``to_number`` are plain dicts for hot paths; :meth:`word` answers ``"#<number>"`` for a
    number the enum does not define (no domain rule accepts it, so the domain names the field), and
    :meth:`number` answers 0 for an unknown word.
    """

    def __init__(self, enum_type: Any) -> None:
        descriptor = _enum_descriptor(enum_type)
        prefix = _enum_prefix(descriptor.name)
        self.name = descriptor.name
        self.to_word: dict[int, str] = {0: ""}
        for value in descriptor.values:
            if value.number:
                self.to_word[value.number] = value.name.removeprefix(prefix).lower()
        self.to_number: dict[str, int] = {word: number for number, word in self.to_word.items()}

    def word(self, number: int) -> str:
        word = self.to_word.get(number)
        return f"#{number}" if word is None else word

    def number(self, word: str) -> int:
        return self.to_number.get(word, 0)


@functools.cache
def enum_words(descriptor: EnumDescriptor) -> EnumWords:
    """The (cached) word table of an enum."""
    return EnumWords(descriptor)


def enum_to_proto(enum_type: Any, name: str) -> int:
    """``enum_to_proto(IdentifierType, "email")`` -> the number of ``IDENTIFIER_TYPE_EMAIL``; ``""`` -> 0."""
    return int(_known(enum_type, "to_number", name, "{!r} is not a {}"))


def enum_from_proto(enum_type: Any, number: int) -> str:
    """``enum_from_proto(IdentifierType, 1)`` -> ``"email"``; 0 (unspecified) -> ``""``."""
    return str(_known(enum_type, "to_word", number, "{} is not a {} value"))


def _known(enum_type: Any, table: str, key: Any, refusal: str) -> Any:
    """``key`` looked up in the enum's ``table`` (``to_number`` or ``to_word``); a ValueError (``refusal``
    formatted with the key and the enum's name) when the enum has no such value."""
    words = enum_words(_enum_descriptor(enum_type))
    found = getattr(words, table).get(key)
    if found is None:
        raise ValueError(refusal.format(key, words.name))
    return found


# -- times ----------------------------------------------------------------------------------------------------


def micros(moment: datetime) -> int:
    """Microseconds since the epoch (exact: no float on the way)."""
    delta = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """The UTC datetime of :func:`micros`' integer."""
    return EPOCH + timedelta(microseconds=value)


def timestamp_fields(moment: datetime) -> dict[str, int]:
    """``{"seconds": ..., "nanos": ...}`` of a time, for building a message's Timestamp field by keyword."""
    value = micros(moment)
    return {"seconds": value // 1_000_000, "nanos": (value % 1_000_000) * 1000}


def to_timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    """The ``google.protobuf.Timestamp`` of a time (microsecond precision)."""
    return timestamp_pb2.Timestamp(**timestamp_fields(moment))


def from_timestamp(stamp: Any) -> datetime:
    """The UTC datetime of a ``Timestamp`` (anything with ``seconds`` and ``nanos``; sub-microseconds dropped)."""
    return EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)


def timestamp_micros(stamp: Any) -> int:
    """Microseconds since the epoch of a ``Timestamp``, in integers only: no valid Timestamp can overflow."""
    return int(stamp.seconds) * 1_000_000 + int(stamp.nanos) // 1000


def micros_timestamp(value: int) -> timestamp_pb2.Timestamp:
    """The ``Timestamp`` of :func:`micros`' integer."""
    return timestamp_pb2.Timestamp(seconds=value // 1_000_000, nanos=(value % 1_000_000) * 1000)

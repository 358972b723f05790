"""Requests whose bytes are not a valid message: a marker instead of a server fault.

gRPC calls a method's request deserializer before any interceptor runs; when it raises, gRPC answers INTERNAL
and logs a traceback. :func:`tolerant` wraps a deserializer so that bytes it cannot decode become an
:class:`Undecodable` marker instead. The validation interceptor then answers a unary call with
INVALID_ARGUMENT, and ends a request stream with INVALID_ARGUMENT when its garbage frame arrives, unless the
method is marked :func:`per_item` (its servicer rejects that frame alone and reads on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from services.common.errors import InvalidArgument

Deserializer = Callable[[bytes], Any]
_F = TypeVar("_F", bound=Callable[..., Any])

_PER_ITEM = "_chorus_undecodable_per_item"
_TOLERANT = "_chorus_tolerant_deserializer"


@dataclass(frozen=True)
class Undecodable:
    """A request (or stream frame) whose bytes are not a valid ``expected`` message. It keeps no bytes."""

    expected: str

    @property
    def description(self) -> str:
        return f"is not a valid {self.expected} message (the bytes do not decode)"

    def error(self) -> InvalidArgument:
        return InvalidArgument(f"the request {self.description}")


def tolerant(deserializer: Deserializer | None) -> Deserializer | None:
    """``deserializer``, answering :class:`Undecodable` where it would raise; None stays None (raw bytes)."""
    if deserializer is None or getattr(deserializer, _TOLERANT, False):
        return deserializer
    expected = _message_name(deserializer)

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:  # noqa: BLE001 - whatever the bytes break, it is the client's request that is wrong
            return Undecodable(expected)

    setattr(decode, _TOLERANT, True)  # wrapping it again changes nothing
    return decode


def _message_name(deserializer: Deserializer) -> str:
    owner = getattr(deserializer, "__self__", None)  # SomeMessage.FromString is bound to its class
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return getattr(descriptor, "full_name", "") or "request"


def per_item(method: _F) -> _F:
    """Mark a request-streaming servicer method that answers an :class:`Undecodable` frame itself and reads on."""
    setattr(method, _PER_ITEM, True)
    return method


def handles_per_item(behavior: Callable[..., Any]) -> bool:
    """Whether ``behavior`` (a servicer method) was marked :func:`per_item`."""
    return bool(getattr(behavior, _PER_ITEM, False))


def strict(requests: Iterator[Any]) -> Iterator[Any]:
    """The frames of a request stream; an :class:`Undecodable` one raises its ``InvalidArgument``."""
    for request in requests:
        if isinstance(request, Undecodable):
            raise request.error()
        yield request

"""The event store's errors: one root, typed subclasses, and the table of JetStream API error codes.

JetStream answers a refused request with ``{"error": {"code": 400, "err_code": 10071, "description": ...}}``.
:func:`api_error` turns such an answer into the subclass the table names for its ``err_code`` (or the generic
:class:`JetStreamApiError`), so no module compares raw numbers; :func:`parse_ack` reads a publish's reply with it. :func:`store_errors` is the one place that turns
the library's persistence errors into the application errors the gRPC boundary maps to statuses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from services.common.errors import ChorusError, ConfigurationError, Conflict, Unavailable


class EventStoreError(ChorusError):
    """The root of every error the event store raises."""


class EventStoreConfigurationError(EventStoreError, ConfigurationError):
    """NATS or its stream is not what the event store was declared with."""


class NatsUnreachableError(EventStoreConfigurationError):
    """No nats-server answered at the configured URL."""


class ServerTooOldError(EventStoreConfigurationError):
    """The nats-server lacks JetStream atomic batch publish (needs 2.12 or newer)."""


class StreamConfigMismatchError(EventStoreConfigurationError):
    """The stream exists with a configuration that differs from the declared one."""


class RequestTimeoutError(EventStoreError):
    """No answer from NATS in time: the outcome of a publish is unknown."""


class MessageTooLargeError(EventStoreError, ValueError):
    """One message (one event, or one aggregate's events) is larger than the server accepts."""

    @classmethod
    def check(cls, size: int, limit: int) -> None:
        """Raise when a message of ``size`` bytes, its headers counted (the server counts them), exceeds ``limit``."""
        if size > limit:
            msg = f"a message of {size} bytes with its headers exceeds the server's limit of {limit}"
            raise cls(msg)


class CalledOnLoopThreadError(EventStoreError, RuntimeError):
    """A blocking event-store call was made on the connection's own event-loop thread (it would wait for ever)."""


class JetStreamApiError(EventStoreError):
    """JetStream refused a request; ``code`` is the server's ``err_code`` (0 when it gave none)."""

    code = 0

    def __init__(self, description: str, code: int | None = None) -> None:
        if code is not None:
            self.code = code
        super().__init__(f"{description} (err_code {self.code})")
        self.description = description


class WrongLastSequenceError(JetStreamApiError):
    """``Nats-Expected-Last-Subject-Sequence`` did not match: another write got there first."""

    code = 10071


class BatchWrongLastSequenceError(WrongLastSequenceError):
    """The same refusal for a message inside an atomic batch."""

    code = 10164


class BatchDuplicateMessageIdError(JetStreamApiError):
    """An atomic batch carried a ``Nats-Msg-Id`` stored within the duplicate window (our own earlier attempt?)."""

    code = 10201


class TooManyInflightBatchesError(JetStreamApiError):
    """The server holds as many open atomic batches as it allows; retry."""

    code = 10211


class StreamNameInUseError(JetStreamApiError):
    """A stream of that name exists already (another process created it first)."""

    code = 10058


class StreamNotFoundError(JetStreamApiError):
    """No stream of that name exists."""

    code = 10059


class InsufficientResourcesError(JetStreamApiError):
    """The server's storage is full (its disk, or its ``max_file_store``): nothing was stored."""

    code = 10023


class StorageResourcesExceededError(InsufficientResourcesError):
    """The server's storage limit is reached: nothing was stored."""

    code = 10047


class StreamStoreFailedError(InsufficientResourcesError):
    """The stream could not write to its storage (a full disk shows up so): nothing was stored."""

    code = 10077


class StoreOutOfSpaceError(EventStoreError, OperationalError, Unavailable):
    """A write refused for want of storage: retry once the store has room (gRPC UNAVAILABLE, saying so)."""


#: JetStream ``err_code`` -> the error class that stands for it.
ERROR_CODES: dict[int, type[JetStreamApiError]] = {
    cls.code: cls
    for cls in (
        WrongLastSequenceError,
        BatchWrongLastSequenceError,
        BatchDuplicateMessageIdError,
        TooManyInflightBatchesError,
        StreamNameInUseError,
        StreamNotFoundError,
        InsufficientResourcesError,
        StorageResourcesExceededError,
        StreamStoreFailedError,
    )
}

#: Refusals that mean "these versions are taken" — by another writer, or by our own earlier attempt.
CONFLICTS = (WrongLastSequenceError, BatchDuplicateMessageIdError)


def api_error(code: int, description: str) -> JetStreamApiError:
    """The typed error for a JetStream ``err_code``: ``api_error(10071, "wrong last sequence: 4")``."""
    cls = ERROR_CODES.get(code)
    return cls(description) if cls is not None else JetStreamApiError(description, code)


def parse_ack(status: str, data: bytes) -> dict[str, Any]:
    """JetStream's acknowledgement of a publish (its reply's status header and payload), or the typed error the
    reply stands for: ``503`` (no responders) is :class:`RequestTimeoutError`, an ``error`` body :func:`api_error`."""
    if status == "503":
        raise RequestTimeoutError("no JetStream stream answered (503 no responders)")
    body: dict[str, Any] = json.loads(data or b"{}")
    error = body.get("error")
    if error:
        raise api_error(int(error.get("err_code", 0)), str(error.get("description", "")))
    return body


@contextmanager
def store_errors(conflict: str | None = None) -> Iterator[None]:
    """Turn the persistence errors of the body into application errors.

    An unreachable store (``OperationalError``, ``InterfaceError``) becomes :class:`Unavailable` (a full one
    stays :class:`StoreOutOfSpaceError`, an ``Unavailable`` that says so); a lost race
    (``IntegrityError``) becomes :class:`Conflict` with the ``conflict`` text when one is given, else it passes
    through for the caller to handle. Use it around ``save``/``get``/``put``::

        with store_errors(conflict="a concurrent write changed the party; retry"):
            self.save(party)
    """
    try:
        yield
    except IntegrityError:
        if conflict is None:
            raise
        raise Conflict(conflict) from None
    except StoreOutOfSpaceError:
        raise  # already Unavailable, with the reason a caller needs
    except (OperationalError, InterfaceError):
        raise Unavailable("the event store cannot be reached; retry") from None

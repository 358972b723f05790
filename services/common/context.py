"""Request-scoped context that travels from a gRPC call into every event it causes.

A request id is bound per RPC; the event store copies it into NATS headers as the correlation id of every
event the request records, and the id of the request as the causation id.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

_current: ContextVar[RequestContext | None] = ContextVar("chorus_request_context", default=None)


@dataclass(frozen=True)
class RequestContext:
    """Who caused what: the request being served and the conversation it belongs to."""

    request_id: str
    correlation_id: str
    actor: str = ""


def current() -> RequestContext | None:
    """The context of the request being served on this task or thread, if any."""
    return _current.get()


@contextlib.contextmanager
def bound(
    request_id: str | None = None, correlation_id: str | None = None, actor: str = ""
) -> Iterator[RequestContext]:
    """Bind a request context for the duration of a block.

    >>> with bound(correlation_id="c-1") as ctx:
    ...     current().correlation_id
    'c-1'
    """
    request_id = request_id or str(uuid.uuid4())
    ctx = RequestContext(request_id=request_id, correlation_id=correlation_id or request_id, actor=actor)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)

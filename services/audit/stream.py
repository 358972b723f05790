"""Reading a whole application stream for an auditor, with nothing but direct gets (read-only credentials do).

The credentials an auditor needs: ``$JS.API.STREAM.INFO.<stream>`` and ``$JS.API.DIRECT.GET.<stream>`` (publish),
and their inbox (subscribe). Nothing here creates a consumer or writes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from services.common.errors import ChorusError
from services.common.eventstore import StoredMessage, StreamLayout
from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.errors import EventStoreError, StreamNotFoundError

READ_BATCH = 1000


class UnreadableStream(ChorusError):
    """A stream the auditor cannot read: missing, unreachable, or closed to these credentials."""


def last_sequence(connection: JetStreamConnection, layout: StreamLayout) -> int:
    """The stream's last sequence; :class:`UnreadableStream` when it cannot be read."""
    try:
        return connection.call(lambda: connection.last_sequence(layout.stream))
    except StreamNotFoundError:
        raise UnreadableStream(f"cannot read stream {layout.stream}: it does not exist") from None
    except EventStoreError as exc:
        raise UnreadableStream(
            f"cannot read stream {layout.stream}: {type(exc).__name__} (may these credentials read it?)"
        ) from None


def messages(
    connection: JetStreamConnection,
    layout: StreamLayout,
    *,
    start: int = 1,
    end: int | None = None,
    subject_filter: str = "",
    progress: Callable[[int], None] | None = None,
) -> Iterator[StoredMessage]:
    """Every stored message of the stream from ``start`` to ``end`` (default: the stream's last), in order.

    ``subject_filter`` defaults to every subject of the stream; ``progress(seq)`` is told how far the read got.
    """
    last = last_sequence(connection, layout) if end is None else end
    every = subject_filter or f"{layout.prefix}.>"
    position = max(start, 1)
    while position <= last:
        try:
            page = connection.call(
                functools.partial(
                    connection.direct_get_batch,
                    layout.stream,
                    start_seq=position,
                    subject_filter=every,
                    batch=READ_BATCH,
                )
            )
        except EventStoreError as exc:
            raise UnreadableStream(
                f"cannot read stream {layout.stream} at sequence {position}: {type(exc).__name__}"
            ) from None
        for msg in page:
            if msg.seq > last:
                return
            yield msg
        if progress is not None:
            progress(page[-1].seq if page else last)
        if len(page) < READ_BATCH:
            return
        position = page[-1].seq + 1

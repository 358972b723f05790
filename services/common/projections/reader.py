"""Read-only access to one upstream event stream, decoded through the contracts in ``protos/`` alone.

A :class:`StreamReader` reads the stream ``CHORUS_<APP>`` of another (or its own) application: pages of stored
events after a position, the highest position stored so far (for lag), and a nudge when something new is stored.
Positions are the event store's notification ids (``services.common.eventstore``: the events of the message at
stream sequence ``s`` are ``s * 1000 + index``), so a position names one event also inside a commit message. It
never writes, never creates or changes a stream, and needs no domain class: each message is split into its
events by ``services.common.eventstore.message_events`` (a commit envelope holds several, each with its topic),
and each event's payload is decoded into the protobuf message its topic names, looked up in the default
descriptor pool into which :func:`load_event_contracts` imports every ``chorus.*.events.v1`` module. Personal
data in marked fields is opened with the process's keyring (``services.common.privacy.sealing``): in clear, or
``[erased]`` once its subject's key is destroyed; a reader made with ``keep_sealed=True`` leaves them sealed as
stored, for a view that keeps them so and opens them when it is read (``sealing.open_value``).

:func:`handed_over` makes the same :class:`UpstreamEvent` of what an application has just stored (its
``Recording`` objects), from the stored bytes, for a runner that takes a hand-over.

The sealed fields of a page are opened together, with one read of the key vault for the keys not cached yet. A
read may name the topics it wants decoded (a projection's handlers): the events of other topics come undecoded;
and the marked fields of which it needs only the key that sealed them: those are not decrypted.

An event that cannot be decoded (a topic no contract declares, bytes that are not that message) is returned
as an :class:`UpstreamEvent` whose ``message`` is None and whose ``undecodable`` says why, so the caller can
quarantine it and move on; the reader itself does not skip anything.
"""

from __future__ import annotations

import importlib
import itertools
import pkgutil
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

from services.common import context
from services.common.eventstore import (
    CAUSATION_HEADER,
    CORRELATION_HEADER,
    TOPIC_HEADER,
    StoredMessage,
    StreamLayout,
    last_notification_id,
    message_events,
    message_sequence,
    notification_id,
    originator_text_of_subject,
)
from services.common.eventstore.catch_up import CatchUpRead
from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.errors import StreamNotFoundError
from services.common.privacy.sealing import open_sealed_many

#: Messages a held catch-up read streams ahead of its caller at most (see :meth:`StreamReader.read`).
CATCH_UP_BUFFER = 20_000

_contracts_loaded = threading.Lock()
_loaded = False


def load_event_contracts() -> None:
    """Import every ``chorus.*.events.v1`` module so its messages are in the default descriptor pool (once)."""
    global _loaded  # noqa: PLW0603 - a process-wide, idempotent import step
    with _contracts_loaded:
        if _loaded:
            return
        import chorus

        for module in pkgutil.walk_packages(chorus.__path__, "chorus."):
            if module.name.endswith(".events_pb2"):
                importlib.import_module(module.name)
        _loaded = True


@dataclass(slots=True)
class UpstreamEvent:
    """One stored event of an upstream stream, as the contracts describe it. Treat it as read-only: it is not frozen
    (a frozen dataclass costs more to construct, once per event read) and so not hashable."""

    upstream: str  #: the application whose stream holds it (``identity``, ``touchpoints``)
    sequence: int  #: its position: the upstream's notification id (see the module docstring)
    aggregate_id: str  #: the aggregate it belongs to (a UUID's text, or the id as stored)
    version: int  #: the aggregate's version after it
    topic: str  #: the protobuf message's full name, ``chorus.identity.events.v1.PartyRegistered``
    message: Message | None  #: the decoded payload; None when it could not be decoded or was not asked for
    stored_at: str = ""  #: when NATS stored it (RFC 3339), when the read returned it
    correlation_id: str = ""
    causation_id: str = ""
    undecodable: str = ""  #: why ``message`` could not be decoded (empty: decoded, or not asked for)

    @property
    def payload(self) -> Any:
        """The decoded message, typed loosely for handlers: the runner gives them decoded events only."""
        return self.message

    @property
    def aggregate_uuid(self) -> UUID:
        return UUID(self.aggregate_id)


class StoredEvent(NamedTuple):
    """One event as its message stores it, split out of the message but not decoded (:func:`split`)."""

    sequence: int
    aggregate_id: str
    version: int
    topic: str
    state: bytes | None  #: the payload as stored (None: the message is not a stored event; ``undecodable`` says so)
    common: tuple[str, str, str, str]  #: the upstream, when it was stored, the correlation and the causation id
    undecodable: str = ""


def decode(
    upstream: str,
    stored: StoredMessage | Sequence[StoredMessage],
    *,
    topics: Collection[str] | None = None,
    after: int = 0,
    keep_sealed: bool = False,
    key_only: Collection[str] = (),
) -> list[UpstreamEvent]:
    """The :class:`UpstreamEvent` of each event after position ``after`` in one stored message or a page of them
    (never raises for a bad payload: see ``undecodable``; a commit envelope that does not decode is one
    undecodable event). The sealed fields of a whole page are opened with one read of the key vault, unless
    ``keep_sealed``.

    With ``topics`` (the topics a projection handles), an event of a topic a contract declares but ``topics``
    does not name is not decoded at all: its ``message`` is None and its ``undecodable`` empty. An event of a
    topic no contract declares is still undecodable, whatever ``topics`` says. The marked fields named in
    ``key_only`` are not decrypted (``sealing.open_sealed_many``): they stay sealed, or read ``[erased]``.
    """
    return decode_split(split(upstream, stored, after=after), topics=topics, keep_sealed=keep_sealed, key_only=key_only)


def split(upstream: str, stored: StoredMessage | Sequence[StoredMessage], *, after: int = 0) -> list[StoredEvent]:
    """The events after position ``after`` of one stored message or a page of them, not decoded (never raises: a
    message that is not a stored event or commit is one event whose ``undecodable`` says so)."""
    events: list[StoredEvent] = []
    for message in [stored] if isinstance(stored, StoredMessage) else stored:
        headers = message.headers
        common = (
            upstream,
            headers.get("Nats-Time-Stamp", ""),
            headers.get(CORRELATION_HEADER, ""),
            headers.get(CAUSATION_HEADER, ""),
        )
        try:
            aggregate_id = originator_text_of_subject(message.subject)
            stored_events = message_events(message)
        except (DecodeError, ValueError, KeyError):
            if notification_id(message.seq) > after:
                events.append(
                    StoredEvent(
                        notification_id(message.seq),
                        message.subject.rsplit(".", 1)[-1],
                        0,
                        headers.get(TOPIC_HEADER, ""),
                        None,
                        common,
                        "the message is not a stored event or commit of the event store",
                    )
                )
            continue
        events.extend(
            StoredEvent(id_, aggregate_id, version, topic, state, common)
            for id_, version, topic, state in stored_events
            if id_ > after
        )
    return events


def decode_split(
    stored: Iterable[StoredEvent],
    *,
    topics: Collection[str] | None = None,
    keep_sealed: bool = False,
    key_only: Collection[str] = (),
) -> list[UpstreamEvent]:
    """:func:`decode` of events :func:`split` out of their messages."""
    load_event_contracts()
    events: list[UpstreamEvent] = []
    opening: list[Message] = []
    for id_, aggregate_id, version, topic, state, common, why in stored:
        if state is None:
            events.append(UpstreamEvent(common[0], id_, aggregate_id, version, topic, None, *common[1:], why))
            continue
        event = _event(id_, aggregate_id, version, topic, state, common, topics)
        events.append(event)
        if event.message is not None:
            opening.append(event.message)
    if not keep_sealed:
        open_sealed_many(opening, key_only=key_only)
    return events


def handed_over(
    upstream: str,
    recordings: Sequence[Any],
    *,
    keep_sealed: bool = False,
    topics: Collection[str] | None = None,
) -> list[UpstreamEvent]:
    """The :class:`UpstreamEvent` of each of ``recordings`` (``eventsourcing`` ``Recording`` objects of events
    this process has just stored in ``upstream``), decoded from the stored bytes as :func:`decode` does (with
    ``topics``, those of other topics left undecoded).

    Call it where the events were stored: the correlation and causation ids are the current request's (those
    the store wrote in the message headers); when NATS stored them is not known here (``stored_at`` is empty).
    """
    common = _handed_over_context(upstream)
    events = [
        _event(n.id, str(n.originator_id), n.originator_version, n.topic, n.state, common, topics)
        for n in (recording.notification for recording in recordings)
    ]
    if not keep_sealed:
        open_sealed_many([event.message for event in events if event.message is not None])
    return events


def handed_over_messages(
    upstream: str, stored: Iterable[tuple[int, str, int, Message]], *, topics: Collection[str] | None = None
) -> list[UpstreamEvent]:
    """:func:`handed_over` with ``keep_sealed`` for events whose messages the caller holds as it stored them
    (``(notification id, aggregate id, version, message)``, the message sealed and serialised as it is): nothing is
    decoded again. The messages are the caller's no more: it must not change them."""
    common = _handed_over_context(upstream)
    return [
        UpstreamEvent(
            common[0],
            sequence,
            aggregate_id,
            version,
            message.DESCRIPTOR.full_name,
            message if topics is None or message.DESCRIPTOR.full_name in topics else None,
            *common[1:],
        )
        for sequence, aggregate_id, version, message in stored
    ]


def _handed_over_context(upstream: str) -> tuple[str, str, str, str]:
    """The fields every event handed over now shares (upstream, stored at, correlation id, causation id): the
    current request's correlation and causation ids."""
    ctx = context.current()
    return (upstream, "", ctx.correlation_id if ctx is not None else "", ctx.request_id if ctx is not None else "")


@lru_cache(maxsize=1024)
def _message_class(topic: str) -> type[Message] | None:
    """The protobuf message class of ``topic`` (None when no loaded contract declares it)."""
    load_event_contracts()
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(topic)
    except KeyError:
        return None
    return message_factory.GetMessageClass(descriptor)  # type: ignore[no-any-return]


def _event(
    id_: int,
    aggregate_id: str,
    version: int,
    topic: str,
    state: bytes,
    common: tuple[str, str, str, str],
    topics: Collection[str] | None,
) -> UpstreamEvent:
    """The event stored as ``state``, its payload parsed but its sealed fields not opened yet (``common``: the
    upstream, when it was stored, the correlation and the causation id)."""
    message: Message | None = None
    why = ""
    message_class = _message_class(topic)
    if message_class is None:
        why = "no contract declares this topic"
    elif topics is None or topic in topics:
        try:
            message = message_class.FromString(state)
        except DecodeError:
            why = "the payload is not a valid message of its topic"
    upstream, stored_at, correlation_id, causation_id = common
    return UpstreamEvent(
        upstream, id_, aggregate_id, version, topic, message, stored_at, correlation_id, causation_id, why
    )


class StreamReader:
    """Pages of one application's stored events, its last sequence, and nudges when it grows (read-only).

    ``connection`` is shared, not owned: the caller opens and closes it. ``keep_sealed``: marked fields are left
    sealed (the module docstring).
    """

    def __init__(
        self,
        connection: JetStreamConnection,
        app_name: str,
        *,
        namespace: str = "chorus",
        layout: StreamLayout | None = None,
        keep_sealed: bool = False,
    ) -> None:
        self.connection = connection
        self.keep_sealed = keep_sealed
        self.upstream = app_name
        self.layout = layout or StreamLayout(app_name, namespace=namespace)

    @classmethod
    def of_application(cls, app: Any, *, keep_sealed: bool = False) -> StreamReader:
        """A reader of ``app``'s own stream, on its event store's connection (JetStream persistence)."""
        return cls(app.factory.connection, app.name, layout=app.factory.layout, keep_sealed=keep_sealed)

    def last_sequence(self) -> int:
        """The position of the stream's last message (0 when it is empty or does not exist yet): its last event's
        notification id, or for a message that is not an event the id its first event would have had."""
        stream = self.layout.stream

        async def last() -> int:
            try:
                last_seq = await self.connection.last_sequence(stream)
            except StreamNotFoundError:  # the upstream has not started yet: nothing to read
                return 0
            msg = await self.connection.message_at(stream, last_seq) if last_seq else None
            if msg is None:
                return notification_id(last_seq)
            return (
                last_notification_id(msg)
                if msg.subject.startswith(self.layout.events_prefix)
                else notification_id(msg.seq)
            )

        return self.connection.call(last)

    def read(
        self,
        after: int,
        limit: int,
        *,
        until: int | None = None,
        topics: Collection[str] | None = None,
        held: HeldRead | None = None,
        key_only: Collection[str] = (),
    ) -> list[UpstreamEvent]:
        """Up to ``limit`` events stored after position ``after``, in stream order (tracking messages skipped);
        with ``topics``, the events of other topics come undecoded, and the marked fields named in ``key_only``
        are left sealed (see :func:`decode`). ``until`` and ``held``: see :meth:`read_split`."""
        return decode_split(
            self.read_split(after, limit, until=until, held=held),
            topics=topics,
            keep_sealed=self.keep_sealed,
            key_only=key_only,
        )

    def read_split(
        self, after: int, limit: int, *, until: int | None = None, held: HeldRead | None = None
    ) -> list[StoredEvent]:
        """The events :meth:`read` reads, split out of their messages but not decoded (:func:`split`).

        ``until`` (a position the caller read with :meth:`last_sequence`) says where the stream ended: when at
        least a page lies between ``after`` and it, the page is streamed by a consumer (a catch-up read),
        otherwise fetched by batched direct gets. With ``held`` (the caller's :meth:`held_read`), the catch-up
        consumer stays open from page to page, streaming the next page while the caller applies this one; it is
        closed once a page reaches ``until`` or a read goes elsewhere. Call it for a stream that exists
        (:meth:`last_sequence` > 0).
        """
        stream, events_filter = self.layout.stream, self.layout.events_filter
        last_seq = message_sequence(until) if until is not None else 0

        start = max(message_sequence(after), 1)
        catching_up = last_seq - start >= limit

        async def page(start: int, count: int) -> list[StoredMessage]:
            if catching_up:
                if held is None:
                    return await self.connection.consume_range(
                        stream, start_seq=start, subject_filter=events_filter, limit=count, last_seq=last_seq
                    )
                return await held.page(stream, events_filter, start, count, last_seq)
            if held is not None:
                await held.aclose()
            return await self.connection.direct_get_batch(
                stream, start_seq=start, subject_filter=events_filter, batch=count
            )

        # The message holding ``after`` may hold later events too: read from it and skip what is not after. A page
        # is short only at the end of the stream, so read on until ``limit`` events are in hand (a message holds
        # one event at least, so what follows a page is read no further than the events missing).
        events: list[StoredEvent] = []
        while len(events) < limit:
            count = limit - len(events)
            messages: list[StoredMessage] = self.connection.call(lambda s=start, n=count: page(s, n))  # type: ignore[misc]
            events.extend(split(self.upstream, messages, after=after))
            if len(messages) < count or (last_seq and messages[-1].seq >= last_seq):
                if held is not None:  # at the end: a live read needs no consumer
                    held.close()
                break
            start = messages[-1].seq + 1
        if len(events) > limit and held is not None:  # the next read goes on from the last event handed out
            held.unread(message_sequence(events[limit - 1].sequence))
        return events[:limit]

    def held_read(self) -> HeldRead:
        """A catch-up consumer for one caller's :meth:`read` calls to keep open (closed until the first read)."""
        return HeldRead(self.connection, buffer=CATCH_UP_BUFFER)

    def watch(self, nudge: Callable[[], None]) -> Callable[[], None]:
        """Call ``nudge()`` whenever an event is stored (a core NATS subscription); return the unsubscriber.

        Nudges only hurry a poll along: a lost subscription delays nothing but the next poll.
        """
        events_filter = self.layout.events_filter

        async def subscribe() -> object:
            async def on_message(_msg: object) -> None:
                nudge()

            return await self.connection.client.subscribe(events_filter, cb=on_message)

        subscription = self.connection.call(subscribe)

        def unsubscribe() -> None:
            async def stop() -> None:
                await subscription.unsubscribe()  # type: ignore[attr-defined]

            try:
                self.connection.call(stop, while_disconnected=True)
            except Exception:  # noqa: BLE001, S110 - closing: the connection may be gone already
                pass

        return unsubscribe


class HeldRead:
    """The catch-up consumer (:class:`CatchUpRead`) one caller of :meth:`StreamReader.read` keeps open between
    pages; :meth:`close` it when the caller stops reading."""

    def __init__(self, connection: JetStreamConnection, *, buffer: int) -> None:
        self.connection = connection
        self.buffer = buffer
        self._read: CatchUpRead | None = None

    async def page(
        self, stream: str, subject_filter: str, start: int, limit: int, last_seq: int
    ) -> list[StoredMessage]:
        if self._read is not None and self._read.next_seq == start + 1:
            self._read.rewind()  # a read starts at the message of the last event it applied: it may hold more
        if self._read is not None and self._read.next_seq != start:
            await self.aclose()
        if self._read is None:
            self._read = await CatchUpRead(self.connection, stream, subject_filter, start, self.buffer).open()
        return await self._read.page(limit, last_seq)

    def unread(self, from_seq: int) -> None:
        """Have the consumer hand the last page's messages from ``from_seq`` on again (the caller used only the
        events before them), so the next read goes on through it instead of opening another."""
        read = self._read
        if read is None:
            return

        async def unread() -> None:
            read.unread(from_seq)

        self.connection.call(unread, while_disconnected=True)

    async def aclose(self) -> None:
        read, self._read = self._read, None
        if read is not None:
            await read.close()

    def close(self) -> None:
        """Close the consumer, if one is open (from any thread but the connection's loop)."""
        if self._read is None:
            return
        try:
            self.connection.call(self.aclose, while_disconnected=True)
        except Exception:  # noqa: BLE001 - closing: the connection may be gone already (the server drops it)
            self._read = None


def stored_time(event: UpstreamEvent) -> datetime | None:
    """When NATS stored ``event`` (None when the read did not say)."""
    if not event.stored_at:
        return None
    text = event.stored_at.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Go prints nanoseconds; Python parses at most microseconds
        digits = "".join(itertools.takewhile(str.isdigit, rest))
        zone = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None

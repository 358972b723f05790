"""An ``eventsourcing`` persistence module backed by NATS JetStream.

Select it with ``PERSISTENCE_MODULE=services.common.eventstore.jetstream`` and ``NATS_URL``. Settings, read
through the application's environment (so ``IDENTITY_NATS_URL`` overrides ``NATS_URL`` for an app named Identity):

=========================  ==========  ==============================================================
variable                   default     meaning
=========================  ==========  ==============================================================
``NATS_URL``               (required)  where the nats-server (>= 2.12, JetStream) listens
``NATS_STREAM_REPLICAS``   ``1``       stream replicas: 1 on a laptop, 3 in a cluster
``NATS_DUPLICATE_WINDOW``  ``120``     seconds JetStream remembers ``Nats-Msg-Id`` for de-duplication
``NATS_REQUEST_TIMEOUT``   ``5``       seconds to wait for a publish acknowledgement or a read
``NATS_NAMESPACE``         ``chorus``  first subject token and stream-name prefix (isolates deployments/tests)
``NATS_CONNECT_TIMEOUT``   ``5``       seconds to wait for the first connection before giving up
``CREATE_TABLE``           ``y``       create the stream when missing (else it must exist)
=========================  ==========  ==============================================================

How the library's model maps onto JetStream (one stream per application, ``CHORUS_<APP>``):

- a stored event is one message on its aggregate's subject ``chorus.<app>.e.<originator>``; its payload is the
  event state, its ``Chorus-Topic`` header the topic, its ``Chorus-Version`` header the aggregate version. Its
  notification id is its stream sequence. One literal subject per aggregate lets the server's per-subject index
  find an aggregate's events without scanning the stream, however long it grows.
- optimistic concurrency: the first event of an aggregate in a save carries ``Nats-Expected-Last-Subject-Sequence``
  = the stream sequence of that aggregate's last event (0 for a new aggregate), so of two writers of the same
  version exactly one is stored and the other gets ``IntegrityError`` — for ever, not only within the duplicate
  window. The recorder remembers the last (version, sequence) it read or wrote per aggregate, and looks it up
  (one direct get on the literal subject) only when it does not know it.
- all events of one ``insert_events`` call are one atomic batch: stored together or not at all.
- a tracking position is a message on ``chorus.<app>.t.<upstream>`` holding the notification id, written with
  ``Nats-Expected-Last-Subject-Sequence`` equal to the position read before, so positions only move forward;
  a process recorder puts it in the same atomic batch as the events it caused.
- ``Nats-Msg-Id`` is ``<call id>:<n>``, so a publish retried after a lost acknowledgement is recognised as the
  same write; correlation and causation ids of the current request travel as ``Chorus-Correlation-Id`` and
  ``Chorus-Causation-Id`` headers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import queue
import re
import threading
import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    DatabaseError,
    DataError,
    InfrastructureFactory,
    IntegrityError,
    Notification,
    OperationalError,
    ProcessRecorder,
    ProgrammingError,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.utils import Environment, resolve_topic, strtobool
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.common import context
from services.common.eventstore.connection import (
    ERR_BATCH_DUPLICATE_MESSAGE_ID,
    ERR_BATCH_WRONG_LAST_SEQUENCE,
    ERR_TOO_MANY_INFLIGHT_BATCHES,
    ERR_WRONG_LAST_SEQUENCE,
    MAX_BATCH_MESSAGES,
    JetStreamConnection,
    OutgoingMessage,
    PublishRejectedError,
    RequestTimeoutError,
    StoredMessage,
    StreamSpec,
)

log = structlog.get_logger(__name__)

TOPIC_HEADER = "Chorus-Topic"
VERSION_HEADER = "Chorus-Version"
CORRELATION_HEADER = "Chorus-Correlation-Id"
CAUSATION_HEADER = "Chorus-Causation-Id"
EXPECTED_LAST_SUBJECT_SEQUENCE = "Nats-Expected-Last-Subject-Sequence"
RECENT_WINDOW = 8  # messages looked at from the end of the stream for its newest event
KNOWN_AGGREGATES = 100_000  # (version, sequence) of this many aggregates are remembered per recorder
READ_BATCH = 1000
STREAMED_READ_FROM = 2000  # reads of this many notifications or more stream through an ordered consumer
# Refusals that mean "these versions are taken" — by another writer, or by our own earlier attempt.
_CONFLICT_CODES = {ERR_WRONG_LAST_SEQUENCE, ERR_BATCH_WRONG_LAST_SEQUENCE, ERR_BATCH_DUPLICATE_MESSAGE_ID}
_TOKEN_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def subject_token(name: str) -> str:
    """A lower-case subject/stream-safe token for an application name."""
    token = _TOKEN_UNSAFE.sub("_", name.lower()).strip("_")
    return token or "app"


def originator_token(originator_id: UUID | str) -> str:
    """UUIDs as their canonical text; other ids base64url-encoded behind ``s-`` (any string is subject-safe)."""
    if isinstance(originator_id, UUID):
        return str(originator_id)
    encoded = base64.urlsafe_b64encode(originator_id.encode()).decode().rstrip("=")
    return f"s-{encoded}"


def originator_from_token(token: str) -> UUID | str:
    if token.startswith("s-"):
        body = token[2:]
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    return UUID(token)


class StreamLayout:
    """Subjects and stream name of one application's event stream, within a namespace (default ``chorus``)."""

    def __init__(
        self, app_name: str, replicas: int = 1, duplicate_window: float = 120.0, namespace: str = "chorus"
    ) -> None:
        self.app = subject_token(app_name)
        space = subject_token(namespace)
        self.prefix = f"{space}.{self.app}"
        self.spec = StreamSpec(
            name=f"{space.upper()}_{self.app.upper()}",
            subjects=(f"{self.prefix}.>",),
            replicas=replicas,
            duplicate_window_seconds=duplicate_window,
        )
        self.events_prefix = f"{self.prefix}.e."
        self.events_filter = f"{self.prefix}.e.>"

    @property
    def stream(self) -> str:
        return self.spec.name

    def event_subject(self, originator_id: UUID | str) -> str:
        return f"{self.prefix}.e.{originator_token(originator_id)}"

    def snapshot_subject(self, originator_id: UUID | str) -> str:
        return f"{self.prefix}.s.{originator_token(originator_id)}"

    def tracking_subject(self, application_name: str) -> str:
        return f"{self.prefix}.t.{originator_token(application_name)}"


def _request_headers() -> dict[str, str]:
    ctx = context.current()
    if ctx is None:
        return {}
    return {CORRELATION_HEADER: ctx.correlation_id, CAUSATION_HEADER: ctx.request_id}


def _stored_event(msg: StoredMessage) -> StoredEvent:
    return StoredEvent(
        originator_id=originator_from_token(msg.subject.rsplit(".", 1)[-1]),
        originator_version=int(msg.headers[VERSION_HEADER]),
        topic=msg.headers.get(TOPIC_HEADER, ""),
        state=msg.data,
    )


def _notification(msg: StoredMessage) -> Notification:
    return Notification(
        id=msg.seq,
        originator_id=originator_from_token(msg.subject.rsplit(".", 1)[-1]),
        originator_version=int(msg.headers[VERSION_HEADER]),
        topic=msg.headers.get(TOPIC_HEADER, ""),
        state=msg.data,
    )


class JetStreamRecorder:
    """What every JetStream recorder shares: the connection, the stream layout, error translation."""

    def __init__(self, connection: JetStreamConnection, layout: StreamLayout, *, create_stream: bool = True) -> None:
        self.connection = connection
        self.layout = layout
        if create_stream:
            connection.ensure_stream(layout.spec)

    def _commit(self, messages: list[OutgoingMessage]) -> list[int]:
        """Publish atomically, retrying a lost acknowledgement with the same message ids; translate errors."""
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                return self.connection.call(lambda: self.connection.publish_atomic(messages))
            except PublishRejectedError as exc:
                if exc.code in _CONFLICT_CODES:
                    # Our message ids are unique to this call: finding them stored means an earlier attempt whose
                    # acknowledgement was lost succeeded. Anything else is a real conflict.
                    recovered = self._already_ours(messages)
                    if recovered is not None:
                        return recovered
                    raise IntegrityError(f"conflicting write: {exc.description}") from None
                if exc.code == ERR_TOO_MANY_INFLIGHT_BATCHES and attempt < attempts:
                    continue
                raise DatabaseError(f"JetStream refused the write: {exc}") from None
            except RequestTimeoutError as exc:
                if attempt == attempts:
                    raise OperationalError(f"write not acknowledged, outcome unknown: {exc}") from None
                log.warning("eventstore.publish_retry", stream=self.layout.stream, attempt=attempt)
            except ValueError as exc:
                raise DataError(str(exc)) from None
        raise OperationalError("write not acknowledged")  # pragma: no cover - loop always returns or raises

    def _already_ours(self, messages: list[OutgoingMessage]) -> list[int] | None:
        """After a retry was refused: did our earlier attempt store these very messages?

        The last message of the batch on each subject must be the newest stored there, with our message id; an
        atomic batch is stored contiguously, so its sequences end at the highest of those.
        """
        last_on_subject = {msg.subject: msg for msg in messages}
        newest = 0
        for subject, msg in last_on_subject.items():
            stored = self._last(subject)
            if stored is None or stored.headers.get("Nats-Msg-Id") != msg.headers.get("Nats-Msg-Id"):
                return None
            newest = max(newest, stored.seq)
        return list(range(newest - len(messages) + 1, newest + 1))

    def _read(self, subject_filter: str, start_seq: int, batch: int) -> list[StoredMessage]:
        try:
            return self.connection.call(
                lambda: self.connection.direct_get_batch(
                    self.layout.stream, start_seq=start_seq, subject_filter=subject_filter, batch=batch
                )
            )
        except (RequestTimeoutError, PublishRejectedError) as exc:
            raise OperationalError(f"cannot read {self.layout.stream}: {exc}") from None

    def _last(self, subject_filter: str) -> StoredMessage | None:
        try:
            return self.connection.call(lambda: self.connection.last_message(self.layout.stream, subject_filter))
        except (RequestTimeoutError, PublishRejectedError) as exc:
            raise OperationalError(f"cannot read {self.layout.stream}: {exc}") from None


class JetStreamAggregateRecorder(JetStreamRecorder, AggregateRecorder):
    """Stored events per aggregate; ``purpose="snapshots"`` keeps snapshots on their own subjects."""

    def __init__(
        self, connection: JetStreamConnection, layout: StreamLayout, *, purpose: str = "events", create_stream: bool = True
    ) -> None:
        super().__init__(connection, layout, create_stream=create_stream)
        self.purpose = purpose
        self._subject = layout.snapshot_subject if purpose == "snapshots" else layout.event_subject
        #: subject -> (version, stream sequence) of the aggregate's last event, as last read or written here
        self._positions: dict[str, tuple[int, int]] = {}

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        self._insert(stored_events, **kwargs)
        return None

    def _insert(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        if len(stored_events) > MAX_BATCH_MESSAGES:
            raise DataError(f"one save may hold at most {MAX_BATCH_MESSAGES} events, got {len(stored_events)}")
        firsts = self._first_versions(stored_events)
        expected = {subject: self._positions.get(subject) for subject in firsts}
        for attempt in (1, 2):
            for subject, first_version in firsts.items():
                known = expected[subject]
                if known is not None and known[0] >= first_version:
                    raise IntegrityError(f"version {first_version} of {subject} is already recorded")
            messages = self._event_messages(stored_events, expected)
            messages.extend(self._extra_messages(**kwargs))
            if not messages:
                return []
            if len(messages) > MAX_BATCH_MESSAGES:
                raise DataError(f"one save may hold at most {MAX_BATCH_MESSAGES} events, got {len(messages)}")
            try:
                seqs = self._commit(messages)
            except IntegrityError:
                for subject in firsts:
                    self._positions.pop(subject, None)
                if attempt == 2:
                    raise
                # Perhaps we only guessed "new aggregate" or remembered an old position: look the positions
                # up and try once more; a real conflict shows up as a known version >= the first one written.
                expected = self._lookup_last(list(firsts))
                continue
            self._remember(messages, seqs)
            return seqs[: len(stored_events)]
        raise IntegrityError("conflicting write")  # pragma: no cover - the loop returns or raises

    def _first_versions(self, stored_events: Sequence[StoredEvent]) -> dict[str, int]:
        """Subject -> first version written, in order; versions of one aggregate must be unique and ascending."""
        firsts: dict[str, int] = {}
        previous: dict[str, int] = {}
        for event in stored_events:
            subject = self._subject(event.originator_id)
            version = event.originator_version
            if subject in previous and version <= previous[subject]:
                raise IntegrityError(f"version {version} of {subject} appears twice or out of order in one save")
            previous[subject] = version
            firsts.setdefault(subject, version)
        return firsts

    def _event_messages(
        self, stored_events: Sequence[StoredEvent], expected: dict[str, tuple[int, int] | None]
    ) -> list[OutgoingMessage]:
        call_id = uuid.uuid4().hex
        common = _request_headers()
        messages = []
        guarded: set[str] = set()
        for n, event in enumerate(stored_events):
            subject = self._subject(event.originator_id)
            headers = {
                **common,
                TOPIC_HEADER: event.topic,
                VERSION_HEADER: str(event.originator_version),
                "Nats-Msg-Id": f"{call_id}:{n}",
            }
            if subject not in guarded:  # the server checks against the stream as it was before this save
                known = expected.get(subject)
                headers[EXPECTED_LAST_SUBJECT_SEQUENCE] = str(known[1] if known else 0)
                guarded.add(subject)
            messages.append(OutgoingMessage(subject, event.state, headers))
        return messages

    def _remember(self, messages: list[OutgoingMessage], seqs: list[int]) -> None:
        if len(self._positions) > KNOWN_AGGREGATES:
            self._positions.clear()
        for msg, seq in zip(messages, seqs, strict=False):
            version = msg.headers.get(VERSION_HEADER)
            if version is not None:
                self._positions[msg.subject] = (int(version), seq)

    def _lookup_last(self, subjects: list[str]) -> dict[str, tuple[int, int] | None]:
        async def lookup() -> list[StoredMessage | None]:
            return list(
                await asyncio.gather(*(self.connection.last_message(self.layout.stream, s) for s in subjects))
            )

        try:
            found = self.connection.call(lookup)
        except (RequestTimeoutError, PublishRejectedError) as exc:
            raise OperationalError(f"cannot read {self.layout.stream}: {exc}") from None
        return {
            subject: (int(msg.headers[VERSION_HEADER]), msg.seq) if msg is not None else None
            for subject, msg in zip(subjects, found, strict=True)
        }

    def _extra_messages(self, **_: Any) -> list[OutgoingMessage]:
        return []

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        subject = self._subject(originator_id)
        if desc and limit == 1 and lte is None:  # the newest event (snapshots, existence checks): one lookup
            last = self._last_event(subject)
            return [last] if last is not None and (gt is None or last.originator_version > gt) else []
        events: list[StoredEvent] = []
        start = 1
        last_seen: tuple[int, int] | None = None
        while True:
            page = self._read(subject, start, READ_BATCH)
            for msg in page:
                event = _stored_event(msg)
                last_seen = (event.originator_version, msg.seq)
                if (gt is None or event.originator_version > gt) and (lte is None or event.originator_version <= lte):
                    events.append(event)
            if len(page) < READ_BATCH:
                break
            start = page[-1].seq + 1
        if last_seen is not None:
            self._positions[subject] = last_seen
        if desc:
            events.reverse()
        return events[:limit] if limit is not None else events

    def _last_event(self, subject: str) -> StoredEvent | None:
        msg = self._last(subject)
        if msg is None:
            return None
        event = _stored_event(msg)
        self._positions[subject] = (event.originator_version, msg.seq)
        return event


class JetStreamApplicationRecorder(JetStreamAggregateRecorder, ApplicationRecorder):
    """Stored events in the application sequence: notification ids are stream sequences."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        return self._insert(stored_events, **kwargs)

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        if start is None:
            position = 1
        else:
            position = start if inclusive_of_start else start + 1
        position = max(position, 1)
        wanted = set(topics)
        if limit >= STREAMED_READ_FROM:
            last = self._last(self.layout.events_filter)
            if last is None or last.seq < position:
                return []
            end = min(last.seq, stop) if stop is not None else last.seq
            if end < position:
                return []
            return self._streamed_notifications(position, end, limit, wanted)
        results: list[Notification] = []
        while len(results) < limit:
            want = READ_BATCH if wanted else min(limit - len(results), READ_BATCH)
            page = self._read(self.layout.events_filter, position, want)
            for msg in page:
                if stop is not None and msg.seq > stop:
                    return results
                if wanted and msg.headers.get(TOPIC_HEADER) not in wanted:
                    continue
                results.append(_notification(msg))
                if len(results) == limit:
                    return results
            if len(page) < want:
                break
            position = page[-1].seq + 1
        return results

    def _streamed_notifications(self, position: int, end: int, limit: int, wanted: set[str]) -> list[Notification]:
        results: list[Notification] = []
        while len(results) < limit and position <= end:
            want = limit - len(results) if not wanted else max(limit - len(results), READ_BATCH)
            try:
                page = self.connection.call(
                    lambda: self.connection.consume_range(
                        self.layout.stream,
                        start_seq=position,
                        subject_filter=self.layout.events_filter,
                        limit=want,
                        last_seq=end,
                    )
                )
            except RequestTimeoutError as exc:
                raise OperationalError(f"cannot read {self.layout.stream}: {exc}") from None
            if not page:
                break
            for msg in page:
                if wanted and msg.headers.get(TOPIC_HEADER) not in wanted:
                    continue
                results.append(_notification(msg))
                if len(results) == limit:
                    break
            position = page[-1].seq + 1
        return results

    def max_notification_id(self) -> int | None:
        # The stream's last sequence is usually an event; tracking positions and snapshots share the stream, so
        # step back over a few of those before asking the server to search (a search scans the stream).
        try:
            last_seq = self.connection.call(lambda: self.connection.last_sequence(self.layout.stream))
            for seq in range(last_seq, max(last_seq - RECENT_WINDOW, 0), -1):
                msg = self.connection.call(lambda s=seq: self.connection.message_at(self.layout.stream, s))
                if msg is not None and msg.subject.startswith(self.layout.events_prefix):
                    return seq
        except (RequestTimeoutError, PublishRejectedError) as exc:
            raise OperationalError(f"cannot read {self.layout.stream}: {exc}") from None
        if last_seq == 0:
            return None
        last = self._last(self.layout.events_filter)
        return last.seq if last is not None else None

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[ApplicationRecorder]:
        return JetStreamSubscription(self, gt=gt, topics=topics)


class JetStreamSubscription(Subscription[JetStreamApplicationRecorder]):
    """Notifications after ``gt``, live: a JetStream ordered consumer on the application's event subjects.

    The consumer pushes stored messages in stream order (no polling, nothing uncommitted); ``__next__``
    blocks until the next one arrives or the subscription is stopped. An ordered consumer lives in the server's
    memory, so after the connection comes back (a restarted or failed-over server) the subscription starts a new
    one right after the last sequence it delivered: nothing is skipped and nothing is delivered twice.
    """

    _STOP = object()

    def __init__(self, recorder: JetStreamApplicationRecorder, gt: int | None = None, topics: Sequence[str] = ()) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._wanted = set(topics)
        self._lock = threading.Lock()
        self._sub: Any = None
        self._last_seq = gt or 0
        self._connection = recorder.connection
        try:
            self._sub = self._connection.call(self._start_consumer)
        except Exception as exc:
            raise OperationalError(f"cannot subscribe to {recorder.layout.stream}: {exc}") from None
        self._forget_listener = self._connection.on_reconnect(self._restart_consumer)

    async def _on_message(self, msg: Any) -> None:
        seq = int(msg.metadata.sequence.stream)
        if seq <= self._last_seq:
            return
        self._last_seq = seq
        headers = msg.headers or {}
        if self._wanted and headers.get(TOPIC_HEADER) not in self._wanted:
            return
        self._queue.put(_notification(StoredMessage(subject=msg.subject, seq=seq, data=msg.data, headers=headers)))

    async def _start_consumer(self) -> Any:
        layout = self._recorder.layout
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self._last_seq + 1,
            filter_subject=layout.events_filter,
        )
        js = self._connection.client.jetstream()
        return await js.subscribe(
            layout.events_filter, stream=layout.stream, ordered_consumer=True, config=config, cb=self._on_message
        )

    async def _restart_consumer(self) -> None:
        if self._has_been_stopped:
            return
        old, self._sub = self._sub, None
        if old is not None:
            with contextlib.suppress(Exception):
                await old.unsubscribe()
        for delay in (0.1, 0.25, 0.5, 1.0, 2.0, 4.0):
            try:
                sub = await self._start_consumer()
            except Exception as exc:  # noqa: BLE001 - JetStream may still be recovering its streams
                log.warning("eventstore.resubscribe_failed", stream=self._recorder.layout.stream, error=str(exc))
                await asyncio.sleep(delay)
                if self._has_been_stopped:
                    return
                continue
            if self._has_been_stopped:  # stopped while we were resubscribing: nobody will read this one
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
                return
            self._sub = sub
            log.info("eventstore.resubscribed", stream=self._recorder.layout.stream, after=self._last_seq)
            return
        self._fail(OperationalError(f"cannot resubscribe to {self._recorder.layout.stream} after reconnecting"))

    def _fail(self, error: BaseException) -> None:
        self._error = error
        self._queue.put(self._STOP)

    def stop(self) -> None:
        with self._lock:
            if self._has_been_stopped:
                return
            super().stop()
            sub, self._sub = self._sub, None
        self._forget_listener()
        self._queue.put(self._STOP)
        if sub is not None:
            with contextlib.suppress(Exception):
                self._connection.call(sub.unsubscribe, timeout=5)

    def __next__(self) -> Notification:
        if self._has_been_stopped:
            raise StopIteration
        item = self._queue.get()
        if item is self._STOP:
            error = getattr(self, "_error", None)
            if error is not None and not self._has_been_stopped:
                self.stop()
                raise error
            raise StopIteration
        if self._has_been_stopped:
            raise StopIteration
        return item


class JetStreamTrackingRecorder(JetStreamRecorder, TrackingRecorder):
    """Tracking positions as compare-and-set messages: a position only ever moves forward."""

    def insert_tracking(self, tracking: Tracking) -> None:
        self._commit([self._tracking_message(tracking)])

    def _tracking_message(self, tracking: Tracking) -> OutgoingMessage:
        subject = self.layout.tracking_subject(tracking.application_name)
        last = self._last(subject)
        if last is not None and int(last.data) >= tracking.notification_id:
            raise IntegrityError(
                f"tracking notification id {tracking.notification_id} not greater than current "
                f"{int(last.data)} for {tracking.application_name!r}"
            )
        headers = {
            **_request_headers(),
            "Nats-Msg-Id": f"{uuid.uuid4().hex}:t",
            EXPECTED_LAST_SUBJECT_SEQUENCE: str(last.seq if last is not None else 0),
        }
        return OutgoingMessage(subject, str(tracking.notification_id).encode(), headers)

    def max_tracking_id(self, application_name: str) -> int | None:
        last = self._last(self.layout.tracking_subject(application_name))
        return int(last.data) if last is not None else None


class JetStreamProcessRecorder(JetStreamTrackingRecorder, JetStreamApplicationRecorder, ProcessRecorder):
    """Events and the tracking position that caused them, in one atomic batch."""

    def _extra_messages(self, **kwargs: Any) -> list[OutgoingMessage]:
        tracking: Tracking | None = kwargs.get("tracking")
        return [self._tracking_message(tracking)] if tracking is not None else []


class JetStreamFactory(InfrastructureFactory[JetStreamTrackingRecorder]):
    """Builds JetStream recorders for one application; connections are shared within a process per URL and
    timeouts."""

    NATS_URL = "NATS_URL"
    NATS_STREAM_REPLICAS = "NATS_STREAM_REPLICAS"
    NATS_DUPLICATE_WINDOW = "NATS_DUPLICATE_WINDOW"
    NATS_REQUEST_TIMEOUT = "NATS_REQUEST_TIMEOUT"
    NATS_NAMESPACE = "NATS_NAMESPACE"
    NATS_CONNECT_TIMEOUT = "NATS_CONNECT_TIMEOUT"
    CREATE_TABLE = "CREATE_TABLE"

    _shared: dict[tuple[str, float, float], tuple[JetStreamConnection, int]] = {}
    # Re-entrant: the garbage collector may run Application.__del__ (which closes its factory) on a thread that
    # holds the lock already.
    _shared_lock = threading.RLock()

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        url = self.env.get(self.NATS_URL)
        if not url:
            raise ProgrammingError(f"{self.NATS_URL} is not set: where does the nats-server listen?")
        self.url = url
        try:
            self.replicas = int(self.env.get(self.NATS_STREAM_REPLICAS, "1"))
            self.duplicate_window = float(self.env.get(self.NATS_DUPLICATE_WINDOW, "120"))
            self.request_timeout = float(self.env.get(self.NATS_REQUEST_TIMEOUT, "5"))
            self.connect_timeout = float(self.env.get(self.NATS_CONNECT_TIMEOUT, "5"))
        except ValueError as exc:
            raise ProgrammingError(f"bad NATS setting: {exc}") from None
        # Shared by every factory of this process with the same URL and timeouts.
        self._key = (url, self.request_timeout, self.connect_timeout)
        self.connection = self._acquire(self._key)
        self._released = False

    @classmethod
    def _acquire(cls, key: tuple[str, float, float]) -> JetStreamConnection:
        url, request_timeout, connect_timeout = key
        with cls._shared_lock:
            entry = cls._shared.get(key)
            if entry is not None and not entry[0].closed:
                cls._shared[key] = (entry[0], entry[1] + 1)
                return entry[0]
        # Connect outside the lock: the garbage collector may close another factory meanwhile (on any thread).
        connection = JetStreamConnection.open(url, request_timeout=request_timeout, connect_timeout=connect_timeout)
        with cls._shared_lock:
            entry = cls._shared.get(key)
            if entry is not None and not entry[0].closed:  # another thread connected first: share theirs
                cls._shared[key] = (entry[0], entry[1] + 1)
                winner = entry[0]
            else:
                cls._shared[key] = (connection, 1)
                return connection
        connection.close()
        return winner

    def close(self) -> None:
        if self._released:
            return
        self._released = True
        with self._shared_lock:
            connection, count = self._shared.get(self._key, (self.connection, 1))
            last = count <= 1 or connection is not self.connection
            if last:
                if connection is self.connection:
                    self._shared.pop(self._key, None)
            else:
                self._shared[self._key] = (connection, count - 1)
        if last:
            self.connection.close()

    @property
    def layout(self) -> StreamLayout:
        return StreamLayout(
            self.env.name or "chorus",
            replicas=self.replicas,
            duplicate_window=self.duplicate_window,
            namespace=self.env.get(self.NATS_NAMESPACE) or "chorus",
        )

    def _create_stream(self) -> bool:
        return strtobool(self.env.get(self.CREATE_TABLE) or "yes")

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        return JetStreamAggregateRecorder(self.connection, self.layout, purpose=purpose, create_stream=self._create_stream())

    def application_recorder(self) -> ApplicationRecorder:
        topic = self.env.get(self.APPLICATION_RECORDER_TOPIC)
        cls = resolve_topic(topic) if topic else JetStreamApplicationRecorder
        return cls(self.connection, self.layout, create_stream=self._create_stream())

    def tracking_recorder(
        self, tracking_recorder_class: type[JetStreamTrackingRecorder] | None = None
    ) -> JetStreamTrackingRecorder:
        if tracking_recorder_class is None:
            topic = self.env.get(self.TRACKING_RECORDER_TOPIC)
            tracking_recorder_class = resolve_topic(topic) if topic else JetStreamTrackingRecorder
        return tracking_recorder_class(self.connection, self.layout, create_stream=self._create_stream())

    def process_recorder(self) -> ProcessRecorder:
        topic = self.env.get(self.PROCESS_RECORDER_TOPIC)
        cls = resolve_topic(topic) if topic else JetStreamProcessRecorder
        return cls(self.connection, self.layout, create_stream=self._create_stream())


Factory = JetStreamFactory

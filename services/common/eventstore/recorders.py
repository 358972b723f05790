"""The ``eventsourcing`` recorders on JetStream: aggregate, application, tracking and process recorders.

See the package docstring for how stored events, notification ids and tracking positions map onto the stream.
"""

from __future__ import annotations

import asyncio
import itertools
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
    IntegrityError,
    Notification,
    OperationalError,
    ProcessRecorder,
    StoredEvent,
    Subscription,
    Tracking,
    TrackingRecorder,
)

from services.common import context
from services.common.eventstore.connection import MAX_BATCH_MESSAGES, JetStreamConnection
from services.common.eventstore.digest import DIGEST_HEADER, GENESIS, message_digest, relative_subject
from services.common.eventstore.envelope import (
    CAUSATION_HEADER,
    CORRELATION_HEADER,
    EXPECTED_LAST_SUBJECT_SEQUENCE,
    IDS_PER_MESSAGE,
    MSG_ID_HEADER,
    TOPIC_HEADER,
    VERSION_HEADER,
    OutgoingMessage,
    StoredMessage,
    decode_message,
    encode_events,
    is_commit,
    last_notification_id,
    message_sequence,
    notification_id,
)
from services.common.eventstore.errors import (
    CONFLICTS,
    EventStoreError,
    InsufficientResourcesError,
    JetStreamApiError,
    RequestTimeoutError,
    StoreOutOfSpaceError,
    TooManyInflightBatchesError,
)
from services.common.eventstore.layout import StreamLayout
from services.common.eventstore.subscription import JetStreamSubscription

log = structlog.get_logger(__name__)

RECENT_WINDOW = 8  # messages looked at from the end of the stream for its newest event
KNOWN_AGGREGATES = 100_000  # (version, sequence) of this many aggregates are remembered per recorder
READ_BATCH = 1000
STREAMED_READ_FROM = 2000  # reads of this many notifications or more stream through a consumer (consume_range)
MAX_EVENTS_PER_SAVE = min(MAX_BATCH_MESSAGES, IDS_PER_MESSAGE)


def _request_headers() -> dict[str, str]:
    ctx = context.current()
    if ctx is None:
        return {}
    return {CORRELATION_HEADER: ctx.correlation_id, CAUSATION_HEADER: ctx.request_id}


def _stored_events(msg: StoredMessage) -> list[StoredEvent]:
    return [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in decode_message(msg)]


def _position(msg: StoredMessage) -> tuple[int, int, str]:
    """(version, stream sequence, chain digest) of an aggregate's stored message (a message stored before
    digests existed chains as a first message)."""
    return int(msg.headers[VERSION_HEADER]), msg.seq, msg.headers.get(DIGEST_HEADER, GENESIS)


def _chunks(events: list[StoredEvent], budget: int) -> list[list[StoredEvent]]:
    """``events`` in runs whose stored sizes fit ``budget`` bytes (a run holds at least one event)."""
    runs: list[list[StoredEvent]] = [[]]
    size = 0
    for event in events:
        cost = len(event.state) + len(event.topic) + 16  # what the commit envelope adds per event, generously
        if runs[-1] and size + cost > budget:
            runs.append([])
            size = 0
        runs[-1].append(event)
        size += cost
    return runs


class JetStreamRecorder:
    """What every JetStream recorder shares: the connection, the stream layout, error translation."""

    def __init__(self, connection: JetStreamConnection, layout: StreamLayout, *, create_stream: bool = True) -> None:
        self.connection = connection
        self.layout = layout
        if create_stream:
            connection.ensure_stream(layout.spec)

    def _seal(self, msg: OutgoingMessage, previous: str) -> OutgoingMessage:
        """Put the message's chain digest (:mod:`.digest`) in its headers, given its subject's previous digest."""
        msg.headers[DIGEST_HEADER] = message_digest(
            previous, relative_subject(msg.subject, self.layout.prefix), msg.headers, msg.data
        )
        return msg

    def _commit(self, messages: list[OutgoingMessage]) -> list[int]:
        """Publish atomically, retrying a lost acknowledgement with the same message ids; translate errors.

        Returns the stream sequences of ``messages``.
        """
        if not self.connection.is_connected:  # the client knows NATS is gone: say so now, not after the timeouts
            raise OperationalError("not connected to NATS: nothing was stored")
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                return self.connection.publish(messages)
            except InsufficientResourcesError as exc:
                self.connection.out_of_space = True
                raise StoreOutOfSpaceError(
                    f"the event store is out of space ({exc.description}): nothing was stored; "
                    "retry once the store has room again"
                ) from None
            except CONFLICTS as exc:
                # Our message ids are unique to this call: finding them stored means an earlier attempt whose
                # acknowledgement was lost succeeded. Anything else is a real conflict.
                recovered = self._already_ours(messages)
                if recovered is not None:
                    return recovered
                raise IntegrityError(f"conflicting write: {exc.description}") from None
            except TooManyInflightBatchesError as exc:
                if attempt == attempts:
                    raise DatabaseError(f"JetStream refused the write: {exc}") from None
            except JetStreamApiError as exc:
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
            if stored is None or stored.headers.get(MSG_ID_HEADER) != msg.headers.get(MSG_ID_HEADER):
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
        except EventStoreError as exc:
            raise OperationalError(f"cannot read {self.layout.stream}: {exc}") from None

    def _last(self, subject_filter: str) -> StoredMessage | None:
        try:
            return self.connection.call(lambda: self.connection.last_message(self.layout.stream, subject_filter))
        except EventStoreError as exc:
            raise OperationalError(f"cannot read {self.layout.stream}: {exc}") from None


class JetStreamAggregateRecorder(JetStreamRecorder, AggregateRecorder):
    """Stored events per aggregate; ``purpose="snapshots"`` keeps snapshots on their own subjects."""

    def __init__(
        self,
        connection: JetStreamConnection,
        layout: StreamLayout,
        *,
        purpose: str = "events",
        create_stream: bool = True,
    ) -> None:
        super().__init__(connection, layout, create_stream=create_stream)
        self.purpose = purpose
        self._subject = layout.snapshot_subject if purpose == "snapshots" else layout.event_subject
        #: subject -> (version, stream sequence, chain digest) of the aggregate's last message, as last read or
        #: written here
        self._positions: dict[str, tuple[int, int, str]] = {}
        # A save's message ids: this recorder's random prefix and a count, unique without a uuid per save.
        self._id_prefix = f"{uuid.uuid4().hex}."
        self._saves = itertools.count(1)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        self._insert(stored_events, **kwargs)
        return None

    def _insert(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        """Store the events (one message per aggregate) and the extra messages; return the events' ids."""
        if len(stored_events) > MAX_EVENTS_PER_SAVE:
            raise DataError(f"one save may hold at most {MAX_EVENTS_PER_SAVE} events, got {len(stored_events)}")
        subjects = [self._subject(event.originator_id) for event in stored_events]
        by_subject = self._by_subject(stored_events, subjects)
        expected = {subject: self._positions.get(subject) for subject in by_subject}
        for attempt in (1, 2):
            for subject, events in by_subject.items():
                known = expected[subject]
                if known is not None and known[0] >= events[0].originator_version:
                    raise IntegrityError(f"version {events[0].originator_version} of {subject} is already recorded")
            messages, placement = self._event_messages(by_subject, expected)
            messages.extend(self._extra_messages(**kwargs))
            if not messages:
                return []
            if len(messages) > MAX_BATCH_MESSAGES:
                raise DataError(f"one save may span at most {MAX_BATCH_MESSAGES} subjects, got {len(messages)}")
            try:
                seqs = self._commit(messages)
            except IntegrityError:
                for subject in by_subject:
                    self._positions.pop(subject, None)
                if attempt == 2:
                    raise
                # Perhaps we only guessed "new aggregate" or remembered an old position: look the positions
                # up and try once more; a real conflict shows up as a known version >= the first one written.
                expected = self._lookup_last(list(by_subject))
                continue
            self._remember(messages, seqs)
            return [
                notification_id(seqs[message], index)
                for message, index in (
                    placement[subject, event.originator_version]
                    for subject, event in zip(subjects, stored_events, strict=True)
                )
            ]
        raise IntegrityError("conflicting write")  # pragma: no cover - the loop returns or raises

    def _by_subject(
        self, stored_events: Sequence[StoredEvent], subjects: Sequence[str] | None = None
    ) -> dict[str, list[StoredEvent]]:
        """Subject -> its events, subjects in the order of their LAST event (so the save's last event is in its
        last message and has its highest id); versions of one aggregate must ascend. ``subjects`` are the
        events' subjects when the caller has them already."""
        if subjects is None:
            subjects = [self._subject(event.originator_id) for event in stored_events]
        grouped: dict[str, list[StoredEvent]] = {}
        for subject, event in zip(subjects, stored_events, strict=True):
            events = grouped.setdefault(subject, [])
            if events and event.originator_version <= events[-1].originator_version:
                raise IntegrityError(
                    f"version {event.originator_version} of {subject} appears twice or out of order in one save"
                )
            events.append(event)
        if len(grouped) == 1:
            return grouped
        last_index = {subject: n for n, subject in enumerate(subjects)}
        return {subject: grouped[subject] for subject in sorted(grouped, key=last_index.__getitem__)}

    def _event_messages(
        self, by_subject: dict[str, list[StoredEvent]], expected: dict[str, tuple[int, int, str] | None]
    ) -> tuple[list[OutgoingMessage], dict[tuple[str, int], tuple[int, int]]]:
        """One message per subject (more only when its events outgrow a message), and where each event went:
        ``(subject, version) -> (message number, index in the message)``. Each message's digest chains to the
        aggregate's previous message (the one before it in this save, or the last one stored)."""
        call_id = f"{self._id_prefix}{next(self._saves)}"
        common = _request_headers()
        budget = self.connection.max_payload * 3 // 4
        messages: list[OutgoingMessage] = []
        placement: dict[tuple[str, int], tuple[int, int]] = {}
        for subject, events in by_subject.items():
            known = expected.get(subject)
            previous = known[2] if known else GENESIS
            for part, chunk in enumerate(_chunks(events, budget) if len(events) > 1 else (events,)):
                headers = {**common, MSG_ID_HEADER: f"{call_id}:{len(messages)}"}
                if part == 0:  # the server checks against the stream as it was before this save
                    headers[EXPECTED_LAST_SUBJECT_SEQUENCE] = str(known[1] if known else 0)
                for index, event in enumerate(chunk):
                    placement[subject, event.originator_version] = (len(messages), index)
                msg = self._seal(encode_events(subject, chunk, headers), previous)
                previous = msg.headers[DIGEST_HEADER]
                messages.append(msg)
        return messages, placement

    def _remember(self, messages: list[OutgoingMessage], seqs: list[int]) -> None:
        if len(self._positions) > KNOWN_AGGREGATES:
            self._positions.clear()
        for msg, seq in zip(messages, seqs, strict=False):
            version = msg.headers.get(VERSION_HEADER)
            if version is not None:
                self._positions[msg.subject] = (int(version), seq, msg.headers[DIGEST_HEADER])

    def _lookup_last(self, subjects: list[str]) -> dict[str, tuple[int, int, str] | None]:
        async def lookup() -> list[StoredMessage | None]:
            return list(await asyncio.gather(*(self.connection.last_message(self.layout.stream, s) for s in subjects)))

        try:
            found = self.connection.call(lookup)
        except EventStoreError as exc:
            raise OperationalError(f"cannot read {self.layout.stream}: {exc}") from None
        return {
            subject: _position(msg) if msg is not None else None for subject, msg in zip(subjects, found, strict=True)
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
        last_seen: tuple[int, int, str] | None = None
        while True:
            page = self._read(subject, start, READ_BATCH)
            for msg in page:
                for event in _stored_events(msg):
                    if (gt is None or event.originator_version > gt) and (
                        lte is None or event.originator_version <= lte
                    ):
                        events.append(event)
                last_seen = _position(msg)
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
        event = _stored_events(msg)[-1]
        self._positions[subject] = _position(msg)
        return event


class JetStreamApplicationRecorder(JetStreamAggregateRecorder, ApplicationRecorder):
    """Stored events in the application sequence; notification ids number the events of each message."""

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
            first = 1
        else:
            first = start if inclusive_of_start else start + 1
        first = max(first, 1)
        wanted = set(topics)
        position = max(message_sequence(first), 1)
        if limit >= STREAMED_READ_FROM:
            last = self._last(self.layout.events_filter)
            if last is None or last.seq < position:
                return []
            end = min(last.seq, message_sequence(stop)) if stop is not None else last.seq
            if end < position:
                return []
            return self._streamed_notifications(position, end, first, stop, limit, wanted)
        results: list[Notification] = []
        while len(results) < limit:
            want = READ_BATCH if wanted else min(limit - len(results), READ_BATCH)
            page = self._read(self.layout.events_filter, position, want)
            if self._collect(page, first, stop, limit, wanted, results):
                return results
            if len(page) < want:
                break
            position = page[-1].seq + 1
        return results

    @staticmethod
    def _collect(
        page: list[StoredMessage],
        first: int,
        stop: int | None,
        limit: int,
        wanted: set[str],
        results: list[Notification],
    ) -> bool:
        """Append the page's notifications in [first, stop] with a wanted topic; True when the read is done."""
        for msg in page:
            if wanted and not is_commit(msg.headers) and msg.headers.get(TOPIC_HEADER) not in wanted:
                continue
            for notification in decode_message(msg):
                if notification.id < first:
                    continue
                if stop is not None and notification.id > stop:
                    return True
                if wanted and notification.topic not in wanted:
                    continue
                results.append(notification)
                if len(results) == limit:
                    return True
        return False

    def _streamed_notifications(
        self, position: int, end: int, first: int, stop: int | None, limit: int, wanted: set[str]
    ) -> list[Notification]:
        results: list[Notification] = []
        while len(results) < limit and position <= end:
            want = limit - len(results) if not wanted else max(limit - len(results), READ_BATCH)
            try:
                page = self.connection.call(
                    lambda start=position, count=want: self.connection.consume_range(  # type: ignore[misc]
                        self.layout.stream,
                        start_seq=start,
                        subject_filter=self.layout.events_filter,
                        limit=count,
                        last_seq=end,
                    )
                )
            except EventStoreError as exc:
                raise OperationalError(f"cannot read {self.layout.stream}: {exc}") from None
            if not page or self._collect(page, first, stop, limit, wanted, results):
                break
            position = page[-1].seq + 1
        return results

    def max_notification_id(self) -> int | None:
        # The stream's last sequence is usually an event; tracking positions and snapshots share the stream, so
        # step back over a few of those before asking the server to search (a search scans the stream).
        try:
            last_seq = self.connection.call(lambda: self.connection.last_sequence(self.layout.stream))
            for seq in range(last_seq, max(last_seq - RECENT_WINDOW, 0), -1):
                msg = self.connection.call(lambda s=seq: self.connection.message_at(self.layout.stream, s))  # type: ignore[misc]
                if msg is not None and msg.subject.startswith(self.layout.events_prefix):
                    return last_notification_id(msg)
        except EventStoreError as exc:
            raise OperationalError(f"cannot read {self.layout.stream}: {exc}") from None
        if last_seq == 0:
            return None
        last = self._last(self.layout.events_filter)
        return last_notification_id(last) if last is not None else None

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[ApplicationRecorder]:
        return JetStreamSubscription(self, gt=gt, topics=topics)


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
            MSG_ID_HEADER: f"{uuid.uuid4().hex}:t",
            EXPECTED_LAST_SUBJECT_SEQUENCE: str(last.seq if last is not None else 0),
        }
        previous = last.headers.get(DIGEST_HEADER, GENESIS) if last is not None else GENESIS
        return self._seal(OutgoingMessage(subject, str(tracking.notification_id).encode(), headers), previous)

    def max_tracking_id(self, application_name: str) -> int | None:
        last = self._last(self.layout.tracking_subject(application_name))
        return int(last.data) if last is not None else None


class JetStreamProcessRecorder(JetStreamTrackingRecorder, JetStreamApplicationRecorder, ProcessRecorder):
    """Events and the tracking position that caused them, in one atomic batch."""

    def _extra_messages(self, **kwargs: Any) -> list[OutgoingMessage]:
        tracking: Tracking | None = kwargs.get("tracking")
        return [self._tracking_message(tracking)] if tracking is not None else []

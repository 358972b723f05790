"""The one runner of every projection: upstream events -> handlers -> view, exactly once, in a background thread.

A :class:`ProjectionRunner` keeps one :class:`~services.common.projections.projection.Projection` in step with
one or more upstream streams (a :class:`~services.common.projections.reader.StreamReader` each):

- **Exactly-once effect.** Events are applied in batches, each batch in ONE view transaction that also records
  the upstream position it reached (``View.transaction``), so a redelivered event changes nothing and a restart
  resumes where the view stopped. Each upstream has its own tracking row; no order between upstreams is assumed.
- **Catch-up.** An upstream more than a batch behind is read ``catch_up_page`` events at a time through one
  consumer kept open from page to page (``StreamReader.read`` with a held read), and applied
  :data:`CATCH_UP_BATCHES` batches per transaction. Events of topics the projection has no handler for are not
  decoded at all (their positions are recorded like any other's). An upstream at least ``process_read_from``
  messages behind is read to its end by a process of its own (``read_process``), so that the NATS client's work
  runs beside the decoding and the applying here; should that process fail, the runner reads here from then on.
- **Indexes last.** A view that holds no position yet, with at least :data:`DEFER_INDEXES_FROM` messages upstream,
  is built without the indexes its handlers never read through (``View.defer_indexes``); they are built once
  every upstream has been read to its end, before the last page commits (``View.build_indexes``).
- **Poll plus nudge.** The runner reads every upstream after its position, and then waits for a nudge (an event
  stored upstream, through :meth:`StreamReader.watch`, or a :meth:`wait` by a reader of the view) or for
  ``poll_interval`` seconds, whichever comes first.
- **In-process hand-over (optional).** An application that keeps a view of its own stream can hand the runner
  what it has just appended (:meth:`feed`, for the upstreams named in ``handed_over``), so the runner applies it
  without reading it back from NATS: the events are decoded from the bytes the application stored
  (:func:`~services.common.projections.reader.handed_over`), the same :class:`UpstreamEvent` the reader makes.
  A handed-over event is applied once it continues the applied position (the next event of the same message, or
  the first event of the next message); what it cannot place that way within ``gap_wait`` seconds (another
  process's write, a message that is no event) is read from the store. The hand-over is bounded
  (``max_handed_over`` feeds): while the runner is behind, further feeds are not kept but read from the store
  when it gets to them. Such an application's runner usually runs without ``watch``: a subscription would make
  the process parse each of its own writes a second time.
- **Read-your-writes.** :meth:`wait` blocks until given upstream positions are applied (``Unavailable`` after a
  timeout), so a client that has just recorded something can read a view that includes it.
- **Quarantine.** An event that cannot be decoded, or whose handler raises, is recorded in the view's quarantine
  (upstream, sequence, topic, reason — never the payload) together with its position, and the runner moves on.
  A failure of the infrastructure (NATS, the view's database) is not the event's fault: it is retried with
  backoff, and :attr:`healthy` is False meanwhile.
- **After the commit.** :meth:`Projection.after_commit` runs after each committed transaction with its events;
  when it fails, it is called again (with no events) on the runner's next pass until it succeeds.
- **Lag and progress.** :meth:`lag` is, per upstream, its last sequence minus the applied one.
- **As of.** ``stop_at`` (a sequence per upstream) and ``stop_before`` (a stored time) bound what is applied, so a
  view can be rebuilt as it stood at a past point; :meth:`run_to_end` does that synchronously, with no thread.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Self

import structlog
from eventsourcing import persistence
from eventsourcing.persistence import Tracking

from services.common.errors import ChorusError, Unavailable
from services.common.eventstore import message_sequence, notification_id
from services.common.lifecycle import Startable
from services.common.projections.projection import Projection
from services.common.projections.read_process import ProcessRead, ProcessReadError, start_process_read
from services.common.projections.reader import StreamReader, UpstreamEvent, stored_time
from services.common.views import AppliedPosition

log = structlog.get_logger(__name__)

#: Failures that say nothing about the event being applied: the view's database or NATS is away.
INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    persistence.OperationalError,
    persistence.InterfaceError,
    Unavailable,
    ConnectionError,
    TimeoutError,
)


#: Events read at once while an upstream is more than a batch behind (applied :data:`CATCH_UP_BATCHES` batches per
#: view transaction): one held consumer streams every page of a catch-up, and a page's keys are one vault read.
CATCH_UP_PAGE = 10_000

#: Batches applied in one view transaction while an upstream is more than a batch behind: a commit costs a
#: write of every page the transaction changed, so a catch-up commits less often than a view that follows live.
CATCH_UP_BATCHES = 10

#: A view that holds no position yet and whose upstreams hold at least this many messages in all builds its
#: deferrable indexes once, before its last page, rather than row by row (``View.defer_indexes``).
DEFER_INDEXES_FROM = 50_000

#: An upstream at least this many messages behind is read by a process of its own (``read_process``).
PROCESS_READ_FROM = 50_000


class ProjectionRunner(Startable):
    """Runs ``projection`` over ``readers`` (one per upstream it names); see the module docstring."""

    def __init__(
        self,
        projection: Projection[Any],
        readers: Sequence[StreamReader],
        *,
        batch_size: int = 1000,
        poll_interval: float = 1.0,
        stop_at: Mapping[str, int] | None = None,
        stop_before: datetime | None = None,
        name: str = "",
        handed_over: Sequence[str] = (),
        max_handed_over: int = 200,
        gap_wait: float = 0.05,
        catch_up_page: int = CATCH_UP_PAGE,
        defer_indexes_from: int = DEFER_INDEXES_FROM,
        process_read_from: int | None = PROCESS_READ_FROM,
    ) -> None:
        self.projection = projection
        self.view = projection.view
        self.readers = {reader.upstream: reader for reader in readers}
        self.handed_over = frozenset(handed_over)
        if self.handed_over - set(self.readers):
            msg = f"hand-over for upstream(s) {sorted(self.handed_over - set(self.readers))} without a reader"
            raise ValueError(msg)
        if self.handed_over and (stop_at or stop_before):
            msg = "a runner bounded by stop_at / stop_before reads its upstreams, it takes no hand-over"
            raise ValueError(msg)
        self.batch_size = batch_size
        self.catch_up_page = catch_up_page  #: events read at once while an upstream is more than a batch behind
        self._topics = projection.topics()  # what the readers decode: the events of other topics change nothing
        self._key_only = projection.KEY_ONLY  # marked fields the readers leave sealed (only their keys are read)
        self.poll_interval = poll_interval
        self.gap_wait = gap_wait
        self.max_held = 50 * batch_size  #: handed-over events held while a gap stays open, at most
        self.stop_at = dict(stop_at or {})
        self.stop_before = stop_before
        self.name = name or self.view.view_name
        self._applied = {
            upstream: AppliedPosition(f"{self.name} ({upstream})", self.view.max_tracking_id(upstream) or 0)
            for upstream in self.readers
        }
        self._finished = dict.fromkeys(self.readers, False)  # reached stop_at / stop_before
        self.defer_indexes_from = defer_indexes_from
        self._deferral_decided = False
        self._reached_end: set[str] = set()  # the upstreams read to their ends at least once
        self._held_reads = {upstream: reader.held_read() for upstream, reader in self.readers.items()}
        self.process_read_from = process_read_from  #: None: every upstream is read in this process
        self._process_reads: dict[str, ProcessRead] = {}
        self._nudge = threading.Event()  # wakes the loop
        self._read_store = threading.Event()  # the next pass reads the upstreams (set by nudges from outside)
        self._stopping = threading.Event()
        self._handed: queue.Queue[tuple[str, Sequence[UpstreamEvent]]] = queue.Queue(maxsize=max_handed_over)
        self._held: dict[str, dict[int, UpstreamEvent]] = {upstream: {} for upstream in self.handed_over}
        self._error: BaseException | None = None
        self._follow_up_due = False
        self._unwatch: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[], None]] = []
        self.applied_events = 0
        self.quarantined_events = 0

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self, *, watch: bool = True) -> Self:
        """Start applying in a background thread; ``watch`` subscribes to the upstreams for nudges."""
        if watch:
            for reader in self.readers.values():
                try:
                    self._unwatch.append(reader.watch(self._poke))
                except Exception as error:  # noqa: BLE001 - nudges are an optimisation: polling still works
                    log.warning(
                        "projection.watch_failed",
                        view=self.name,
                        upstream=reader.upstream,
                        error_type=type(error).__name__,
                    )
        self._thread = threading.Thread(target=self._loop, name=f"{self.name}-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._nudge.set()
        for unwatch in self._unwatch:
            unwatch()
        self._unwatch.clear()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._close_reads()

    def _close_reads(self) -> None:
        for held in self._held_reads.values():
            held.close()
        for upstream in list(self._process_reads):
            self._process_reads.pop(upstream).close()

    def on_applied(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` (on the runner's thread) after each committed batch; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def feed(self, upstream: str, events: Sequence[UpstreamEvent]) -> None:
        """Hand over events just stored in ``upstream`` by this process, in stream order (never blocks).

        When the hand-over is full the events are not kept: the runner reads them from the store instead.
        """
        if not events:
            return
        if upstream not in self.handed_over:
            msg = f"{self.name} takes no hand-over of {upstream!r}"
            raise ValueError(msg)
        try:
            self._handed.put_nowait((upstream, events))
        except queue.Full:  # the runner is behind: it reads these from the store (they are stored already)
            if not self._read_store.is_set():
                log.info("projection.hand_over_full", view=self.name, upstream=upstream, held=self._handed.maxsize)
            self._read_store.set()
        self._nudge.set()

    # ------------------------------------------------------------------------------------------ state

    @property
    def positions(self) -> dict[str, int]:
        """The applied position of each upstream."""
        return {upstream: applied.value for upstream, applied in self._applied.items()}

    @property
    def healthy(self) -> bool:
        """Whether the runner is following its upstreams (its last attempt succeeded and its thread runs)."""
        thread = self._thread
        return self._error is None and (thread is None or thread.is_alive() or self.finished)

    @property
    def error(self) -> BaseException | None:
        """The failure the runner is retrying, if any."""
        return self._error

    @property
    def finished(self) -> bool:
        """Whether every upstream has reached its ``stop_at`` / ``stop_before`` bound (never, without bounds)."""
        return all(self._finished.values()) and bool(self.stop_at or self.stop_before)

    def lag(self) -> dict[str, int]:
        """Per upstream: how many stored messages (saves) lie beyond the applied position (reads each stream's
        state). Positions are notification ids; a message's events share its stream sequence."""
        out = {}
        for upstream, reader in self.readers.items():
            end = reader.last_sequence()
            if upstream in self.stop_at:
                end = min(end, self.stop_at[upstream])
            out[upstream] = max(0, message_sequence(end) - message_sequence(self._applied[upstream].value))
        return out

    def wait(self, positions: Mapping[str, int], timeout: float = 10.0) -> None:
        """Block until every ``upstream: sequence`` in ``positions`` is applied; ``Unavailable`` after ``timeout``.

        Waiting nudges the runner to read the upstream, except an upstream it is handed over: a writer waits for
        what it has handed over, and reading the store for it would only slow the writer down.
        """
        deadline = time.monotonic() + timeout
        for upstream, sequence in positions.items():
            if upstream not in self._applied:
                msg = f"{self.name} does not read {upstream!r}"
                raise ValueError(msg)
            self._applied[upstream].wait(
                sequence,
                max(0.0, deadline - time.monotonic()),
                failure=lambda: self._error,
                poke=None if upstream in self.handed_over else self._poke,
                poll=0.05,
            )

    def catch_up(self, timeout: float = 60.0) -> dict[str, int]:
        """Block until everything stored upstream so far is applied; return the positions waited for."""
        targets = {}
        for upstream, reader in self.readers.items():
            end = reader.last_sequence()
            if upstream in self.stop_at:
                end = min(end, self.stop_at[upstream])
            targets[upstream] = end
        self._poke()
        self.wait(targets, timeout)
        return targets

    def run_to_end(self) -> dict[str, int]:
        """Apply, in the calling thread, everything up to the bounds (or to each stream's end); return positions.

        Errors are raised, not retried: this is for rebuilds and "as of" replays that a caller watches.
        """
        try:
            for upstream in self.readers:
                while self._step(upstream):
                    pass
        finally:
            self._close_reads()
        return self.positions

    # ------------------------------------------------------------------------------------------ the loop

    def _poke(self) -> None:
        """Have the runner read its upstreams now (a nudge from a subscription, a waiter, a catch-up)."""
        self._read_store.set()
        self._nudge.set()

    def _loop(self) -> None:
        backoff = 0.1
        read = True
        gap_since: float | None = None
        while not self._stopping.is_set():
            try:
                progressed = False
                if read or self._read_store.is_set():
                    self._read_store.clear()  # before reading: a request made meanwhile reads again
                    for upstream in self.readers:
                        while self._step(upstream) and not self._stopping.is_set():
                            progressed = True
                self._apply_handed_over()
                if self._follow_up_due:
                    self._follow_up(())
                self._error = None
                backoff = 0.1
            except Exception as error:  # noqa: BLE001 - reported to health and waiters, then retried
                self._error = error
                self._close_reads()  # the retry reads afresh from the applied positions
                read = True
                log.warning(
                    "projection.retrying", view=self.name, error_type=type(error).__name__, retry_in_seconds=backoff
                )
                for applied in self._applied.values():
                    applied.notify()
                if self._stopping.wait(backoff):
                    return
                backoff = min(backoff * 2, 5.0)
                continue
            if progressed and not self.handed_over:
                read = True  # more may have been stored meanwhile
                continue
            timeout = self.poll_interval
            if any(self._held.values()):  # handed-over events wait for a gap before them to close
                gap_since = gap_since or time.monotonic()
                timeout = self.gap_wait - (time.monotonic() - gap_since)
                if timeout <= 0:
                    gap_since = None
                    read = True
                    continue
            else:
                gap_since = None
            read = not self._nudge.wait(timeout) and gap_since is None  # the poll: nothing came meanwhile
            self._nudge.clear()

    def _apply_handed_over(self) -> None:
        """Apply the handed-over events that continue the applied position (in batches); hold the others."""
        while True:
            try:
                upstream, events = self._handed.get_nowait()
            except queue.Empty:
                break
            held, applied = self._held[upstream], self._applied[upstream].value
            held.update((event.sequence, event) for event in events if event.sequence > applied)
        for upstream, held in self._held.items():
            position_of = self._applied[upstream]
            for stale in [sequence for sequence in held if sequence <= position_of.value]:
                del held[stale]
            while True:
                run: list[UpstreamEvent] = []
                position = position_of.value
                while len(run) < self.batch_size:
                    following = (
                        position + 1 if position + 1 in held else notification_id(message_sequence(position) + 1)
                    )
                    if following not in held:
                        break
                    run.append(held.pop(following))
                    position = following
                if not run:
                    break
                self._apply(upstream, run)
            if len(held) > self.max_held:  # far behind: read the store rather than hold it all here
                held.clear()
                self._read_store.set()

    def _step(self, upstream: str) -> bool:
        """Apply the next page of ``upstream`` (a batch, or ``catch_up_page`` events in batches while it is
        further behind); return whether a full page was read (more may follow)."""
        if self._finished[upstream]:
            return False
        if not self._deferral_decided:
            self._defer_indexes()
        reader, applied = self.readers[upstream], self._applied[upstream]
        end = reader.last_sequence()
        bound = self.stop_at.get(upstream)
        if bound is not None:
            end = min(end, bound)
        if end <= applied.value:
            self._finished[upstream] = bound is not None and applied.value >= bound
            self._reached(upstream)
            return False
        behind = message_sequence(end) - message_sequence(applied.value)
        limit = max(self.batch_size, self.catch_up_page) if behind > self.batch_size else self.batch_size
        page = self._read_in_process(upstream, applied.value, limit, end) if limit > self.batch_size else None
        if page is None:
            page = self._read(upstream, applied.value, limit, end)
        seen_to_end = len(page) < limit or page[-1].sequence >= end
        events = [event for event in page if event.sequence <= end]
        if self.stop_before is not None:
            kept = []
            for event in events:
                moment = stored_time(event)
                if moment is not None and moment >= self.stop_before:
                    self._finished[upstream] = True
                    break
                kept.append(event)
            events = kept
        if seen_to_end or self._finished[upstream]:
            self._reached(upstream)
        per_transaction = self.batch_size * (CATCH_UP_BATCHES if limit > self.batch_size else 1)
        for first in range(0, len(events), per_transaction):
            self._apply(upstream, events[first : first + per_transaction])
        if seen_to_end or self._finished[upstream]:
            # everything stored up to ``end`` has been seen: move past the messages that are not events
            applied.advance(end if not self._finished[upstream] else applied.value)
            if bound is not None and applied.value >= bound:
                self._finished[upstream] = True
            return False
        return True

    def _read(self, upstream: str, after: int, limit: int, end: int) -> list[UpstreamEvent]:
        return self.readers[upstream].read(
            after, limit, until=end, topics=self._topics, held=self._held_reads[upstream], key_only=self._key_only
        )

    def _read_in_process(self, upstream: str, after: int, limit: int, end: int) -> list[UpstreamEvent] | None:
        """The next page of a catch-up from the process reading ``upstream`` (one is started when it is far enough
        behind); None when it is read here. What was stored after the process's end is read here."""
        read = self._process_reads.get(upstream)
        if read is not None and read.after != after:  # the runner went elsewhere (a retry reads from its position)
            self._process_reads.pop(upstream).close()
            read = None
        if read is None:
            if (
                self.process_read_from is None
                or message_sequence(end) - message_sequence(after) < self.process_read_from
            ):
                return None
            self._held_reads[upstream].close()  # the process reads through a consumer of its own
            try:
                read = start_process_read(
                    self.readers[upstream], after, end, topics=self._topics, key_only=self._key_only
                )
            except Exception as error:  # noqa: BLE001 - a process that cannot start: read here
                log.warning("projection.process_read_failed", view=self.name, error_type=type(error).__name__)
                read = None
            if read is None:  # it could not read as the reader here does
                self.process_read_from = None
                return None
            self._process_reads[upstream] = read
        try:
            page = read.take(limit)
        except ProcessReadError as error:
            log.warning("projection.process_read_failed", view=self.name, upstream=upstream, error=str(error))
            self._process_reads.pop(upstream).close()
            self.process_read_from = None  # from now on read here
            return None
        if read.ended and len(page) < limit:  # its end: what was stored after it is read here
            self._process_reads.pop(upstream).close()
            page += self._read(upstream, page[-1].sequence if page else after, limit - len(page), end)
        return page

    def _defer_indexes(self) -> None:
        """Before the first read: a view with no position yet that far behind leaves its indexes for later."""
        self._deferral_decided = True
        if not self.view.DEFERRABLE_INDEXES or any(applied.value for applied in self._applied.values()):
            return
        behind = sum(message_sequence(reader.last_sequence()) for reader in self.readers.values())
        if behind >= self.defer_indexes_from and self.view.defer_indexes():
            log.info("projection.indexes_deferred", view=self.name, behind=behind)

    def _reached(self, upstream: str) -> None:
        """``upstream`` has been read to its end: once every upstream has, the deferred indexes are built, before
        the page being applied commits, so whoever waits for the positions finds them."""
        self._reached_end.add(upstream)
        if self.view.indexes_deferred and self._reached_end.issuperset(self.readers):
            started = time.monotonic()
            self.view.build_indexes()
            log.info("projection.indexes_built", view=self.name, seconds=round(time.monotonic() - started, 1))

    def _apply(self, upstream: str, events: list[UpstreamEvent]) -> None:
        """Apply ``events`` in one transaction; if a handler fails, one by one, quarantining the culprits."""
        try:
            with self.view.transaction(Tracking(upstream, events[-1].sequence)) as cur:
                for event in events:
                    self._apply_one(cur, event)
                self.projection.before_commit(cur)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - some event of the batch is poison: find it
            self._refresh(upstream)
            if len(events) > self.batch_size:  # a catch-up transaction: its batches one at a time first
                for first in range(0, len(events), self.batch_size):
                    position = self._applied[upstream].value
                    batch = [event for event in events[first : first + self.batch_size] if event.sequence > position]
                    if batch:
                        self._apply(upstream, batch)
                return
            for event in events:
                if event.sequence > self._applied[upstream].value:
                    self._apply_alone(upstream, event)
            return
        self._committed(upstream, events)

    def _apply_one(self, cur: Any, event: UpstreamEvent) -> None:
        if event.undecodable:
            self.view.quarantine(cur, event, event.undecodable)
            self.quarantined_events += 1
            log.warning(
                "projection.quarantined",
                view=self.name,
                upstream=event.upstream,
                sequence=event.sequence,
                topic=event.topic,
                reason=event.undecodable,
            )
        elif event.message is not None:  # None: a topic the projection has no handler for, left undecoded
            self.projection.apply(cur, event)

    def _apply_alone(self, upstream: str, event: UpstreamEvent) -> None:
        try:
            with self.view.transaction(Tracking(upstream, event.sequence)) as cur:
                self._apply_one(cur, event)
                self.projection.before_commit(cur)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as error:  # noqa: BLE001 - the event's own fault: set it aside and go on
            if self._refresh(upstream) >= event.sequence:
                return  # another runner of the same view applied it meanwhile
            reason = f"handler failed: {type(error).__name__}"
            if isinstance(error, ChorusError):
                reason = f"handler refused it: {type(error).__name__}"
            log.warning(
                "projection.quarantined",
                view=self.name,
                upstream=upstream,
                sequence=event.sequence,
                topic=event.topic,
                error_type=type(error).__name__,
            )
            with self.view.transaction(Tracking(upstream, event.sequence)) as cur:
                self.view.quarantine(cur, event, reason)
            self.quarantined_events += 1
        self._committed(upstream, [event])

    def _refresh(self, upstream: str) -> int:
        position = self.view.max_tracking_id(upstream) or 0
        self._applied[upstream].advance(position)
        return position

    def _committed(self, upstream: str, events: list[UpstreamEvent]) -> None:
        self.applied_events += len(events)
        self._applied[upstream].advance(events[-1].sequence)
        self._follow_up(events)
        for listener in list(self._listeners):
            listener()

    def _follow_up(self, events: Sequence[UpstreamEvent]) -> None:
        """The projection's step after the commit; a failure is retried on the next pass (with no events)."""
        try:
            self.projection.after_commit(events)
        except Exception as error:  # noqa: BLE001 - the view is committed; the projection retries its follow-up
            self._follow_up_due = True
            log.warning("projection.after_commit_failed", view=self.name, error_type=type(error).__name__)
        else:
            self._follow_up_due = False

"""The one runner of every projection: upstream events -> handlers -> view, exactly once, in a background thread.

A :class:`ProjectionRunner` keeps one :class:`~services.common.projections.projection.Projection` in step with
one or more upstream streams (a :class:`~services.common.projections.reader.StreamReader` each):

- **Exactly-once effect.** Events are applied in batches, each batch in ONE view transaction that also records
  the upstream position it reached (``View.transaction``), so a redelivered event changes nothing and a restart
  resumes where the view stopped. Each upstream has its own tracking row; no order between upstreams is assumed.
- **Poll plus nudge.** The runner reads every upstream after its position, and then waits for a nudge (an event
  stored upstream, through :meth:`StreamReader.watch`, or a :meth:`wait` by a reader of the view) or for
  ``poll_interval`` seconds, whichever comes first.
- **Read-your-writes.** :meth:`wait` blocks until given upstream positions are applied (``Unavailable`` after a
  timeout), so a client that has just recorded something can read a view that includes it.
- **Quarantine.** An event that cannot be decoded, or whose handler raises, is recorded in the view's quarantine
  (upstream, sequence, topic, reason — never the payload) together with its position, and the runner moves on.
  A failure of the infrastructure (NATS, the view's database) is not the event's fault: it is retried with
  backoff, and :attr:`healthy` is False meanwhile.
- **Lag and progress.** :meth:`lag` is, per upstream, its last sequence minus the applied one.
- **As of.** ``stop_at`` (a sequence per upstream) and ``stop_before`` (a stored time) bound what is applied, so a
  view can be rebuilt as it stood at a past point; :meth:`run_to_end` does that synchronously, with no thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog
from eventsourcing import persistence
from eventsourcing.persistence import Tracking

from services.common.errors import ChorusError, Unavailable
from services.common.eventstore import message_sequence
from services.common.projections.projection import Projection
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


class ProjectionRunner:
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
    ) -> None:
        self.projection = projection
        self.view = projection.view
        self.readers = {reader.upstream: reader for reader in readers}
        missing = set(projection.upstreams) - set(self.readers)
        if missing:
            msg = f"no reader for upstream(s) {sorted(missing)} of {type(projection).__name__}"
            raise ValueError(msg)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.stop_at = dict(stop_at or {})
        self.stop_before = stop_before
        self.name = name or self.view.view_name
        self._applied = {
            upstream: AppliedPosition(f"{self.name} ({upstream})", self.view.max_tracking_id(upstream) or 0)
            for upstream in self.readers
        }
        self._finished = dict.fromkeys(self.readers, False)  # reached stop_at / stop_before
        self._nudge = threading.Event()
        self._stopping = threading.Event()
        self._error: BaseException | None = None
        self._unwatch: list[Callable[[], None]] = []
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[], None]] = []
        self.applied_events = 0
        self.quarantined_events = 0

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self, *, watch: bool = True) -> ProjectionRunner:
        """Start applying in a background thread; ``watch`` subscribes to the upstreams for nudges."""
        if watch:
            for reader in self.readers.values():
                try:
                    self._unwatch.append(reader.watch(self._nudge.set))
                except Exception as error:  # noqa: BLE001 - nudges are an optimisation: polling still works
                    log.warning("projection.watch_failed", view=self.name, upstream=reader.upstream,
                                error_type=type(error).__name__)
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

    def __enter__(self) -> ProjectionRunner:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def on_applied(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` (on the runner's thread) after each committed batch; return the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

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
        """Block until every ``upstream: sequence`` in ``positions`` is applied; ``Unavailable`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        for upstream, sequence in positions.items():
            if upstream not in self._applied:
                msg = f"{self.name} does not read {upstream!r}"
                raise ValueError(msg)
            self._applied[upstream].wait(
                sequence, max(0.0, deadline - time.monotonic()), failure=lambda: self._error,
                poke=self._nudge.set, poll=0.05,
            )

    def catch_up(self, timeout: float = 60.0) -> dict[str, int]:
        """Block until everything stored upstream so far is applied; return the positions waited for."""
        targets = {}
        for upstream, reader in self.readers.items():
            end = reader.last_sequence()
            if upstream in self.stop_at:
                end = min(end, self.stop_at[upstream])
            targets[upstream] = end
        self.wait(targets, timeout)
        return targets

    def run_to_end(self) -> dict[str, int]:
        """Apply, in the calling thread, everything up to the bounds (or to each stream's end); return positions.

        Errors are raised, not retried: this is for rebuilds and "as of" replays that a caller watches.
        """
        for upstream in self.readers:
            while self._step(upstream):
                pass
        return self.positions

    # ------------------------------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                progressed = False
                for upstream in self.readers:
                    while self._step(upstream) and not self._stopping.is_set():
                        progressed = True
                self._error = None
                backoff = 0.1
            except Exception as error:  # noqa: BLE001 - reported to health and waiters, then retried
                self._error = error
                log.warning("projection.retrying", view=self.name, error_type=type(error).__name__,
                            retry_in_seconds=backoff)
                for applied in self._applied.values():
                    applied.notify()
                if self._stopping.wait(backoff):
                    return
                backoff = min(backoff * 2, 5.0)
                continue
            if not progressed:
                self._nudge.wait(self.poll_interval)
                self._nudge.clear()

    def _step(self, upstream: str) -> bool:
        """Apply the next batch of ``upstream``; return whether a full batch was read (more may follow)."""
        if self._finished[upstream]:
            return False
        reader, applied = self.readers[upstream], self._applied[upstream]
        end = reader.last_sequence()
        bound = self.stop_at.get(upstream)
        if bound is not None:
            end = min(end, bound)
        if end <= applied.value:
            self._finished[upstream] = bound is not None and applied.value >= bound
            return False
        page = reader.read(applied.value, self.batch_size)
        seen_to_end = len(page) < self.batch_size or page[-1].sequence >= end
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
        if events:
            self._apply(upstream, events)
        if seen_to_end or self._finished[upstream]:
            # everything stored up to ``end`` has been seen: move past the messages that are not events
            applied.advance(end if not self._finished[upstream] else applied.value)
            if bound is not None and applied.value >= bound:
                self._finished[upstream] = True
            return False
        return True

    def _apply(self, upstream: str, events: list[UpstreamEvent]) -> None:
        """Apply ``events`` in one transaction; if a handler fails, one by one, quarantining the culprits."""
        try:
            with self.view.transaction(Tracking(upstream, events[-1].sequence)) as cur:
                for event in events:
                    self._apply_one(cur, event)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception:  # noqa: BLE001 - some event of the batch is poison: find it
            self._refresh(upstream)
            for event in events:
                if event.sequence > self._applied[upstream].value:
                    self._apply_alone(upstream, event)
            return
        self._committed(upstream, events)

    def _apply_one(self, cur: Any, event: UpstreamEvent) -> None:
        if event.message is None:
            self.view.quarantine(cur, event, event.undecodable)
            self.quarantined_events += 1
        else:
            self.projection.apply(cur, event)

    def _apply_alone(self, upstream: str, event: UpstreamEvent) -> None:
        try:
            with self.view.transaction(Tracking(upstream, event.sequence)) as cur:
                self._apply_one(cur, event)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as error:  # noqa: BLE001 - the event's own fault: set it aside and go on
            if self._refresh(upstream) >= event.sequence:
                return  # another runner of the same view applied it meanwhile
            reason = f"handler failed: {type(error).__name__}"
            if isinstance(error, ChorusError):
                reason = f"handler refused it: {type(error).__name__}"
            log.warning("projection.quarantined", view=self.name, upstream=upstream, sequence=event.sequence,
                        topic=event.topic, error_type=type(error).__name__)
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
        try:
            self.projection.after_commit(events)
        except Exception as error:  # noqa: BLE001 - the view is committed; the projection retries its follow-up
            log.warning("projection.after_commit_failed", view=self.name, error_type=type(error).__name__)
        for listener in list(self._listeners):
            listener()

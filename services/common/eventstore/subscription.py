"""Live notifications for ``ApplicationRecorder.subscribe``: a JetStream ordered consumer on the event subjects."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.persistence import Notification, OperationalError, Subscription
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.common.eventstore.envelope import TOPIC_HEADER, StoredMessage, decode_message, is_commit, message_sequence

if TYPE_CHECKING:
    from services.common.eventstore.recorders import JetStreamApplicationRecorder

log = structlog.get_logger(__name__)


class JetStreamSubscription(Subscription["JetStreamApplicationRecorder"]):
    """Notifications after ``gt``, live: a JetStream ordered consumer on the application's event subjects.

    The consumer pushes stored messages in stream order (no polling, nothing uncommitted); ``__next__``
    blocks until the next one arrives or the subscription is stopped. An ordered consumer lives in the server's
    memory, so after the connection comes back (a restarted or failed-over server) the subscription starts a new
    one right after the last sequence it delivered: nothing is skipped and nothing is delivered twice.
    """

    _STOP = object()

    def __init__(
        self, recorder: JetStreamApplicationRecorder, gt: int | None = None, topics: Sequence[str] = ()
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._wanted = set(topics)
        self._lock = threading.Lock()
        self._sub: Any = None
        self._after_id = gt or 0
        # the message holding notification ``gt`` may hold later events too: start at it, skip ids <= gt
        self._last_seq = max(message_sequence(self._after_id) - 1, 0)
        self._connection = recorder.connection
        try:
            self._sub = self._connection.call(self._start_consumer)
        except Exception as exc:  # noqa: BLE001 - any failure to subscribe is the store being unusable
            raise OperationalError(f"cannot subscribe to {recorder.layout.stream}: {exc}") from None
        self._forget_listener = self._connection.on_reconnect(self._restart_consumer)

    async def _on_message(self, msg: Any) -> None:
        seq = int(msg.metadata.sequence.stream)
        if seq <= self._last_seq:
            return
        self._last_seq = seq
        headers = msg.headers or {}
        if self._wanted and not is_commit(headers) and headers.get(TOPIC_HEADER) not in self._wanted:
            return
        for notification in decode_message(StoredMessage(subject=msg.subject, seq=seq, data=msg.data, headers=headers)):
            if notification.id > self._after_id and (not self._wanted or notification.topic in self._wanted):
                self._queue.put(notification)

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
                self._connection.call(sub.unsubscribe, timeout=5, while_disconnected=True)

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

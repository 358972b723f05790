"""A catch-up read of one stream: one ordered consumer kept open across pages, streaming ahead with flow control.

:class:`CatchUpRead` opens an ordered push consumer at a sequence and hands its messages out a page at a time
(:meth:`CatchUpRead.page`). Between pages the consumer keeps streaming into a bounded buffer, so the server is
already sending the next page while the caller applies this one; once the buffer is full the callback waits, the
client defers its flow-control replies and the server pauses. A caller that used only the first messages of a
page hands the others back (:meth:`CatchUpRead.unread`) and goes on through the same consumer. Its coroutines run
on the connection's loop (``JetStreamConnection.call``); close it (:meth:`CatchUpRead.close`) when the read is over
or moves elsewhere.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.common.eventstore.envelope import StoredMessage
from services.common.eventstore.errors import RequestTimeoutError

if TYPE_CHECKING:
    from nats.aio.subscription import Subscription

    from services.common.eventstore.connection import JetStreamConnection


_ACK_TOKENS = 9  #: tokens of a JetStream reply subject without a domain


class CatchUpRead:
    """Pages of ``stream`` (messages matching ``subject_filter``) from ``start_seq`` on, through one consumer.

    ``buffer``: the messages held ahead of the caller at most (beyond them the server waits).
    """

    def __init__(
        self, connection: JetStreamConnection, stream: str, subject_filter: str, start_seq: int, buffer: int
    ) -> None:
        self.connection = connection
        self.stream = stream
        self.subject_filter = subject_filter
        self.next_seq = max(start_seq, 1)  #: the sequence the next page starts at (what was not handed out yet)
        self._queue: asyncio.Queue[tuple[StoredMessage, int]] = asyncio.Queue(maxsize=max(buffer, 1))
        self._held: deque[tuple[StoredMessage, int]] = deque()  # read, but beyond the last page's end
        self._subscription: Subscription | None = None
        self._last: tuple[StoredMessage, int] | None = None  # the last message handed out
        self._page: list[tuple[StoredMessage, int]] = []  # the last page handed out

    async def open(self) -> CatchUpRead:
        js = self.connection.client.jetstream(timeout=self.connection.request_timeout)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.next_seq, headers_only=False
        )
        self._subscription = await js.subscribe(
            self.subject_filter, stream=self.stream, ordered_consumer=True, config=config, cb=self._on_message
        )
        return self

    async def _on_message(self, msg: Msg) -> None:
        seq, pending = _positions(msg)
        item = (StoredMessage(subject=msg.subject, seq=seq, data=msg.data, headers=msg.headers or {}), pending)
        if self._queue.full():
            await self._queue.put(item)  # waits while the buffer is full
        else:
            self._queue.put_nowait(item)

    async def page(self, limit: int, last_seq: int) -> list[StoredMessage]:
        """The next messages, up to ``limit``, ending at ``last_seq`` (a sequence known to match the filter) or at
        what the stream held when the last of them was sent."""
        out: list[StoredMessage] = []
        self._page = []
        while len(out) < limit:
            if self._held:
                stored, pending = self._held.popleft()
            elif not self._queue.empty():  # no timer for what has arrived already
                stored, pending = self._queue.get_nowait()
            else:
                try:
                    stored, pending = await asyncio.wait_for(self._queue.get(), timeout=self.connection.request_timeout)
                except TimeoutError:
                    msg = f"reading {self.stream} from {self.next_seq} timed out"
                    raise RequestTimeoutError(msg) from None
            if stored.seq < self.next_seq:  # an ordered consumer's reset may repeat what was handed out
                continue
            if stored.seq > last_seq:
                self._held.appendleft((stored, pending))
                break
            out.append(stored)
            self._last = (stored, pending)
            self._page.append(self._last)
            self.next_seq = stored.seq + 1
            if stored.seq >= last_seq or pending == 0:
                break
        return out

    def rewind(self) -> None:
        """Hand the last message handed out again at the start of the next page (when there was one)."""
        if self._last is not None and self._last[0].seq == self.next_seq - 1:
            self._held.appendleft(self._last)
            self.next_seq = self._last[0].seq

    def unread(self, from_seq: int) -> None:
        """Hand the messages of the last page from sequence ``from_seq`` on again at the start of the next page: a
        caller that used only part of a page goes on from where it stopped, through the same consumer."""
        if not self._page or self._page[-1][0].seq != self.next_seq - 1:
            return
        kept = [item for item in self._page if item[0].seq >= from_seq]
        self._held.extendleft(reversed(kept))
        if kept:
            self.next_seq = kept[0][0].seq
        self._page, self._last = [], None

    async def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            await subscription.unsubscribe()


def _positions(msg: Msg) -> tuple[int, int]:
    """The stream sequence of a message an ordered consumer delivered, and how many were pending after it, read
    from its reply subject (``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>``)
    without the rest of its metadata; other forms of the subject through ``Msg.metadata``."""
    tokens = msg.reply.split(".")
    if len(tokens) == _ACK_TOKENS and tokens[0] == "$JS" and tokens[1] == "ACK":
        return int(tokens[5]), int(tokens[8])
    return int(msg.metadata.sequence.stream), int(msg.metadata.num_pending)

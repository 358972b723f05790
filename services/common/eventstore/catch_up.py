"""A catch-up read of one stream: one consumer kept open across pages, streaming ahead into a bounded buffer.

:class:`CatchUpRead` opens a pull consumer at a sequence (no acknowledgements, in memory, dropped when the read is
closed) and hands its messages out a page at a time (:meth:`CatchUpRead.page`). It keeps pull requests for the
room left in its buffer outstanding, so the server is already sending the next page while the caller applies
this one, and never sends more than the buffer holds: a push consumer's flow control does not hold the server
back, and what it sends waits in the client, all of the stream for a read that is far behind. A caller that used
only the first messages of a page hands the others back (:meth:`CatchUpRead.unread`) and goes on through the same
consumer. Its coroutines run on the connection's loop (``JetStreamConnection.call``); close it
(:meth:`CatchUpRead.close`) when the read is over or moves elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from typing import TYPE_CHECKING

from eventsourcing.persistence import OperationalError
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.common.eventstore.envelope import StoredMessage
from services.common.eventstore.errors import EventStoreError, RequestTimeoutError

if TYPE_CHECKING:
    from nats.aio.subscription import Subscription

    from services.common.eventstore.connection import JetStreamConnection

_ACK_TOKENS = 9  #: tokens of a JetStream reply subject without a domain
_REQUEST_ENDED = frozenset({"404", "408"})  #: statuses of a pull request that ran out (no messages, expired)
#: Messages one pull request asks for at most (the buffer holds a few requests' worth).
PULL_BATCH = 2000
#: How long a pull request waits for messages the stream does not hold yet (then the server ends it).
PULL_EXPIRES_SECONDS = 10.0
#: A consumer no read has pulled from for this long is removed by the server (a process that died mid-read).
INACTIVE_SECONDS = 120.0


class CatchUpGapError(EventStoreError, OperationalError):
    """A message the consumer sent did not reach the read (the client dropped it): read again from the position."""


class CatchUpRead:
    """Pages of ``stream`` (messages matching ``subject_filter``) from ``start_seq`` on, through one consumer.

    ``buffer``: the messages held ahead of the caller at most (what the outstanding pull requests ask for).
    """

    def __init__(
        self, connection: JetStreamConnection, stream: str, subject_filter: str, start_seq: int, buffer: int
    ) -> None:
        self.connection = connection
        self.stream = stream
        self.subject_filter = subject_filter
        self.next_seq = max(start_seq, 1)  #: the sequence the next page starts at (what was not handed out yet)
        self.buffer = max(buffer, 1)
        self._batch = min(PULL_BATCH, max(self.buffer // 4, 1))
        self.expired = 0  #: pull requests that ran out before the stream held what they asked for (asked again)
        self._arrived: deque[tuple[StoredMessage, int]] = deque()  # what the consumer sent, not handed out yet
        self._signal = asyncio.Event()  # set when a message arrives
        self._received_to = self.next_seq - 1  # the last sequence that arrived
        self._delivered = 0  # the consumer's sequence of the last message that arrived
        self._gap = False  # a message the consumer sent never arrived
        self._requests: deque[int] = deque()  # messages still due on each outstanding pull request, oldest first
        self._held: deque[tuple[StoredMessage, int]] = deque()  # read, but beyond the last page's end
        self._subscription: Subscription | None = None
        self._consumer = ""
        self._inbox = ""
        self._last: tuple[StoredMessage, int] | None = None  # the last message handed out
        self._page: list[tuple[StoredMessage, int]] = []  # the last page handed out

    async def open(self) -> CatchUpRead:
        client = self.connection.client
        self._inbox = client.new_inbox()
        # Never dropped for want of room in the client (that would lose events): what is in flight is bounded by
        # the requests, in messages.
        self._subscription = await client.subscribe(
            self._inbox, cb=self._on_message, pending_msgs_limit=2 * self.buffer + PULL_BATCH, pending_bytes_limit=0
        )
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self.next_seq,
            ack_policy=AckPolicy.NONE,
            filter_subject=self.subject_filter,
            inactive_threshold=INACTIVE_SECONDS,
            mem_storage=True,
            num_replicas=1,
        )
        js = client.jetstream(timeout=self.connection.request_timeout)
        try:
            self._consumer = (await js.add_consumer(self.stream, config=config)).name or ""
        except BaseException:
            await self.close()
            raise
        await self._pull()
        return self

    async def _on_message(self, msg: Msg) -> None:
        if not msg.data and msg.headers and "Status" in msg.headers:  # a pull request ended
            if self._requests:
                self._requests.popleft()
            if msg.headers["Status"] in _REQUEST_ENDED:
                self.expired += 1
                await self._pull()
            # else refused (the consumer is gone, say): no more requests, the page times out, the caller reopens
            return
        if self._requests:
            self._requests[0] -= 1
            if not self._requests[0]:
                self._requests.popleft()
        seq, delivered, pending = _positions(msg)
        if delivered != self._delivered + 1:
            self._gap = True
        self._delivered = delivered
        if seq <= self._received_to:
            return
        self._received_to = seq
        self._arrived.append(
            (StoredMessage(subject=msg.subject, seq=seq, data=msg.data, headers=msg.headers or {}), pending)
        )
        self._signal.set()

    async def _pull(self) -> None:
        """Ask for more messages while the buffer has room for another request's worth."""
        if not self._consumer or self._subscription is None:
            return
        while len(self._arrived) + len(self._held) + sum(self._requests) + self._batch <= self.buffer:
            request = {"batch": self._batch, "expires": int(PULL_EXPIRES_SECONDS * 1e9)}
            self._requests.append(self._batch)
            await self.connection.client.publish(
                f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self._consumer}", json.dumps(request).encode(), self._inbox
            )

    async def page(self, limit: int, last_seq: int) -> list[StoredMessage]:
        """The next messages, up to ``limit``, ending at ``last_seq`` (a sequence known to match the filter) or at
        what the stream held when the last of them was sent."""
        out: list[StoredMessage] = []
        self._page = []
        try:
            while len(out) < limit:
                if self._gap:
                    msg = f"reading {self.stream} after {self._received_to}: a message was lost on the way"
                    raise CatchUpGapError(msg)
                if self._held:
                    stored, pending = self._held.popleft()
                elif self._arrived:  # no timer for what has arrived already
                    stored, pending = self._arrived.popleft()
                else:
                    await self._pull()
                    self._signal.clear()
                    try:
                        await asyncio.wait_for(self._signal.wait(), timeout=self.connection.request_timeout)
                    except TimeoutError:
                        msg = f"reading {self.stream} from {self.next_seq} timed out"
                        raise RequestTimeoutError(msg) from None
                    continue
                if stored.seq < self.next_seq:  # handed out already
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
        finally:
            await self._pull()
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
        consumer, self._consumer = self._consumer, ""
        if subscription is not None:
            await subscription.unsubscribe()
        if consumer:
            js = self.connection.client.jetstream(timeout=self.connection.request_timeout)
            with contextlib.suppress(Exception):  # gone already; else the server drops it once inactive
                await js.delete_consumer(self.stream, consumer)


def _positions(msg: Msg) -> tuple[int, int, int]:
    """The stream and consumer sequences of a message a consumer delivered, and how many were pending after it,
    read from its reply subject (``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.
    <pending>``) without the rest of its metadata; other forms of the subject through ``Msg.metadata``."""
    tokens = msg.reply.split(".")
    if len(tokens) == _ACK_TOKENS and tokens[0] == "$JS" and tokens[1] == "ACK":
        return int(tokens[5]), int(tokens[6]), int(tokens[8])
    metadata = msg.metadata
    return int(metadata.sequence.stream), int(metadata.sequence.consumer), int(metadata.num_pending)

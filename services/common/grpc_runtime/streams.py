"""Client streams answered in micro-batches: the client's messages read ahead into a bounded inbox by a thread of
their own, and each micro-batch answered once it is committed, in stream order.

A servicer takes whatever has arrived (at least one message, at most a limit) while the reader keeps reading; a
full inbox makes the client's sends wait (back-pressure). The reader stops when the stream ends, when the client
goes away, or when the servicer closes the inbox. :func:`answer_in_micro_batches` overlaps micro-batches: while
one is committed (in a commit thread), the next one is prepared, and with ``commits > 1`` committed too (one's
CPU work runs while another waits for the store); answers still leave in order.
"""

from __future__ import annotations

import collections
import concurrent.futures
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc
import structlog

log = structlog.get_logger(__name__)

_END = object()

Prepared = TypeVar("Prepared")
Answer = TypeVar("Answer")


class StreamInbox:
    """Messages of ``requests`` read ahead (at most ``capacity``) in a thread named ``name``.

    One lock guards the messages; a side that must wait (the taker on an empty inbox, the reader on a full one)
    says so, and only then does the other side wake it: a message that arrives while the taker is busy costs
    an append, and a take costs one lock for the whole batch.
    """

    def __init__(self, requests: Iterator[Any], capacity: int, name: str) -> None:
        self._messages: collections.deque[Any] = collections.deque()
        self._capacity = capacity
        self._changed = threading.Condition(threading.Lock())
        self._waiting = 0  #: how many sides wait on ``_changed``
        self._closed = False
        self._name = name
        self._reader = threading.Thread(target=self._read, args=(requests,), daemon=True, name=name)
        self._reader.start()

    def empty(self) -> bool:
        return not self._messages

    def take(self, limit: int) -> tuple[list[Any], bool]:
        """Whatever has arrived, at least one message (waits for it), at most ``limit``; and whether the stream
        ended."""
        messages = self._messages
        with self._changed:
            while not messages:
                self._wait()
            batch: list[Any] = []
            ended = False
            while messages and len(batch) < limit:
                message = messages.popleft()
                if message is _END:
                    ended = True
                    break
                batch.append(message)
            if self._waiting:  # the reader, waiting for room
                self._changed.notify_all()
        return batch, ended

    def close(self) -> None:
        """Stop the reader, also when the inbox is full and nobody takes from it any more."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _read(self, requests: Iterator[Any]) -> None:
        try:
            for message in requests:
                if not self._put(message):
                    return
        except grpc.RpcError:
            pass  # cancelled or disconnected: what was answered stays answered
        except Exception:
            log.warning("stream.read_failed", stream=self._name, exc_info=True)
        self._put(_END)

    def _put(self, item: Any) -> bool:
        """Put ``item`` (waiting while the inbox is full); False once the inbox is closed."""
        with self._changed:
            while not self._closed and len(self._messages) >= self._capacity:
                self._wait()
            if self._closed:
                return False
            self._messages.append(item)
            if self._waiting:  # the taker, waiting for a message
                self._changed.notify_all()
        return True

    def _wait(self) -> None:
        self._waiting += 1
        try:
            self._changed.wait()
        finally:
            self._waiting -= 1


def answer_in_micro_batches(
    requests: Iterator[Any],
    *,
    prepare: Callable[[list[Any], int], Prepared],
    commit: Callable[[Prepared], Answer],
    max_batch: int,
    capacity: int,
    name: str,
    commits: int = 1,
) -> Iterator[Answer]:
    """Answer a client stream a micro-batch at a time: ``prepare(messages, index of the first)`` in the calling
    thread, ``commit(prepared)`` in commit threads, at most ``commits`` micro-batches at once, one answer per
    micro-batch, in stream order.

    Commits under way when the client goes away still complete (durably) before this returns.
    """
    inbox = StreamInbox(requests, capacity, f"{name}-reader")
    committer = concurrent.futures.ThreadPoolExecutor(commits, thread_name_prefix=f"{name}-commit")
    in_flight: collections.deque[concurrent.futures.Future[Answer]] = collections.deque()
    taken = 0
    ended = False
    try:
        while not (ended and not in_flight):
            if in_flight and (ended or inbox.empty() or in_flight[0].done()):
                yield in_flight.popleft().result()  # nothing to prepare meanwhile, or the answers are ready
                continue
            batch, ended = inbox.take(max_batch)
            if not batch:
                continue
            prepared = prepare(batch, taken)
            taken += len(batch)
            while len(in_flight) >= commits:
                yield in_flight.popleft().result()  # answers stay in stream order
            in_flight.append(committer.submit(commit, prepared))
    finally:
        inbox.close()
        committer.shutdown(wait=True)

"""A stream's inbox: read ahead up to its capacity, taken in micro-batches, closed without a reader left behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from services.common.grpc_runtime.streams import StreamInbox
from services.common.testing import eventually


class Requests:
    """A client's messages 0..count-1, counting how many the reader has asked for (``asked``) and how many it has
    put in the inbox (``put``: it asks for the next message only once it has put the last)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.asked = 0
        self.put = 0
        self.release = threading.Event()

    def __iter__(self) -> Iterator[int]:
        for n in range(self.count):
            self.asked += 1
            yield n
            self.put += 1
        self.release.wait(10)  # the stream stays open until the test lets it end


def asked(requests: Requests, count: int) -> None:
    assert requests.asked == count


def put(requests: Requests, count: int) -> None:
    assert requests.put == count


def test_an_inbox_is_taken_in_order_in_batches_of_at_most_the_limit_and_says_when_the_stream_ended() -> None:
    requests = Requests(7)
    inbox = StreamInbox(iter(requests), capacity=100, name="t")
    eventually(lambda: put(requests, 7))
    assert inbox.take(3) == ([0, 1, 2], False)
    assert inbox.take(10) == ([3, 4, 5, 6], False)
    assert inbox.empty()
    requests.release.set()
    assert inbox.take(10) == ([], True)


def test_a_batch_that_reaches_the_end_of_the_stream_says_so() -> None:
    requests = Requests(2)
    requests.release.set()
    inbox = StreamInbox(iter(requests), capacity=100, name="t")
    taken: list[int] = []
    ended = False
    while not ended:
        batch, ended = inbox.take(10)
        taken += batch
    assert taken == [0, 1]


def test_the_reader_stops_at_the_capacity_until_messages_are_taken_and_a_close_releases_it() -> None:
    requests = Requests(50)
    inbox = StreamInbox(iter(requests), capacity=5, name="t")
    eventually(lambda: asked(requests, 6))  # five held, the sixth waits for room
    assert inbox.take(2) == ([0, 1], False)
    eventually(lambda: asked(requests, 8))  # two more held, the eighth waits
    inbox.close()
    inbox._reader.join(5)
    assert not inbox._reader.is_alive()
    assert requests.asked == 8

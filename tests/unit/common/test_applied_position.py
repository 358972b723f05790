"""AppliedPosition: how far a projection has applied, and read-your-writes waits on it."""

from __future__ import annotations

import threading

import pytest

from services.common.errors import Unavailable
from services.common.testing import eventually
from services.common.views import AppliedPosition


def test_a_waiter_wakes_when_the_position_reaches_its_notification() -> None:
    applied = AppliedPosition("the test view", start=1)
    woke: list[int] = []
    waits: list[int] = []  # one entry each time the waiter (re)starts waiting, with the position it saw

    def waiter() -> None:
        applied.wait(3, timeout=30, poke=lambda: waits.append(applied.value))
        woke.append(applied.value)

    thread = threading.Thread(target=waiter)
    thread.start()
    eventually(lambda: _assert_equal(waits, [1]))  # it is waiting
    applied.advance(2)
    eventually(lambda: _assert_equal(waits, [1, 2]))  # woken by the advance to 2, it saw 2 and waits again
    assert woke == []
    applied.advance(3)
    thread.join(timeout=5)
    assert woke == [3]


def _assert_equal(actual: object, expected: object) -> None:
    assert actual == expected


def test_the_position_never_moves_backwards() -> None:
    applied = AppliedPosition("the test view", start=5)
    applied.advance(4)
    assert applied.value == 5


def test_waiting_too_long_is_unavailable_naming_the_view_and_the_failure_seen_at_the_end() -> None:
    applied = AppliedPosition("the test view")
    pokes: list[int] = []
    with pytest.raises(Unavailable, match=r"the test view has not reached notification 7 yet \(TimeoutError\)"):
        applied.wait(
            7, timeout=0.2, failure=lambda: TimeoutError() if pokes else None, poke=lambda: pokes.append(1), poll=0.05
        )
    assert len(pokes) >= 2  # the applier was nudged on every poll; the failure came after the wait began

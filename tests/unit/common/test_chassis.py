"""The chassis's heap settling: start-up's objects frozen out of collections, a larger young generation."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from services.common.chassis import GC_YOUNG_OBJECTS, settle_heap


@pytest.fixture
def collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector")
def test_settling_the_heap_freezes_what_exists_and_lets_the_young_generation_grow() -> None:
    made_at_start_up = [[], {}]
    older = gc.get_threshold()[1:]
    assert any(tracked is made_at_start_up for tracked in gc.get_objects())
    settle_heap()
    assert not any(tracked is made_at_start_up for tracked in gc.get_objects())  # no collection visits it
    assert gc.get_threshold() == (GC_YOUNG_OBJECTS, *older)

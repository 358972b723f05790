from typing import Self

import pytest

from services.common.lifecycle import Startable


class Recording(Startable):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self) -> Self:
        self.calls.append("start")
        return self

    def stop(self) -> None:
        self.calls.append("stop")


def test_a_with_block_starts_the_component_and_stops_it_also_when_the_block_raises() -> None:
    component = Recording()
    with pytest.raises(RuntimeError), component as started:
        assert started is component
        raise RuntimeError
    assert component.calls == ["start", "stop"]

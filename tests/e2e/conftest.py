"""What the end-to-end tests share: the three services running together (``tests.support.stack``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack import Stack, chorus_stack


@pytest.fixture
def stack(nats_url: str, tmp_path: Path) -> Iterator[Stack]:
    with chorus_stack(nats_url, f"sqlite:///{tmp_path / 'views.db'}") as running:
        yield running

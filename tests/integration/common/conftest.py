"""What the kernel's integration tests share: a connection to the session's nats-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.common.eventstore.connection import JetStreamConnection


@pytest.fixture
def connection(nats_url: str) -> Iterator[JetStreamConnection]:
    conn = JetStreamConnection.open(nats_url)
    yield conn
    conn.close()

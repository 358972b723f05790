from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.common.testing import NatsEndpoint, nats_endpoint


@pytest.fixture(scope="session")
def nats() -> Iterator[NatsEndpoint]:
    """One real nats-server (>= 2.12, JetStream) for the whole test session."""
    with nats_endpoint() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def nats_url(nats: NatsEndpoint) -> str:
    return nats.url

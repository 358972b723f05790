"""The eventsourcing library's projection contracts, run on the JetStream persistence module.

Suites run here (from ``eventsourcing.tests.projection``):
- ``EventCountersViewTestCase`` and ``AggregateEventCountersProjectionTestCase``: a materialised view kept in
  JetStream itself, each counter increment committed in the same atomic batch as its tracking position;
- ``EventSourcedProjectionTestCase``: an event-sourced projection on our process recorder, fed by our
  ordered-consumer subscription.

Not run, and why: ``TaggedDecisionCountersProjectionTestCase`` needs a DCB (dynamic consistency boundary)
recorder (``eventsourcing.dcb``), a different storage model that this persistence module does not provide;
Chorus's applications are aggregate-based.
"""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.tests.projection import (
    AggregateEventCountersProjectionTestCase,
    EventCountersView,
    EventCountersViewTestCase,
    EventSourcedProjectionTestCase,
)
from eventsourcing.utils import Environment

from services.common.eventstore import jetstream
from services.common.eventstore.envelope import OutgoingMessage
from services.common.eventstore.jetstream import JetStreamFactory, JetStreamTrackingRecorder


class JetStreamEventCountersView(EventCountersView, JetStreamTrackingRecorder):
    """Counters as messages on the view's own stream: an increment and its tracking position commit together."""

    def _subject(self, counter: str) -> str:
        return f"{self.layout.prefix}.v.{counter}"

    def _count(self, counter: str) -> int:
        async def count() -> int:
            js = self.connection.client.jetstream()
            info = await js.stream_info(self.layout.stream, subjects_filter=self._subject(counter))
            return int((info.state.subjects or {}).get(self._subject(counter), 0))

        return self.connection.call(count)

    def _increment(self, counter: str, tracking: Tracking) -> None:
        self._commit([OutgoingMessage(self._subject(counter), b"1"), self._tracking_message(tracking)])

    def get_created_event_counter(self) -> int:
        return self._count("created")

    def get_subsequent_event_counter(self) -> int:
        return self._count("subsequent")

    def incr_created_event_counter(self, tracking: Tracking) -> None:
        self._increment("created", tracking)

    def incr_subsequent_event_counter(self, tracking: Tracking) -> None:
        self._increment("subsequent", tracking)


@pytest.fixture(autouse=True, scope="class")
def _nats_for_unittest(request: pytest.FixtureRequest, nats_url: str) -> None:
    request.cls.nats_url = nats_url


def isolated_env(nats_url: str) -> dict[str, str]:
    """A namespace of its own per test, so the library's fixed application names get fresh streams."""
    return {
        "PERSISTENCE_MODULE": jetstream.__name__,
        "NATS_URL": nats_url,
        "NATS_NAMESPACE": f"t{uuid.uuid4().hex[:10]}",
    }


class TestEventCountersViewTestCase(EventCountersViewTestCase):
    nats_url: str

    def construct_event_counters_view(self) -> EventCountersView:
        factory = JetStreamFactory(Environment("eventcounters", isolated_env(self.nats_url)))
        return factory.tracking_recorder(JetStreamEventCountersView)


class TestAggregateEventCountersProjectionTestCase(AggregateEventCountersProjectionTestCase):
    nats_url: str
    view_class = JetStreamEventCountersView

    def setUp(self) -> None:
        self.env = isolated_env(self.nats_url)


class TestEventSourcedProjectionTestCase(EventSourcedProjectionTestCase):
    nats_url: str

    def setUp(self) -> None:
        self.env = isolated_env(self.nats_url)


del AggregateEventCountersProjectionTestCase, EventCountersViewTestCase, EventSourcedProjectionTestCase

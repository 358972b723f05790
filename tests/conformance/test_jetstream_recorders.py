"""The eventsourcing library's own recorder contracts, run against the JetStream persistence module.

Every suite below is the library's (``eventsourcing.tests.persistence``), subclassed with a factory that
builds our recorder on a fresh stream of the session's real nats-server. Nothing is skipped; where the
library documents an optional case (``optional_test_insert_subscribe``) we run it too.

Our notification ids are unique and strictly increasing but not contiguous (the events of one message share
its stream sequence: ``seq * 1000 + index``), so the application suite runs with the library's
``EXPECT_CONTIGUOUS_NOTIFICATION_IDS = False``. One library test, ``test_insert_select``, compares ids with
literals 1, 2, 3 whatever that setting says; it is restated below with the ids the recorder returned.
"""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    ProcessRecorder,
    StoredEvent,
    TrackingRecorder,
)
from eventsourcing.tests.persistence import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    InfrastructureFactoryTestCase,
    NonInterleavingNotificationIDsBaseCase,
    ProcessRecorderTestCase,
    TrackingRecorderTestCase,
)
from eventsourcing.utils import Environment

from services.common.eventstore import jetstream
from services.common.eventstore.jetstream import (
    JetStreamAggregateRecorder,
    JetStreamApplicationRecorder,
    JetStreamFactory,
    JetStreamProcessRecorder,
    JetStreamTrackingRecorder,
)


@pytest.fixture(autouse=True, scope="class")
def _nats_for_unittest(request: pytest.FixtureRequest, nats_url: str) -> None:
    request.cls.nats_url = nats_url


class JetStreamCase:
    """Each test gets its own application name, hence its own stream starting at sequence 1."""

    nats_url: str

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        self.factories: list[JetStreamFactory] = []

    def tearDown(self) -> None:
        for factory in self.factories:
            factory.connection.delete_stream(factory.layout.stream)
            factory.close()
        super().tearDown()  # type: ignore[misc]

    def new_factory(self, **env: str) -> JetStreamFactory:
        name = f"conformance_{uuid.uuid4().hex[:12]}"
        environment = Environment(name, {"PERSISTENCE_MODULE": jetstream.__name__, "NATS_URL": self.nats_url, **env})
        factory = InfrastructureFactory.construct(environment)
        assert isinstance(factory, JetStreamFactory)
        self.factories.append(factory)
        return factory


class TestAggregateRecorderTestCase(JetStreamCase, AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return self.new_factory().aggregate_recorder()


class TestAggregateRecorderTestCaseForSnapshots(JetStreamCase, AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return self.new_factory().aggregate_recorder(purpose="snapshots")


class TestApplicationRecorderTestCase(JetStreamCase, ApplicationRecorderTestCase[JetStreamApplicationRecorder]):
    EXPECT_CONTIGUOUS_NOTIFICATION_IDS = False

    def create_recorder(self) -> JetStreamApplicationRecorder:
        recorder = self.new_factory().application_recorder()
        assert isinstance(recorder, JetStreamApplicationRecorder)
        return recorder

    def test_insert_select(self) -> None:
        """The library's ``test_insert_select``, every query in it, with the returned ids for its literals."""
        recorder = self.create_recorder()
        assert recorder.select_notifications(start=None, limit=3) == []
        assert recorder.select_notifications(start=None, limit=3, topics=["topic1"]) == []
        assert recorder.max_notification_id() is None
        one, two = uuid.uuid4(), uuid.uuid4()
        e1 = StoredEvent(one, 1, "topic1", b"state1")
        e2 = StoredEvent(one, 2, "topic2", b"state2")
        e3 = StoredEvent(two, 1, "topic3", b"state3")
        id1, id2 = recorder.insert_events([e1, e2])  # one aggregate: one message
        (id3,) = recorder.insert_events([e3])
        assert id1 < id2 < id3
        with self.assertRaises(IntegrityError):
            recorder.insert_events([e3])
        assert [e.state for e in recorder.select_events(one)] == [b"state1", b"state2"]
        events = {id1: e1, id2: e2, id3: e3}

        def ids(*args: object, **kwargs: object) -> list[int]:
            found = recorder.select_notifications(*args, **kwargs)  # type: ignore[arg-type]
            for n in found:  # every notification is the event stored under its id
                stored = events[n.id]
                assert (n.originator_id, n.originator_version, n.topic, n.state) == (
                    stored.originator_id,
                    stored.originator_version,
                    stored.topic,
                    stored.state,
                )
            return [n.id for n in found]

        assert ids(start=None, limit=10) == [id1, id2, id3]
        assert ids(start=id1, limit=10) == [id1, id2, id3]
        assert ids(start=None, stop=id2, limit=10) == [id1, id2]
        assert ids(start=id1, limit=10, inclusive_of_start=False) == [id2, id3]
        assert ids(start=id2, limit=10, inclusive_of_start=False) == [id3]
        assert ids(start=None, limit=10, topics=["topic1", "topic2", "topic3"]) == [id1, id2, id3]
        assert ids(id1, 10, topics=["topic1"]) == [id1]
        assert ids(id1, 3, topics=["topic2"]) == [id2]
        assert ids(id1, 3, topics=["topic3"]) == [id3]
        assert ids(id1, 3, topics=["topic1", "topic3"]) == [id1, id3]
        assert recorder.max_notification_id() == id3
        assert ids(None, 1) == [id1]
        assert ids(id2, 1) == [id2]
        assert ids(id1, 1, inclusive_of_start=False) == [id2]
        assert ids(id2, 2) == [id2, id3]
        assert ids(id3, 1) == [id3]
        assert ids(id3, 1, inclusive_of_start=False) == []
        assert ids(start=id2, limit=10, stop=id2) == [id2]
        assert ids(start=id1, limit=10, stop=id2) == [id1, id2]
        assert ids(start=id1, limit=10, stop=id2, inclusive_of_start=False) == [id2]

    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestNonInterleavingNotificationIDsBaseCase(JetStreamCase, NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self) -> ApplicationRecorder:
        return self.new_factory().application_recorder()


class TestTrackingRecorderTestCase(JetStreamCase, TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        return self.new_factory().tracking_recorder()


class TestProcessRecorderTestCase(JetStreamCase, ProcessRecorderTestCase):
    def create_recorder(self) -> ProcessRecorder:
        return self.new_factory().process_recorder()


class TrackingRecorderSubclass(JetStreamTrackingRecorder):
    pass


class TestInfrastructureFactoryTestCase(JetStreamCase, InfrastructureFactoryTestCase[JetStreamFactory]):
    def setUp(self) -> None:
        self.env = Environment(
            f"factory_{uuid.uuid4().hex[:12]}", {"PERSISTENCE_MODULE": jetstream.__name__, "NATS_URL": self.nats_url}
        )
        super().setUp()
        self.factories.append(self.factory)

    def tearDown(self) -> None:
        # The factory is closed by JetStreamCase.tearDown (after deleting its stream), not twice.
        self.factories, factories = [], self.factories
        for factory in factories:
            factory.connection.delete_stream(factory.layout.stream)
            factory.close()

    def expected_factory_class(self) -> type[JetStreamFactory]:
        return JetStreamFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return JetStreamAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return JetStreamApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return JetStreamTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return TrackingRecorderSubclass

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return JetStreamProcessRecorder


# The abstract suites are imported under their own names; remove them so pytest collects only our subclasses.
del AggregateRecorderTestCase, ApplicationRecorderTestCase, InfrastructureFactoryTestCase
del NonInterleavingNotificationIDsBaseCase, ProcessRecorderTestCase, TrackingRecorderTestCase

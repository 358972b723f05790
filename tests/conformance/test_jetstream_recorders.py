"""The eventsourcing library's own recorder contracts, run against the JetStream persistence module.

Every suite below is the library's (``eventsourcing.tests.persistence``), subclassed with a factory that
builds our recorder on a fresh stream of the session's real nats-server. Nothing is skipped; where the
library documents an optional case (``optional_test_insert_subscribe``) we run it too.
"""

from __future__ import annotations

import uuid
import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    ProcessRecorder,
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
    def create_recorder(self) -> JetStreamApplicationRecorder:
        recorder = self.new_factory().application_recorder()
        assert isinstance(recorder, JetStreamApplicationRecorder)
        return recorder

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

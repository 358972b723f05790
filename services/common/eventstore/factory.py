"""The ``eventsourcing`` infrastructure factory: settings from the environment, one connection, the recorders."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    EventStore,
    InfrastructureFactory,
    Mapper,
    Notification,
    ProcessRecorder,
    ProgrammingError,
    Recording,
)
from eventsourcing.utils import Environment, resolve_topic, strtobool

from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.layout import StreamLayout
from services.common.eventstore.recorders import (
    JetStreamAggregateRecorder,
    JetStreamApplicationRecorder,
    JetStreamProcessRecorder,
    JetStreamTrackingRecorder,
)


class BatchMappingEventStore(EventStore[Any]):
    """The library's event store, mapping a save's events together when the mapper can (``to_stored_events``:
    the codec has the data keys of all of them made in one vault call); otherwise the library's ``put``."""

    def put(self, domain_events: Sequence[DomainEventProtocol[Any]], **kwargs: Any) -> list[Recording[Any]]:
        to_stored_events = getattr(self.mapper, "to_stored_events", None)
        if to_stored_events is None or len(domain_events) < 2:
            return super().put(domain_events, **kwargs)
        stored_events = to_stored_events(domain_events)
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        if not notification_ids:
            return []
        if len(notification_ids) != len(stored_events):
            raise ProgrammingError("the recorder returned a notification id per event it was given, or none")
        return [
            Recording(
                d,
                Notification(
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                    id=n_id,
                ),
            )
            for d, s, n_id in zip(domain_events, stored_events, notification_ids, strict=True)
        ]


class JetStreamFactory(InfrastructureFactory[JetStreamTrackingRecorder]):
    """Builds JetStream recorders for one application, all on the one connection this factory opens.

    The connection (and its loop thread) is opened by the constructor and closed by :meth:`close`, which the
    application calls when it closes.
    """

    NATS_URL = "NATS_URL"
    NATS_STREAM_REPLICAS = "NATS_STREAM_REPLICAS"
    NATS_DUPLICATE_WINDOW = "NATS_DUPLICATE_WINDOW"
    NATS_REQUEST_TIMEOUT = "NATS_REQUEST_TIMEOUT"
    NATS_NAMESPACE = "NATS_NAMESPACE"
    NATS_CONNECT_TIMEOUT = "NATS_CONNECT_TIMEOUT"
    NATS_PUBLISH_CONNECTIONS = "NATS_PUBLISH_CONNECTIONS"
    CREATE_TABLE = "CREATE_TABLE"

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        url = self.env.get(self.NATS_URL)
        if not url:
            raise ProgrammingError(f"{self.NATS_URL} is not set: where does the nats-server listen?")
        self.url = url
        try:
            self.replicas = int(self.env.get(self.NATS_STREAM_REPLICAS, "1"))
            self.duplicate_window = float(self.env.get(self.NATS_DUPLICATE_WINDOW, "120"))
            self.request_timeout = float(self.env.get(self.NATS_REQUEST_TIMEOUT, "5"))
            self.connect_timeout = float(self.env.get(self.NATS_CONNECT_TIMEOUT, "5"))
            publish_connections = int(self.env.get(self.NATS_PUBLISH_CONNECTIONS, "16"))
        except ValueError as exc:
            raise ProgrammingError(f"bad NATS setting: {exc}") from None
        self.connection = JetStreamConnection.open(
            url,
            request_timeout=self.request_timeout,
            connect_timeout=self.connect_timeout,
            publish_connections=publish_connections,
        )

    def close(self) -> None:
        self.connection.close()

    def event_store(
        self, mapper: Mapper[Any] | None = None, recorder: AggregateRecorder | None = None
    ) -> EventStore[Any]:
        return BatchMappingEventStore(mapper=mapper or self.mapper(), recorder=recorder or self.application_recorder())

    @property
    def layout(self) -> StreamLayout:
        return StreamLayout(
            self.env.name or "chorus",
            replicas=self.replicas,
            duplicate_window=self.duplicate_window,
            namespace=self.env.get(self.NATS_NAMESPACE) or "chorus",
        )

    def _create_stream(self) -> bool:
        return strtobool(self.env.get(self.CREATE_TABLE) or "yes")

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        return JetStreamAggregateRecorder(
            self.connection, self.layout, purpose=purpose, create_stream=self._create_stream()
        )

    def application_recorder(self) -> ApplicationRecorder:
        topic = self.env.get(self.APPLICATION_RECORDER_TOPIC)
        cls = resolve_topic(topic) if topic else JetStreamApplicationRecorder
        return cls(self.connection, self.layout, create_stream=self._create_stream())

    def tracking_recorder(
        self, tracking_recorder_class: type[JetStreamTrackingRecorder] | None = None
    ) -> JetStreamTrackingRecorder:
        if tracking_recorder_class is None:
            topic = self.env.get(self.TRACKING_RECORDER_TOPIC)
            tracking_recorder_class = resolve_topic(topic) if topic else JetStreamTrackingRecorder
        return tracking_recorder_class(self.connection, self.layout, create_stream=self._create_stream())

    def process_recorder(self) -> ProcessRecorder:
        topic = self.env.get(self.PROCESS_RECORDER_TOPIC)
        cls = resolve_topic(topic) if topic else JetStreamProcessRecorder
        return cls(self.connection, self.layout, create_stream=self._create_stream())

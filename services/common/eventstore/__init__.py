"""The event store: an ``eventsourcing`` persistence module on NATS JetStream, and protobuf-stored events.

- :mod:`services.common.eventstore.jetstream` — the persistence module (``PERSISTENCE_MODULE``);
- :mod:`services.common.eventstore.connection` — one NATS connection on its own event-loop thread;
- :mod:`services.common.eventstore.protobuf_mapper` — stores each domain event as its protobuf message.
"""

"""The ``eventsourcing`` persistence module: ``PERSISTENCE_MODULE=services.common.eventstore.jetstream``.

It names the one infrastructure factory the library looks for, and the recorders it builds; the package
docstring (:mod:`services.common.eventstore`) says how they map onto JetStream.
"""

from __future__ import annotations

from services.common.eventstore.factory import JetStreamFactory
from services.common.eventstore.recorders import (
    JetStreamAggregateRecorder,
    JetStreamApplicationRecorder,
    JetStreamProcessRecorder,
    JetStreamRecorder,
    JetStreamTrackingRecorder,
)
from services.common.eventstore.subscription import JetStreamSubscription

Factory = JetStreamFactory

__all__ = [
    "Factory",
    "JetStreamAggregateRecorder",
    "JetStreamApplicationRecorder",
    "JetStreamFactory",
    "JetStreamProcessRecorder",
    "JetStreamRecorder",
    "JetStreamSubscription",
    "JetStreamTrackingRecorder",
]

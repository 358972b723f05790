"""The ``eventsourcing`` persistence module: ``PERSISTENCE_MODULE=services.common.eventstore.jetstream``.

It names the one infrastructure factory the library looks for, and the recorders it builds; the package
docstring (:mod:`services.common.eventstore`) says how they map onto JetStream. The header names and the layout
are re-exported too, for code written when this module held everything.
"""

from __future__ import annotations

from services.common.eventstore.envelope import CAUSATION_HEADER, CORRELATION_HEADER, TOPIC_HEADER, VERSION_HEADER
from services.common.eventstore.factory import JetStreamFactory
from services.common.eventstore.layout import StreamLayout, originator_from_token, originator_token, subject_token
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
    "CAUSATION_HEADER",
    "CORRELATION_HEADER",
    "TOPIC_HEADER",
    "VERSION_HEADER",
    "Factory",
    "JetStreamAggregateRecorder",
    "JetStreamApplicationRecorder",
    "JetStreamFactory",
    "JetStreamProcessRecorder",
    "JetStreamRecorder",
    "JetStreamSubscription",
    "JetStreamTrackingRecorder",
    "StreamLayout",
    "originator_from_token",
    "originator_token",
    "subject_token",
]

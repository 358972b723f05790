"""Which protobuf message stores which touchpoint domain event (``chorus.touchpoints.events.v1``).

Imported by ``services.touchpoints.application`` so the registrations exist before any event is stored or read.
The message fields carry the events' attribute names (see ``protos/chorus/touchpoints/events/v1/events.proto``).
"""

from __future__ import annotations

from chorus.touchpoints.events.v1 import events_pb2 as pb
from services.common.eventstore.protobuf_mapper import register_event
from services.touchpoints.domain import Touchpoint

REGISTRATIONS = (
    (Touchpoint.Recorded, pb.TouchpointRecorded),
    (Touchpoint.Reclassified, pb.TouchpointReclassified),
    (Touchpoint.ReplyLinked, pb.TouchpointReplyLinked),
)

for _event_class, _message_class in REGISTRATIONS:
    register_event(_event_class, _message_class)

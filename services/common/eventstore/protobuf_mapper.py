"""The event codec's former module name, kept so code written before the rename still imports.

Use :mod:`services.common.eventstore.codec` (the mapper and registration) and :mod:`services.common.contracts`
(enum words, times) instead.
"""

from services.common.contracts import EnumWords, enum_from_proto, enum_to_proto, enum_words
from services.common.eventstore.codec import (
    EventMappingError,
    LenientProtobufMapper,
    ProtobufMapper,
    UnregisteredEventError,
    fill_message,
    message_class_for,
    message_values,
    register_event,
    register_events,
    registered_message,
)

__all__ = [
    "EnumWords",
    "EventMappingError",
    "LenientProtobufMapper",
    "ProtobufMapper",
    "UnregisteredEventError",
    "enum_from_proto",
    "enum_to_proto",
    "enum_words",
    "fill_message",
    "message_class_for",
    "message_values",
    "register_event",
    "register_events",
    "registered_message",
]

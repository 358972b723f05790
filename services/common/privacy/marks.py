"""Which fields of a contract hold personal data: the ``(chorus.privacy.v1.pii)`` option, read from descriptors.

:func:`subject_of` gives the data subject a field is marked with (``SUBJECT_IDENTIFIER``, ``SUBJECT_AGGREGATE``,
``SUBJECT_PERSON_ACTOR``; 0 for an unmarked field). :data:`PII_FIELD_RULE` is the rule a stored-event field is
held to (``tests/unit/common/test_pii_marks.py`` walks every stored event with it): a field must be marked when

- it is called ``value`` in a message that also has a ``type`` (an identifier's value);
- it is called ``display_name``, ``name``, ``text``, ``note`` or ``reason`` (names and free text);
- its name is ``url`` or ends in ``_url`` (a URL can point at a person: a profile, a post);

unless :data:`CLEAR_BY_DECISION` names it with the reason it stays in clear.
"""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from chorus.privacy.v1 import privacy_pb2

SUBJECT_IDENTIFIER = privacy_pb2.SUBJECT_IDENTIFIER
SUBJECT_AGGREGATE = privacy_pb2.SUBJECT_AGGREGATE
SUBJECT_PERSON_ACTOR = privacy_pb2.SUBJECT_PERSON_ACTOR

FREE_TEXT_NAMES = frozenset({"display_name", "name", "text", "note", "reason"})

#: Fields the rule would mark that stay in clear, each with the reason.
CLEAR_BY_DECISION: dict[str, str] = {
    "chorus.touchpoints.events.v1.TouchpointReclassified.reason": (
        "written by staff about a classification; the event does not carry the touchpoint's actors, so no data "
        "subject's key fits; the contract says never to put personal data there"
    ),
}


def subject_of(field: FieldDescriptor) -> int:
    """The data subject whose key encrypts ``field``, or 0 when the field holds no personal data."""
    options = field.GetOptions()
    if not options.HasExtension(privacy_pb2.pii):
        return 0
    return options.Extensions[privacy_pb2.pii].subject


def should_be_marked(field: FieldDescriptor) -> bool:
    """Whether :data:`PII_FIELD_RULE` (the module docstring) says ``field`` holds personal data."""
    if field.full_name in CLEAR_BY_DECISION or field.type != FieldDescriptor.TYPE_STRING:
        return False
    name = field.name
    if name == "value":
        return "type" in field.containing_type.fields_by_name
    return name in FREE_TEXT_NAMES or name == "url" or name.endswith("_url")


PII_FIELD_RULE = should_be_marked


def reachable_messages(descriptor: Descriptor) -> Iterator[Descriptor]:
    """``descriptor`` and every message type its fields reach (maps' value types included), each once."""
    seen: set[str] = set()
    todo = [descriptor]
    while todo:
        current = todo.pop()
        if current.full_name in seen:
            continue
        seen.add(current.full_name)
        yield current
        todo.extend(f.message_type for f in current.fields if f.message_type is not None)

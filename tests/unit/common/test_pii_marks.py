"""Every field of a stored event that holds personal data is marked (chorus.privacy.v1.pii), by one written rule."""

from __future__ import annotations

import importlib
import pkgutil

import chorus
from chorus.identity.events.v1 import events_pb2 as identity_events
from chorus.touchpoints.events.v1 import events_pb2 as touchpoint_events
from services.common.privacy.marks import CLEAR_BY_DECISION, reachable_messages, should_be_marked, subject_of


def stored_event_messages():
    for module in pkgutil.walk_packages(chorus.__path__, "chorus."):
        if module.name.endswith(".events_pb2") and ".bench." not in module.name:
            contracts = importlib.import_module(module.name)
            for message in contracts.DESCRIPTOR.message_types_by_name.values():
                yield from reachable_messages(message)


def test_every_stored_event_field_holding_personal_data_is_marked():
    unmarked = sorted(
        field.full_name
        for message in stored_event_messages()
        for field in message.fields
        if should_be_marked(field) and not subject_of(field)
    )
    assert unmarked == []


def test_the_rule_recognises_identifier_values_names_texts_and_urls():
    assert should_be_marked(identity_events.IdentifierClaimed.DESCRIPTOR.fields_by_name["value"])
    assert should_be_marked(identity_events.PartyRegistered.DESCRIPTOR.fields_by_name["display_name"])
    assert should_be_marked(touchpoint_events.TouchpointRecorded.DESCRIPTOR.fields_by_name["text"])
    assert should_be_marked(touchpoint_events.TouchpointRecorded.DESCRIPTOR.fields_by_name["external_url"])
    actor = touchpoint_events.TouchpointRecorded.DESCRIPTOR.fields_by_name["actors"].message_type
    assert should_be_marked(actor.fields_by_name["value"])
    # an enum word called value, in a message without a type, is not an identifier's value
    assert not should_be_marked(touchpoint_events.TouchpointReclassified.DESCRIPTOR.fields_by_name["value"])


def test_derived_values_stay_in_clear():
    recorded = touchpoint_events.TouchpointRecorded.DESCRIPTOR.fields_by_name
    assert not any(subject_of(recorded[name]) for name in ("channel", "intent", "sentiment_score", "kind"))


def test_every_decision_to_keep_a_field_in_clear_names_a_field_that_exists():
    fields = {field.full_name for message in stored_event_messages() for field in message.fields}
    assert set(CLEAR_BY_DECISION) <= fields

"""The Touchpoint aggregate and its rules, without infrastructure: ids, checks, corrections, reply links."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import RFC_4122, UUID, uuid4, uuid5

import pytest

from services.common.identifiers import Identifier
from services.touchpoints.domain import (
    TOUCHPOINT_NAMESPACE,
    InvalidReclassification,
    InvalidTouchpoint,
    NotAReplyToThat,
    ParentFacts,
    Touchpoint,
    TouchpointDraft,
    touchpoint_id_for,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)


def draft(**changes: object) -> TouchpointDraft:
    base = TouchpointDraft(
        kind="touchpoint",
        channel="email",
        direction="inbound",
        visibility="private",
        occurred_at=NOW,
        actors=(Identifier("email", "", "jane@example.org"),),
        source_system="Zendesk",
        external_id="T-1",
        text="Where is my order?",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def recorded(d: TouchpointDraft) -> Touchpoint:
    return Touchpoint.record(
        d,
        intent="question",
        sentiment_label="neutral",
        sentiment_score=0.0,
        sociability_degree="monologue",
        business_sociability_degree="",
        inferred=("intent",),
    )


def violations_of(d: TouchpointDraft, max_bytes: int = 1000) -> dict[str, str]:
    with pytest.raises(InvalidTouchpoint) as caught:
        d.check(NOW, SKEW, max_bytes)
    return {v.subject: v.description for v in caught.value.violations}


def test_the_id_is_derived_from_source_and_external_id_the_same_way_every_time() -> None:
    assert draft().resolved_id() == touchpoint_id_for("zendesk", "T-1") == touchpoint_id_for(" ZENDESK ", "T-1")
    assert touchpoint_id_for("zendesk", "T-1") != touchpoint_id_for("zendesk", "t-1")
    assert touchpoint_id_for("zendesk", "T-1") != touchpoint_id_for("freshdesk", "T-1")
    assert touchpoint_id_for("zendesk", "T-1").version == 5


def test_a_client_supplied_id_is_used_when_there_is_no_source() -> None:
    own = uuid4()
    d = draft(source_system="", external_id="", touchpoint_id=str(own))
    assert d.check(NOW, SKEW, 1000).resolved_id() == own


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"actors": ()}, "actors"),
        ({"channel": ""}, "channel"),
        ({"channel": "#99"}, "channel"),
        ({"kind": "#7"}, "kind"),
        ({"direction": ""}, "direction"),
        ({"occurred_at": None}, "occurred_at"),
        ({"occurred_at": NOW + timedelta(minutes=6)}, "occurred_at"),
        ({"occurred_at": datetime(2026, 3, 1)}, "occurred_at"),
        ({"text": "é" * 501}, "text"),
        ({"reply_to_source_system": "zendesk", "reply_to_external_id": "T-1"}, "reply_to"),
        ({"reply_to_source_system": "zendesk"}, "reply_to_source"),
        ({"reply_to_id": "not-a-uuid"}, "reply_to_id"),
        ({"reply_to_source_system": "z" * 101, "reply_to_external_id": "T-0"}, "reply_to_source_system"),
        ({"source_system": "", "external_id": ""}, "touchpoint_id"),
        ({"touchpoint_id": "not-a-uuid", "source_system": "", "external_id": ""}, "touchpoint_id"),
        ({"touchpoint_id": str(uuid4())}, "touchpoint_id"),
        ({"external_id": ""}, "external_id"),
        ({"actors": (Identifier("fax", "", "1"),)}, "actor_type"),
        ({"actors": (Identifier("other", "", "x"),)}, "actor_namespace"),
        ({"sentiment_score": 1.5}, "sentiment_score"),
        ({"sentiment_label": "cheerful"}, "sentiment_label"),
        ({"followers": -1}, "followers"),
        ({"tags": tuple(str(i) for i in range(51))}, "tags"),
        ({"tags": ("x" * 101,)}, "tag"),
    ],
)
def test_bad_input_names_the_field(changes: dict[str, object], field: str) -> None:
    assert field in violations_of(draft(**changes))


def test_a_violation_names_the_draft_s_own_words_and_which_item_never_an_api_field_path() -> None:
    broken = draft(
        actors=(Identifier("email", "", "jane@example.org"), Identifier("fax", "", "")),
        text="é" * 501,
        external_url="u" * 2001,
        language="l" * 36,
        recipients=-1,
        sentiment_label="cheerful",
        sentiment_score=2.0,
        reply_to_source_system="zendesk",
        tags=("ok", "t" * 101),
    )
    with pytest.raises(InvalidTouchpoint) as caught:
        broken.check(NOW, SKEW, 1000)
    found = {(v.subject, v.item) for v in caught.value.violations}
    assert {("actor_type", 1), ("actor_value", 1), ("tag", 1), ("reply_to_source", None)} <= found
    assert {"text", "external_url", "language", "recipients", "sentiment_label", "sentiment_score"} <= {
        subject for subject, _ in found
    }
    draft_fields = set(TouchpointDraft.__dataclass_fields__) | {"actor_type", "actor_value", "actor_namespace", "tag"}
    assert {subject for subject, _ in found} <= draft_fields | {"reply_to_source"}
    assert not [subject for subject, _ in found if "." in subject or "[" in subject]


def test_a_reply_to_naming_itself_by_id_is_refused() -> None:
    own = uuid4()
    d = draft(source_system="", external_id="", touchpoint_id=str(own), reply_to_id=str(own))
    assert "reply_to" in violations_of(d)


def test_every_violation_is_reported_at_once() -> None:
    found = violations_of(draft(actors=(), channel="", occurred_at=None))
    assert {"actors", "channel", "occurred_at"} <= set(found)


def test_occurred_at_within_the_skew_is_accepted() -> None:
    assert draft(occurred_at=NOW + timedelta(minutes=4)).check(NOW, SKEW, 1000)


def test_recording_keeps_every_value_and_marks_what_was_inferred() -> None:
    parent_id = touchpoint_id_for("zendesk", "T-0")
    touchpoint = recorded(
        draft(reply_to_source_system="zendesk", reply_to_external_id="T-0", tags=("vip",), followers=12)
    )
    assert touchpoint.id == touchpoint_id_for("zendesk", "T-1")
    assert touchpoint.version == 1
    assert touchpoint.reply_to_id == parent_id
    assert touchpoint.source_system == "zendesk"
    assert touchpoint.tags == ("vip",)
    assert touchpoint.followers == 12
    assert touchpoint.actors == (Identifier("email", "", "jane@example.org"),)
    assert touchpoint.inferred == frozenset({"intent"})


def test_a_reclassification_records_reason_and_actor_and_is_no_longer_inferred() -> None:
    touchpoint = recorded(draft())
    assert touchpoint.reclassify("intent", "complaint", "read the whole thread", "agent:42")
    assert touchpoint.intent == "complaint"
    assert "intent" not in touchpoint.inferred
    (correction,) = touchpoint.reclassifications
    assert (correction.field, correction.value, correction.previous_value, correction.reason, correction.actor) == (
        "intent",
        "complaint",
        "question",
        "read the whole thread",
        "agent:42",
    )
    assert not touchpoint.reclassify("intent", "complaint", "again", "agent:42")  # nothing new: no event
    assert touchpoint.version == 2


def test_confirming_an_inferred_value_is_recorded_as_a_correction() -> None:
    touchpoint = recorded(draft())
    assert touchpoint.reclassify("intent", "question", "checked", "agent:7")
    assert "intent" not in touchpoint.inferred


@pytest.mark.parametrize(
    ("field", "value", "reason", "bad"),
    [
        ("text", "x", "r", "field"),
        ("intent", "angry", "r", "value"),
        ("intent", "praise", " ", "reason"),
        ("kind", "", "r", "value"),
    ],
)
def test_a_bad_reclassification_is_refused(field: str, value: str, reason: str, bad: str) -> None:
    with pytest.raises(InvalidReclassification) as caught:
        recorded(draft()).reclassify(field, value, reason, "agent:1")
    assert caught.value.subject == bad


def test_a_score_given_with_another_field_is_refused_naming_the_sentiment_score() -> None:
    with pytest.raises(InvalidReclassification) as caught:
        recorded(draft()).reclassify("intent", "praise", "r", "agent:1", sentiment_score=0.5)
    assert caught.value.subject == "sentiment_score"


def test_a_reply_links_once_to_its_parent_with_the_response_time() -> None:
    parent = ParentFacts(touchpoint_id_for("zendesk", "T-0"), NOW - timedelta(minutes=90), "inbound", "thread-9")
    reply = recorded(draft(direction="outbound", reply_to_source_system="zendesk", reply_to_external_id="T-0"))
    assert reply.link_to_parent(parent)
    assert reply.reply_link is not None
    assert reply.reply_link.response_seconds == 90 * 60
    assert reply.thread_id == "thread-9"
    assert not reply.link_to_parent(parent)
    with pytest.raises(NotAReplyToThat):
        reply.link_to_parent(replace(parent, touchpoint_id=UUID(int=1)))


def test_the_bulk_recorded_event_is_the_event_record_makes() -> None:
    d = draft(reply_to_id=str(uuid4()), tags=("a",))
    values = {
        "intent": "praise",
        "sentiment_label": "positive",
        "sentiment_score": 0.5,
        "sociability_degree": "monologue",
        "business_sociability_degree": "",
        "inferred": ("sentiment",),
    }
    (made,) = Touchpoint.record(d, **values).collect_events()  # type: ignore[arg-type]
    direct = Touchpoint.recorded_event(d, **values)  # type: ignore[arg-type]
    assert {**vars(direct), "timestamp": None} == {**vars(made), "timestamp": None}
    assert type(direct) is type(made)
    assert direct.mutate(None) is not None  # it builds the same aggregate when replayed


@pytest.mark.parametrize(
    ("source_system", "external_id"),
    [("Zendesk", "T-1"), (" X ", "1234567890"), ("forum", "thread/9#post-3"), ("mail", "<é€😀@example.org>"), ("", "")],
)
def test_a_derived_id_is_the_name_based_uuid_of_the_normal_source_and_the_external_id(
    source_system: str, external_id: str
) -> None:
    derived = touchpoint_id_for(source_system, external_id)
    assert derived == uuid5(TOUCHPOINT_NAMESPACE, f"{source_system.strip().lower()}\n{external_id}")
    assert (derived.version, derived.variant) == (5, RFC_4122)

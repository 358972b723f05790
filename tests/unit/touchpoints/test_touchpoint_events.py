"""Stored touchpoint events: the direct TouchpointRecorded path writes and reads exactly what the generic does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.touchpoints.events.v1 import events_pb2 as pb
from services.common.eventstore import codec
from services.common.eventstore.codec import ProtobufMapper
from services.common.identifiers import IDENTIFIER_TYPES, Identifier
from services.touchpoints import domain
from services.touchpoints.domain import Touchpoint, TouchpointDraft
from services.touchpoints.events import RECORDED_TOPIC, TouchpointMapper

generic = ProtobufMapper(transcoder=JSONTranscoder())
direct = TouchpointMapper(transcoder=JSONTranscoder())

text = st.text(max_size=40)
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))
actors = st.builds(Identifier, type=st.sampled_from(sorted(IDENTIFIER_TYPES)), value=text, namespace=text)


def optional(words: frozenset[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(["", *sorted(words)])


drafts = st.builds(
    TouchpointDraft,
    kind=st.sampled_from(sorted(domain.KINDS)),
    channel=st.sampled_from(sorted(domain.CHANNELS)),
    direction=st.sampled_from(sorted(domain.DIRECTIONS)),
    visibility=st.sampled_from(sorted(domain.VISIBILITIES)),
    occurred_at=moments,
    actors=st.lists(actors, min_size=1, max_size=3).map(tuple),
    source_system=st.just("zendesk"),
    external_id=text.filter(bool),
    external_url=text,
    followers=st.integers(0, 10**9),
    recipients=st.integers(0, 10**6),
    text=st.text(max_size=300),
    language=text,
    reply_to_id=st.one_of(st.just(""), st.uuids().map(str)),
    thread_id=text,
    company_function=optional(domain.COMPANY_FUNCTIONS),
    tags=st.lists(text, max_size=3).map(tuple),
    rating=st.one_of(st.none(), st.integers(1, 5)),
)


@settings(max_examples=200, deadline=None)
@given(
    draft=drafts,
    intent=optional(domain.INTENTS),
    label=optional(domain.SENTIMENT_LABELS),
    score=st.floats(-1, 1),
    degree=optional(domain.SOCIABILITY_DEGREES),
    business=optional(domain.BUSINESS_SOCIABILITY_DEGREES),
    inferred=st.lists(st.sampled_from(["intent", "sentiment", "sociability_degree"]), unique=True),
)
def test_the_direct_path_stores_and_reads_recorded_events_exactly_like_the_generic_mapper(
    draft: TouchpointDraft, intent: str, label: str, score: float, degree: str, business: str, inferred: list[str]
) -> None:
    (event,) = Touchpoint.record(
        draft,
        intent=intent,
        sentiment_label=label,
        sentiment_score=score,
        sociability_degree=degree,
        business_sociability_degree=business,
        inferred=inferred,
    ).collect_events()
    stored = direct.to_stored_event(event)
    assert stored == generic.to_stored_event(event)
    assert stored.topic == RECORDED_TOPIC == pb.TouchpointRecorded.DESCRIPTOR.full_name
    back = direct.to_domain_event(stored)
    assert vars(back) == vars(generic.to_domain_event(stored))
    assert back == event


def test_other_events_take_the_generic_path() -> None:
    draft = TouchpointDraft(
        kind="touchpoint",
        channel="email",
        direction="inbound",
        visibility="private",
        occurred_at=datetime.now(UTC),
        actors=(Identifier("email", "", "a@b.c"),),
        touchpoint_id=str(uuid4()),
        reply_to_id=str(uuid4()),
    )
    touchpoint = Touchpoint.record(
        draft,
        intent="",
        sentiment_label="",
        sentiment_score=None,
        sociability_degree="",
        business_sociability_degree="",
    )
    touchpoint.reclassify("intent", "praise", "checked", "agent:1")
    touchpoint.link_to_parent(
        domain.ParentFacts(touchpoint.reply_to_id, draft.occurred_at - timedelta(hours=1), "inbound")
    )
    for event in touchpoint.collect_events()[1:]:
        stored = direct.to_stored_event(event)
        assert stored == generic.to_stored_event(event)
        assert direct.to_domain_event(stored) == event


def test_a_bulk_save_of_recorded_events_takes_the_direct_path_with_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drafts = [
        TouchpointDraft(
            kind="touchpoint",
            channel="email",
            direction="inbound",
            visibility="private",
            occurred_at=datetime.now(UTC),
            actors=(Identifier("email", "", f"person{n}@example.org"),),
            source_system="zendesk",
            external_id=f"T-{n}",
            text=f"the kettle {n} has not arrived",
        )
        for n in range(3)
    ]
    events = [
        Touchpoint.recorded_event(
            draft,
            intent="complaint",
            sentiment_label="negative",
            sentiment_score=-0.4,
            sociability_degree="monologue",
            business_sociability_degree="",
            inferred=("intent", "sentiment"),
        )
        for draft in drafts
    ]
    expected = [generic.to_stored_event(event) for event in events]

    def by_reflection(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a Recorded event was converted field by field by reflection")

    monkeypatch.setattr(codec, "fill_message", by_reflection)
    assert direct.to_stored_events(events) == expected

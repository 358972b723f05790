"""Records made without their frozen dataclasses' ``__init__`` (``records.made_of``): the servicer's
``TouchpointInput`` -> domain draft (``grpc_api.draft_of``), enrichment's signals and answers, are the records the
constructors make, every field set."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.v1 import touchpoint_service_pb2 as pb
from services.common.identifiers import Identifier
from services.common.records import made_of
from services.touchpoints.domain import TouchpointDraft
from services.touchpoints.enrichment import Enrichment, Signals, enrich
from services.touchpoints.enrichment_workers import enrich_rows
from services.touchpoints.grpc_api import draft_of

OCCURRED = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)


def full_input() -> pb.TouchpointInput:
    """An input with every field of a draft set to a value other than its default."""
    return pb.TouchpointInput(
        touchpoint_id="6f1c2b8e-4a8d-5d7e-9c3b-2f6e1a0d9b47",
        kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
        channel=types.CHANNEL_EMAIL,
        direction=types.DIRECTION_OUTBOUND,
        visibility=types.VISIBILITY_PUBLIC,
        occurred_at={"seconds": int(OCCURRED.timestamp()), "nanos": 250_000_000},
        source=pb.Source(system="Zendesk", external_id="T-1", url="https://example.org/T-1"),
        actors=[
            types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="jane@example.org"),
            types.Identifier(type=types.IDENTIFIER_TYPE_OTHER, namespace="crm", value="C-9"),
        ],
        content=pb.Content(text="Where is my order?", language="en"),
        audience=pb.Audience(followers=7, recipients=3),
        reply_to=pb.ReplyTo(source=pb.SourceReference(system="zendesk", external_id="T-0")),
        thread_id="thread-1",
        intent=types.INTENT_QUESTION,
        sentiment=pb.Sentiment(label=pb.SENTIMENT_LABEL_NEGATIVE, score=-0.5),
        sociability_degree=types.SOCIABILITY_DEGREE_OBJECTIVE,
        business_sociability_degree=types.BUSINESS_SOCIABILITY_DEGREE_BROADCAST,
        company_function=types.COMPANY_FUNCTION_SALES,
        tags=["a", "b"],
        rating=4,
    )


def test_a_draft_of_an_input_is_the_draft_the_constructor_makes_with_every_field_set() -> None:
    made = draft_of(full_input())
    assert set(vars(made)) == {field.name for field in dataclasses.fields(TouchpointDraft)}
    expected = TouchpointDraft(
        touchpoint_id="6f1c2b8e-4a8d-5d7e-9c3b-2f6e1a0d9b47",
        kind="touchpoint",
        channel="email",
        direction="outbound",
        visibility="public",
        occurred_at=OCCURRED,
        actors=(Identifier("email", "", "jane@example.org"), Identifier("other", "crm", "C-9")),
        source_system="Zendesk",
        external_id="T-1",
        external_url="https://example.org/T-1",
        followers=7,
        recipients=3,
        text="Where is my order?",
        language="en",
        reply_to_source_system="zendesk",
        reply_to_external_id="T-0",
        thread_id="thread-1",
        intent="question",
        sentiment_label="negative",
        sentiment_score=-0.5,
        sociability_degree="objective",
        business_sociability_degree="broadcast",
        company_function="sales",
        tags=("a", "b"),
        rating=4,
    )
    assert made == expected
    assert hash(made) == hash(expected)
    assert repr(made) == repr(expected)
    assert made.resolved_id() == expected.resolved_id()
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.text = "changed"  # type: ignore[misc]


def test_a_record_made_of_its_fields_is_the_record_its_constructor_makes() -> None:
    expected = Signals(text="Love it!", direction="inbound", thread_parties=3, brand_handles=frozenset({"acme"}))
    made = made_of(Signals, {field.name: getattr(expected, field.name) for field in dataclasses.fields(Signals)})
    assert made == expected
    assert hash(made) == hash(expected)
    assert repr(made) == repr(expected)
    assert type(made) is Signals
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.text = "changed"  # type: ignore[misc]


def test_enrichment_answers_are_the_records_its_constructor_makes_with_every_field_set() -> None:
    signals = Signals(text="@acme why is my kettle still broken?", direction="inbound", visibility="public")
    answer = enrich(signals)
    assert set(vars(answer)) == {field.name for field in dataclasses.fields(Enrichment)}
    assert answer == Enrichment(**{field.name: getattr(answer, field.name) for field in dataclasses.fields(Enrichment)})
    [row] = enrich_rows([tuple(getattr(signals, field.name) for field in dataclasses.fields(Signals))])
    assert row == tuple(getattr(answer, field.name) for field in dataclasses.fields(Enrichment))

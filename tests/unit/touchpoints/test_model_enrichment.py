"""Model enrichment without infrastructure: what ``Touchpoint.classify`` may change (values still inferred, a
person's correction always winning), what the process gives its classifier, and how the touchpoint index and the
experience view apply a ``TouchpointClassified`` event."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from bench.enrichment import TUNING
from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.events.v1 import events_pb2 as pb
from services.common.errors import ConfigurationError
from services.common.projections import UpstreamEvent
from services.common.views import View
from services.experience.projection import TOUCHPOINTS, ExperienceProjection, ExperienceView
from services.touchpoints.classifier import (
    ARTEFACT,
    COMPLAINT_AT,
    EmbeddingClassifier,
    Encoder,
    RulesClassifier,
    Sample,
    fit_artefact,
    model_installed,
    terms,
    with_rules,
)
from services.touchpoints.classifying import model_views_url, sample_of
from services.touchpoints.domain import INTENTS, InvalidReclassification, Touchpoint
from services.touchpoints.main import TouchpointsSettings
from services.touchpoints.projection import TouchpointIndex, TouchpointProjection
from tests.support.touchpoints import inbound_chat

MODEL = {"model": "minilm-logreg", "model_version": "abc123"}


def touchpoint(inferred: tuple[str, ...] = ("intent", "sentiment")) -> Touchpoint:
    return Touchpoint.record(
        inbound_chat("the locker ate my parcel"),
        intent="other",
        sentiment_label="neutral",
        sentiment_score=0.0,
        sociability_degree="objective",
        business_sociability_degree="",
        inferred=inferred,
    )


def classify(tp: Touchpoint, **changes: object) -> bool:
    values: dict[str, object] = {
        "intent": "complaint",
        "sentiment_label": "negative",
        "sentiment_score": -0.8,
        "intent_confidence": 0.9,
        **MODEL,
    }
    return tp.classify(**{**values, **changes})  # type: ignore[arg-type]


def test_a_classification_sets_the_inferred_values_and_they_stay_inferred() -> None:
    tp = touchpoint()
    assert classify(tp)
    assert (tp.intent, tp.sentiment_label, tp.sentiment_score) == ("complaint", "negative", -0.8)
    assert tp.inferred == {"intent", "sentiment"}
    assert tp.classified_by == ("minilm-logreg/abc123",)


def test_a_model_version_classifies_a_touchpoint_once() -> None:
    tp = touchpoint()
    assert classify(tp)
    assert not classify(tp, intent="praise")
    assert tp.intent == "complaint"
    assert classify(tp, intent="praise", model_version="def456")  # a new version may
    assert tp.intent == "praise"


def test_a_correction_by_a_person_before_the_model_is_kept() -> None:
    tp = touchpoint()
    assert tp.reclassify("intent", "question", reason="read it", actor="agent:7")
    assert classify(tp)
    assert tp.intent == "question"  # the person's
    assert tp.sentiment_label == "negative"  # still inferred: the model's
    [event] = [e for e in tp.collect_events() if isinstance(e, Touchpoint.Classified)]
    assert event.intent == ""


def test_a_correction_by_a_person_after_the_model_wins_and_a_later_model_leaves_it() -> None:
    tp = touchpoint()
    assert classify(tp)
    assert tp.reclassify("intent", "complaint", reason="confirmed", actor="agent:7")  # same value, now asserted
    assert "intent" not in tp.inferred
    assert classify(tp, intent="praise", sentiment_label="positive", sentiment_score=0.4, model_version="v2")
    assert (tp.intent, tp.sentiment_label) == ("complaint", "positive")


def test_nothing_is_recorded_when_no_value_is_inferred() -> None:
    tp = touchpoint(inferred=())
    assert not classify(tp)
    assert tp.classified_by == ()


def test_the_score_carries_the_label_and_unknown_values_are_refused() -> None:
    tp = touchpoint()
    assert classify(tp, sentiment_label="negative", sentiment_score=0.02)
    assert tp.sentiment_score == -0.05
    with pytest.raises(InvalidReclassification):
        classify(touchpoint(), intent="rant")
    with pytest.raises(InvalidReclassification):
        classify(touchpoint(), sentiment_label="furious")


def recorded_message(**changes: object) -> pb.TouchpointRecorded:
    message = pb.TouchpointRecorded(
        kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
        channel=types.CHANNEL_CHAT,
        direction=types.DIRECTION_INBOUND,
        visibility=types.VISIBILITY_PRIVATE,
        occurred_at={"seconds": 1_700_000_000},
        actors=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="jane@example.org")],
        text="the locker ate my parcel",
        intent=types.INTENT_OTHER,
        sentiment_label=pb.SENTIMENT_LABEL_NEUTRAL,
        sentiment_score=0.01,
        sociability_degree=types.SOCIABILITY_DEGREE_OBJECTIVE,
        inferred=["intent", "sentiment"],
        rating=2,
    )
    for name, value in changes.items():
        if isinstance(value, list):
            message.ClearField(name)  # type: ignore[arg-type]
            getattr(message, name).extend(value)
        else:
            setattr(message, name, value)
    return message


def test_the_classifier_sees_inbound_english_texts_with_a_value_to_classify() -> None:
    assert sample_of(recorded_message()) == Sample(
        text="the locker ate my parcel",
        channel="chat",
        kind="touchpoint",
        rating=2,
        rules_intent="other",
        rules_sentiment="neutral",
        rules_score=0.01,
    )
    assert sample_of(recorded_message(language="en-GB")) is not None
    assert sample_of(recorded_message(direction=types.DIRECTION_OUTBOUND)) is None
    assert sample_of(recorded_message(language="de")) is None
    assert sample_of(recorded_message(text="[erased]")) is None
    assert sample_of(recorded_message(text="  ")) is None
    assert sample_of(recorded_message(inferred=["sociability_degree"])) is None


def test_the_rules_classifier_gives_back_the_rules_values() -> None:
    found = sample_of(recorded_message())
    assert found is not None
    [verdict] = RulesClassifier().classify([found])
    assert (verdict.intent, verdict.sentiment_label, verdict.sentiment_score) == ("other", "neutral", 0.01)


def event(aggregate_id: str, sequence: int, message: object) -> UpstreamEvent:
    return UpstreamEvent(
        upstream=TOUCHPOINTS,
        sequence=sequence * 1000,
        aggregate_id=aggregate_id,
        version=sequence,
        topic=message.DESCRIPTOR.full_name,  # type: ignore[attr-defined]
        message=message,  # type: ignore[arg-type]
    )


def story(touchpoint_id: str) -> list[UpstreamEvent]:
    """Recorded with inferred values; a person corrects the sentiment; a model classifies both."""
    return [
        event(touchpoint_id, 1, recorded_message()),
        event(touchpoint_id, 2, pb.TouchpointReclassified(field="sentiment", value="neutral", sentiment_score=0.0)),
        event(
            touchpoint_id,
            3,
            pb.TouchpointClassified(
                intent=types.INTENT_COMPLAINT,
                sentiment_label=pb.SENTIMENT_LABEL_NEGATIVE,
                sentiment_score=-0.7,
                intent_confidence=0.93,
                model="minilm-logreg",
                model_version="abc123",
            ),
        ),
    ]


@pytest.fixture
def view_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "views.db"


def apply_all(view: View, projection: object, events: list[UpstreamEvent]) -> None:
    for each in events:
        with view.transaction(Tracking(TOUCHPOINTS, each.sequence)) as cur:
            projection.apply(cur, each)  # type: ignore[attr-defined]
            projection.before_commit(cur)  # type: ignore[attr-defined]


def test_the_touchpoint_index_applies_the_model_s_values_where_still_inferred(view_path: Path) -> None:
    touchpoint_id = str(uuid.uuid4())
    with TouchpointIndex(f"sqlite:///{view_path}") as index:
        apply_all(index, TouchpointProjection(index), story(touchpoint_id))  # type: ignore[arg-type]
        doc = index.document(uuid.UUID(touchpoint_id), sealed=True)
    assert doc is not None
    assert doc["intent"] == "complaint"  # the model's
    assert (doc["sentiment_label"], doc["sentiment_score"]) == ("neutral", 0.0)  # the person's
    assert doc["inferred"] == ["intent"]


def test_the_experience_view_applies_the_model_s_values_where_still_inferred(view_path: Path) -> None:
    touchpoint_id = str(uuid.uuid4())
    with ExperienceView(f"sqlite:///{view_path}") as view:
        apply_all(view, ExperienceProjection(view), story(touchpoint_id))  # type: ignore[arg-type]
        [row] = view.dump()["exp_touchpoint"]
    assert (row["intent"], row["sentiment"], row["sentiment_score"]) == ("complaint", "neutral", 0.0)
    assert row["needs_reply"] == 1  # a complaint said to the company waits for an answer
    assert json.loads(row["inferred"]) == ["intent"]


def test_the_experience_view_keeps_a_corrected_intent() -> None:
    touchpoint_id = str(uuid.uuid4())
    events = story(touchpoint_id)
    events[1] = event(touchpoint_id, 2, pb.TouchpointReclassified(field="intent", value="praise"))
    with ExperienceView("sqlite://:memory:") as view:
        apply_all(view, ExperienceProjection(view), events)  # type: ignore[arg-type]
        [row] = view.dump()["exp_touchpoint"]
    assert (row["intent"], row["sentiment"], row["sentiment_score"]) == ("praise", "negative", -0.7)


def test_the_model_enrichment_setting() -> None:
    assert TouchpointsSettings.from_env({}).classifier_kind() is None
    assert TouchpointsSettings.from_env({"CHORUS_TOUCHPOINTS_MODEL_ENRICHMENT": "Rules"}).classifier_kind() == "rules"
    with pytest.raises(ConfigurationError, match="CHORUS_TOUCHPOINTS_MODEL_ENRICHMENT"):
        TouchpointsSettings.from_env({"CHORUS_TOUCHPOINTS_MODEL_ENRICHMENT": "yes"})
    auto = replace(TouchpointsSettings(), model_enrichment="auto").classifier_kind()
    assert auto in (None, "model")


def test_the_process_keeps_its_view_in_a_sqlite_file_of_its_own() -> None:
    assert model_views_url("sqlite:///var/touchpoints-views.db") == "sqlite:///var/touchpoints-views-model.db"
    assert model_views_url("postgresql://chorus@db/chorus") == "postgresql://chorus@db/chorus"


needs_model = pytest.mark.skipif(not model_installed(), reason="the model extra is not installed")


def rules_sample(intent: str, sentiment: str = "neutral") -> Sample:
    return Sample(
        text="-", channel="chat", kind="touchpoint", rating=None, rules_intent=intent, rules_sentiment=sentiment
    )


class Blank(Encoder):
    """An encoder that sees nothing in a text: every sample's features are the same (the rules' values then are
    all a fitted model can go on)."""

    def features(self, samples: Sequence[Sample]) -> Any:
        import numpy as np

        return np.zeros((len(samples), 4))


@needs_model
def test_the_model_s_intent_and_sentiment_follow_the_rules_values_where_the_text_tells_it_nothing(
    tmp_path: Path,
) -> None:
    labels = [("complaint", "negative"), ("question", "neutral"), ("praise", "positive")] * 10
    samples = [rules_sample(intent, sentiment) for intent, sentiment in labels]
    artefact = fit_artefact(
        samples,
        [intent for intent, _ in labels],
        [sentiment for _, sentiment in labels],
        rules_tuned_on=[False] * len(samples),
        about={},
        encoder=Blank(),
    )
    (tmp_path / "model.json").write_text(json.dumps(artefact))
    model = EmbeddingClassifier(tmp_path / "model.json", encoder=Blank())
    found = model.classify([rules_sample("question"), rules_sample("complaint", "negative")])
    assert [(v.intent, v.sentiment_label) for v in found] == [("question", "neutral"), ("complaint", "negative")]
    assert found[1].intent_confidence > 0.5 and found[1].sentiment_score < 0


@needs_model
def test_the_rules_values_get_no_weight_from_texts_the_rules_were_tuned_on() -> None:
    labels = ["complaint", "question", "praise"] * 10
    samples = [rules_sample(intent) for intent in labels]
    artefact = fit_artefact(
        samples, labels, ["neutral", "negative"] * 15, rules_tuned_on=[True] * 30, about={}, encoder=Blank()
    )
    for model in ("intent", "sentiment"):
        assert all(weight == 0 for row in artefact[model]["coef"] for weight in row[4:13])  # the rules' columns
    assert with_rules(samples[:2], Blank().features(samples[:2]), [True, False]).tolist()[0][4:] == [0.0] * 9


@needs_model
def test_the_model_learns_the_words_of_texts_its_encoder_and_the_rules_see_nothing_in(tmp_path: Path) -> None:
    said = {
        "purchase": "I want to order two more",
        "complaint": "it arrived broken again",
        "question": "when do you open",
    }
    samples = [replace(rules_sample("other"), text=text) for text in said.values()] * 10
    artefact = fit_artefact(
        samples,
        list(said) * 10,
        ["neutral", "negative", "positive"] * 10,
        rules_tuned_on=[False] * 30,
        about={},
        encoder=Blank(),
    )
    assert {"order", "broken", "you open"} <= set(artefact["words"]["terms"])
    (tmp_path / "model.json").write_text(json.dumps({**artefact, "complaint_at": None}))  # the likeliest intent
    model = EmbeddingClassifier(tmp_path / "model.json", encoder=Blank())
    found = model.classify([replace(rules_sample("other"), text=text) for text in ("Order one for me", "BROKEN lid")])
    assert [v.intent for v in found] == ["purchase", "complaint"]


def with_chances(chances: dict[str, float], complaint_at: float | None) -> dict[str, Any]:
    """An artefact whose intent, whatever the text, has these probabilities."""
    import math

    intents = sorted(INTENTS)
    return {
        "words": {"weight": 1.0, "terms": [], "idf": []},
        "intent": {
            "classes": intents,
            "coef": [[0.0] * 13 for _ in intents],
            "intercept": [math.log(chances[intent]) for intent in intents],
        },
        "sentiment": {"classes": ["negative", "neutral", "positive"], "coef": [[0.0] * 13] * 3, "intercept": [0.0] * 3},
        "complaint_at": complaint_at,
    }


def intent_of(tmp_path: Path, artefact: dict[str, Any]) -> str:
    (tmp_path / "model.json").write_text(json.dumps(artefact))
    return EmbeddingClassifier(tmp_path / "model.json", encoder=Blank()).classify([rules_sample("other")])[0].intent


@needs_model
def test_complaint_is_chosen_when_its_probability_reaches_the_artefact_s_threshold(tmp_path: Path) -> None:
    chances = {"question": 0.6, "complaint": 0.3, "praise": 0.04, "suggestion": 0.03, "purchase": 0.02, "other": 0.01}

    def intent(complaint_at: float | None) -> str:
        return intent_of(tmp_path, with_chances(chances, complaint_at))

    assert intent(0.25) == "complaint"  # not the likeliest, but likely enough: a complaint missed is not answered
    assert intent(0.35) == "question" and intent(None) == "question"
    fitted = fit_artefact(
        [rules_sample("other")] * 4,
        ["complaint", "question"] * 2,
        ["neutral", "negative"] * 2,
        rules_tuned_on=[False] * 4,
        about={},
        encoder=Blank(),
    )
    assert fitted["complaint_at"] == COMPLAINT_AT == json.loads(ARTEFACT.read_text())["complaint_at"]
    # the committed threshold: a complaint one in five likely is chosen over a likelier question
    one_in_five = {
        "question": 0.59,
        "complaint": 0.21,
        "praise": 0.1,
        "suggestion": 0.05,
        "purchase": 0.03,
        "other": 0.02,
    }
    assert intent_of(tmp_path, with_chances(one_in_five, COMPLAINT_AT)) == "complaint"


def test_handles_and_numbers_stand_for_any_and_question_marks_are_words() -> None:
    assert terms("@acme_help 2 x 90?") == terms("@zipcabs 15 x 4?")
    assert {"atuser", "0", "?", "atuser 0", "0 ?"} <= set(terms("@acme_help 2 x 90?"))
    assert {"wait", "!", "wait !"} <= set(terms("Can't wait!"))


def test_the_committed_artefact_is_fitted_on_the_bench_s_tuning_material_with_its_words() -> None:
    artefact = json.loads(ARTEFACT.read_text())
    assert artefact["fitted_on"] == list(TUNING) and {"fresh8", "grow4"} <= set(TUNING)
    assert {"atuser", "0", "?", "why"} <= set(artefact["words"]["terms"])
    assert not any("@" in term or any(c.isdigit() and c != "0" for c in term) for term in artefact["words"]["terms"])

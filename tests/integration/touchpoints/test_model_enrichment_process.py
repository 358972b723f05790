"""The model enrichment process on the real event store: it classifies what the touchpoints service recorded,
records ``TouchpointClassified`` on the touchpoint in the service's own stream, and the touchpoint index follows;
a person's correction wins; the service starts it as a child process when its setting says so.

The tests with the embedding model run where the ``model`` extra is installed (``scripts/test.sh`` installs it);
the others run the same process with the rules-only classifier behind the same interface.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from services.common.config import Settings
from services.common.testing import eventually
from services.touchpoints.application import TouchpointsApplication
from services.touchpoints.classifier import EmbeddingClassifier, RulesClassifier, model_installed
from services.touchpoints.classifying import classifying
from services.touchpoints.domain import Touchpoint, TouchpointDraft
from services.touchpoints.main import TouchpointsSettings, touchpoints_service
from tests.support.touchpoints import inbound_chat as draft

needs_model = pytest.mark.skipif(not model_installed(), reason="the model extra is not installed")


@pytest.fixture
def settings(nats_url: str, tmp_path: Path) -> Settings:
    return Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp_path / 'views.db'}")


@pytest.fixture
def own() -> TouchpointsSettings:
    return TouchpointsSettings(app_name=f"tp_model_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def app(settings: Settings, own: TouchpointsSettings) -> Iterator[TouchpointsApplication]:
    with touchpoints_service(settings, own) as running:
        yield running


def record(app: TouchpointsApplication, *drafts: TouchpointDraft) -> list[uuid.UUID]:
    report = app.record_batch(list(drafts))
    return [outcome.touchpoint_id for outcome in report.outcomes if outcome.touchpoint_id is not None]


def classified(app: TouchpointsApplication, touchpoint_id: uuid.UUID) -> list[Touchpoint.Classified]:
    return [e for e in app.repository.event_store.get(touchpoint_id) if isinstance(e, Touchpoint.Classified)]


def is_classified(app: TouchpointsApplication, touchpoint_id: uuid.UUID) -> None:
    assert classified(app, touchpoint_id), "not classified yet"


def test_the_process_records_a_classification_on_each_inbound_english_text(
    app: TouchpointsApplication, settings: Settings, own: TouchpointsSettings
) -> None:
    question, outbound, german = record(
        app,
        draft("Is my parcel in locker 14 yet?"),
        draft("Your parcel is in locker 14.", direction="outbound"),
        draft("Wo ist mein Paket?", language="de"),
    )
    rules = RulesClassifier()
    with classifying(settings, own.app_name, rules):
        eventually(lambda: is_classified(app, question))
    [event] = classified(app, question)
    before = app.repository.get(question, version=1)
    assert (event.model, event.model_version) == ("rules", "1")
    assert (event.intent, event.sentiment_label, event.sentiment_score) == (
        before.intent,
        before.sentiment_label,
        before.sentiment_score,
    )
    assert classified(app, outbound) == classified(app, german) == []
    assert app.repository.get(question).classified_by == ("rules/1",)


def test_a_restarted_process_classifies_nothing_twice(
    app: TouchpointsApplication, settings: Settings, own: TouchpointsSettings
) -> None:
    [first] = record(app, draft("Is the lounge open before 5am?"))
    rules = RulesClassifier()
    with classifying(settings, own.app_name, rules):
        eventually(lambda: is_classified(app, first))
    [second] = record(app, draft("Do you deliver on Sundays?"))
    with classifying(settings, own.app_name, rules) as runner:
        eventually(lambda: is_classified(app, second))
        runner.catch_up()
    assert len(classified(app, first)) == len(classified(app, second)) == 1


@needs_model
def test_the_model_s_values_reach_the_touchpoint_and_its_index(
    app: TouchpointsApplication, settings: Settings, own: TouchpointsSettings
) -> None:
    [touchpoint_id] = record(app, draft("thx for sending my parcel to a locker 12 miles away. really convenient"))
    model = EmbeddingClassifier()
    with classifying(settings, own.app_name, model):
        eventually(lambda: is_classified(app, touchpoint_id), timeout=120)
    [event] = classified(app, touchpoint_id)
    assert (event.model, event.model_version) == ("minilm-logreg", model.version)
    assert 0 < event.intent_confidence <= 1
    expected = (event.intent or app.get(touchpoint_id)["intent"], event.sentiment_label, event.sentiment_score)
    got = app.get(touchpoint_id)
    assert (got["intent"], got["sentiment_label"], got["sentiment_score"]) == expected
    assert sorted(got["inferred"]) == ["intent", "sentiment", "sociability_degree"]

    def indexed() -> None:
        [doc] = [d for d in app.list_touchpoints(page_size=100)[0] if d["touchpoint_id"] == str(touchpoint_id)]
        assert (doc["intent"], doc["sentiment_label"], doc["sentiment_score"]) == expected

    eventually(indexed)


@needs_model
def test_a_person_s_correction_before_the_model_is_kept(
    app: TouchpointsApplication, settings: Settings, own: TouchpointsSettings
) -> None:
    [touchpoint_id] = record(app, draft("My water bill says I used 90 cubic metres and I live alone."))
    app.reclassify(touchpoint_id, "intent", "suggestion", reason="test of precedence", actor="agent:7")
    with classifying(settings, own.app_name, EmbeddingClassifier()):
        eventually(lambda: is_classified(app, touchpoint_id), timeout=120)
    [event] = classified(app, touchpoint_id)
    assert event.intent == ""  # the model sets no intent a person asserted
    got = app.get(touchpoint_id)
    assert got["intent"] == "suggestion"
    assert got["sentiment_label"] == event.sentiment_label


def test_the_service_starts_the_process_when_its_setting_says_so(settings: Settings, own: TouchpointsSettings) -> None:
    with touchpoints_service(settings, replace(own, model_enrichment="rules")) as app:
        assert app.classifying is not None
        [touchpoint_id] = record(app, draft("Can I book a test drive on Saturday?"))
        eventually(lambda: is_classified(app, touchpoint_id), timeout=60)
        child = app.classifying.pid
        assert child is not None
    assert app.classifying.pid is None  # stopped with the service


def test_the_service_starts_no_process_by_default(app: TouchpointsApplication) -> None:
    assert app.classifying is None


@needs_model
def test_the_service_runs_the_model_in_its_child_process(settings: Settings, own: TouchpointsSettings) -> None:
    with touchpoints_service(settings, replace(own, model_enrichment="model")) as app:
        [touchpoint_id] = record(app, draft("Locker 14 wont open, code says invalid and my parcel is inside"))
        eventually(lambda: is_classified(app, touchpoint_id), timeout=180)
        [event] = classified(app, touchpoint_id)
    assert (event.model, event.model_version) == ("minilm-logreg", EmbeddingClassifier().version)

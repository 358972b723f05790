"""The touchpoints composition root: what it sets for the process while the service runs, and puts back."""

from __future__ import annotations

import gc
import uuid
from pathlib import Path

from services.common.config import Settings
from services.touchpoints.main import (
    YOUNG_COLLECTION_THRESHOLD,
    TouchpointsSettings,
    touchpoints_service,
    young_collections_every,
)


def test_the_service_collects_young_garbage_less_often_while_it_runs_and_puts_the_threshold_back(
    nats_url: str, tmp_path: Path
) -> None:
    before = gc.get_threshold()
    assert before[0] != YOUNG_COLLECTION_THRESHOLD
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp_path / 'views.db'}")
    with touchpoints_service(settings, TouchpointsSettings(app_name=f"tp_gc_{uuid.uuid4().hex[:10]}")):
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before


def test_the_threshold_found_first_comes_back_when_the_last_of_overlapping_services_stops() -> None:
    before = gc.get_threshold()
    first, second = young_collections_every(20_000), young_collections_every(30_000)
    first.__enter__()
    second.__enter__()
    assert gc.get_threshold() == (30_000, *before[1:])
    first.__exit__(None, None, None)  # the first stops while the second still runs
    assert gc.get_threshold()[0] == 30_000
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before

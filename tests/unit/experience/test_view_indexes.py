"""The experience view's reads of a few rows among many go through the partial indexes made for them (SQLite).

A partial index is used only when the query's WHERE implies the index's; a query reworded so that it no longer
does would silently scan every touchpoint, so the plans are checked here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.experience.projection import ExperienceView


@pytest.fixture
def view(tmp_path: Path) -> Iterator[ExperienceView]:
    with ExperienceView(f"sqlite:///{tmp_path / 'views.db'}") as opened:
        yield opened  # type: ignore[misc]


def plans_of(view: ExperienceView, read: Callable[[], Any]) -> list[str]:
    """The query plan of each statement ``read`` runs on ``view``."""
    statements: list[tuple[str, Any]] = []
    query = view.query

    def recording(statement: str, params: Any = ()) -> list[dict[str, Any]]:
        statements.append((statement, params))
        return query(statement, params)

    view.query = recording  # type: ignore[method-assign]
    try:
        read()
    finally:
        view.query = query  # type: ignore[method-assign]
    return [
        " | ".join(row["detail"] for row in query(f"EXPLAIN QUERY PLAN {statement}", params))
        for statement, params in statements
    ]


def test_open_items_are_read_through_the_index_of_waiting_items(view: ExperienceView) -> None:
    for channel in ("", "x"):
        [plan] = plans_of(view, lambda channel=channel: view.open_items(channel))
        assert "exp_touchpoint_waiting" in plan, plan


def test_suggestions_are_read_through_the_index_of_suggestions(view: ExperienceView) -> None:
    [plan] = plans_of(view, lambda: view.suggestions(0))
    assert "exp_touchpoint_suggestion" in plan, plan

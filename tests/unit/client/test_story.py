"""The demo's story is the same for a seed whatever day it is told, and another seed tells another one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.client import story

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _what(month: story.Story) -> list[tuple[str, str, int, int]]:
    return [(t.source.external_id, t.content.text, t.channel, t.intent) for t in month.touchpoints]


def test_a_seed_tells_the_same_month_on_any_day_and_another_seed_another_month() -> None:
    size = story.SIZES["small"]
    monday = story.brand_month(7, size, MONDAY)
    saturday = story.brand_month(7, size, MONDAY + timedelta(days=5, hours=7, minutes=13))
    assert sorted(_what(monday)) == sorted(_what(saturday))
    assert [p.request for p in monday.parties] == [p.request for p in saturday.parties]
    assert sorted(_what(story.brand_month(8, size, MONDAY))) != sorted(_what(monday))


def test_the_month_spans_every_channel_both_kinds_replies_and_late_links_and_ends_before_now() -> None:
    month = story.brand_month(7, story.SIZES["full"], MONDAY)
    assert len(month.parties) == 2000
    assert len(month.touchpoints) > 20_000
    assert {t.channel for t in month.touchpoints} == set(range(1, 16))
    assert {t.kind for t in month.touchpoints} == {1, 2}
    replies = [t for t in month.touchpoints if t.HasField("reply_to")]
    assert len(replies) > 5000
    assert sum(len(p.late) for p in month.parties) > 500
    newest = max(t.occurred_at.ToDatetime(tzinfo=UTC) for t in month.touchpoints)
    oldest = min(t.occurred_at.ToDatetime(tzinfo=UTC) for t in month.touchpoints)
    assert MONDAY - timedelta(days=30) <= oldest and newest < MONDAY

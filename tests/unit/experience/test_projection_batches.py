"""The experience projection writes a transaction's new touchpoints together: the views come out as if each event
had been applied on its own, and what an aborted transaction collected is never written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import Tracking

from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.events.v1 import events_pb2 as touchpoint_events
from services.common.projections import UpstreamEvent
from services.experience.projection import TOUCHPOINTS, ExperienceProjection, ExperienceView


def recorded(touchpoint_id: str, sequence: int, direction: int, who: str) -> UpstreamEvent:
    message = touchpoint_events.TouchpointRecorded(
        channel=types.CHANNEL_X,
        direction=direction,
        intent=types.INTENT_QUESTION if direction == types.DIRECTION_INBOUND else types.INTENT_OTHER,
        sociability_degree=types.SOCIABILITY_DEGREE_MONOLOGUE,
        actors=[types.Identifier(type=types.IDENTIFIER_TYPE_X, value=who)],
        text=f"text of {touchpoint_id}",
        occurred_at={"seconds": 1_700_000_000 + sequence},
    )
    return event(touchpoint_id, sequence, message)


def event(aggregate_id: str, sequence: int, message: object) -> UpstreamEvent:
    return UpstreamEvent(
        upstream=TOUCHPOINTS,
        sequence=sequence * 1000,
        aggregate_id=aggregate_id,
        version=1,
        topic=message.DESCRIPTOR.full_name,  # type: ignore[attr-defined]
        message=message,  # type: ignore[arg-type]
    )


def story() -> list[UpstreamEvent]:
    """A question, its reclassification and a company reply linked to it, each needing the rows before it."""
    question, reply, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    return [
        recorded(question, 1, types.DIRECTION_INBOUND, "@Jane"),
        event(question, 2, touchpoint_events.TouchpointReclassified(field="intent", value="complaint")),
        recorded(reply, 3, types.DIRECTION_OUTBOUND, "@acme"),
        event(
            reply,
            4,
            touchpoint_events.TouchpointReplyLinked(
                parent_id=question, parent_direction=types.DIRECTION_INBOUND, response_seconds=90
            ),
        ),
        recorded(other, 5, types.DIRECTION_INBOUND, "@jane"),
    ]


@pytest.fixture
def views(tmp_path: Path) -> Iterator[tuple[ExperienceView, ExperienceView]]:
    with (
        ExperienceView(f"sqlite:///{tmp_path / 'one.db'}") as one,
        ExperienceView(f"sqlite:///{tmp_path / 'all.db'}") as together,
    ):
        yield one, together  # type: ignore[misc]


def apply(projection: ExperienceProjection, events: list[UpstreamEvent]) -> None:
    with projection.view.transaction(Tracking(TOUCHPOINTS, events[-1].sequence)) as cur:
        for each in events:
            projection.apply(cur, each)
        projection.before_commit(cur)


def test_a_batch_of_new_touchpoints_corrections_and_replies_gives_the_views_one_event_at_a_time_gives(
    views: tuple[ExperienceView, ExperienceView],
) -> None:
    one, together = views
    events = story()
    single = ExperienceProjection(one)
    for each in events:
        apply(single, [each])
    apply(ExperienceProjection(together), events)
    assert together.dump() == one.dump()
    [question] = [row for row in together.dump()["exp_touchpoint"] if row["touchpoint_id"] == events[0].aggregate_id]
    assert (question["intent"], question["answered"], question["response_seconds"]) == ("complaint", 1, 90)


def test_what_an_aborted_transaction_collected_is_not_written_by_the_next(
    views: tuple[ExperienceView, ExperienceView],
) -> None:
    view, _ = views
    projection = ExperienceProjection(view)
    aborted, kept = recorded(str(uuid.uuid4()), 1, types.DIRECTION_INBOUND, "@a"), story()
    with pytest.raises(RuntimeError), view.transaction(Tracking(TOUCHPOINTS, aborted.sequence)) as cur:
        projection.apply(cur, aborted)
        raise RuntimeError  # a later handler of the batch failed
    apply(projection, kept)
    written = {row["touchpoint_id"] for row in view.dump()["exp_touchpoint"]}
    assert aborted.aggregate_id not in written
    assert written == {each.aggregate_id for each in kept if each.topic == aborted.topic}

"""The experience projection writes a transaction's new touchpoints together: the views come out as if each event
had been applied on its own, and what an aborted transaction collected is never written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from chorus.common.v1 import types_pb2 as types
from chorus.identity.events.v1 import events_pb2 as identity_events
from chorus.touchpoints.events.v1 import events_pb2 as touchpoint_events
from services.common.projections import UpstreamEvent
from services.experience.projection import IDENTITY, TOUCHPOINTS, ExperienceProjection, ExperienceView


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
    with projection.view.transaction(Tracking(events[-1].upstream, events[-1].sequence)) as cur:
        for each in events:
            projection.apply(cur, each)
        projection.before_commit(cur)


def applied_together(views: tuple[ExperienceView, ExperienceView], events: list[UpstreamEvent]) -> dict[str, Any]:
    """The dump of ``events`` applied in one transaction, once checked equal to theirs applied one at a time."""
    one, together = views
    single = ExperienceProjection(one)
    for each in events:
        apply(single, [each])
    apply(ExperienceProjection(together), events)
    assert together.dump() == one.dump()
    return together.dump()


def test_a_batch_of_new_touchpoints_corrections_and_replies_gives_the_views_one_event_at_a_time_gives(
    views: tuple[ExperienceView, ExperienceView],
) -> None:
    events = story()
    dump = applied_together(views, events)
    [question] = [row for row in dump["exp_touchpoint"] if row["touchpoint_id"] == events[0].aggregate_id]
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


def identity_story() -> list[UpstreamEvent]:
    """Parties and claims, each needing the rows before it: a claim moved, dropped and made again, a party
    registered twice (the first stays), a merge of a party registered in the same batch."""
    jane, acme, other = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    handle = str(uuid.uuid4())

    def of_identity(aggregate: str, sequence: int, message: object) -> UpstreamEvent:
        return replace(event(aggregate, sequence, message), upstream=IDENTITY)

    def claimed(party: str, sequence: int) -> UpstreamEvent:
        message = identity_events.IdentifierClaimed(party_id=party, type=types.IDENTIFIER_TYPE_X, value="@jane")
        return of_identity(handle, sequence, message)

    return [
        of_identity(jane, 1, identity_events.PartyRegistered(kind=types.PARTY_KIND_PERSON, display_name="Jane")),
        claimed(jane, 2),
        of_identity(jane, 3, identity_events.PartyRegistered(kind=types.PARTY_KIND_PERSON, display_name="Later")),
        of_identity(acme, 4, identity_events.PartyRegistered(kind=types.PARTY_KIND_ORGANISATION, display_name="Acme")),
        of_identity(handle, 5, identity_events.IdentifierTransferred(party_id=acme)),
        claimed(other, 6),
        of_identity(handle, 7, identity_events.IdentifierUnclaimed()),
        claimed(acme, 8),
        of_identity(other, 9, identity_events.PartyRegistered(kind=types.PARTY_KIND_PERSON, display_name="Other")),
        of_identity(other, 10, identity_events.PartyMergedInto(target_party_id=jane)),
    ]


def test_a_batch_of_new_parties_claims_transfers_and_merges_gives_the_views_one_event_at_a_time_gives(
    views: tuple[ExperienceView, ExperienceView],
) -> None:
    events = identity_story()
    dump = applied_together(views, events)
    assert [row["party_id"] for row in dump["exp_claim"]] == [events[3].aggregate_id]  # claimed last by acme
    names = {row["party_id"]: (row["display_name"], row["merged_into"]) for row in dump["exp_party"]}
    assert names[events[0].aggregate_id] == ("Jane", None)
    assert names[events[8].aggregate_id] == ("Other", events[0].aggregate_id)

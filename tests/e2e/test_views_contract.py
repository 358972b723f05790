"""What the experience views promise on every store: rebuilt views equal live ones, a restart changes nothing,
a poison event is set aside. Written once, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as xpb
from chorus.identity.v1 import identity_service_pb2 as ipb
from chorus.touchpoints.events.v1 import events_pb2 as touchpoint_events
from services.common.eventstore import TOPIC_HEADER, VERSION_HEADER, StreamLayout
from services.common.testing import eventually
from services.experience.application import ExperienceApplication
from tests.e2e.test_jane_smith_experience import SPELLED, jane_story
from tests.support.stack import NOW, Stack, ago, chorus_stack, ident, stamp


def _story(stack: Stack) -> str:
    jane = stack.register("Jane Smith")
    for name in ("email", "phone", "x"):
        stack.link(jane, SPELLED[name][1])
    jane_story(stack)
    other = stack.register("Jan Smith")
    stack.link(other, SPELLED["blog"][1])
    stack.identity.MergeParties(
        ipb.MergePartiesRequest(target_party_id=jane, source_party_id=other, evidence=ipb.Evidence(rule="same-person"))
    )
    stack.identity.RecordConsent(
        ipb.RecordConsentRequest(party_id=jane, channel=types.CHANNEL_EMAIL, status=types.CONSENT_STATUS_GRANTED)
    )
    stack.caught_up()
    return jane


class ViewsContract:
    """The contract; subclasses give the ``stack`` fixture a store."""

    def test_views_rebuilt_from_sequence_one_equal_the_live_ones(self, stack: Stack) -> None:
        jane = _story(stack)
        live = stack.experience_app.view.dump()
        read = xpb.GetExperienceRequest(party=xpb.PartySelector(party_id=jane), as_of_time=stamp(NOW))
        before = stack.experience.GetExperience(read)
        started = stack.experience.RebuildViews(xpb.RebuildViewsRequest())
        assert (started.generation, started.started) == (2, True)
        # the live views answer while the new ones are built
        during = stack.experience.GetExperience(read)
        assert during.experience == before.experience
        again = stack.experience.RebuildViews(xpb.RebuildViewsRequest())
        # one rebuild at a time: the same one while it runs, the next once it has finished
        assert (again.generation, again.started) in ((2, False), (3, True))

        def swapped() -> xpb.GetViewsStatusResponse:
            status = stack.experience.GetViewsStatus(xpb.GetViewsStatusRequest())
            assert (status.generation, status.rebuilding_generation) == (again.generation, 0)
            return status

        status = eventually(swapped, timeout=60)
        assert status.healthy
        assert {u.upstream: u.lag for u in status.upstreams} == {"identity": 0, "touchpoints": 0}
        assert stack.experience_app.view.dump() == live
        after = stack.experience.GetExperience(read)
        assert after.experience == before.experience

    def test_a_restarted_service_resumes_and_counts_nothing_twice(self, stack: Stack) -> None:
        _story(stack)
        live = stack.experience_app.view.dump()
        stack.experience_app.close()
        restarted = ExperienceApplication(
            stack.experience_app.connection, stack.settings.views_url, stack.experience_settings
        ).start()
        try:
            stack.inbound("after-restart", SPELLED["email"][0], "One more thing", occurred_at=ago(hours=1))
            stack.touchpoints_app.index_runner.catch_up(timeout=30)
            restarted.catch_up(timeout=30)
            dump = restarted.view.dump()
            assert len(dump["exp_touchpoint"]) == len(live["exp_touchpoint"]) + 1
            assert {k: v for k, v in dump.items() if k not in ("exp_touchpoint", "exp_actor")} == {
                k: v for k, v in live.items() if k not in ("exp_touchpoint", "exp_actor")
            }
            assert all(row in dump["exp_touchpoint"] for row in live["exp_touchpoint"])
        finally:
            restarted.close()

    def test_a_poison_event_is_quarantined_and_the_views_move_on(self, stack: Stack) -> None:
        layout = StreamLayout(stack.experience_settings.upstream_apps["touchpoints"])
        connection = stack.experience_app.connection

        async def poison() -> None:
            await connection.client.jetstream().publish(
                layout.event_subject(uuid.uuid4()),
                b"\x0a\xff\xff",
                headers={TOPIC_HEADER: touchpoint_events.TouchpointRecorded.DESCRIPTOR.full_name, VERSION_HEADER: "1"},
            )

        stack.inbound("before", ident(types.IDENTIFIER_TYPE_EMAIL, "x@y.example"), "hi", occurred_at=ago(hours=2))
        connection.call(poison)
        after = stack.inbound(
            "after", ident(types.IDENTIFIER_TYPE_EMAIL, "x@y.example"), "hello", occurred_at=ago(hours=1)
        )
        stack.experience_app.catch_up(timeout=30)
        quarantine = stack.experience.ListQuarantine(xpb.ListQuarantineRequest())
        assert [(e.upstream, e.topic, e.reason) for e in quarantine.events] == [
            (
                "touchpoints",
                "chorus.touchpoints.events.v1.TouchpointRecorded",
                "the payload is not a valid message of its topic",
            )
        ]
        status = stack.experience.GetViewsStatus(xpb.GetViewsStatusRequest())
        assert status.quarantined == 1
        assert status.healthy
        assert after in {row["touchpoint_id"] for row in stack.experience_app.view.dump()["exp_touchpoint"]}


class TestOnSQLite(ViewsContract):
    @pytest.fixture
    def stack(self, nats_url: str, tmp_path: Path) -> Iterator[Stack]:
        with chorus_stack(nats_url, f"sqlite:///{tmp_path / 'views.db'}") as running:
            yield running


class TestOnPostgreSQL(ViewsContract):
    @pytest.fixture
    def stack(self, nats_url: str, tmp_path: Path, postgres_url: str, pg_schema: str) -> Iterator[Any]:
        with chorus_stack(
            nats_url, f"sqlite:///{tmp_path / 'views.db'}", experience_views=(postgres_url, pg_schema)
        ) as running:
            yield running

"""Forgetting Jane Smith: after ForgetParty nothing she said or was called is readable anywhere Chorus keeps it.

The three services run on a nats-server of their own, so the test can scan its store files: the JetStream
streams, the key vault's bucket, the experience views (live and rebuilt from sequence 1) and every log line the
services wrote must hold none of her identifier values, her name or her texts in clear, while what identifies
nobody (how many touchpoints there were) stays as it was.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from chorus.identity.v1 import identity_service_pb2 as ipb
from services.common.nats_server import NatsServer
from services.common.projections import ProjectionRunner
from services.experience.projection import ExperienceProjection, ExperienceView
from tests.e2e.test_jane_smith_experience import SPELLED, jane_story
from tests.support.stack import Stack, chorus_stack

HERS = (
    "Jane Smith",
    "jane.smith@example.com",
    "Jane.Smith@Example.COM",
    "+442079460958",
    "020 7946 0958",
    "janesmithtweets",
    "JaneSmithTweets",
    "janesmith.example.net",
    "JaneSmith.example.net",
    "R-778",
    "My boiler stopped heating",
    "How do I reset the thermostat",
    "still no heating after 3 days",
    "Three weeks with a broken boiler",
    "Anyone else's boiler losing pressure",
    "Please add a pressure gauge app",
    "Two stars. Broke within a month",
    "so sorry, an engineer will call you today",
)
NOT_HERS = "Same here, every week."  # another forum user's post in her thread


def clear_text_of_hers(data: bytes) -> list[str]:
    lowered = data.lower()
    return [value for value in HERS if value.lower().encode() in lowered]


def files_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


def views_bytes(view: ExperienceView) -> bytes:
    return json.dumps(view.dump(), sort_keys=True, default=str).encode()


def test_after_forget_party_nothing_of_hers_is_readable_in_the_store_the_views_a_rebuild_or_the_logs(
    own_nats: NatsServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with chorus_stack(own_nats.url, f"sqlite:///{tmp_path / 'views.db'}") as stack:
        jane = stack.register("Jane Smith")
        for name in SPELLED:
            stack.link(jane, SPELLED[name][1])
        jane_story(stack)
        stack.caught_up()
        live = live_view(stack)
        before = live.dump()
        assert clear_text_of_hers(views_bytes(live)), "the story did not reach the views"
        assert clear_text_of_hers(files_bytes(tmp_path / "store")) == []  # sealed when recorded

        receipt = stack.identity.ForgetParty(
            ipb.ForgetPartyRequest(party_id=jane, requested_by="case-1", legal_basis="GDPR Art. 17(1)(a)")
        ).receipt
        stack.caught_up()

        after = live.dump()
        assert clear_text_of_hers(views_bytes(live)) == []
        assert len(after["exp_touchpoint"]) == len(before["exp_touchpoint"])  # volumes identify nobody
        assert [row["party_id"] for row in after["exp_party"] if row["party_id"] == jane] == []
        assert NOT_HERS in {row["text"] for row in after["exp_touchpoint"]}
        assert "[erased]" in {row["text"] for row in after["exp_touchpoint"]}

        rebuilt = ExperienceView(f"sqlite:///{tmp_path / 'rebuilt.db'}")
        ProjectionRunner(ExperienceProjection(rebuilt, default_region="GB"), stack.experience_app.readers).run_to_end()
        redone = rebuilt.dump()
        assert clear_text_of_hers(views_bytes(rebuilt)) == []
        assert len(redone["exp_touchpoint"]) == len(before["exp_touchpoint"])
        assert sum(row["text"] == "[erased]" for row in redone["exp_touchpoint"]) == sum(
            row["text"] == "[erased]" for row in after["exp_touchpoint"]
        )
        assert NOT_HERS in {row["text"] for row in redone["exp_touchpoint"]}
        rebuilt.close()
        assert receipt.key_ids
    own_nats.stop()
    assert clear_text_of_hers(files_bytes(tmp_path / "store")) == []
    assert clear_text_of_hers(caplog.text.encode()) == []


def live_view(stack: Stack) -> ExperienceView:
    """The experience service's live views, read directly."""
    return stack.experience_app.view

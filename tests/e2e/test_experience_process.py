"""The experience service as its own process: SIGKILLed in the middle of catching up, it restarts and ends with
exactly the views a rebuild from sequence 1 gives — no event applied twice, none missed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from services.common.nats_server import free_port
from services.common.projections import ProjectionRunner
from services.common.testing import eventually
from services.experience.projection import ExperienceProjection, ExperienceView
from tests.support.stack import Stack, ago, ident

TOUCHPOINTS = 3000


def _record_many(stack: Stack) -> None:
    for start in range(0, TOUCHPOINTS, 500):
        items = [
            tpb.TouchpointInput(
                source=tpb.Source(system="load", external_id=f"{stack.run}-{n}"),
                kind=types.TOUCHPOINT_KIND_NON_TOUCHPOINT,
                channel=types.CHANNEL_X,
                direction=types.DIRECTION_INBOUND,
                visibility=types.VISIBILITY_PUBLIC,
                occurred_at=ago(minutes=n),
                actors=[ident(types.IDENTIFIER_TYPE_X, f"fan{n % 40}")],
                intent=types.INTENT_QUESTION,
                sentiment=tpb.Sentiment(score=0.1),
                content=tpb.Content(text=f"question number {n}"),
            )
            for n in range(start, start + 500)
        ]
        reply = stack.touchpoints.RecordTouchpointBatch(tpb.RecordTouchpointBatchRequest(touchpoints=items))
        assert all(r.outcome == tpb.RECORD_OUTCOME_RECORDED for r in reply.results)


def test_a_killed_experience_process_resumes_and_ends_identical_to_a_rebuild(
    stack: Stack, nats_url: str, tmp_path: Path
) -> None:
    for n in range(5):
        party = stack.register(f"Fan {n}")
        stack.link(party, ident(types.IDENTIFIER_TYPE_X, f"fan{n}"))
    _record_many(stack)
    apps = stack.experience_settings.upstream_apps
    views_url = f"sqlite:///{tmp_path / 'killed.db'}"
    env = {
        **os.environ,
        "CHORUS_NATS_URL": nats_url,
        "CHORUS_VIEWS_URL": views_url,
        "CHORUS_EXPERIENCE_PORT": str(free_port()),
        "CHORUS_GRPC_HOST": "127.0.0.1",
        "CHORUS_EXPERIENCE_IDENTITY_APP": apps["identity"],
        "CHORUS_EXPERIENCE_TOUCHPOINTS_APP": apps["touchpoints"],
        "CHORUS_DEFAULT_REGION": "GB",
        "CHORUS_EXPERIENCE_BATCH_SIZE": "25",
        "CHORUS_LOG_LEVEL": "warning",
    }
    last = stack.touchpoints_app.recorder.max_notification_id()
    watcher = ExperienceView(views_url)

    def started_not_finished() -> int:
        position = watcher.max_tracking_id(apps["touchpoints"]) or 0
        assert position > 0
        return position

    process = subprocess.Popen([sys.executable, "-m", "services.experience.main"], env=env)
    try:
        killed_at = eventually(started_not_finished, timeout=60, interval=0.005)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert killed_at < last, "the process finished before it could be killed mid-catch-up"

    process = subprocess.Popen([sys.executable, "-m", "services.experience.main"], env=env)
    try:
        identity_last = stack.experience_app.readers[0].last_sequence()

        def caught_up() -> None:
            assert (watcher.max_tracking_id(apps["touchpoints"]) or 0) >= last
            assert (watcher.max_tracking_id(apps["identity"]) or 0) >= identity_last

        eventually(caught_up, timeout=120)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    rebuilt = ExperienceView("sqlite://:memory:")
    ProjectionRunner(ExperienceProjection(rebuilt, default_region="GB"), stack.experience_app.readers).run_to_end()
    assert watcher.dump() == rebuilt.dump()
    assert len(rebuilt.dump()["exp_touchpoint"]) == TOUCHPOINTS

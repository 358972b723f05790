"""A person's touchpoints are found by who they are: every spelling of an identifier lists the same touchpoints,
and parties are counted by identifier, not by spelling (issue 13, "A person's touchpoints cannot be found by
who they are"). Through a real gRPC channel with the default region GB, on the real event store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2

from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.v1 import touchpoint_service_pb2 as pb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as pb_grpc
from services.common.config import Settings
from services.common.grpc_runtime import status_details
from services.common.testing import serving
from services.touchpoints.application import TouchpointsApplication
from services.touchpoints.domain import touchpoint_id_for
from services.touchpoints.main import SERVICE, TouchpointsSettings

RUN = uuid.uuid4().hex[:8]
NOW = datetime.now(UTC).replace(microsecond=0)

PHONE, X, EMAIL = types.IDENTIFIER_TYPE_PHONE, types.IDENTIFIER_TYPE_X, types.IDENTIFIER_TYPE_EMAIL
PHONE_SPELLINGS = ["+44 20 7946 0958", "020 7946 0958", "+442079460958"]
X_SPELLINGS = ["@JaneSmithTweets", "janesmithtweets"]
EMAIL_SPELLINGS = ["Jane.Smith@Example.org", "jane.smith@example.org", "JANE.SMITH@EXAMPLE.ORG"]
AGENT = types.Identifier(type=types.IDENTIFIER_TYPE_CRM_ID, value="agent-7", namespace="helpdesk")


@dataclass
class Service:
    app: TouchpointsApplication
    stub: pb_grpc.TouchpointServiceStub


@pytest.fixture(scope="module")
def service(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp: Path = tmp_path_factory.mktemp("actors")
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp / 'views.db'}", default_region="GB")
    with serving(SERVICE, settings, TouchpointsSettings(app_name=f"tp_actors_{RUN}")) as touchpoints:
        yield Service(touchpoints.running, pb_grpc.TouchpointServiceStub(touchpoints.channel))


def _stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def touchpoint(external_id: str, channel: int, actors: list[types.Identifier], **changes: Any) -> pb.TouchpointInput:
    fields: dict[str, Any] = {
        "kind": types.TOUCHPOINT_KIND_TOUCHPOINT,
        "channel": channel,
        "direction": types.DIRECTION_INBOUND,
        "visibility": types.VISIBILITY_PRIVATE,
        "occurred_at": _stamp(NOW - timedelta(minutes=len(external_id))),
        "source": pb.Source(system="story", external_id=f"{RUN}-{external_id}"),
        "actors": actors,
        "content": pb.Content(text="About my kettle.", language="en"),
    }
    fields.update(changes)
    return pb.TouchpointInput(**fields)


def tp_id(external_id: str) -> str:
    return str(touchpoint_id_for("story", f"{RUN}-{external_id}"))


def listed(service: Service, actor: types.Identifier) -> set[str]:
    page = service.stub.ListTouchpoints(pb.ListTouchpointsRequest(actor=actor, page_size=100))
    return {t.touchpoint_id for t in page.touchpoints}


def test_listing_by_any_spelling_of_an_identifier_finds_every_touchpoint_of_it(service: Service) -> None:
    calls = {f"call-{n}": spelled for n, spelled in enumerate(PHONE_SPELLINGS)}
    tweets = {f"tweet-{n}": spelled for n, spelled in enumerate(X_SPELLINGS)}
    mails = {f"mail-{n}": spelled for n, spelled in enumerate(EMAIL_SPELLINGS)}
    batch = [
        *(touchpoint(e, types.CHANNEL_PHONE, [types.Identifier(type=PHONE, value=v), AGENT]) for e, v in calls.items()),
        *(
            touchpoint(e, types.CHANNEL_X, [types.Identifier(type=X, value=v)], visibility=types.VISIBILITY_PUBLIC)
            for e, v in tweets.items()
        ),
        *(touchpoint(e, types.CHANNEL_EMAIL, [types.Identifier(type=EMAIL, value=v)]) for e, v in mails.items()),
    ]
    answer = service.stub.RecordTouchpointBatch(pb.RecordTouchpointBatchRequest(touchpoints=batch))
    assert answer.recorded_count == len(batch)

    for type_, spellings, owned in (
        (PHONE, PHONE_SPELLINGS, calls),
        (X, X_SPELLINGS, tweets),
        (EMAIL, EMAIL_SPELLINGS, mails),
    ):
        for spelled in spellings:
            assert listed(service, types.Identifier(type=type_, value=spelled)) == {tp_id(e) for e in owned}
    assert listed(service, AGENT) == {tp_id(e) for e in calls}
    # the touchpoint keeps the actor as the source spelled it
    got = service.stub.GetTouchpoint(pb.GetTouchpointRequest(touchpoint_id=tp_id("call-1"))).touchpoint
    assert got.actors[0].value == "020 7946 0958"


def test_an_actor_without_a_normal_form_is_recorded_and_found_by_its_own_spelling(service: Service) -> None:
    odd = types.Identifier(type=EMAIL, value="jane at example dot org")
    answer = service.stub.RecordTouchpoint(
        pb.RecordTouchpointRequest(touchpoint=touchpoint("odd", types.CHANNEL_EMAIL, [odd]))
    )
    assert answer.outcome == pb.RECORD_OUTCOME_RECORDED
    assert listed(service, odd) == {tp_id("odd")}
    assert listed(service, types.Identifier(type=EMAIL, value="JANE AT EXAMPLE DOT ORG")) == set()


@pytest.mark.parametrize("value", ["jane\x00smith", "jane\x07", "visitor\n7"])
def test_an_actor_with_a_control_character_is_refused_naming_it(service: Service, value: str) -> None:
    actors = [AGENT, types.Identifier(type=types.IDENTIFIER_TYPE_FORUM_USER, value=value, namespace="forum.example")]
    with pytest.raises(grpc.RpcError) as caught:
        service.stub.RecordTouchpoint(
            pb.RecordTouchpointRequest(
                touchpoint=touchpoint(f"ctl-{value.encode().hex()}", types.CHANNEL_FORUM, actors)
            )
        )
    details = status_details(caught.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    fields = {v.field for d in details.details if hasattr(d, "field_violations") for v in d.field_violations}
    assert fields == {"touchpoint.actors[1].value"}


def test_a_private_case_with_two_spellings_of_one_phone_is_not_a_community(service: Service) -> None:
    thread = f"{RUN}-case"
    steps = [
        touchpoint("case-1", types.CHANNEL_PHONE, [types.Identifier(type=PHONE, value="+44 20 7946 0958"), AGENT]),
        touchpoint("case-2", types.CHANNEL_PHONE, [types.Identifier(type=PHONE, value="020 7946 0958"), AGENT]),
        touchpoint(
            "case-3", types.CHANNEL_EMAIL, [types.Identifier(type=EMAIL, value="Jane.Smith@Example.org"), AGENT]
        ),
    ]
    for step in steps:
        step.thread_id = thread
        service.stub.RecordTouchpoint(pb.RecordTouchpointRequest(touchpoint=step))
    last = service.stub.GetTouchpoint(pb.GetTouchpointRequest(touchpoint_id=tp_id("case-3"))).touchpoint
    assert "sociability_degree" in last.inferred_fields
    assert last.sociability_degree != types.SOCIABILITY_DEGREE_COMMUNITY

"""The touchpoints service through a real gRPC channel, on the real event store (nats-server with JetStream)."""

from __future__ import annotations

import contextlib
import queue
import threading
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
from services.common.testing import eventually, running_server, serving, wait_out_duplicate_window
from services.touchpoints.application import RecordingPolicy, TouchpointsApplication
from services.touchpoints.domain import touchpoint_id_for
from services.touchpoints.events import MAPPER_TOPIC
from services.touchpoints.grpc_api import SERVICE_NAME, TouchpointServicer, draft_of
from services.touchpoints.main import SERVICE, TouchpointsSettings
from services.touchpoints.projection import TouchpointIndex, touchpoint_runner

RUN = uuid.uuid4().hex[:8]
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Service:
    app: TouchpointsApplication
    stub: pb_grpc.TouchpointServiceStub


def _stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def item(external_id: str, **changes: Any) -> pb.TouchpointInput:
    """An inbound private email touchpoint from jane, with ~60 bytes of text; ``changes`` override fields."""
    fields: dict[str, Any] = {
        "kind": types.TOUCHPOINT_KIND_TOUCHPOINT,
        "channel": types.CHANNEL_EMAIL,
        "direction": types.DIRECTION_INBOUND,
        "visibility": types.VISIBILITY_PRIVATE,
        "occurred_at": _stamp(NOW),
        "source": pb.Source(system="zendesk", external_id=f"{RUN}-{external_id}", url="https://help.example/t/1"),
        "actors": [types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="jane@example.org")],
        "content": pb.Content(text="My kettle arrived with a cracked lid.", language="en"),
    }
    fields.update(changes)
    return pb.TouchpointInput(**fields)


def tp_id(external_id: str) -> str:
    return str(touchpoint_id_for("zendesk", f"{RUN}-{external_id}"))


def events_of(app: TouchpointsApplication, touchpoint_id: str) -> list[Any]:
    return list(app.recorder.select_events(uuid.UUID(touchpoint_id)))


@pytest.fixture(scope="module")
def service(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp: Path = tmp_path_factory.mktemp("touchpoints")
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp / 'views.db'}")
    own = TouchpointsSettings(
        app_name=f"tp_grpc_{RUN}",
        policy=RecordingPolicy(brand_handles=frozenset({"acme"}), max_content_bytes=2000),
    )
    with served(settings, own) as running:
        yield running


@contextlib.contextmanager
def served(settings: Settings, own: TouchpointsSettings) -> Iterator[Service]:
    """The touchpoints service as ``chorus serve touchpoints`` runs it, and a stub to it."""
    with serving(SERVICE, settings, own) as touchpoints:
        yield Service(touchpoints.running, pb_grpc.TouchpointServiceStub(touchpoints.channel))


def record(service: Service, touchpoint: pb.TouchpointInput) -> pb.RecordTouchpointResponse:
    return service.stub.RecordTouchpoint(pb.RecordTouchpointRequest(touchpoint=touchpoint))


def get(service: Service, touchpoint_id: str) -> pb.Touchpoint:
    return service.stub.GetTouchpoint(pb.GetTouchpointRequest(touchpoint_id=touchpoint_id)).touchpoint


def bad_fields(error: grpc.RpcError) -> set[str]:
    details = status_details(error)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    return {
        violation.field
        for detail in details.details
        if hasattr(detail, "field_violations")
        for violation in detail.field_violations
    }


# -------------------------------------------------------------------------------------------------- recording


CHANNELS = [value.number for value in types.Channel.DESCRIPTOR.values if value.number]
KINDS = [types.TOUCHPOINT_KIND_TOUCHPOINT, types.TOUCHPOINT_KIND_NON_TOUCHPOINT]


def test_each_channel_and_kind_is_recorded_and_read_back(service: Service) -> None:
    for channel in CHANNELS:
        for kind in KINDS:
            external = f"ch-{channel}-{kind}"
            sent = item(
                external,
                channel=channel,
                kind=kind,
                visibility=types.VISIBILITY_PUBLIC,
                direction=types.DIRECTION_OUTBOUND
                if kind == types.TOUCHPOINT_KIND_TOUCHPOINT
                else types.DIRECTION_INBOUND,
                actors=[
                    types.Identifier(type=types.IDENTIFIER_TYPE_X, value="jane_s"),
                    types.Identifier(type=types.IDENTIFIER_TYPE_CRM_ID, value="C-9", namespace="salesforce"),
                ],
                audience=pb.Audience(followers=1200, recipients=3),
                thread_id=f"{RUN}-thread-{channel}",
                intent=types.INTENT_PRAISE,
                sentiment=pb.Sentiment(score=0.6, label=pb.SENTIMENT_LABEL_POSITIVE),
                company_function=types.COMPANY_FUNCTION_PR,
                tags=["launch", "kettle"],
                sociability_degree=types.SOCIABILITY_DEGREE_OBJECTIVE,
            )
            answer = record(service, sent)
            assert answer.outcome == pb.RECORD_OUTCOME_RECORDED
            assert answer.touchpoint_id == tp_id(external)
            got = get(service, answer.touchpoint_id)
            assert (got.channel, got.kind, got.direction, got.visibility) == (
                sent.channel,
                sent.kind,
                sent.direction,
                sent.visibility,
            )
            assert got.occurred_at == sent.occurred_at
            assert (got.source.system, got.source.external_id, got.source.url) == (
                "zendesk",
                sent.source.external_id,
                sent.source.url,
            )
            assert list(got.actors) == list(sent.actors)
            assert got.audience == sent.audience
            assert got.content == sent.content
            assert got.thread_id == sent.thread_id
            assert (got.intent, got.sentiment.label, got.company_function) == (
                types.INTENT_PRAISE,
                pb.SENTIMENT_LABEL_POSITIVE,
                types.COMPANY_FUNCTION_PR,
            )
            assert got.sentiment.score == pytest.approx(0.6)
            assert got.sociability_degree == types.SOCIABILITY_DEGREE_OBJECTIVE
            assert list(got.tags) == ["launch", "kettle"]
            assert list(got.inferred_fields) == []
    listed = service.stub.ListTouchpoints(
        pb.ListTouchpointsRequest(
            actor=types.Identifier(type=types.IDENTIFIER_TYPE_CRM_ID, value="C-9", namespace="salesforce"),
            page_size=1000,
        )
    )
    assert {t.touchpoint_id for t in listed.touchpoints} >= {tp_id(f"ch-{c}-{k}") for c in CHANNELS for k in KINDS}


def test_what_the_caller_did_not_say_is_inferred_and_marked(service: Service) -> None:
    answer = record(
        service,
        item(
            "infer",
            channel=types.CHANNEL_X,
            visibility=types.VISIBILITY_PUBLIC,
            content=pb.Content(text="@acme why is my kettle still broken after the repair?"),
        ),
    )
    assert set(answer.inferred_fields) == {"intent", "sentiment", "sociability_degree"}
    got = get(service, answer.touchpoint_id)
    assert got.intent == types.INTENT_COMPLAINT
    assert got.sentiment.label == pb.SENTIMENT_LABEL_NEGATIVE
    assert got.sociability_degree == types.SOCIABILITY_DEGREE_SOCIAL_PRESSURE
    assert set(got.inferred_fields) == {"intent", "sentiment", "sociability_degree"}


def test_the_same_touchpoint_recorded_twice_is_stored_once(service: Service) -> None:
    first = record(service, item("twice"))
    again = record(service, item("twice", content=pb.Content(text="a different text")))
    by_client_id = str(uuid.uuid4())
    plain = item("unused", source=pb.Source(), touchpoint_id=by_client_id)
    assert record(service, plain).outcome == pb.RECORD_OUTCOME_RECORDED
    assert record(service, plain).outcome == pb.RECORD_OUTCOME_ALREADY_RECORDED
    assert first.outcome == pb.RECORD_OUTCOME_RECORDED
    assert again.outcome == pb.RECORD_OUTCOME_ALREADY_RECORDED
    assert again.touchpoint_id == first.touchpoint_id
    assert len(events_of(service.app, first.touchpoint_id)) == 1
    assert len(events_of(service.app, by_client_id)) == 1
    assert get(service, first.touchpoint_id).content.text == "My kettle arrived with a cracked lid."


def test_the_same_touchpoint_is_stored_once_also_after_the_dedup_window(
    nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("dedup")
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp / 'views.db'}", duplicate_window_seconds=1)
    own = TouchpointsSettings(app_name=f"tp_dedup_{RUN}")
    assert settings.eventstore_env(own.app_name)["NATS_DUPLICATE_WINDOW"] == "1"
    with served(settings, own) as short:
        first = record(short, item("window"))
        batch_first = short.stub.RecordTouchpointBatch(
            pb.RecordTouchpointBatchRequest(touchpoints=[item("window-b1"), item("window-b2")])
        )
        wait_out_duplicate_window(nats_url, 1)  # JetStream no longer remembers the message ids
        # The repeats go to another replica (own views, own recorder): nothing it remembers can answer for it.
        replica_settings = Settings(
            nats_url=nats_url, views_url=f"sqlite:///{tmp / 'replica-views.db'}", duplicate_window_seconds=1
        )
        with served(replica_settings, own) as other:
            again = record(other, item("window"))
            batch_again = other.stub.RecordTouchpointBatch(
                pb.RecordTouchpointBatchRequest(touchpoints=[item("window-b1"), item("window-b3"), item("window-b2")])
            )
        assert first.outcome == pb.RECORD_OUTCOME_RECORDED
        assert (again.outcome, again.touchpoint_id) == (pb.RECORD_OUTCOME_ALREADY_RECORDED, first.touchpoint_id)
        assert batch_first.recorded_count == 2
        assert [r.outcome for r in batch_again.results] == [
            pb.RECORD_OUTCOME_ALREADY_RECORDED,
            pb.RECORD_OUTCOME_RECORDED,
            pb.RECORD_OUTCOME_ALREADY_RECORDED,
        ]
        for external in ("window", "window-b1", "window-b2", "window-b3"):
            assert len(events_of(short.app, tp_id(external))) == 1
        assert len(short.app.recorder.select_notifications(None, 100)) == 4


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"actors": []}, "touchpoint.actors"),
        ({"channel": 99}, "touchpoint.channel"),
        ({"kind": 0}, "touchpoint.kind"),
        ({"kind": 42}, "touchpoint.kind"),
        ({"occurred_at": _stamp(NOW + timedelta(hours=1))}, "touchpoint.occurred_at"),
        ({"content": pb.Content(text="x" * 2001)}, "touchpoint.content.text"),
        (
            {"reply_to": pb.ReplyTo(source=pb.SourceReference(system="zendesk", external_id=f"{RUN}-self"))},
            "touchpoint.reply_to",
        ),
        ({"source": pb.Source()}, "touchpoint.touchpoint_id"),
        ({"rating": 0}, "touchpoint.rating"),
        ({"rating": 6}, "touchpoint.rating"),
    ],
)
def test_bad_input_is_invalid_argument_naming_the_field(service: Service, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        record(service, item("self", **changes))
    assert field in bad_fields(caught.value)
    assert events_of(service.app, tp_id("self")) == []


def test_a_batch_records_the_good_items_and_rejects_the_bad_with_index_and_reason(service: Service) -> None:
    answer = service.stub.RecordTouchpointBatch(
        pb.RecordTouchpointBatchRequest(
            touchpoints=[
                item("b-0"),
                item("b-1", actors=[]),
                item("b-2"),
                item("b-0"),
                item("b-4", channel=77),
            ]
        )
    )
    outcomes = [(r.index, r.outcome) for r in answer.results]
    assert outcomes == [
        (0, pb.RECORD_OUTCOME_RECORDED),
        (1, pb.RECORD_OUTCOME_REJECTED),
        (2, pb.RECORD_OUTCOME_RECORDED),
        (3, pb.RECORD_OUTCOME_ALREADY_RECORDED),
        (4, pb.RECORD_OUTCOME_REJECTED),
    ]
    assert [v.field for v in answer.results[1].violations] == ["actors"]
    assert [v.field for v in answer.results[4].violations] == ["channel"]
    assert (answer.recorded_count, answer.already_recorded_count, answer.rejected_count) == (2, 1, 2)
    assert answer.results[3].touchpoint_id == answer.results[0].touchpoint_id == tp_id("b-0")
    assert events_of(service.app, tp_id("b-1")) == []
    assert get(service, tp_id("b-2")).touchpoint_id == tp_id("b-2")


def stored_at(service: Service, position: int) -> str:
    """The touchpoint whose event is stored at notification id ``position``."""
    (notification,) = service.app.recorder.select_notifications(position, 1)
    assert notification.id == position
    return str(notification.originator_id)


def test_batch_and_stream_answers_carry_each_recorded_items_stream_position_like_the_unary_one(
    service: Service,
) -> None:
    unary = record(service, item("pos-unary"))
    assert stored_at(service, unary.position) == unary.touchpoint_id
    batch = service.stub.RecordTouchpointBatch(
        pb.RecordTouchpointBatchRequest(touchpoints=[item("pos-b0"), item("pos-b1", actors=[]), item("pos-b2")])
    ).results
    streamed = [
        r
        for response in service.stub.RecordTouchpointStream(stream_of([item("pos-s0"), item("pos-b0"), item("pos-s2")]))
        for r in response.results
    ]
    for answers in (batch, streamed):
        recorded = [a for a in answers if a.outcome == pb.RECORD_OUTCOME_RECORDED]
        assert len(recorded) == 2
        for answer in recorded:
            assert answer.position > unary.position
            assert stored_at(service, answer.position) == answer.touchpoint_id
        assert [a.position for a in answers if a.outcome != pb.RECORD_OUTCOME_RECORDED] == [0]


def test_a_batch_over_its_maximum_is_refused_whole(service: Service) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        service.stub.RecordTouchpointBatch(
            pb.RecordTouchpointBatchRequest(touchpoints=[item(f"big-{n}") for n in range(501)])
        )
    assert "touchpoints" in bad_fields(caught.value)
    assert events_of(service.app, tp_id("big-0")) == []


# -------------------------------------------------------------------------------------------------- streaming


def stream_of(items: list[pb.TouchpointInput]) -> Iterator[pb.RecordTouchpointStreamRequest]:
    for touchpoint in items:
        yield pb.RecordTouchpointStreamRequest(touchpoint=touchpoint)


def test_a_stream_answers_every_item_in_order_good_and_bad(service: Service) -> None:
    items = [item(f"s-{n}") for n in range(300)]
    items[7] = item("s-7", actors=[])
    items[100] = item("s-100", occurred_at=_stamp(NOW + timedelta(days=2)))
    items[200] = item("s-0")  # the same as item 0
    answers = [r for response in service.stub.RecordTouchpointStream(stream_of(items)) for r in response.results]
    assert [a.index for a in answers] == list(range(300))
    rejected = {a.index: [v.field for v in a.violations] for a in answers if a.outcome == pb.RECORD_OUTCOME_REJECTED}
    assert rejected == {7: ["actors"], 100: ["occurred_at"]}
    assert answers[200].outcome == pb.RECORD_OUTCOME_ALREADY_RECORDED
    assert answers[200].touchpoint_id == answers[0].touchpoint_id
    recorded = [a for a in answers if a.outcome == pb.RECORD_OUTCOME_RECORDED]
    assert len(recorded) == 297
    for answer in recorded[::37]:
        assert get(service, answer.touchpoint_id).touchpoint_id == answer.touchpoint_id


def test_a_stream_client_may_wait_for_each_answer_before_sending_the_next(service: Service) -> None:
    answered: queue.Queue[pb.RecordResult] = queue.Queue()

    def one_at_a_time() -> Iterator[pb.RecordTouchpointStreamRequest]:
        for n in range(5):
            yield pb.RecordTouchpointStreamRequest(touchpoint=item(f"lockstep-{n}"))
            answered.get(timeout=10)  # the next is sent only once this one is answered

    results = []
    for response in service.stub.RecordTouchpointStream(one_at_a_time(), timeout=30):
        for result in response.results:
            results.append(result)
            answered.put(result)
    assert [(r.index, r.outcome) for r in results] == [(n, pb.RECORD_OUTCOME_RECORDED) for n in range(5)]


class Gate:
    """A request stream that sends ``first`` items, then waits until released (or the call is cancelled)."""

    def __init__(self, items: list[pb.TouchpointInput], first: int) -> None:
        self.items = items
        self.first = first
        self.release = threading.Event()

    def __iter__(self) -> Iterator[pb.RecordTouchpointStreamRequest]:
        for n, touchpoint in enumerate(self.items):
            if n == self.first:
                self.release.wait(timeout=30)
            yield pb.RecordTouchpointStreamRequest(touchpoint=touchpoint)


def test_a_client_that_disconnects_mid_stream_loses_nothing_acknowledged_and_may_resend(service: Service) -> None:
    items = [item(f"d-{n}") for n in range(120)]
    gate = Gate(items, first=50)
    call = service.stub.RecordTouchpointStream(iter(gate))
    acknowledged = []
    for response in call:
        acknowledged.extend(response.results)
        if len(acknowledged) >= 40:
            call.cancel()  # the client goes away with 10 items sent and unanswered, 70 never sent
            break
    gate.release.set()
    assert all(a.outcome == pb.RECORD_OUTCOME_RECORDED for a in acknowledged)
    for answer in acknowledged:
        assert len(events_of(service.app, answer.touchpoint_id)) == 1

    resent = [r for response in service.stub.RecordTouchpointStream(stream_of(items)) for r in response.results]
    assert len(resent) == 120
    assert 40 <= len(acknowledged) <= 50
    assert all(r.outcome == pb.RECORD_OUTCOME_ALREADY_RECORDED for r in resent[: len(acknowledged)])
    assert all(r.outcome in (pb.RECORD_OUTCOME_RECORDED, pb.RECORD_OUTCOME_ALREADY_RECORDED) for r in resent)
    assert sum(r.outcome == pb.RECORD_OUTCOME_RECORDED for r in resent) >= 70
    for n in range(120):
        assert len(events_of(service.app, tp_id(f"d-{n}"))) == 1


def test_concurrent_streams_with_the_same_items_store_each_once(service: Service) -> None:
    items = [item(f"c-{n}") for n in range(200)]
    results: list[list[pb.RecordResult]] = [[], []]

    def send(slot: int, order: list[pb.TouchpointInput]) -> None:
        results[slot] = [
            r for response in service.stub.RecordTouchpointStream(stream_of(order)) for r in response.results
        ]

    threads = [threading.Thread(target=send, args=(0, items)), threading.Thread(target=send, args=(1, items[::-1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    recorded: dict[str, int] = {}
    for answers in results:
        assert len(answers) == 200
        for answer in answers:
            assert answer.outcome in (pb.RECORD_OUTCOME_RECORDED, pb.RECORD_OUTCOME_ALREADY_RECORDED)
            if answer.outcome == pb.RECORD_OUTCOME_RECORDED:
                recorded[answer.touchpoint_id] = recorded.get(answer.touchpoint_id, 0) + 1
    assert recorded == {tp_id(f"c-{n}"): 1 for n in range(200)}
    for n in range(0, 200, 13):
        assert len(events_of(service.app, tp_id(f"c-{n}"))) == 1


# -------------------------------------------------------------------------------------------------- threads


def test_a_reply_that_arrives_before_its_parent_links_up_with_the_response_time(service: Service) -> None:
    thread = f"{RUN}-conversation"
    asked = NOW - timedelta(hours=2)
    reply = record(
        service,
        item(
            "reply",
            direction=types.DIRECTION_OUTBOUND,
            occurred_at=_stamp(asked + timedelta(minutes=45)),
            actors=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="help@acme.example")],
            reply_to=pb.ReplyTo(source=pb.SourceReference(system="ZENDESK", external_id=f"{RUN}-question")),
            content=pb.Content(text="Sorry about that: a new lid is on its way."),
        ),
    )
    assert not get(service, reply.touchpoint_id).HasField("reply_link")  # the parent is not there yet
    parent = record(service, item("question", occurred_at=_stamp(asked), thread_id=thread))
    later = record(
        service,
        item(
            "follow-up",
            occurred_at=_stamp(asked + timedelta(hours=1)),
            reply_to=pb.ReplyTo(touchpoint_id=reply.touchpoint_id),
            content=pb.Content(text="Thanks, got it!"),
        ),
    )

    def linked() -> tuple[pb.Touchpoint, pb.Touchpoint, pb.Touchpoint]:
        got_reply, got_parent, got_later = (
            get(service, i) for i in (reply.touchpoint_id, parent.touchpoint_id, later.touchpoint_id)
        )
        assert got_reply.HasField("reply_link")
        assert got_later.HasField("reply_link")
        assert got_parent.HasField("first_response_time")
        return got_reply, got_parent, got_later

    got_reply, got_parent, got_later = eventually(linked)
    assert got_reply.reply_to_touchpoint_id == parent.touchpoint_id
    assert got_reply.reply_link.parent_touchpoint_id == parent.touchpoint_id
    assert got_reply.reply_link.response_time.ToTimedelta() == timedelta(minutes=45)
    assert got_reply.reply_link.company_response
    assert got_parent.first_response_time.ToTimedelta() == timedelta(minutes=45)
    assert got_reply.thread_id == thread  # inherited from the parent
    assert got_later.reply_link.response_time.ToTimedelta() == timedelta(minutes=15)
    assert not got_later.reply_link.company_response
    assert [e.originator_version for e in events_of(service.app, reply.touchpoint_id)] == [1, 2]

    def whole_thread() -> None:
        listed = service.stub.ListTouchpoints(pb.ListTouchpointsRequest(thread_id=thread))
        assert [t.touchpoint_id for t in listed.touchpoints] == [
            later.touchpoint_id,
            reply.touchpoint_id,
            parent.touchpoint_id,
        ]

    eventually(whole_thread)


# -------------------------------------------------------------------------------------------------- queries


def test_lists_page_through_an_actors_touchpoints_newest_first(service: Service) -> None:
    actor = types.Identifier(type=types.IDENTIFIER_TYPE_PHONE, value="+441632960001")
    for n in range(7):
        record(
            service,
            item(
                f"p-{n}",
                actors=[actor],
                occurred_at=_stamp(NOW - timedelta(minutes=n)),
                channel=types.CHANNEL_PHONE if n % 2 else types.CHANNEL_CHAT,
            ),
        )
    pages: list[list[str]] = []
    token = ""
    while True:
        page = service.stub.ListTouchpoints(pb.ListTouchpointsRequest(actor=actor, page_size=3, page_token=token))
        pages.append([t.touchpoint_id for t in page.touchpoints])
        token = page.next_page_token
        if not token:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == [tp_id(f"p-{n}") for n in range(7)]

    phone_only = service.stub.ListTouchpoints(pb.ListTouchpointsRequest(actor=actor, channel=types.CHANNEL_PHONE))
    assert [t.touchpoint_id for t in phone_only.touchpoints] == [tp_id(f"p-{n}") for n in (1, 3, 5)]
    window = service.stub.ListTouchpoints(
        pb.ListTouchpointsRequest(
            actor=actor,
            occurred_after=_stamp(NOW - timedelta(minutes=4)),
            occurred_before=_stamp(NOW - timedelta(minutes=1)),
        )
    )
    assert [t.touchpoint_id for t in window.touchpoints] == [tp_id(f"p-{n}") for n in (2, 3, 4)]

    first = service.stub.ListTouchpoints(pb.ListTouchpointsRequest(actor=actor, page_size=3))
    with pytest.raises(grpc.RpcError) as caught:
        service.stub.ListTouchpoints(
            pb.ListTouchpointsRequest(
                actor=actor, channel=types.CHANNEL_PHONE, page_size=3, page_token=first.next_page_token
            )
        )
    assert bad_fields(caught.value) == {"page_token"}


def test_get_by_source_and_unknown_ids(service: Service) -> None:
    record(service, item("by-source"))
    got = service.stub.GetTouchpoint(
        pb.GetTouchpointRequest(source=pb.SourceReference(system="Zendesk", external_id=f"{RUN}-by-source"))
    ).touchpoint
    assert got.touchpoint_id == tp_id("by-source")
    with pytest.raises(grpc.RpcError) as caught:
        get(service, str(uuid.uuid4()))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_an_inferred_value_is_corrected_by_a_reclassification_with_reason_and_actor(service: Service) -> None:
    answer = record(service, item("fix", content=pb.Content(text="Can I send this back?")))
    assert get(service, answer.touchpoint_id).intent == types.INTENT_QUESTION
    corrected = service.stub.ReclassifyTouchpoint(
        pb.ReclassifyTouchpointRequest(
            touchpoint_id=answer.touchpoint_id, intent=types.INTENT_COMPLAINT, reason="refund request", actor="agent:17"
        )
    ).touchpoint
    assert corrected.intent == types.INTENT_COMPLAINT
    assert "intent" not in corrected.inferred_fields
    (correction,) = corrected.reclassifications
    assert (correction.field, correction.value, correction.previous_value, correction.reason, correction.actor) == (
        "intent",
        "complaint",
        "question",
        "refund request",
        "agent:17",
    )
    listed = service.stub.ListTouchpoints(
        pb.ListTouchpointsRequest(
            thread_id="",
            actor=types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="jane@example.org"),
            page_size=1000,
        )
    )
    (indexed,) = [t for t in listed.touchpoints if t.touchpoint_id == answer.touchpoint_id]
    assert indexed.intent == types.INTENT_COMPLAINT
    with pytest.raises(grpc.RpcError) as caught:
        service.stub.ReclassifyTouchpoint(
            pb.ReclassifyTouchpointRequest(
                touchpoint_id=answer.touchpoint_id, intent=types.INTENT_PRAISE, reason="", actor="agent:17"
            )
        )
    assert "reason" in bad_fields(caught.value)


# -------------------------------------------------------------------------------------------------- enrichment roads


def forum_thread(road: str) -> list[pb.TouchpointInput]:
    """Five public forum posts by five people in one thread (a fresh thread per road)."""
    texts = [
        "Has anyone got the kettle to stop beeping?",
        "Same here, it beeps twice.",
        "Mine is fine after the update.",
        "Which update do you mean?",
        "The one from last week.",
    ]
    return [
        item(
            f"road-{road}-{n}",
            kind=types.TOUCHPOINT_KIND_NON_TOUCHPOINT,
            channel=types.CHANNEL_FORUM,
            visibility=types.VISIBILITY_PUBLIC,
            thread_id=f"{RUN}-road-{road}",
            actors=[types.Identifier(type=types.IDENTIFIER_TYPE_FORUM_USER, value=f"member{n}")],
            content=pb.Content(text=text, language="en"),
        )
        for n, text in enumerate(texts)
    ]


def inferred_values(service: Service, answers: list[Any]) -> list[tuple[Any, ...]]:
    values = []
    for answer in answers:
        assert answer.outcome == pb.RECORD_OUTCOME_RECORDED
        got = get(service, answer.touchpoint_id)
        values.append(
            (
                got.sociability_degree,
                got.intent,
                got.sentiment.label,
                round(got.sentiment.score, 6),
                tuple(sorted(got.inferred_fields)),
            )
        )
    return values


def test_enrichment_gives_the_same_values_whichever_road_the_items_took(service: Service) -> None:
    # A stream of one-item micro-batches: each is prepared while the one before it is being appended.
    fast = (
        pb_grpc.add_TouchpointServiceServicer_to_server,
        TouchpointServicer(service.app, stream_max_batch=1),
        SERVICE_NAME,
    )
    by_road: dict[str, list[tuple[Any, ...]]] = {}
    by_road["unary"] = inferred_values(service, [record(service, one) for one in forum_thread("unary")])
    batch = service.stub.RecordTouchpointBatch(pb.RecordTouchpointBatchRequest(touchpoints=forum_thread("batch")))
    by_road["batch"] = inferred_values(service, list(batch.results))
    with running_server([fast]) as (channel, _port):
        answers = [
            r
            for response in pb_grpc.TouchpointServiceStub(channel).RecordTouchpointStream(
                stream_of(forum_thread("fast"))
            )
            for r in response.results
        ]
    by_road["fast stream"] = inferred_values(service, answers)
    answered: queue.Queue[pb.RecordResult] = queue.Queue()

    def one_at_a_time() -> Iterator[pb.RecordTouchpointStreamRequest]:
        for touchpoint in forum_thread("slow"):
            yield pb.RecordTouchpointStreamRequest(touchpoint=touchpoint)
            answered.get(timeout=10)

    slow = []
    for response in service.stub.RecordTouchpointStream(one_at_a_time(), timeout=30):
        for result in response.results:
            slow.append(result)
            answered.put(result)
    by_road["slow stream"] = inferred_values(service, slow)

    degrees = [values[0] for values in by_road["unary"]]
    assert degrees[3:] == [types.SOCIABILITY_DEGREE_COMMUNITY] * 2  # the fourth person makes it a community
    assert types.SOCIABILITY_DEGREE_COMMUNITY not in degrees[:3]
    for road, values in by_road.items():
        assert values == by_road["unary"], road


def test_a_thread_counts_what_was_acknowledged_before_the_index_has_applied_it(nats_url: str, tmp_path: Path) -> None:
    """A stream acknowledges before its items reach the index: a later item still counts them in its thread."""
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp_path / 'views.db'}")
    name = f"tp_lag_{RUN}"
    index = TouchpointIndex(settings.views_url)
    app = TouchpointsApplication(
        env={**settings.eventstore_env(name), "MAPPER_TOPIC": MAPPER_TOPIC},
        name=name,
        policy=RecordingPolicy(read_your_writes_timeout=0),
        index=index,
    )
    app.index_runner = touchpoint_runner(app, index)  # never started: the index applies nothing
    try:
        drafts = [draft_of(one) for one in forum_thread("lag")]
        app.record_batch(drafts[:3], wait=False)
        for draft in drafts[3:]:
            app.record(draft, wait=False)
        degrees = [app.get(touchpoint_id_for(d.source_system, d.external_id))["sociability_degree"] for d in drafts]
        assert degrees[3:] == ["community", "community"]
        # Three people, one of them again under another spelling of the same handle: not yet a community.
        spelt = [
            draft_of(
                item(
                    f"lag-x-{n}",
                    kind=types.TOUCHPOINT_KIND_NON_TOUCHPOINT,
                    channel=types.CHANNEL_X,
                    visibility=types.VISIBILITY_PUBLIC,
                    thread_id=f"{RUN}-lag-x",
                    actors=[types.Identifier(type=types.IDENTIFIER_TYPE_X, value=handle)],
                )
            )
            for n, handle in enumerate(["@Baker1", "@Baker2", "@Baker3", "baker1"])
        ]
        app.record_batch(spelt[:3], wait=False)
        app.record(spelt[3], wait=False)
        assert app.get(touchpoint_id_for("zendesk", f"{RUN}-lag-x-3"))["sociability_degree"] != "community"
    finally:
        app.close()
        index.close()


def reclassify_sentiment(service: Service, touchpoint_id: str, sentiment: pb.Sentiment) -> pb.Touchpoint:
    return service.stub.ReclassifyTouchpoint(
        pb.ReclassifyTouchpointRequest(
            touchpoint_id=touchpoint_id, sentiment=sentiment, reason="read it", actor="agent:3"
        )
    ).touchpoint


def test_a_sentiment_correction_leaves_a_label_and_a_score_that_agree(service: Service) -> None:
    answer = record(service, item("sentiment-fix", content=pb.Content(text="Great, it broke again. Thanks a lot.")))
    touchpoint_id = answer.touchpoint_id
    # A score alone: its label follows from it.
    got = reclassify_sentiment(service, touchpoint_id, pb.Sentiment(score=-0.7))
    assert (got.sentiment.label, got.sentiment.score) == (pb.SENTIMENT_LABEL_NEGATIVE, pytest.approx(-0.7))
    assert get(service, touchpoint_id).sentiment.label == pb.SENTIMENT_LABEL_NEGATIVE
    # A label alone that the score contradicts: the score moves to the nearest one of that label.
    got = reclassify_sentiment(service, touchpoint_id, pb.Sentiment(label=pb.SENTIMENT_LABEL_POSITIVE))
    assert (got.sentiment.label, got.sentiment.score) == (pb.SENTIMENT_LABEL_POSITIVE, pytest.approx(0.05))
    got = reclassify_sentiment(service, touchpoint_id, pb.Sentiment(label=pb.SENTIMENT_LABEL_NEUTRAL))
    assert (got.sentiment.label, got.sentiment.score) == (pb.SENTIMENT_LABEL_NEUTRAL, pytest.approx(0.0))
    # A label alone that agrees with the score keeps the score.
    reclassify_sentiment(service, touchpoint_id, pb.Sentiment(score=-0.7))
    got = reclassify_sentiment(service, touchpoint_id, pb.Sentiment(label=pb.SENTIMENT_LABEL_NEGATIVE))
    assert (got.sentiment.label, got.sentiment.score) == (pb.SENTIMENT_LABEL_NEGATIVE, pytest.approx(-0.7))
    # A label and a score that contradict each other are refused, naming the score.
    with pytest.raises(grpc.RpcError) as caught:
        reclassify_sentiment(service, touchpoint_id, pb.Sentiment(label=pb.SENTIMENT_LABEL_POSITIVE, score=-0.4))
    assert bad_fields(caught.value) == {"sentiment.score"}


def review(external_id: str, text: str, **changes: Any) -> pb.TouchpointInput:
    return item(
        external_id,
        kind=types.TOUCHPOINT_KIND_NON_TOUCHPOINT,
        channel=types.CHANNEL_MARKETPLACE,
        visibility=types.VISIBILITY_PUBLIC,
        content=pb.Content(text=text, language="en"),
        actors=[types.Identifier(type=types.IDENTIFIER_TYPE_MARKETPLACE_REVIEWER, value="r-77", namespace="amazon")],
        **changes,
    )


def test_a_reviews_rating_decides_its_sentiment_and_is_kept(service: Service) -> None:
    text = "Boils fast. The lid is stiff and the handle gets a little warm, which is annoying."
    four = get(service, record(service, review("review-4", text, rating=4)).touchpoint_id)
    assert four.rating == 4
    assert (four.sentiment.label, four.sentiment.score) == (pb.SENTIMENT_LABEL_POSITIVE, pytest.approx(0.5))
    assert four.sociability_degree != types.SOCIABILITY_DEGREE_VENTING
    assert "sentiment" in four.inferred_fields
    one = get(service, record(service, review("review-1", text, rating=1)).touchpoint_id)
    assert (one.sentiment.label, one.sentiment.score) == (pb.SENTIMENT_LABEL_NEGATIVE, pytest.approx(-1.0))
    unrated = get(service, record(service, review("review-none", text)).touchpoint_id)
    assert not unrated.HasField("rating")
    told = get(
        service,
        record(
            service,
            review("review-told", text, rating=2, sentiment=pb.Sentiment(label=pb.SENTIMENT_LABEL_NEUTRAL, score=0.0)),
        ).touchpoint_id,
    )
    assert (told.rating, told.sentiment.label) == (2, pb.SENTIMENT_LABEL_NEUTRAL)  # the caller's word stands
    batch = service.stub.RecordTouchpointBatch(
        pb.RecordTouchpointBatchRequest(
            touchpoints=[review("review-b0", text, rating=5), review("review-b1", text, rating=9)]
        )
    )
    assert [r.outcome for r in batch.results] == [pb.RECORD_OUTCOME_RECORDED, pb.RECORD_OUTCOME_REJECTED]
    assert [v.field for v in batch.results[1].violations] == ["rating"]


# ------------------------------------------------------------------------- times outside the Timestamp range

OUT_OF_RANGE = [
    timestamp_pb2.Timestamp(seconds=2**62),
    timestamp_pb2.Timestamp(seconds=253_402_300_800),  # year 10000
    timestamp_pb2.Timestamp(seconds=-62_135_596_801),  # year 0
    timestamp_pb2.Timestamp(seconds=1_800_000_000, nanos=-1),
    timestamp_pb2.Timestamp(seconds=1_800_000_000, nanos=1_000_000_000),
]


def test_a_time_outside_the_range_is_refused_on_occurred_at(service: Service) -> None:
    for n, stamp in enumerate(OUT_OF_RANGE):
        with pytest.raises(grpc.RpcError) as raised:
            record(service, item(f"range-unary-{n}", occurred_at=stamp))
        assert bad_fields(raised.value) == {"touchpoint.occurred_at"}


def test_a_batch_rejects_the_items_with_times_out_of_range_and_records_their_neighbours(service: Service) -> None:
    items = [item(f"range-batch-{n}") for n in range(2 * len(OUT_OF_RANGE) + 1)]
    for n, stamp in enumerate(OUT_OF_RANGE):
        items[2 * n + 1] = item(f"range-batch-{2 * n + 1}", occurred_at=stamp)

    answer = service.stub.RecordTouchpointBatch(pb.RecordTouchpointBatchRequest(touchpoints=items))

    rejected = {
        r.index: [v.field for v in r.violations] for r in answer.results if r.outcome == pb.RECORD_OUTCOME_REJECTED
    }
    assert rejected == {2 * n + 1: ["occurred_at"] for n in range(len(OUT_OF_RANGE))}
    for result in answer.results:
        if result.index % 2 == 0:
            assert result.outcome == pb.RECORD_OUTCOME_RECORDED
            assert get(service, result.touchpoint_id).touchpoint_id == result.touchpoint_id


def test_a_stream_rejects_the_items_with_times_out_of_range_and_answers_everything_after(service: Service) -> None:
    items = [item(f"range-stream-{n}") for n in range(48)]
    for n, stamp in enumerate(OUT_OF_RANGE):
        items[3 + 7 * n] = item(f"range-stream-{3 + 7 * n}", occurred_at=stamp)

    answers = [r for response in service.stub.RecordTouchpointStream(stream_of(items)) for r in response.results]

    assert [a.index for a in answers] == list(range(48))
    rejected = {a.index for a in answers if a.outcome == pb.RECORD_OUTCOME_REJECTED}
    assert rejected == {3 + 7 * n for n in range(len(OUT_OF_RANGE))}
    assert all(a.violations[0].field == "occurred_at" for a in answers if a.index in rejected)
    for answer in answers:
        if answer.index not in rejected:
            assert get(service, answer.touchpoint_id).touchpoint_id == answer.touchpoint_id


def test_list_filters_with_times_out_of_range_are_invalid_argument_naming_the_filter(service: Service) -> None:
    for stamp in OUT_OF_RANGE:
        for name in ("occurred_after", "occurred_before"):
            with pytest.raises(grpc.RpcError) as raised:
                service.stub.ListTouchpoints(pb.ListTouchpointsRequest(thread_id="t", **{name: stamp}))
            assert bad_fields(raised.value) == {name}

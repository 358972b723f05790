"""The gRPC face of the touchpoints service: protobuf <-> primitives, nothing else.

Errors are raised as ``services.common.errors`` kinds and mapped to statuses by the runtime's interceptors.
Unary requests are validated by the runtime; batch and stream items are validated here one by one
(``services.common.validation.violations``) and then by the domain (``TouchpointDraft.check``), so one bad item
is answered REJECTED and the others are recorded. The domain's refusals name its own words (``reply_to_id``,
``actor_value`` of item 2); :data:`FIELD_OF` and :data:`RECLASSIFICATION_FIELD_OF` turn each into the field path
of the request (one place).

The stream (``RecordTouchpointStream``) reads the client's messages in a thread of its own into a bounded inbox
and records whatever has arrived as one micro-batch (one atomic append), then answers each of its items, in
order, in one response message, once the append is durable. Two micro-batches overlap: while one is being
enriched and appended (a commit thread per stream), the next one is checked; answers still leave in stream
order. Batches grow with the load, so the per-append cost is shared. A client that disconnects loses nothing
that was answered; anything unanswered may or may not be stored, and sending it again is safe (ids are
idempotent).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import grpc
import structlog
from google.protobuf import duration_pb2, timestamp_pb2

from chorus.common.v1 import types_pb2
from chorus.touchpoints.v1 import touchpoint_service_pb2 as pb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as pb_grpc
from services.common.contracts import EnumWords, from_timestamp
from services.common.errors import FieldViolation, InvalidArgument
from services.common.grpc_runtime import Registration
from services.common.grpc_runtime.decoding import Undecodable, per_item
from services.common.grpc_runtime.streams import answer_in_micro_batches
from services.common.identifiers import Identifier
from services.common.records import made_of, pick
from services.common.validation import violations
from services.touchpoints.application import (
    ALREADY_RECORDED,
    MAX_BATCH,
    RECORDED,
    REJECTED,
    ItemOutcome,
    PreparedBatch,
    ThreadContext,
    TouchpointsApplication,
)
from services.touchpoints.domain import (
    InvalidReclassification,
    InvalidTouchpoint,
    TouchpointDraft,
    Violation,
)

log = structlog.get_logger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["TouchpointService"].full_name

STREAM_MAX_BATCH = MAX_BATCH
"""Most items one stream micro-batch appends at once."""
STREAM_INBOX = 4 * STREAM_MAX_BATCH
"""Messages a stream reads ahead of its appends (back-pressure beyond that: the client's sends wait)."""


KIND = EnumWords(types_pb2.TouchpointKind.DESCRIPTOR)
CHANNEL = EnumWords(types_pb2.Channel.DESCRIPTOR)
DIRECTION = EnumWords(types_pb2.Direction.DESCRIPTOR)
VISIBILITY = EnumWords(types_pb2.Visibility.DESCRIPTOR)
INTENT = EnumWords(types_pb2.Intent.DESCRIPTOR)
DEGREE = EnumWords(types_pb2.SociabilityDegree.DESCRIPTOR)
BUSINESS_DEGREE = EnumWords(types_pb2.BusinessSociabilityDegree.DESCRIPTOR)
FUNCTION = EnumWords(types_pb2.CompanyFunction.DESCRIPTOR)
IDENTIFIER_TYPE = EnumWords(types_pb2.IdentifierType.DESCRIPTOR)
SENTIMENT = EnumWords(pb.SentimentLabel.DESCRIPTOR)
OUTCOME = {
    RECORDED: pb.RECORD_OUTCOME_RECORDED,
    ALREADY_RECORDED: pb.RECORD_OUTCOME_ALREADY_RECORDED,
    REJECTED: pb.RECORD_OUTCOME_REJECTED,
}

FIELD_OF: Mapping[str, str] = {
    "source_system": "source.system",
    "external_id": "source.external_id",
    "external_url": "source.url",
    "text": "content.text",
    "language": "content.language",
    "followers": "audience.followers",
    "recipients": "audience.recipients",
    "sentiment_label": "sentiment.label",
    "sentiment_score": "sentiment.score",
    "reply_to_id": "reply_to.touchpoint_id",
    "reply_to_source": "reply_to.source",
    "reply_to_source_system": "reply_to.source.system",
    "reply_to_external_id": "reply_to.source.external_id",
    "actor_type": "actors[{item}].type",
    "actor_value": "actors[{item}].value",
    "actor_namespace": "actors[{item}].namespace",
    "tag": "tags[{item}]",
}
"""The ``TouchpointInput`` field of each word a domain :class:`Violation` names (a word not here is the field's
own name: ``occurred_at``, ``actors``, ``rating``)."""

RECLASSIFICATION_FIELD_OF: Mapping[str, str] = {"field": "value", "sentiment_score": "sentiment.score"}
"""The ``ReclassifyTouchpointRequest`` field of each word an :class:`InvalidReclassification` names (``value`` is
the request's oneof of the new values)."""


def field_path(violation: Violation) -> str:
    """The path in a ``TouchpointInput`` of what ``violation`` is about: ``actor_value`` of item 2 ->
    ``actors[2].value``. A violation found by the .proto rules already names its path."""
    return FIELD_OF.get(violation.subject, violation.subject).format(item=violation.item)


def reclassification_field_path(refused: InvalidReclassification) -> str:
    """The path in a ``ReclassifyTouchpointRequest`` of what ``refused`` is about."""
    return RECLASSIFICATION_FIELD_OF.get(refused.subject, refused.subject)


def invalid_touchpoint(refused: InvalidTouchpoint) -> InvalidArgument:
    """The INVALID_ARGUMENT answer to a refused ``RecordTouchpointRequest``, naming each field under
    ``touchpoint.``."""
    violations = [FieldViolation(f"touchpoint.{field_path(v)}", v.description) for v in refused.violations]
    summary = "; ".join(f"{v.field}: {v.description}" for v in violations)
    return InvalidArgument(f"invalid touchpoint: {summary}", violations)


# ------------------------------------------------------------------------------------------- protobuf -> domain


def draft_of(item: pb.TouchpointInput) -> TouchpointDraft:
    """The domain draft of one ``TouchpointInput`` (no checks here: ``TouchpointDraft.check`` does them)."""
    reply_to = item.reply_to
    target = reply_to.WhichOneof("target")
    sentiment = item.sentiment
    source, content, audience = item.source, item.content, item.audience  # each read once
    return made_of(
        TouchpointDraft,
        {
            "touchpoint_id": item.touchpoint_id,
            "kind": KIND.word(item.kind),
            "channel": CHANNEL.word(item.channel),
            "direction": DIRECTION.word(item.direction),
            "visibility": VISIBILITY.word(item.visibility),
            "occurred_at": from_timestamp(item.occurred_at) if item.HasField("occurred_at") else None,
            "actors": tuple(
                Identifier(type=IDENTIFIER_TYPE.word(actor.type), namespace=actor.namespace, value=actor.value)
                for actor in item.actors
            ),
            "source_system": source.system,
            "external_id": source.external_id,
            "external_url": source.url,
            "followers": audience.followers,
            "recipients": audience.recipients,
            "text": content.text,
            "language": content.language,
            "reply_to_id": reply_to.touchpoint_id if target == "touchpoint_id" else "",
            "reply_to_source_system": reply_to.source.system if target == "source" else "",
            "reply_to_external_id": reply_to.source.external_id if target == "source" else "",
            "thread_id": item.thread_id,
            "intent": INTENT.word(item.intent),
            "sentiment_label": SENTIMENT.word(sentiment.label),
            "sentiment_score": sentiment.score if sentiment.HasField("score") else None,
            "sociability_degree": DEGREE.word(item.sociability_degree),
            "business_sociability_degree": BUSINESS_DEGREE.word(item.business_sociability_degree),
            "company_function": FUNCTION.word(item.company_function),
            "tags": tuple(item.tags),
            "rating": item.rating if item.HasField("rating") else None,
        },
    )


def _datetime(stamp: timestamp_pb2.Timestamp) -> datetime:
    return from_timestamp(stamp)


# ------------------------------------------------------------------------------------------- domain -> protobuf


def _timestamp(micros: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=micros // 1_000_000, nanos=(micros % 1_000_000) * 1000)


def _duration(seconds: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(round(seconds * 1e9))
    return duration


def touchpoint_message(doc: dict[str, Any]) -> pb.Touchpoint:
    """The API message of a touchpoint's read document (``projection.document_of``)."""
    message = pb.Touchpoint(
        touchpoint_id=doc["touchpoint_id"],
        kind=KIND.number(doc["kind"]),
        channel=CHANNEL.number(doc["channel"]),
        direction=DIRECTION.number(doc["direction"]),
        visibility=VISIBILITY.number(doc["visibility"]),
        occurred_at=_timestamp(doc["occurred_us"]),
        source=pb.Source(system=doc["source_system"], external_id=doc["external_id"], url=doc["external_url"]),
        actors=[
            types_pb2.Identifier(type=IDENTIFIER_TYPE.number(a["type"]), value=a["value"], namespace=a["namespace"])
            for a in doc["actors"]
        ],
        audience=pb.Audience(followers=doc["followers"], recipients=doc["recipients"]),
        content=pb.Content(text=doc["text"], language=doc["language"]),
        reply_to_touchpoint_id=doc["reply_to_id"],
        thread_id=doc["thread_id"],
        intent=INTENT.number(doc["intent"]),
        sociability_degree=DEGREE.number(doc["sociability_degree"]),
        business_sociability_degree=BUSINESS_DEGREE.number(doc["business_sociability_degree"]),
        company_function=FUNCTION.number(doc["company_function"]),
        tags=doc["tags"],
        inferred_fields=doc["inferred"],
        record_time=_timestamp(doc["recorded_us"]),
        reclassifications=[
            pb.Reclassification(
                **pick(r, "field", "value", "previous_value", "reason", "actor"),
                reclassify_time=_timestamp(r["at_us"]),
            )
            for r in doc["reclassifications"]
        ],
    )
    if doc["sentiment_label"]:
        message.sentiment.label = SENTIMENT.number(doc["sentiment_label"])
        message.sentiment.score = doc["sentiment_score"]
    if doc.get("rating"):  # documents indexed before ratings existed have none
        message.rating = doc["rating"]
    link = doc.get("reply_link")
    if link:
        message.reply_link.CopyFrom(
            pb.ReplyLink(
                parent_touchpoint_id=link["parent_id"],
                response_time=_duration(link["response_seconds"]),
                company_response=link["company_response"],
            )
        )
    if doc.get("first_response_seconds") is not None:
        message.first_response_time.CopyFrom(_duration(doc["first_response_seconds"]))
    return message


def add_results(results: Any, outcomes: Sequence[ItemOutcome], first: int = 0) -> None:
    """Append the ``RecordResult`` of each of ``outcomes`` to the repeated field ``results``, in place (no message
    is built to be copied in), the first as item ``first``."""
    add = results.add
    for index, outcome in enumerate(outcomes, start=first):
        result = add(
            index=index,
            touchpoint_id=str(outcome.touchpoint_id) if outcome.touchpoint_id else "",
            outcome=OUTCOME[outcome.outcome],
            inferred_fields=outcome.inferred,
            position=outcome.position,
        )
        for v in outcome.violations:
            result.violations.add(field=field_path(v), description=v.description)


# ------------------------------------------------------------------------------------------- the servicer


@dataclass
class PreparedItems:
    """Items checked against their .proto rules, the rest prepared by the application (not stored yet)."""

    size: int
    rejected: dict[int, ItemOutcome]
    positions: list[int]
    prepared: PreparedBatch | None


def prepare_items(
    app: TouchpointsApplication,
    items: Sequence[pb.TouchpointInput | Undecodable],
    context: ThreadContext | None = None,
) -> PreparedItems:
    """Check each item against its .proto rules; let the application check and start enriching the rest
    (``context``: the thread context of the request's earlier items, see ``application.ThreadContext``).

    An item that did not decode (a stream frame of garbage bytes) is rejected like one that breaks a rule.
    """
    rejected: dict[int, ItemOutcome] = {}
    positions: list[int] = []
    drafts: list[TouchpointDraft] = []
    for index, item in enumerate(items):
        if isinstance(item, Undecodable):
            rejected[index] = ItemOutcome(index, REJECTED, None, (Violation("", item.description),))
            continue
        broken = violations(item)
        if broken:
            rejected[index] = ItemOutcome(
                index, REJECTED, None, tuple(Violation(v.field, v.description) for v in broken)
            )
            continue
        positions.append(index)
        drafts.append(draft_of(item))
    return PreparedItems(len(items), rejected, positions, app.prepare_batch(drafts, context) if drafts else None)


def commit_items(app: TouchpointsApplication, items: PreparedItems, *, wait: bool) -> list[ItemOutcome]:
    """Store what :func:`prepare_items` prepared; every item's outcome, in item order (an outcome's own
    ``index`` counts the items the application was given: answer each with its place in this list)."""
    if items.prepared is None:
        return [items.rejected[index] for index in range(items.size)]
    report = app.commit_batch(items.prepared, wait=wait)
    if not items.rejected:
        return report.outcomes
    outcomes = dict(items.rejected)
    outcomes.update(zip(items.positions, report.outcomes, strict=True))
    return [outcomes[index] for index in range(items.size)]


def record_items(app: TouchpointsApplication, items: Sequence[pb.TouchpointInput], *, wait: bool) -> list[ItemOutcome]:
    """Check each item against its .proto rules, then let the application record the rest as one batch."""
    return commit_items(app, prepare_items(app, items), wait=wait)


class TouchpointServicer(pb_grpc.TouchpointServiceServicer):
    """``chorus.touchpoints.v1.TouchpointService`` over a :class:`TouchpointsApplication`."""

    def __init__(self, app: TouchpointsApplication, *, stream_max_batch: int = STREAM_MAX_BATCH) -> None:
        self.app = app
        self.stream_max_batch = min(stream_max_batch, MAX_BATCH)

    def RecordTouchpoint(self, request: pb.RecordTouchpointRequest, context: grpc.ServicerContext) -> Any:
        try:
            outcome = self.app.record(draft_of(request.touchpoint))
        except InvalidTouchpoint as refused:
            raise invalid_touchpoint(refused) from None
        return pb.RecordTouchpointResponse(
            touchpoint_id=str(outcome.touchpoint_id),
            outcome=OUTCOME[outcome.outcome],
            inferred_fields=outcome.inferred,
            position=outcome.position,
        )

    def RecordTouchpointBatch(self, request: pb.RecordTouchpointBatchRequest, context: grpc.ServicerContext) -> Any:
        if len(request.touchpoints) > MAX_BATCH:
            raise InvalidArgument.field("touchpoints", f"must have at most {MAX_BATCH} items")
        outcomes = record_items(self.app, request.touchpoints, wait=True)
        counts = {RECORDED: 0, ALREADY_RECORDED: 0, REJECTED: 0}
        for outcome in outcomes:
            counts[outcome.outcome] += 1
        response = pb.RecordTouchpointBatchResponse(
            recorded_count=counts[RECORDED],
            already_recorded_count=counts[ALREADY_RECORDED],
            rejected_count=counts[REJECTED],
        )
        add_results(response.results, outcomes)
        return response

    @per_item
    def RecordTouchpointStream(
        self, request_iterator: Iterator[pb.RecordTouchpointStreamRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.RecordTouchpointStreamResponse]:
        sent = 0
        threads = ThreadContext()  # the stream's earlier items count in each later item's thread

        def prepare(batch: list[pb.RecordTouchpointStreamRequest], first: int) -> tuple[PreparedItems, int]:
            nonlocal sent
            sent += len(batch)
            return prepare_items(
                self.app,
                [message if isinstance(message, Undecodable) else message.touchpoint for message in batch],
                threads,
            ), first

        yield from answer_in_micro_batches(
            request_iterator,
            prepare=prepare,
            commit=lambda prepared: self._commit_stream_batch(*prepared),
            max_batch=self.stream_max_batch,
            capacity=STREAM_INBOX,
            name="touchpoint-stream",
        )
        log.info("touchpoints.stream_finished", items=sent)

    def _commit_stream_batch(self, prepared: PreparedItems, first: int) -> pb.RecordTouchpointStreamResponse:
        response = pb.RecordTouchpointStreamResponse()
        add_results(response.results, commit_items(self.app, prepared, wait=False), first)
        return response

    def GetTouchpoint(self, request: pb.GetTouchpointRequest, context: grpc.ServicerContext) -> Any:
        if request.WhichOneof("target") == "source":
            doc = self.app.get_by_source(request.source.system, request.source.external_id)
        else:
            doc = self.app.get(UUID(request.touchpoint_id))
        return pb.GetTouchpointResponse(touchpoint=touchpoint_message(doc))

    def ListTouchpoints(self, request: pb.ListTouchpointsRequest, context: grpc.ServicerContext) -> Any:
        actor = None
        if request.HasField("actor"):
            actor = Identifier(
                type=IDENTIFIER_TYPE.word(request.actor.type),
                namespace=request.actor.namespace,
                value=request.actor.value,
            )
        docs, next_token = self.app.list_touchpoints(
            actor=actor,
            thread_id=request.thread_id,
            channel=CHANNEL.word(request.channel),
            occurred_after=_datetime(request.occurred_after) if request.HasField("occurred_after") else None,
            occurred_before=_datetime(request.occurred_before) if request.HasField("occurred_before") else None,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListTouchpointsResponse(
            touchpoints=[touchpoint_message(doc) for doc in docs], next_page_token=next_token
        )

    def ReclassifyTouchpoint(self, request: pb.ReclassifyTouchpointRequest, context: grpc.ServicerContext) -> Any:
        which = request.WhichOneof("value")
        score: float | None = None
        if which == "sentiment":
            value = SENTIMENT.word(request.sentiment.label)
            if request.sentiment.HasField("score"):
                score = request.sentiment.score
        else:
            words = {
                "intent": INTENT,
                "sociability_degree": DEGREE,
                "business_sociability_degree": BUSINESS_DEGREE,
                "company_function": FUNCTION,
                "kind": KIND,
            }[which or ""]
            value = words.word(getattr(request, which or ""))
        try:
            doc = self.app.reclassify(
                UUID(request.touchpoint_id),
                which or "",
                value,
                reason=request.reason,
                actor=request.actor,
                sentiment_score=score,
            )
        except InvalidReclassification as refused:
            raise InvalidArgument.field(reclassification_field_path(refused), refused.description) from None
        return pb.ReclassifyTouchpointResponse(touchpoint=touchpoint_message(doc))


def registration(app: TouchpointsApplication) -> Registration:
    """What ``create_server`` needs to serve the touchpoints API over ``app``."""
    return (pb_grpc.add_TouchpointServiceServicer_to_server, TouchpointServicer(app), SERVICE_NAME)

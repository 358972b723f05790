"""The gRPC face of the experience service: protobuf <-> primitives, page tokens, nothing else.

Requests are validated by the runtime (field rules in the ``.proto``); errors are raised as
``services.common.errors`` kinds and mapped to statuses by the runtime's interceptors. Times are converted as
integer microseconds, never through ``datetime``, so no valid ``Timestamp`` can overflow here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import grpc
from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.message import Message

from chorus.common.v1 import types_pb2 as common
from chorus.experience.v1 import experience_service_pb2 as pb
from chorus.experience.v1 import experience_service_pb2_grpc as pb_grpc
from services.common.contracts import enum_words, micros_timestamp, timestamp_micros
from services.common.grpc_runtime import Registration
from services.common.pagination import decode, page_size, query_fingerprint
from services.common.records import pick
from services.experience.application import ExperienceApplication, InteractionFilter, now_us
from services.experience.domain import DAY, TALK_SHARE_GUIDANCE

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ExperienceService"].full_name
US = 1_000_000
WATCH_HEARTBEAT_SECONDS = 5.0

CHANNEL = enum_words(common.Channel.DESCRIPTOR)
KIND = enum_words(common.TouchpointKind.DESCRIPTOR)
DIRECTION = enum_words(common.Direction.DESCRIPTOR)
VISIBILITY = enum_words(common.Visibility.DESCRIPTOR)
INTENT = enum_words(common.Intent.DESCRIPTOR)
DEGREE = enum_words(common.SociabilityDegree.DESCRIPTOR)
IDENTIFIER_TYPE = enum_words(common.IdentifierType.DESCRIPTOR)
PARTY_KIND = enum_words(common.PartyKind.DESCRIPTOR)
ROLE = enum_words(common.PartyRole.DESCRIPTOR)
CONSENT = enum_words(common.ConsentStatus.DESCRIPTOR)
LENS = enum_words(pb.Lens.DESCRIPTOR)
BUCKET = enum_words(pb.Bucket.DESCRIPTOR)
SENTIMENT = {"positive": pb.SENTIMENT_POSITIVE, "neutral": pb.SENTIMENT_NEUTRAL, "negative": pb.SENTIMENT_NEGATIVE}
TREND = {"rising": pb.TREND_RISING, "steady": pb.TREND_STEADY, "falling": pb.TREND_FALLING}


# ------------------------------------------------------------------------------------------ conversions


def timestamp(us: int | None) -> timestamp_pb2.Timestamp | None:
    return None if us is None else micros_timestamp(us)


def duration(seconds: float) -> duration_pb2.Duration:
    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=round((seconds - whole) * 1e9) % 1_000_000_000)


def duration_us(us: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=us // US, nanos=(us % US) * 1000)


def identifier_message(identifier: tuple[str, str, str]) -> common.Identifier:
    type_word, namespace, value = identifier
    return common.Identifier(type=IDENTIFIER_TYPE.number(type_word), namespace=namespace, value=value)


def optional_micros(message: Any, name: str) -> int | None:
    return timestamp_micros(getattr(message, name)) if message.HasField(name) else None


def time_range(message: Any, days_back: int) -> tuple[int, int]:
    """(since, until) in microseconds from the message's ``since`` and ``until``: until now, since ``days_back``
    days before until, when they are not set."""
    until = optional_micros(message, "until") or now_us()
    since = optional_micros(message, "since")
    return (until - days_back * DAY * US if since is None else since), until


def positions(applied: dict[str, int]) -> list[pb.UpstreamPosition]:
    return [pb.UpstreamPosition(upstream=role, sequence=sequence) for role, sequence in applied.items()]


def experience_message(e: dict[str, Any]) -> pb.Experience:
    sentiment, sociability, influence = e["sentiment"], e["sociability"], e["influence"]
    at_risk, contact, responses = e["at_risk"], e["contact"], e["responses"]
    return pb.Experience(
        party_id=e["party_id"],
        merged_party_ids=e["merged_party_ids"],
        kind=PARTY_KIND.number(e["kind"]),
        display_name=e["display_name"],
        roles=[ROLE.number(role) for role in e["roles"]],
        identifiers=[identifier_message(identifier) for identifier in e["identifiers"]],
        channels=[CHANNEL.number(channel) for channel in e["channels"]],
        first_interaction=timestamp(e["first_us"]),
        last_interaction=timestamp(e["last_us"]),
        interactions=e["interactions"],
        by_channel=[pb.Count(key=key, count=count) for key, count in e["by_channel"]],
        by_kind=[pb.Count(key=key, count=count) for key, count in e["by_kind"]],
        by_intent=[pb.Count(key=key, count=count) for key, count in e["by_intent"]],
        sentiment=pb.SentimentTrend(
            points=[
                pb.SentimentPoint(week_start=timestamp(week), mean_score=mean, count=count)
                for week, mean, count in sentiment["points"]
            ],
            earlier_mean=sentiment["earlier_mean"],
            recent_mean=sentiment["recent_mean"],
            trend=TREND.get(sentiment["trend"], pb.TREND_UNSPECIFIED),
        ),
        awaiting=[
            pb.AwaitingItem(
                touchpoint_id=a["touchpoint_id"],
                channel=CHANNEL.number(a["channel"]),
                intent=INTENT.number(a["intent"]),
                occurred_at=timestamp(a["occurred_us"]),
                waiting=duration_us(a["waiting_us"]),
            )
            for a in e["awaiting"]
        ],
        responses=pb.ResponseTimes(
            answered=responses["answered"],
            median=duration(responses["median_seconds"]),
            slowest=duration(responses["slowest_seconds"]),
        ),
        sociability=pb.Sociability(
            now=DEGREE.number(sociability["now"]),
            trajectory=[
                pb.SociabilityPoint(occurred_at=timestamp(us), degree=DEGREE.number(degree))
                for us, degree in sociability["trajectory"]
            ],
            trend=TREND.get(sociability["trend"], pb.TREND_UNSPECIFIED),
            becoming_social=sociability["becoming_social"],
        ),
        influence=pb.Influence(
            score=influence["score"],
            public_interactions=influence["public_interactions"],
            max_followers=influence["max_followers"],
        ),
        contact=pb.ContactState(
            do_not_contact=contact["do_not_contact"],
            consents=[
                pb.ChannelConsent(
                    channel=CHANNEL.number(c["channel"]),
                    status=CONSENT.number(c["status"]),
                    at=timestamp(c["at_us"]),
                    from_party_id=c["party_id"],
                )
                for c in contact["consents"]
            ],
            preferred_channels=[CHANNEL.number(channel) for channel in contact["preferred_channels"]],
        ),
        at_risk=pb.AtRisk(
            at_risk=at_risk["at_risk"],
            last_inbound_at=timestamp(at_risk["last_inbound_us"]),
            last_experience_negative=at_risk["last_experience_negative"],
            quiet_for=duration_us(at_risk["quiet_us"]),
            threshold=duration_us(at_risk["threshold_us"]),
        ),
        talk=e["talk"],
        listen=e["listen"],
    )


def timeline_entry(row: dict[str, Any], identifiers: dict[str, tuple[str, str, str]]) -> pb.TimelineEntry:
    import json

    return pb.TimelineEntry(
        touchpoint_id=row["touchpoint_id"],
        occurred_at=timestamp(row["occurred_us"]),
        channel=CHANNEL.number(row["channel"]),
        kind=KIND.number(row["kind"]),
        direction=DIRECTION.number(row["direction"]),
        visibility=VISIBILITY.number(row["visibility"]),
        intent=INTENT.number(row["intent"]),
        sentiment=SENTIMENT.get(row["sentiment"], pb.SENTIMENT_UNSPECIFIED),
        sentiment_score=row["sentiment_score"] or 0.0,
        sociability_degree=DEGREE.number(row["sociability"]),
        text=row["text"],
        url=row["url"],
        thread_id=row["thread_id"],
        reply_to_id=row["reply_to_id"],
        answered=bool(row["answered"]),
        response_time=duration(row["response_seconds"]) if row["response_seconds"] is not None else None,
        inferred_fields=json.loads(row["inferred"]),
        matched_by=[identifier_message(identifiers[key]) for key in row["matched_by"] if key in identifiers],
    )


def attention_item(item: dict[str, Any]) -> pb.AttentionItem:
    return pb.AttentionItem(
        touchpoint_id=item["touchpoint_id"],
        party_id=item["party_id"] or "",
        channel=CHANNEL.number(item["channel"]),
        intent=INTENT.number(item["intent"]),
        visibility=VISIBILITY.number(item["visibility"]),
        occurred_at=timestamp(item["occurred_us"]),
        waiting=duration(item["waited_seconds"]),
        bar=duration(item["bar_seconds"]),
        score=item["score"],
        parts=[
            pb.ScorePart(
                name=p.name, value=p.value, weight=p.weight, contribution=p.contribution, explanation=p.explanation
            )
            for p in item["parts"]
        ],
        text=item["text"],
    )


# ------------------------------------------------------------------------------------------ the servicer


def _query(answer: Callable[[ExperienceServicer, Any], Message]) -> Callable[[ExperienceServicer, Any, Any], Message]:
    """The RPC of ``answer``: it waits until the views have applied the request's ``min_positions``, then answers."""

    @functools.wraps(answer)
    def rpc(servicer: ExperienceServicer, request: Any, _context: Any) -> Message:
        servicer.wait(request.min_positions)
        return answer(servicer, request)

    return rpc


class ExperienceServicer(pb_grpc.ExperienceServiceServicer):
    """Answers ``chorus.experience.v1.ExperienceService`` from an :class:`ExperienceApplication`."""

    def __init__(self, app: ExperienceApplication) -> None:
        self.app = app

    def wait(self, min_positions: Iterable[pb.UpstreamPosition]) -> None:
        """Wait until the views have applied these upstream positions (what a request's ``min_positions`` asks)."""
        self.app.wait([(p.upstream, p.sequence) for p in min_positions])

    def _party(self, selector: pb.PartySelector) -> str:
        if selector.WhichOneof("selector") == "identifier":
            i = selector.identifier
            return self.app.resolve_party(identifier=(IDENTIFIER_TYPE.word(i.type), i.namespace, i.value))
        return self.app.resolve_party(party_id=selector.party_id)

    def _experience(self, request: pb.GetExperienceRequest) -> pb.GetExperienceResponse:
        applied = self.app.applied()
        party_id = self._party(request.party)
        experience = self.app.experience(party_id, optional_micros(request, "as_of_time"))
        return pb.GetExperienceResponse(experience=experience_message(experience), applied=positions(applied))

    GetExperience = _query(_experience)

    @_query
    def ListTimeline(self, request: pb.ListTimelineRequest) -> Any:
        applied = self.app.applied()
        party_id = self._party(request.party)
        query = query_fingerprint(
            method="ListTimeline",
            party=party_id,
            channel=request.channel,
            kind=request.kind,
            after=optional_micros(request, "occurred_after"),
            before=optional_micros(request, "occurred_before"),
        )
        size = page_size(request.page_size)
        start = decode(request.page_token, query)
        only = InteractionFilter(
            channel=CHANNEL.word(request.channel),
            kind=KIND.word(request.kind),
            after_us=optional_micros(request, "occurred_after"),
            before_us=optional_micros(request, "occurred_before"),
            cursor=_cursor(start.cursor),
        )
        rows, identifiers = self.app.timeline(party_id, only, limit=size)
        page, more = rows[:size], len(rows) > size
        token = start.at([page[-1]["occurred_us"], page[-1]["touchpoint_id"]]).encode() if more and page else ""
        return pb.ListTimelineResponse(
            entries=[timeline_entry(row, identifiers) for row in page],
            next_page_token=token,
            applied=positions(applied),
        )

    def _attention(self, request: pb.ListAttentionRequest) -> pb.ListAttentionResponse:
        applied = self.app.applied()
        lens = LENS.word(request.lens) or "service"
        query = query_fingerprint(
            method="ListAttention", lens=lens, channel=request.channel, at=optional_micros(request, "as_of_time")
        )
        size = page_size(request.page_size)
        start = decode(request.page_token, query)
        items = self.app.attention(lens, CHANNEL.word(request.channel), optional_micros(request, "as_of_time"))
        page = items[start.offset : start.offset + size]
        token = start.advanced(size).encode() if start.offset + size < len(items) else ""
        return pb.ListAttentionResponse(
            items=[attention_item(item) for item in page],
            next_page_token=token,
            applied=positions(applied),
            total=len(items),
        )

    ListAttention = _query(_attention)

    @_query
    def GetPulse(self, request: pb.GetPulseRequest) -> Any:
        applied = self.app.applied()
        since, until = time_range(request, days_back=30)
        bucket = BUCKET.word(request.bucket) or "day"
        buckets = self.app.pulse(bucket, since, until, CHANNEL.word(request.channel))
        return pb.GetPulseResponse(
            buckets=[
                pb.PulseBucket(
                    **pick(b, "volume", "inbound", "outbound", "mean_sentiment", "talk_share", "answered"),
                    start=timestamp(b["start_us"]),
                    channel=CHANNEL.number(b["channel"]),
                    response_p50=duration(b["response_p50"]),
                    response_p90=duration(b["response_p90"]),
                    answered_within_bar_share=b["within_bar_share"],
                    non_touchpoint_share=b["non_touchpoint_share"],
                )
                for b in buckets
            ],
            talk_share_guidance=TALK_SHARE_GUIDANCE,
            applied=positions(applied),
        )

    @_query
    def ListSuggestions(self, request: pb.ListSuggestionsRequest) -> Any:
        applied = self.app.applied()
        since, until = time_range(request, days_back=90)
        groups = self.app.suggestions(since, until, request.min_parties or 1)[: page_size(request.page_size)]
        return pb.ListSuggestionsResponse(
            groups=[
                pb.SuggestionGroup(
                    **pick(g, "topic", "suggestions", "parties", "recent", "earlier"),
                    trend=TREND[g["trend"]],
                    example_touchpoint_ids=g["examples"],
                )
                for g in groups
            ],
            applied=positions(applied),
        )

    @_query
    def ListCommunities(self, request: pb.ListCommunitiesRequest) -> Any:
        applied = self.app.applied()
        communities = self.app.communities(request.min_parties or 3)[: page_size(request.page_size)]
        return pb.ListCommunitiesResponse(
            communities=[
                pb.Community(
                    **pick(c, "source", "id", "display_name", "parties", "interactions"),
                    last_activity=timestamp(c["last_us"] or None),
                    members=[
                        pb.MemberActivity(party_id=who, interactions=n, last_at=timestamp(last or None))
                        for who, n, last in c["members"]
                    ],
                )
                for c in communities
            ],
            applied=positions(applied),
        )

    def WatchExperience(
        self, request: pb.WatchExperienceRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchExperienceResponse]:
        return (pb.WatchExperienceResponse(update=u) for u in self._watch(request.query, self._experience, context))

    def WatchAttention(
        self, request: pb.WatchAttentionRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchAttentionResponse]:
        return (pb.WatchAttentionResponse(update=u) for u in self._watch(request.query, self._attention, context))

    def _watch(self, query: Any, answer: Callable[[Any], Message], context: grpc.ServicerContext) -> Iterator[Any]:
        """Once the views have applied ``query``'s ``min_positions``: ``answer(query)`` now, then again after each
        commit of the views, sent only when it changed."""
        self.wait(query.min_positions)
        seen = self.app.changes()
        last: bytes | None = None
        while context.is_active():
            now = answer(query)
            essence = type(now)()
            essence.CopyFrom(now)
            essence.ClearField("applied")  # a new position alone is not news
            serialised = essence.SerializeToString(deterministic=True)
            if serialised != last:
                last = serialised
                yield now
            seen = self.app.wait_for_change(seen, WATCH_HEARTBEAT_SECONDS)

    def RebuildViews(self, request: pb.RebuildViewsRequest, context: grpc.ServicerContext) -> Any:
        generation, started = self.app.rebuild()
        return pb.RebuildViewsResponse(generation=generation, started=started)

    def GetViewsStatus(self, request: pb.GetViewsStatusRequest, context: grpc.ServicerContext) -> Any:
        status = self.app.status()
        return pb.GetViewsStatusResponse(
            generation=status["generation"],
            healthy=status["healthy"],
            upstreams=[pb.UpstreamStatus(upstream=u, applied=a, lag=lag) for u, a, lag in status["upstreams"]],
            quarantined=status["quarantined"],
            rebuilding_generation=status["rebuilding_generation"],
            rebuild_upstreams=[
                pb.UpstreamStatus(upstream=u, applied=a, lag=lag) for u, a, lag in status["rebuild_upstreams"]
            ],
        )

    def ListQuarantine(self, request: pb.ListQuarantineRequest, context: grpc.ServicerContext) -> Any:
        size = page_size(request.page_size)
        start = decode(request.page_token, query_fingerprint(method="ListQuarantine"))
        after = ("", 0)
        cursor = start.cursor
        if isinstance(cursor, list) and len(cursor) == 2 and isinstance(cursor[0], str) and type(cursor[1]) is int:
            after = (cursor[0], cursor[1])
        rows = self.app.quarantine(after, size + 1)
        page = rows[:size]
        token = start.at([page[-1]["upstream"], page[-1]["sequence"]]).encode() if len(rows) > size else ""
        return pb.ListQuarantineResponse(
            events=[
                pb.QuarantinedEvent(
                    upstream=r["upstream"], sequence=int(r["sequence"]), topic=r["topic"], reason=r["reason"]
                )
                for r in page
            ],
            next_page_token=token,
        )


def _cursor(value: Any) -> tuple[int, str] | None:
    if isinstance(value, list) and len(value) == 2 and type(value[0]) is int and isinstance(value[1], str):
        return value[0], value[1]
    return None


def registration(app: ExperienceApplication) -> Registration:
    """What ``create_server`` needs to serve the experience API over ``app``."""
    return (pb_grpc.add_ExperienceServiceServicer_to_server, ExperienceServicer(app), SERVICE_NAME)

import datetime

from chorus.common.v1 import types_pb2 as _types_pb2
from chorus.validate.v1 import rules_pb2 as _rules_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Lens(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LENS_UNSPECIFIED: _ClassVar[Lens]
    LENS_SERVICE: _ClassVar[Lens]
    LENS_MARKETING: _ClassVar[Lens]
    LENS_PR: _ClassVar[Lens]
    LENS_SALES: _ClassVar[Lens]
    LENS_PRODUCT: _ClassVar[Lens]

class Bucket(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUCKET_UNSPECIFIED: _ClassVar[Bucket]
    BUCKET_HOUR: _ClassVar[Bucket]
    BUCKET_DAY: _ClassVar[Bucket]
    BUCKET_WEEK: _ClassVar[Bucket]

class Trend(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TREND_UNSPECIFIED: _ClassVar[Trend]
    TREND_RISING: _ClassVar[Trend]
    TREND_STEADY: _ClassVar[Trend]
    TREND_FALLING: _ClassVar[Trend]

class Sentiment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SENTIMENT_UNSPECIFIED: _ClassVar[Sentiment]
    SENTIMENT_POSITIVE: _ClassVar[Sentiment]
    SENTIMENT_NEUTRAL: _ClassVar[Sentiment]
    SENTIMENT_NEGATIVE: _ClassVar[Sentiment]
LENS_UNSPECIFIED: Lens
LENS_SERVICE: Lens
LENS_MARKETING: Lens
LENS_PR: Lens
LENS_SALES: Lens
LENS_PRODUCT: Lens
BUCKET_UNSPECIFIED: Bucket
BUCKET_HOUR: Bucket
BUCKET_DAY: Bucket
BUCKET_WEEK: Bucket
TREND_UNSPECIFIED: Trend
TREND_RISING: Trend
TREND_STEADY: Trend
TREND_FALLING: Trend
SENTIMENT_UNSPECIFIED: Sentiment
SENTIMENT_POSITIVE: Sentiment
SENTIMENT_NEUTRAL: Sentiment
SENTIMENT_NEGATIVE: Sentiment

class UpstreamPosition(_message.Message):
    __slots__ = ("upstream", "sequence")
    UPSTREAM_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    upstream: str
    sequence: int
    def __init__(self, upstream: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class PartySelector(_message.Message):
    __slots__ = ("party_id", "identifier")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    identifier: _types_pb2.Identifier
    def __init__(self, party_id: _Optional[str] = ..., identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ...) -> None: ...

class GetExperienceRequest(_message.Message):
    __slots__ = ("party", "as_of_time", "min_positions")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    party: PartySelector
    as_of_time: _timestamp_pb2.Timestamp
    min_positions: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    def __init__(self, party: _Optional[_Union[PartySelector, _Mapping]] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_positions: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ...) -> None: ...

class GetExperienceResponse(_message.Message):
    __slots__ = ("experience", "applied")
    EXPERIENCE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    experience: Experience
    applied: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    def __init__(self, experience: _Optional[_Union[Experience, _Mapping]] = ..., applied: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ...) -> None: ...

class Count(_message.Message):
    __slots__ = ("key", "count")
    KEY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    key: str
    count: int
    def __init__(self, key: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class SentimentPoint(_message.Message):
    __slots__ = ("week_start", "mean_score", "count")
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    MEAN_SCORE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    week_start: _timestamp_pb2.Timestamp
    mean_score: float
    count: int
    def __init__(self, week_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., mean_score: _Optional[float] = ..., count: _Optional[int] = ...) -> None: ...

class SentimentTrend(_message.Message):
    __slots__ = ("points", "earlier_mean", "recent_mean", "trend")
    POINTS_FIELD_NUMBER: _ClassVar[int]
    EARLIER_MEAN_FIELD_NUMBER: _ClassVar[int]
    RECENT_MEAN_FIELD_NUMBER: _ClassVar[int]
    TREND_FIELD_NUMBER: _ClassVar[int]
    points: _containers.RepeatedCompositeFieldContainer[SentimentPoint]
    earlier_mean: float
    recent_mean: float
    trend: Trend
    def __init__(self, points: _Optional[_Iterable[_Union[SentimentPoint, _Mapping]]] = ..., earlier_mean: _Optional[float] = ..., recent_mean: _Optional[float] = ..., trend: _Optional[_Union[Trend, str]] = ...) -> None: ...

class AwaitingItem(_message.Message):
    __slots__ = ("touchpoint_id", "channel", "intent", "occurred_at", "waiting")
    TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    touchpoint_id: str
    channel: _types_pb2.Channel
    intent: _types_pb2.Intent
    occurred_at: _timestamp_pb2.Timestamp
    waiting: _duration_pb2.Duration
    def __init__(self, touchpoint_id: _Optional[str] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., intent: _Optional[_Union[_types_pb2.Intent, str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., waiting: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ResponseTimes(_message.Message):
    __slots__ = ("answered", "median", "slowest")
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FIELD_NUMBER: _ClassVar[int]
    SLOWEST_FIELD_NUMBER: _ClassVar[int]
    answered: int
    median: _duration_pb2.Duration
    slowest: _duration_pb2.Duration
    def __init__(self, answered: _Optional[int] = ..., median: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., slowest: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SociabilityPoint(_message.Message):
    __slots__ = ("occurred_at", "degree")
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DEGREE_FIELD_NUMBER: _ClassVar[int]
    occurred_at: _timestamp_pb2.Timestamp
    degree: _types_pb2.SociabilityDegree
    def __init__(self, occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., degree: _Optional[_Union[_types_pb2.SociabilityDegree, str]] = ...) -> None: ...

class Sociability(_message.Message):
    __slots__ = ("now", "trajectory", "trend", "becoming_social")
    NOW_FIELD_NUMBER: _ClassVar[int]
    TRAJECTORY_FIELD_NUMBER: _ClassVar[int]
    TREND_FIELD_NUMBER: _ClassVar[int]
    BECOMING_SOCIAL_FIELD_NUMBER: _ClassVar[int]
    now: _types_pb2.SociabilityDegree
    trajectory: _containers.RepeatedCompositeFieldContainer[SociabilityPoint]
    trend: Trend
    becoming_social: bool
    def __init__(self, now: _Optional[_Union[_types_pb2.SociabilityDegree, str]] = ..., trajectory: _Optional[_Iterable[_Union[SociabilityPoint, _Mapping]]] = ..., trend: _Optional[_Union[Trend, str]] = ..., becoming_social: _Optional[bool] = ...) -> None: ...

class Influence(_message.Message):
    __slots__ = ("score", "public_interactions", "max_followers")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_FOLLOWERS_FIELD_NUMBER: _ClassVar[int]
    score: float
    public_interactions: int
    max_followers: int
    def __init__(self, score: _Optional[float] = ..., public_interactions: _Optional[int] = ..., max_followers: _Optional[int] = ...) -> None: ...

class ChannelConsent(_message.Message):
    __slots__ = ("channel", "status", "at", "from_party_id")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    FROM_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    channel: _types_pb2.Channel
    status: _types_pb2.ConsentStatus
    at: _timestamp_pb2.Timestamp
    from_party_id: str
    def __init__(self, channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., status: _Optional[_Union[_types_pb2.ConsentStatus, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., from_party_id: _Optional[str] = ...) -> None: ...

class ContactState(_message.Message):
    __slots__ = ("do_not_contact", "consents", "preferred_channels")
    DO_NOT_CONTACT_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    do_not_contact: bool
    consents: _containers.RepeatedCompositeFieldContainer[ChannelConsent]
    preferred_channels: _containers.RepeatedScalarFieldContainer[_types_pb2.Channel]
    def __init__(self, do_not_contact: _Optional[bool] = ..., consents: _Optional[_Iterable[_Union[ChannelConsent, _Mapping]]] = ..., preferred_channels: _Optional[_Iterable[_Union[_types_pb2.Channel, str]]] = ...) -> None: ...

class AtRisk(_message.Message):
    __slots__ = ("at_risk", "last_inbound_at", "last_experience_negative", "quiet_for", "threshold")
    AT_RISK_FIELD_NUMBER: _ClassVar[int]
    LAST_INBOUND_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_EXPERIENCE_NEGATIVE_FIELD_NUMBER: _ClassVar[int]
    QUIET_FOR_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    at_risk: bool
    last_inbound_at: _timestamp_pb2.Timestamp
    last_experience_negative: bool
    quiet_for: _duration_pb2.Duration
    threshold: _duration_pb2.Duration
    def __init__(self, at_risk: _Optional[bool] = ..., last_inbound_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_experience_negative: _Optional[bool] = ..., quiet_for: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., threshold: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Experience(_message.Message):
    __slots__ = ("party_id", "merged_party_ids", "kind", "display_name", "roles", "identifiers", "channels", "first_interaction", "last_interaction", "interactions", "by_channel", "by_kind", "by_intent", "sentiment", "awaiting", "responses", "sociability", "influence", "contact", "at_risk", "talk", "listen")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    MERGED_PARTY_IDS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    FIRST_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    LAST_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    BY_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    BY_KIND_FIELD_NUMBER: _ClassVar[int]
    BY_INTENT_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    AWAITING_FIELD_NUMBER: _ClassVar[int]
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    SOCIABILITY_FIELD_NUMBER: _ClassVar[int]
    INFLUENCE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    AT_RISK_FIELD_NUMBER: _ClassVar[int]
    TALK_FIELD_NUMBER: _ClassVar[int]
    LISTEN_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    merged_party_ids: _containers.RepeatedScalarFieldContainer[str]
    kind: _types_pb2.PartyKind
    display_name: str
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.PartyRole]
    identifiers: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    channels: _containers.RepeatedScalarFieldContainer[_types_pb2.Channel]
    first_interaction: _timestamp_pb2.Timestamp
    last_interaction: _timestamp_pb2.Timestamp
    interactions: int
    by_channel: _containers.RepeatedCompositeFieldContainer[Count]
    by_kind: _containers.RepeatedCompositeFieldContainer[Count]
    by_intent: _containers.RepeatedCompositeFieldContainer[Count]
    sentiment: SentimentTrend
    awaiting: _containers.RepeatedCompositeFieldContainer[AwaitingItem]
    responses: ResponseTimes
    sociability: Sociability
    influence: Influence
    contact: ContactState
    at_risk: AtRisk
    talk: int
    listen: int
    def __init__(self, party_id: _Optional[str] = ..., merged_party_ids: _Optional[_Iterable[str]] = ..., kind: _Optional[_Union[_types_pb2.PartyKind, str]] = ..., display_name: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.PartyRole, str]]] = ..., identifiers: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., channels: _Optional[_Iterable[_Union[_types_pb2.Channel, str]]] = ..., first_interaction: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_interaction: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., interactions: _Optional[int] = ..., by_channel: _Optional[_Iterable[_Union[Count, _Mapping]]] = ..., by_kind: _Optional[_Iterable[_Union[Count, _Mapping]]] = ..., by_intent: _Optional[_Iterable[_Union[Count, _Mapping]]] = ..., sentiment: _Optional[_Union[SentimentTrend, _Mapping]] = ..., awaiting: _Optional[_Iterable[_Union[AwaitingItem, _Mapping]]] = ..., responses: _Optional[_Union[ResponseTimes, _Mapping]] = ..., sociability: _Optional[_Union[Sociability, _Mapping]] = ..., influence: _Optional[_Union[Influence, _Mapping]] = ..., contact: _Optional[_Union[ContactState, _Mapping]] = ..., at_risk: _Optional[_Union[AtRisk, _Mapping]] = ..., talk: _Optional[int] = ..., listen: _Optional[int] = ...) -> None: ...

class ListTimelineRequest(_message.Message):
    __slots__ = ("party", "channel", "kind", "occurred_after", "occurred_before", "page_size", "page_token", "min_positions")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AFTER_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    party: PartySelector
    channel: _types_pb2.Channel
    kind: _types_pb2.TouchpointKind
    occurred_after: _timestamp_pb2.Timestamp
    occurred_before: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    min_positions: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    def __init__(self, party: _Optional[_Union[PartySelector, _Mapping]] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., kind: _Optional[_Union[_types_pb2.TouchpointKind, str]] = ..., occurred_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., occurred_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., min_positions: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ...) -> None: ...

class TimelineEntry(_message.Message):
    __slots__ = ("touchpoint_id", "occurred_at", "channel", "kind", "direction", "visibility", "intent", "sentiment", "sentiment_score", "sociability_degree", "text", "url", "thread_id", "reply_to_id", "answered", "response_time", "inferred_fields", "matched_by")
    TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_SCORE_FIELD_NUMBER: _ClassVar[int]
    SOCIABILITY_DEGREE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TIME_FIELD_NUMBER: _ClassVar[int]
    INFERRED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    MATCHED_BY_FIELD_NUMBER: _ClassVar[int]
    touchpoint_id: str
    occurred_at: _timestamp_pb2.Timestamp
    channel: _types_pb2.Channel
    kind: _types_pb2.TouchpointKind
    direction: _types_pb2.Direction
    visibility: _types_pb2.Visibility
    intent: _types_pb2.Intent
    sentiment: Sentiment
    sentiment_score: float
    sociability_degree: _types_pb2.SociabilityDegree
    text: str
    url: str
    thread_id: str
    reply_to_id: str
    answered: bool
    response_time: _duration_pb2.Duration
    inferred_fields: _containers.RepeatedScalarFieldContainer[str]
    matched_by: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    def __init__(self, touchpoint_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., kind: _Optional[_Union[_types_pb2.TouchpointKind, str]] = ..., direction: _Optional[_Union[_types_pb2.Direction, str]] = ..., visibility: _Optional[_Union[_types_pb2.Visibility, str]] = ..., intent: _Optional[_Union[_types_pb2.Intent, str]] = ..., sentiment: _Optional[_Union[Sentiment, str]] = ..., sentiment_score: _Optional[float] = ..., sociability_degree: _Optional[_Union[_types_pb2.SociabilityDegree, str]] = ..., text: _Optional[str] = ..., url: _Optional[str] = ..., thread_id: _Optional[str] = ..., reply_to_id: _Optional[str] = ..., answered: _Optional[bool] = ..., response_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., inferred_fields: _Optional[_Iterable[str]] = ..., matched_by: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ...) -> None: ...

class ListTimelineResponse(_message.Message):
    __slots__ = ("entries", "next_page_token", "applied")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[TimelineEntry]
    next_page_token: str
    applied: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    def __init__(self, entries: _Optional[_Iterable[_Union[TimelineEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., applied: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ...) -> None: ...

class ListAttentionRequest(_message.Message):
    __slots__ = ("lens", "channel", "as_of_time", "page_size", "page_token", "min_positions")
    LENS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    lens: Lens
    channel: _types_pb2.Channel
    as_of_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    min_positions: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    def __init__(self, lens: _Optional[_Union[Lens, str]] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., min_positions: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ...) -> None: ...

class ScorePart(_message.Message):
    __slots__ = ("name", "value", "weight", "contribution", "explanation")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: float
    weight: float
    contribution: float
    explanation: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[float] = ..., weight: _Optional[float] = ..., contribution: _Optional[float] = ..., explanation: _Optional[str] = ...) -> None: ...

class AttentionItem(_message.Message):
    __slots__ = ("touchpoint_id", "party_id", "channel", "intent", "visibility", "occurred_at", "waiting", "bar", "score", "parts", "text")
    TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    WAITING_FIELD_NUMBER: _ClassVar[int]
    BAR_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    touchpoint_id: str
    party_id: str
    channel: _types_pb2.Channel
    intent: _types_pb2.Intent
    visibility: _types_pb2.Visibility
    occurred_at: _timestamp_pb2.Timestamp
    waiting: _duration_pb2.Duration
    bar: _duration_pb2.Duration
    score: float
    parts: _containers.RepeatedCompositeFieldContainer[ScorePart]
    text: str
    def __init__(self, touchpoint_id: _Optional[str] = ..., party_id: _Optional[str] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., intent: _Optional[_Union[_types_pb2.Intent, str]] = ..., visibility: _Optional[_Union[_types_pb2.Visibility, str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., waiting: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., bar: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., score: _Optional[float] = ..., parts: _Optional[_Iterable[_Union[ScorePart, _Mapping]]] = ..., text: _Optional[str] = ...) -> None: ...

class ListAttentionResponse(_message.Message):
    __slots__ = ("items", "next_page_token", "applied", "total")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[AttentionItem]
    next_page_token: str
    applied: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    total: int
    def __init__(self, items: _Optional[_Iterable[_Union[AttentionItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., applied: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class GetPulseRequest(_message.Message):
    __slots__ = ("bucket", "channel", "since", "until", "min_positions")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    bucket: Bucket
    channel: _types_pb2.Channel
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    min_positions: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    def __init__(self, bucket: _Optional[_Union[Bucket, str]] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_positions: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ...) -> None: ...

class PulseBucket(_message.Message):
    __slots__ = ("start", "channel", "volume", "inbound", "outbound", "mean_sentiment", "talk_share", "response_p50", "response_p90", "answered", "answered_within_bar_share", "non_touchpoint_share")
    START_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    INBOUND_FIELD_NUMBER: _ClassVar[int]
    OUTBOUND_FIELD_NUMBER: _ClassVar[int]
    MEAN_SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    TALK_SHARE_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_P50_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_P90_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_WITHIN_BAR_SHARE_FIELD_NUMBER: _ClassVar[int]
    NON_TOUCHPOINT_SHARE_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    channel: _types_pb2.Channel
    volume: int
    inbound: int
    outbound: int
    mean_sentiment: float
    talk_share: float
    response_p50: _duration_pb2.Duration
    response_p90: _duration_pb2.Duration
    answered: int
    answered_within_bar_share: float
    non_touchpoint_share: float
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., volume: _Optional[int] = ..., inbound: _Optional[int] = ..., outbound: _Optional[int] = ..., mean_sentiment: _Optional[float] = ..., talk_share: _Optional[float] = ..., response_p50: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., response_p90: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., answered: _Optional[int] = ..., answered_within_bar_share: _Optional[float] = ..., non_touchpoint_share: _Optional[float] = ...) -> None: ...

class GetPulseResponse(_message.Message):
    __slots__ = ("buckets", "talk_share_guidance", "applied")
    BUCKETS_FIELD_NUMBER: _ClassVar[int]
    TALK_SHARE_GUIDANCE_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    buckets: _containers.RepeatedCompositeFieldContainer[PulseBucket]
    talk_share_guidance: float
    applied: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    def __init__(self, buckets: _Optional[_Iterable[_Union[PulseBucket, _Mapping]]] = ..., talk_share_guidance: _Optional[float] = ..., applied: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ...) -> None: ...

class ListSuggestionsRequest(_message.Message):
    __slots__ = ("since", "min_parties", "page_size", "min_positions", "until")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    MIN_PARTIES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    since: _timestamp_pb2.Timestamp
    min_parties: int
    page_size: int
    min_positions: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    until: _timestamp_pb2.Timestamp
    def __init__(self, since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_parties: _Optional[int] = ..., page_size: _Optional[int] = ..., min_positions: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SuggestionGroup(_message.Message):
    __slots__ = ("topic", "suggestions", "parties", "recent", "earlier", "trend", "example_touchpoint_ids")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    RECENT_FIELD_NUMBER: _ClassVar[int]
    EARLIER_FIELD_NUMBER: _ClassVar[int]
    TREND_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_TOUCHPOINT_IDS_FIELD_NUMBER: _ClassVar[int]
    topic: str
    suggestions: int
    parties: int
    recent: int
    earlier: int
    trend: Trend
    example_touchpoint_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, topic: _Optional[str] = ..., suggestions: _Optional[int] = ..., parties: _Optional[int] = ..., recent: _Optional[int] = ..., earlier: _Optional[int] = ..., trend: _Optional[_Union[Trend, str]] = ..., example_touchpoint_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListSuggestionsResponse(_message.Message):
    __slots__ = ("groups", "applied")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[SuggestionGroup]
    applied: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    def __init__(self, groups: _Optional[_Iterable[_Union[SuggestionGroup, _Mapping]]] = ..., applied: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ...) -> None: ...

class ListCommunitiesRequest(_message.Message):
    __slots__ = ("min_parties", "page_size", "min_positions")
    MIN_PARTIES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    min_parties: int
    page_size: int
    min_positions: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    def __init__(self, min_parties: _Optional[int] = ..., page_size: _Optional[int] = ..., min_positions: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ...) -> None: ...

class MemberActivity(_message.Message):
    __slots__ = ("party_id", "interactions", "last_at")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    LAST_AT_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    interactions: int
    last_at: _timestamp_pb2.Timestamp
    def __init__(self, party_id: _Optional[str] = ..., interactions: _Optional[int] = ..., last_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Community(_message.Message):
    __slots__ = ("source", "id", "display_name", "parties", "interactions", "last_activity", "members")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    INTERACTIONS_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    source: str
    id: str
    display_name: str
    parties: int
    interactions: int
    last_activity: _timestamp_pb2.Timestamp
    members: _containers.RepeatedCompositeFieldContainer[MemberActivity]
    def __init__(self, source: _Optional[str] = ..., id: _Optional[str] = ..., display_name: _Optional[str] = ..., parties: _Optional[int] = ..., interactions: _Optional[int] = ..., last_activity: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., members: _Optional[_Iterable[_Union[MemberActivity, _Mapping]]] = ...) -> None: ...

class ListCommunitiesResponse(_message.Message):
    __slots__ = ("communities", "applied")
    COMMUNITIES_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    communities: _containers.RepeatedCompositeFieldContainer[Community]
    applied: _containers.RepeatedCompositeFieldContainer[UpstreamPosition]
    def __init__(self, communities: _Optional[_Iterable[_Union[Community, _Mapping]]] = ..., applied: _Optional[_Iterable[_Union[UpstreamPosition, _Mapping]]] = ...) -> None: ...

class WatchExperienceRequest(_message.Message):
    __slots__ = ("query",)
    QUERY_FIELD_NUMBER: _ClassVar[int]
    query: GetExperienceRequest
    def __init__(self, query: _Optional[_Union[GetExperienceRequest, _Mapping]] = ...) -> None: ...

class WatchExperienceResponse(_message.Message):
    __slots__ = ("update",)
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    update: GetExperienceResponse
    def __init__(self, update: _Optional[_Union[GetExperienceResponse, _Mapping]] = ...) -> None: ...

class WatchAttentionRequest(_message.Message):
    __slots__ = ("query",)
    QUERY_FIELD_NUMBER: _ClassVar[int]
    query: ListAttentionRequest
    def __init__(self, query: _Optional[_Union[ListAttentionRequest, _Mapping]] = ...) -> None: ...

class WatchAttentionResponse(_message.Message):
    __slots__ = ("update",)
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    update: ListAttentionResponse
    def __init__(self, update: _Optional[_Union[ListAttentionResponse, _Mapping]] = ...) -> None: ...

class RebuildViewsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RebuildViewsResponse(_message.Message):
    __slots__ = ("generation", "started")
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    generation: int
    started: bool
    def __init__(self, generation: _Optional[int] = ..., started: _Optional[bool] = ...) -> None: ...

class GetViewsStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpstreamStatus(_message.Message):
    __slots__ = ("upstream", "applied", "lag")
    UPSTREAM_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    LAG_FIELD_NUMBER: _ClassVar[int]
    upstream: str
    applied: int
    lag: int
    def __init__(self, upstream: _Optional[str] = ..., applied: _Optional[int] = ..., lag: _Optional[int] = ...) -> None: ...

class GetViewsStatusResponse(_message.Message):
    __slots__ = ("generation", "healthy", "upstreams", "quarantined", "rebuilding_generation", "rebuild_upstreams")
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    UPSTREAMS_FIELD_NUMBER: _ClassVar[int]
    QUARANTINED_FIELD_NUMBER: _ClassVar[int]
    REBUILDING_GENERATION_FIELD_NUMBER: _ClassVar[int]
    REBUILD_UPSTREAMS_FIELD_NUMBER: _ClassVar[int]
    generation: int
    healthy: bool
    upstreams: _containers.RepeatedCompositeFieldContainer[UpstreamStatus]
    quarantined: int
    rebuilding_generation: int
    rebuild_upstreams: _containers.RepeatedCompositeFieldContainer[UpstreamStatus]
    def __init__(self, generation: _Optional[int] = ..., healthy: _Optional[bool] = ..., upstreams: _Optional[_Iterable[_Union[UpstreamStatus, _Mapping]]] = ..., quarantined: _Optional[int] = ..., rebuilding_generation: _Optional[int] = ..., rebuild_upstreams: _Optional[_Iterable[_Union[UpstreamStatus, _Mapping]]] = ...) -> None: ...

class ListQuarantineRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class QuarantinedEvent(_message.Message):
    __slots__ = ("upstream", "sequence", "topic", "reason")
    UPSTREAM_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    upstream: str
    sequence: int
    topic: str
    reason: str
    def __init__(self, upstream: _Optional[str] = ..., sequence: _Optional[int] = ..., topic: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListQuarantineResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[QuarantinedEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[QuarantinedEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

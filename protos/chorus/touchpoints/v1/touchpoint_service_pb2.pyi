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

class SentimentLabel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SENTIMENT_LABEL_UNSPECIFIED: _ClassVar[SentimentLabel]
    SENTIMENT_LABEL_POSITIVE: _ClassVar[SentimentLabel]
    SENTIMENT_LABEL_NEUTRAL: _ClassVar[SentimentLabel]
    SENTIMENT_LABEL_NEGATIVE: _ClassVar[SentimentLabel]

class RecordOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_OUTCOME_UNSPECIFIED: _ClassVar[RecordOutcome]
    RECORD_OUTCOME_RECORDED: _ClassVar[RecordOutcome]
    RECORD_OUTCOME_ALREADY_RECORDED: _ClassVar[RecordOutcome]
    RECORD_OUTCOME_REJECTED: _ClassVar[RecordOutcome]
SENTIMENT_LABEL_UNSPECIFIED: SentimentLabel
SENTIMENT_LABEL_POSITIVE: SentimentLabel
SENTIMENT_LABEL_NEUTRAL: SentimentLabel
SENTIMENT_LABEL_NEGATIVE: SentimentLabel
RECORD_OUTCOME_UNSPECIFIED: RecordOutcome
RECORD_OUTCOME_RECORDED: RecordOutcome
RECORD_OUTCOME_ALREADY_RECORDED: RecordOutcome
RECORD_OUTCOME_REJECTED: RecordOutcome

class Source(_message.Message):
    __slots__ = ("system", "external_id", "url")
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    system: str
    external_id: str
    url: str
    def __init__(self, system: _Optional[str] = ..., external_id: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class Audience(_message.Message):
    __slots__ = ("followers", "recipients")
    FOLLOWERS_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    followers: int
    recipients: int
    def __init__(self, followers: _Optional[int] = ..., recipients: _Optional[int] = ...) -> None: ...

class Content(_message.Message):
    __slots__ = ("text", "language")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    text: str
    language: str
    def __init__(self, text: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class SourceReference(_message.Message):
    __slots__ = ("system", "external_id")
    SYSTEM_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    system: str
    external_id: str
    def __init__(self, system: _Optional[str] = ..., external_id: _Optional[str] = ...) -> None: ...

class ReplyTo(_message.Message):
    __slots__ = ("touchpoint_id", "source")
    TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    touchpoint_id: str
    source: SourceReference
    def __init__(self, touchpoint_id: _Optional[str] = ..., source: _Optional[_Union[SourceReference, _Mapping]] = ...) -> None: ...

class Sentiment(_message.Message):
    __slots__ = ("score", "label")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    score: float
    label: SentimentLabel
    def __init__(self, score: _Optional[float] = ..., label: _Optional[_Union[SentimentLabel, str]] = ...) -> None: ...

class TouchpointInput(_message.Message):
    __slots__ = ("touchpoint_id", "kind", "channel", "direction", "visibility", "occurred_at", "source", "actors", "audience", "content", "reply_to", "thread_id", "intent", "sentiment", "sociability_degree", "business_sociability_degree", "company_function", "tags", "rating")
    TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ACTORS_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    SOCIABILITY_DEGREE_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_SOCIABILITY_DEGREE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FUNCTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    touchpoint_id: str
    kind: _types_pb2.TouchpointKind
    channel: _types_pb2.Channel
    direction: _types_pb2.Direction
    visibility: _types_pb2.Visibility
    occurred_at: _timestamp_pb2.Timestamp
    source: Source
    actors: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    audience: Audience
    content: Content
    reply_to: ReplyTo
    thread_id: str
    intent: _types_pb2.Intent
    sentiment: Sentiment
    sociability_degree: _types_pb2.SociabilityDegree
    business_sociability_degree: _types_pb2.BusinessSociabilityDegree
    company_function: _types_pb2.CompanyFunction
    tags: _containers.RepeatedScalarFieldContainer[str]
    rating: int
    def __init__(self, touchpoint_id: _Optional[str] = ..., kind: _Optional[_Union[_types_pb2.TouchpointKind, str]] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., direction: _Optional[_Union[_types_pb2.Direction, str]] = ..., visibility: _Optional[_Union[_types_pb2.Visibility, str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[_Union[Source, _Mapping]] = ..., actors: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., audience: _Optional[_Union[Audience, _Mapping]] = ..., content: _Optional[_Union[Content, _Mapping]] = ..., reply_to: _Optional[_Union[ReplyTo, _Mapping]] = ..., thread_id: _Optional[str] = ..., intent: _Optional[_Union[_types_pb2.Intent, str]] = ..., sentiment: _Optional[_Union[Sentiment, _Mapping]] = ..., sociability_degree: _Optional[_Union[_types_pb2.SociabilityDegree, str]] = ..., business_sociability_degree: _Optional[_Union[_types_pb2.BusinessSociabilityDegree, str]] = ..., company_function: _Optional[_Union[_types_pb2.CompanyFunction, str]] = ..., tags: _Optional[_Iterable[str]] = ..., rating: _Optional[int] = ...) -> None: ...

class ReplyLink(_message.Message):
    __slots__ = ("parent_touchpoint_id", "response_time", "company_response")
    PARENT_TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPANY_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    parent_touchpoint_id: str
    response_time: _duration_pb2.Duration
    company_response: bool
    def __init__(self, parent_touchpoint_id: _Optional[str] = ..., response_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., company_response: _Optional[bool] = ...) -> None: ...

class Reclassification(_message.Message):
    __slots__ = ("field", "value", "previous_value", "reason", "actor", "reclassify_time")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VALUE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RECLASSIFY_TIME_FIELD_NUMBER: _ClassVar[int]
    field: str
    value: str
    previous_value: str
    reason: str
    actor: str
    reclassify_time: _timestamp_pb2.Timestamp
    def __init__(self, field: _Optional[str] = ..., value: _Optional[str] = ..., previous_value: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ..., reclassify_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Touchpoint(_message.Message):
    __slots__ = ("touchpoint_id", "kind", "channel", "direction", "visibility", "occurred_at", "source", "actors", "audience", "content", "reply_to_touchpoint_id", "thread_id", "intent", "sentiment", "sociability_degree", "business_sociability_degree", "company_function", "tags", "inferred_fields", "record_time", "reply_link", "first_response_time", "reclassifications", "rating")
    TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ACTORS_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    SOCIABILITY_DEGREE_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_SOCIABILITY_DEGREE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FUNCTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    INFERRED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    REPLY_LINK_FIELD_NUMBER: _ClassVar[int]
    FIRST_RESPONSE_TIME_FIELD_NUMBER: _ClassVar[int]
    RECLASSIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    touchpoint_id: str
    kind: _types_pb2.TouchpointKind
    channel: _types_pb2.Channel
    direction: _types_pb2.Direction
    visibility: _types_pb2.Visibility
    occurred_at: _timestamp_pb2.Timestamp
    source: Source
    actors: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    audience: Audience
    content: Content
    reply_to_touchpoint_id: str
    thread_id: str
    intent: _types_pb2.Intent
    sentiment: Sentiment
    sociability_degree: _types_pb2.SociabilityDegree
    business_sociability_degree: _types_pb2.BusinessSociabilityDegree
    company_function: _types_pb2.CompanyFunction
    tags: _containers.RepeatedScalarFieldContainer[str]
    inferred_fields: _containers.RepeatedScalarFieldContainer[str]
    record_time: _timestamp_pb2.Timestamp
    reply_link: ReplyLink
    first_response_time: _duration_pb2.Duration
    reclassifications: _containers.RepeatedCompositeFieldContainer[Reclassification]
    rating: int
    def __init__(self, touchpoint_id: _Optional[str] = ..., kind: _Optional[_Union[_types_pb2.TouchpointKind, str]] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., direction: _Optional[_Union[_types_pb2.Direction, str]] = ..., visibility: _Optional[_Union[_types_pb2.Visibility, str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[_Union[Source, _Mapping]] = ..., actors: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., audience: _Optional[_Union[Audience, _Mapping]] = ..., content: _Optional[_Union[Content, _Mapping]] = ..., reply_to_touchpoint_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., intent: _Optional[_Union[_types_pb2.Intent, str]] = ..., sentiment: _Optional[_Union[Sentiment, _Mapping]] = ..., sociability_degree: _Optional[_Union[_types_pb2.SociabilityDegree, str]] = ..., business_sociability_degree: _Optional[_Union[_types_pb2.BusinessSociabilityDegree, str]] = ..., company_function: _Optional[_Union[_types_pb2.CompanyFunction, str]] = ..., tags: _Optional[_Iterable[str]] = ..., inferred_fields: _Optional[_Iterable[str]] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reply_link: _Optional[_Union[ReplyLink, _Mapping]] = ..., first_response_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., reclassifications: _Optional[_Iterable[_Union[Reclassification, _Mapping]]] = ..., rating: _Optional[int] = ...) -> None: ...

class RecordTouchpointRequest(_message.Message):
    __slots__ = ("touchpoint",)
    TOUCHPOINT_FIELD_NUMBER: _ClassVar[int]
    touchpoint: TouchpointInput
    def __init__(self, touchpoint: _Optional[_Union[TouchpointInput, _Mapping]] = ...) -> None: ...

class RecordTouchpointResponse(_message.Message):
    __slots__ = ("touchpoint_id", "outcome", "inferred_fields", "position")
    TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    INFERRED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    touchpoint_id: str
    outcome: RecordOutcome
    inferred_fields: _containers.RepeatedScalarFieldContainer[str]
    position: int
    def __init__(self, touchpoint_id: _Optional[str] = ..., outcome: _Optional[_Union[RecordOutcome, str]] = ..., inferred_fields: _Optional[_Iterable[str]] = ..., position: _Optional[int] = ...) -> None: ...

class ItemViolation(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class RecordResult(_message.Message):
    __slots__ = ("index", "touchpoint_id", "outcome", "violations", "inferred_fields", "position")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    INFERRED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    index: int
    touchpoint_id: str
    outcome: RecordOutcome
    violations: _containers.RepeatedCompositeFieldContainer[ItemViolation]
    inferred_fields: _containers.RepeatedScalarFieldContainer[str]
    position: int
    def __init__(self, index: _Optional[int] = ..., touchpoint_id: _Optional[str] = ..., outcome: _Optional[_Union[RecordOutcome, str]] = ..., violations: _Optional[_Iterable[_Union[ItemViolation, _Mapping]]] = ..., inferred_fields: _Optional[_Iterable[str]] = ..., position: _Optional[int] = ...) -> None: ...

class RecordTouchpointBatchRequest(_message.Message):
    __slots__ = ("touchpoints",)
    TOUCHPOINTS_FIELD_NUMBER: _ClassVar[int]
    touchpoints: _containers.RepeatedCompositeFieldContainer[TouchpointInput]
    def __init__(self, touchpoints: _Optional[_Iterable[_Union[TouchpointInput, _Mapping]]] = ...) -> None: ...

class RecordTouchpointBatchResponse(_message.Message):
    __slots__ = ("results", "recorded_count", "already_recorded_count", "rejected_count")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    RECORDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    ALREADY_RECORDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RecordResult]
    recorded_count: int
    already_recorded_count: int
    rejected_count: int
    def __init__(self, results: _Optional[_Iterable[_Union[RecordResult, _Mapping]]] = ..., recorded_count: _Optional[int] = ..., already_recorded_count: _Optional[int] = ..., rejected_count: _Optional[int] = ...) -> None: ...

class RecordTouchpointStreamRequest(_message.Message):
    __slots__ = ("touchpoint",)
    TOUCHPOINT_FIELD_NUMBER: _ClassVar[int]
    touchpoint: TouchpointInput
    def __init__(self, touchpoint: _Optional[_Union[TouchpointInput, _Mapping]] = ...) -> None: ...

class RecordTouchpointStreamResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RecordResult]
    def __init__(self, results: _Optional[_Iterable[_Union[RecordResult, _Mapping]]] = ...) -> None: ...

class GetTouchpointRequest(_message.Message):
    __slots__ = ("touchpoint_id", "source")
    TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    touchpoint_id: str
    source: SourceReference
    def __init__(self, touchpoint_id: _Optional[str] = ..., source: _Optional[_Union[SourceReference, _Mapping]] = ...) -> None: ...

class GetTouchpointResponse(_message.Message):
    __slots__ = ("touchpoint",)
    TOUCHPOINT_FIELD_NUMBER: _ClassVar[int]
    touchpoint: Touchpoint
    def __init__(self, touchpoint: _Optional[_Union[Touchpoint, _Mapping]] = ...) -> None: ...

class ListTouchpointsRequest(_message.Message):
    __slots__ = ("actor", "thread_id", "channel", "occurred_after", "occurred_before", "page_size", "page_token")
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AFTER_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    actor: _types_pb2.Identifier
    thread_id: str
    channel: _types_pb2.Channel
    occurred_after: _timestamp_pb2.Timestamp
    occurred_before: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, actor: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ..., thread_id: _Optional[str] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., occurred_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., occurred_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTouchpointsResponse(_message.Message):
    __slots__ = ("touchpoints", "next_page_token")
    TOUCHPOINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    touchpoints: _containers.RepeatedCompositeFieldContainer[Touchpoint]
    next_page_token: str
    def __init__(self, touchpoints: _Optional[_Iterable[_Union[Touchpoint, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReclassifyTouchpointRequest(_message.Message):
    __slots__ = ("touchpoint_id", "intent", "sentiment", "sociability_degree", "business_sociability_degree", "company_function", "kind", "reason", "actor")
    TOUCHPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    SOCIABILITY_DEGREE_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_SOCIABILITY_DEGREE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FUNCTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    touchpoint_id: str
    intent: _types_pb2.Intent
    sentiment: Sentiment
    sociability_degree: _types_pb2.SociabilityDegree
    business_sociability_degree: _types_pb2.BusinessSociabilityDegree
    company_function: _types_pb2.CompanyFunction
    kind: _types_pb2.TouchpointKind
    reason: str
    actor: str
    def __init__(self, touchpoint_id: _Optional[str] = ..., intent: _Optional[_Union[_types_pb2.Intent, str]] = ..., sentiment: _Optional[_Union[Sentiment, _Mapping]] = ..., sociability_degree: _Optional[_Union[_types_pb2.SociabilityDegree, str]] = ..., business_sociability_degree: _Optional[_Union[_types_pb2.BusinessSociabilityDegree, str]] = ..., company_function: _Optional[_Union[_types_pb2.CompanyFunction, str]] = ..., kind: _Optional[_Union[_types_pb2.TouchpointKind, str]] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class ReclassifyTouchpointResponse(_message.Message):
    __slots__ = ("touchpoint",)
    TOUCHPOINT_FIELD_NUMBER: _ClassVar[int]
    touchpoint: Touchpoint
    def __init__(self, touchpoint: _Optional[_Union[Touchpoint, _Mapping]] = ...) -> None: ...

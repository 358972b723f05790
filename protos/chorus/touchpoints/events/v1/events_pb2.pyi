import datetime

from chorus.common.v1 import types_pb2 as _types_pb2
from chorus.privacy.v1 import privacy_pb2 as _privacy_pb2
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
SENTIMENT_LABEL_UNSPECIFIED: SentimentLabel
SENTIMENT_LABEL_POSITIVE: SentimentLabel
SENTIMENT_LABEL_NEUTRAL: SentimentLabel
SENTIMENT_LABEL_NEGATIVE: SentimentLabel

class TouchpointRecorded(_message.Message):
    __slots__ = ("timestamp", "kind", "channel", "direction", "visibility", "occurred_at", "source_system", "external_id", "external_url", "actors", "followers", "recipients", "text", "language", "reply_to_id", "reply_to_source_system", "reply_to_external_id", "thread_id", "intent", "sentiment_label", "sentiment_score", "sociability_degree", "business_sociability_degree", "company_function", "tags", "inferred", "originator_topic", "rating")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SYSTEM_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_URL_FIELD_NUMBER: _ClassVar[int]
    ACTORS_FIELD_NUMBER: _ClassVar[int]
    FOLLOWERS_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_SOURCE_SYSTEM_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_LABEL_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_SCORE_FIELD_NUMBER: _ClassVar[int]
    SOCIABILITY_DEGREE_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_SOCIABILITY_DEGREE_FIELD_NUMBER: _ClassVar[int]
    COMPANY_FUNCTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    INFERRED_FIELD_NUMBER: _ClassVar[int]
    ORIGINATOR_TOPIC_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    kind: _types_pb2.TouchpointKind
    channel: _types_pb2.Channel
    direction: _types_pb2.Direction
    visibility: _types_pb2.Visibility
    occurred_at: _timestamp_pb2.Timestamp
    source_system: str
    external_id: str
    external_url: str
    actors: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    followers: int
    recipients: int
    text: str
    language: str
    reply_to_id: str
    reply_to_source_system: str
    reply_to_external_id: str
    thread_id: str
    intent: _types_pb2.Intent
    sentiment_label: SentimentLabel
    sentiment_score: float
    sociability_degree: _types_pb2.SociabilityDegree
    business_sociability_degree: _types_pb2.BusinessSociabilityDegree
    company_function: _types_pb2.CompanyFunction
    tags: _containers.RepeatedScalarFieldContainer[str]
    inferred: _containers.RepeatedScalarFieldContainer[str]
    originator_topic: str
    rating: int
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[_types_pb2.TouchpointKind, str]] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., direction: _Optional[_Union[_types_pb2.Direction, str]] = ..., visibility: _Optional[_Union[_types_pb2.Visibility, str]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source_system: _Optional[str] = ..., external_id: _Optional[str] = ..., external_url: _Optional[str] = ..., actors: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., followers: _Optional[int] = ..., recipients: _Optional[int] = ..., text: _Optional[str] = ..., language: _Optional[str] = ..., reply_to_id: _Optional[str] = ..., reply_to_source_system: _Optional[str] = ..., reply_to_external_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., intent: _Optional[_Union[_types_pb2.Intent, str]] = ..., sentiment_label: _Optional[_Union[SentimentLabel, str]] = ..., sentiment_score: _Optional[float] = ..., sociability_degree: _Optional[_Union[_types_pb2.SociabilityDegree, str]] = ..., business_sociability_degree: _Optional[_Union[_types_pb2.BusinessSociabilityDegree, str]] = ..., company_function: _Optional[_Union[_types_pb2.CompanyFunction, str]] = ..., tags: _Optional[_Iterable[str]] = ..., inferred: _Optional[_Iterable[str]] = ..., originator_topic: _Optional[str] = ..., rating: _Optional[int] = ...) -> None: ...

class TouchpointReclassified(_message.Message):
    __slots__ = ("timestamp", "field", "value", "previous_value", "sentiment_score", "reason", "actor")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VALUE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    field: str
    value: str
    previous_value: str
    sentiment_score: float
    reason: str
    actor: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., field: _Optional[str] = ..., value: _Optional[str] = ..., previous_value: _Optional[str] = ..., sentiment_score: _Optional[float] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class TouchpointReplyLinked(_message.Message):
    __slots__ = ("timestamp", "parent_id", "parent_occurred_at", "parent_direction", "parent_thread_id", "response_seconds")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PARENT_DIRECTION_FIELD_NUMBER: _ClassVar[int]
    PARENT_THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    parent_id: str
    parent_occurred_at: _timestamp_pb2.Timestamp
    parent_direction: _types_pb2.Direction
    parent_thread_id: str
    response_seconds: float
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., parent_id: _Optional[str] = ..., parent_occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., parent_direction: _Optional[_Union[_types_pb2.Direction, str]] = ..., parent_thread_id: _Optional[str] = ..., response_seconds: _Optional[float] = ...) -> None: ...

class TouchpointClassified(_message.Message):
    __slots__ = ("timestamp", "intent", "sentiment_label", "sentiment_score", "intent_confidence", "model", "model_version")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_LABEL_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_SCORE_FIELD_NUMBER: _ClassVar[int]
    INTENT_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    intent: _types_pb2.Intent
    sentiment_label: SentimentLabel
    sentiment_score: float
    intent_confidence: float
    model: str
    model_version: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., intent: _Optional[_Union[_types_pb2.Intent, str]] = ..., sentiment_label: _Optional[_Union[SentimentLabel, str]] = ..., sentiment_score: _Optional[float] = ..., intent_confidence: _Optional[float] = ..., model: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

from chorus.common.v1 import types_pb2 as _types_pb2
from chorus.validate.v1 import rules_pb2 as _rules_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EchoRequest(_message.Message):
    __slots__ = ("text", "payload", "identifiers", "labels", "request_id", "repeat", "channel", "ratio", "tags", "routing")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REPEAT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    ROUTING_FIELD_NUMBER: _ClassVar[int]
    text: str
    payload: bytes
    identifiers: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    labels: _containers.ScalarMap[str, str]
    request_id: str
    repeat: int
    channel: _types_pb2.Channel
    ratio: float
    tags: _containers.RepeatedScalarFieldContainer[str]
    routing: EchoRouting
    def __init__(self, text: _Optional[str] = ..., payload: _Optional[bytes] = ..., identifiers: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., labels: _Optional[_Mapping[str, str]] = ..., request_id: _Optional[str] = ..., repeat: _Optional[int] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., ratio: _Optional[float] = ..., tags: _Optional[_Iterable[str]] = ..., routing: _Optional[_Union[EchoRouting, _Mapping]] = ...) -> None: ...

class EchoRouting(_message.Message):
    __slots__ = ("party_id", "identifier", "reason")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    identifier: _types_pb2.Identifier
    reason: str
    def __init__(self, party_id: _Optional[str] = ..., identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class EchoResponse(_message.Message):
    __slots__ = ("text", "payload")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    text: str
    payload: bytes
    def __init__(self, text: _Optional[str] = ..., payload: _Optional[bytes] = ...) -> None: ...

class EchoStreamRequest(_message.Message):
    __slots__ = ("text", "payload")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    text: str
    payload: bytes
    def __init__(self, text: _Optional[str] = ..., payload: _Optional[bytes] = ...) -> None: ...

class EchoStreamResponse(_message.Message):
    __slots__ = ("count", "payload_bytes")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    count: int
    payload_bytes: int
    def __init__(self, count: _Optional[int] = ..., payload_bytes: _Optional[int] = ...) -> None: ...

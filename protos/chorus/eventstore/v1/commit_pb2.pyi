from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Commit(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[CommittedEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[CommittedEvent, _Mapping]]] = ...) -> None: ...

class CommittedEvent(_message.Message):
    __slots__ = ("topic", "version", "state")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    topic: str
    version: int
    state: bytes
    def __init__(self, topic: _Optional[str] = ..., version: _Optional[int] = ..., state: _Optional[bytes] = ...) -> None: ...

from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class EchoRequest(_message.Message):
    __slots__ = ("text", "payload")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    text: str
    payload: bytes
    def __init__(self, text: _Optional[str] = ..., payload: _Optional[bytes] = ...) -> None: ...

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

import datetime

from chorus.common.v1 import types_pb2 as _types_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccountRegistered(_message.Message):
    __slots__ = ("timestamp", "kind", "roles", "display_name", "anonymous")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ANONYMOUS_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    kind: _types_pb2.PartyKind
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.PartyRole]
    display_name: str
    anonymous: bool
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[_types_pb2.PartyKind, str]] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.PartyRole, str]]] = ..., display_name: _Optional[str] = ..., anonymous: _Optional[bool] = ...) -> None: ...

class AccountMemberAdded(_message.Message):
    __slots__ = ("timestamp", "member_id")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    member_id: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., member_id: _Optional[str] = ...) -> None: ...

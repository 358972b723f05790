from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
FIELD_FIELD_NUMBER: _ClassVar[int]
field: _descriptor.FieldDescriptor
ONEOF_FIELD_NUMBER: _ClassVar[int]
oneof: _descriptor.FieldDescriptor

class FieldRules(_message.Message):
    __slots__ = ("required", "min_len", "max_len", "max_bytes", "pattern", "uuid", "max_items", "int_gte", "int_lte", "float_gte", "float_lte", "enum_defined_only", "keys", "items_checked_apart")
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MIN_LEN_FIELD_NUMBER: _ClassVar[int]
    MAX_LEN_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    INT_GTE_FIELD_NUMBER: _ClassVar[int]
    INT_LTE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_GTE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_LTE_FIELD_NUMBER: _ClassVar[int]
    ENUM_DEFINED_ONLY_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_CHECKED_APART_FIELD_NUMBER: _ClassVar[int]
    required: bool
    min_len: int
    max_len: int
    max_bytes: int
    pattern: str
    uuid: bool
    max_items: int
    int_gte: int
    int_lte: int
    float_gte: float
    float_lte: float
    enum_defined_only: bool
    keys: FieldRules
    items_checked_apart: bool
    def __init__(self, required: _Optional[bool] = ..., min_len: _Optional[int] = ..., max_len: _Optional[int] = ..., max_bytes: _Optional[int] = ..., pattern: _Optional[str] = ..., uuid: _Optional[bool] = ..., max_items: _Optional[int] = ..., int_gte: _Optional[int] = ..., int_lte: _Optional[int] = ..., float_gte: _Optional[float] = ..., float_lte: _Optional[float] = ..., enum_defined_only: _Optional[bool] = ..., keys: _Optional[_Union[FieldRules, _Mapping]] = ..., items_checked_apart: _Optional[bool] = ...) -> None: ...

class OneofRules(_message.Message):
    __slots__ = ("required",)
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    required: bool
    def __init__(self, required: _Optional[bool] = ...) -> None: ...

from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Subject(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBJECT_UNSPECIFIED: _ClassVar[Subject]
    SUBJECT_IDENTIFIER: _ClassVar[Subject]
    SUBJECT_AGGREGATE: _ClassVar[Subject]
    SUBJECT_PERSON_ACTOR: _ClassVar[Subject]
SUBJECT_UNSPECIFIED: Subject
SUBJECT_IDENTIFIER: Subject
SUBJECT_AGGREGATE: Subject
SUBJECT_PERSON_ACTOR: Subject
PII_FIELD_NUMBER: _ClassVar[int]
pii: _descriptor.FieldDescriptor

class PersonalData(_message.Message):
    __slots__ = ("subject",)
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    subject: Subject
    def __init__(self, subject: _Optional[_Union[Subject, str]] = ...) -> None: ...

import datetime

from chorus.common.v1 import types_pb2 as _types_pb2
from chorus.privacy.v1 import privacy_pb2 as _privacy_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Evidence(_message.Message):
    __slots__ = ("source", "confidence", "asserted_by", "rule", "note")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    ASSERTED_BY_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    source: str
    confidence: float
    asserted_by: str
    rule: str
    note: str
    def __init__(self, source: _Optional[str] = ..., confidence: _Optional[float] = ..., asserted_by: _Optional[str] = ..., rule: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class LinkedIdentifier(_message.Message):
    __slots__ = ("identifier_id", "type", "namespace", "value", "evidence")
    IDENTIFIER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    identifier_id: str
    type: _types_pb2.IdentifierType
    namespace: str
    value: str
    evidence: Evidence
    def __init__(self, identifier_id: _Optional[str] = ..., type: _Optional[_Union[_types_pb2.IdentifierType, str]] = ..., namespace: _Optional[str] = ..., value: _Optional[str] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class PartyRegistered(_message.Message):
    __slots__ = ("timestamp", "kind", "roles", "display_name", "anonymous", "originator_topic")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ANONYMOUS_FIELD_NUMBER: _ClassVar[int]
    ORIGINATOR_TOPIC_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    kind: _types_pb2.PartyKind
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.PartyRole]
    display_name: str
    anonymous: bool
    originator_topic: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[_Union[_types_pb2.PartyKind, str]] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.PartyRole, str]]] = ..., display_name: _Optional[str] = ..., anonymous: _Optional[bool] = ..., originator_topic: _Optional[str] = ...) -> None: ...

class PartyIdentifierLinked(_message.Message):
    __slots__ = ("timestamp", "identifier")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    identifier: LinkedIdentifier
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., identifier: _Optional[_Union[LinkedIdentifier, _Mapping]] = ...) -> None: ...

class PartyIdentifierUnlinked(_message.Message):
    __slots__ = ("timestamp", "identifier_id", "reason")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    identifier_id: str
    reason: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., identifier_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PartyMemberAdded(_message.Message):
    __slots__ = ("timestamp", "member_id")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    member_id: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., member_id: _Optional[str] = ...) -> None: ...

class PartyMemberRemoved(_message.Message):
    __slots__ = ("timestamp", "member_id")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    member_id: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., member_id: _Optional[str] = ...) -> None: ...

class PartyJoinedCommunity(_message.Message):
    __slots__ = ("timestamp", "community_id")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    community_id: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., community_id: _Optional[str] = ...) -> None: ...

class PartyLeftCommunity(_message.Message):
    __slots__ = ("timestamp", "community_id")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    community_id: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., community_id: _Optional[str] = ...) -> None: ...

class PartyConsentRecorded(_message.Message):
    __slots__ = ("timestamp", "channel", "status", "at", "source")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    channel: _types_pb2.Channel
    status: _types_pb2.ConsentStatus
    at: _timestamp_pb2.Timestamp
    source: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., status: _Optional[_Union[_types_pb2.ConsentStatus, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ...) -> None: ...

class PartyPreferredChannelsSet(_message.Message):
    __slots__ = ("timestamp", "channels")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    channels: _containers.RepeatedScalarFieldContainer[_types_pb2.Channel]
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channels: _Optional[_Iterable[_Union[_types_pb2.Channel, str]]] = ...) -> None: ...

class PartyDoNotContactSet(_message.Message):
    __slots__ = ("timestamp", "do_not_contact", "at", "source")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DO_NOT_CONTACT_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    do_not_contact: bool
    at: _timestamp_pb2.Timestamp
    source: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., do_not_contact: _Optional[bool] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ...) -> None: ...

class PartyAbsorbed(_message.Message):
    __slots__ = ("timestamp", "source_party_id", "identifiers", "members", "members_added", "memberships", "memberships_added", "evidence")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_ADDED_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_ADDED_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    source_party_id: str
    identifiers: _containers.RepeatedCompositeFieldContainer[LinkedIdentifier]
    members: _containers.RepeatedScalarFieldContainer[str]
    members_added: _containers.RepeatedScalarFieldContainer[str]
    memberships: _containers.RepeatedScalarFieldContainer[str]
    memberships_added: _containers.RepeatedScalarFieldContainer[str]
    evidence: Evidence
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source_party_id: _Optional[str] = ..., identifiers: _Optional[_Iterable[_Union[LinkedIdentifier, _Mapping]]] = ..., members: _Optional[_Iterable[str]] = ..., members_added: _Optional[_Iterable[str]] = ..., memberships: _Optional[_Iterable[str]] = ..., memberships_added: _Optional[_Iterable[str]] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class PartyMergedInto(_message.Message):
    __slots__ = ("timestamp", "target_party_id", "identifier_ids", "members", "memberships", "evidence")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TARGET_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_IDS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    target_party_id: str
    identifier_ids: _containers.RepeatedScalarFieldContainer[str]
    members: _containers.RepeatedScalarFieldContainer[str]
    memberships: _containers.RepeatedScalarFieldContainer[str]
    evidence: Evidence
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., target_party_id: _Optional[str] = ..., identifier_ids: _Optional[_Iterable[str]] = ..., members: _Optional[_Iterable[str]] = ..., memberships: _Optional[_Iterable[str]] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class PartyReleased(_message.Message):
    __slots__ = ("timestamp", "source_party_id", "identifier_ids", "members", "memberships", "evidence")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_IDS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    source_party_id: str
    identifier_ids: _containers.RepeatedScalarFieldContainer[str]
    members: _containers.RepeatedScalarFieldContainer[str]
    memberships: _containers.RepeatedScalarFieldContainer[str]
    evidence: Evidence
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source_party_id: _Optional[str] = ..., identifier_ids: _Optional[_Iterable[str]] = ..., members: _Optional[_Iterable[str]] = ..., memberships: _Optional[_Iterable[str]] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class PartyUnmerged(_message.Message):
    __slots__ = ("timestamp", "from_party_id", "identifiers", "members", "memberships", "evidence")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    FROM_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    from_party_id: str
    identifiers: _containers.RepeatedCompositeFieldContainer[LinkedIdentifier]
    members: _containers.RepeatedScalarFieldContainer[str]
    memberships: _containers.RepeatedScalarFieldContainer[str]
    evidence: Evidence
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., from_party_id: _Optional[str] = ..., identifiers: _Optional[_Iterable[_Union[LinkedIdentifier, _Mapping]]] = ..., members: _Optional[_Iterable[str]] = ..., memberships: _Optional[_Iterable[str]] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class ErasureReceipt(_message.Message):
    __slots__ = ("receipt_id", "erased_at", "requested_by", "legal_basis", "categories", "key_ids", "party_ids", "kept_identifiers")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    ERASED_AT_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    KEY_IDS_FIELD_NUMBER: _ClassVar[int]
    PARTY_IDS_FIELD_NUMBER: _ClassVar[int]
    KEPT_IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    erased_at: _timestamp_pb2.Timestamp
    requested_by: str
    legal_basis: str
    categories: _containers.RepeatedScalarFieldContainer[str]
    key_ids: _containers.RepeatedScalarFieldContainer[str]
    party_ids: _containers.RepeatedScalarFieldContainer[str]
    kept_identifiers: int
    def __init__(self, receipt_id: _Optional[str] = ..., erased_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., requested_by: _Optional[str] = ..., legal_basis: _Optional[str] = ..., categories: _Optional[_Iterable[str]] = ..., key_ids: _Optional[_Iterable[str]] = ..., party_ids: _Optional[_Iterable[str]] = ..., kept_identifiers: _Optional[int] = ...) -> None: ...

class PartyForgotten(_message.Message):
    __slots__ = ("timestamp", "receipt")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    receipt: ErasureReceipt
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., receipt: _Optional[_Union[ErasureReceipt, _Mapping]] = ...) -> None: ...

class IdentifierClaimed(_message.Message):
    __slots__ = ("timestamp", "type", "namespace", "value", "party_id", "originator_topic")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINATOR_TOPIC_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    type: _types_pb2.IdentifierType
    namespace: str
    value: str
    party_id: str
    originator_topic: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[_Union[_types_pb2.IdentifierType, str]] = ..., namespace: _Optional[str] = ..., value: _Optional[str] = ..., party_id: _Optional[str] = ..., originator_topic: _Optional[str] = ...) -> None: ...

class IdentifierTransferred(_message.Message):
    __slots__ = ("timestamp", "party_id", "from_party_id", "reason")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    party_id: str
    from_party_id: str
    reason: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., party_id: _Optional[str] = ..., from_party_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class IdentifierUnclaimed(_message.Message):
    __slots__ = ("timestamp", "from_party_id", "reason")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    FROM_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    from_party_id: str
    reason: str
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., from_party_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

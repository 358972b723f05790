import datetime

from chorus.common.v1 import types_pb2 as _types_pb2
from chorus.identity.events.v1 import events_pb2 as _events_pb2
from chorus.validate.v1 import rules_pb2 as _rules_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImportOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMPORT_OUTCOME_UNSPECIFIED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_IMPORTED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_ALREADY_IMPORTED: _ClassVar[ImportOutcome]
    IMPORT_OUTCOME_REJECTED: _ClassVar[ImportOutcome]
IMPORT_OUTCOME_UNSPECIFIED: ImportOutcome
IMPORT_OUTCOME_IMPORTED: ImportOutcome
IMPORT_OUTCOME_ALREADY_IMPORTED: ImportOutcome
IMPORT_OUTCOME_REJECTED: ImportOutcome

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
    __slots__ = ("identifier_id", "identifier", "evidence")
    IDENTIFIER_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    identifier_id: str
    identifier: _types_pb2.Identifier
    evidence: Evidence
    def __init__(self, identifier_id: _Optional[str] = ..., identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class Consent(_message.Message):
    __slots__ = ("channel", "status", "time", "source", "party_id")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    channel: _types_pb2.Channel
    status: _types_pb2.ConsentStatus
    time: _timestamp_pb2.Timestamp
    source: str
    party_id: str
    def __init__(self, channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., status: _Optional[_Union[_types_pb2.ConsentStatus, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., party_id: _Optional[str] = ...) -> None: ...

class Party(_message.Message):
    __slots__ = ("party_id", "kind", "roles", "display_name", "anonymous", "identifiers", "member_party_ids", "community_party_ids", "consents", "preferred_channels", "do_not_contact", "merged_into_party_id", "merged_party_ids", "version", "do_not_contact_party_ids")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ANONYMOUS_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    MEMBER_PARTY_IDS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_PARTY_IDS_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    DO_NOT_CONTACT_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    MERGED_PARTY_IDS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DO_NOT_CONTACT_PARTY_IDS_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    kind: _types_pb2.PartyKind
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.PartyRole]
    display_name: str
    anonymous: bool
    identifiers: _containers.RepeatedCompositeFieldContainer[LinkedIdentifier]
    member_party_ids: _containers.RepeatedScalarFieldContainer[str]
    community_party_ids: _containers.RepeatedScalarFieldContainer[str]
    consents: _containers.RepeatedCompositeFieldContainer[Consent]
    preferred_channels: _containers.RepeatedScalarFieldContainer[_types_pb2.Channel]
    do_not_contact: bool
    merged_into_party_id: str
    merged_party_ids: _containers.RepeatedScalarFieldContainer[str]
    version: int
    do_not_contact_party_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, party_id: _Optional[str] = ..., kind: _Optional[_Union[_types_pb2.PartyKind, str]] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.PartyRole, str]]] = ..., display_name: _Optional[str] = ..., anonymous: _Optional[bool] = ..., identifiers: _Optional[_Iterable[_Union[LinkedIdentifier, _Mapping]]] = ..., member_party_ids: _Optional[_Iterable[str]] = ..., community_party_ids: _Optional[_Iterable[str]] = ..., consents: _Optional[_Iterable[_Union[Consent, _Mapping]]] = ..., preferred_channels: _Optional[_Iterable[_Union[_types_pb2.Channel, str]]] = ..., do_not_contact: _Optional[bool] = ..., merged_into_party_id: _Optional[str] = ..., merged_party_ids: _Optional[_Iterable[str]] = ..., version: _Optional[int] = ..., do_not_contact_party_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterPartyRequest(_message.Message):
    __slots__ = ("kind", "display_name", "roles", "identifiers", "evidence")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    kind: _types_pb2.PartyKind
    display_name: str
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.PartyRole]
    identifiers: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    evidence: Evidence
    def __init__(self, kind: _Optional[_Union[_types_pb2.PartyKind, str]] = ..., display_name: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.PartyRole, str]]] = ..., identifiers: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class RegisterPartyResponse(_message.Message):
    __slots__ = ("party",)
    PARTY_FIELD_NUMBER: _ClassVar[int]
    party: Party
    def __init__(self, party: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class GetPartyRequest(_message.Message):
    __slots__ = ("party_id",)
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    def __init__(self, party_id: _Optional[str] = ...) -> None: ...

class GetPartyResponse(_message.Message):
    __slots__ = ("party",)
    PARTY_FIELD_NUMBER: _ClassVar[int]
    party: Party
    def __init__(self, party: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class ListPartiesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "kind")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    kind: _types_pb2.PartyKind
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., kind: _Optional[_Union[_types_pb2.PartyKind, str]] = ...) -> None: ...

class ListPartiesResponse(_message.Message):
    __slots__ = ("parties", "next_page_token")
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parties: _containers.RepeatedCompositeFieldContainer[Party]
    next_page_token: str
    def __init__(self, parties: _Optional[_Iterable[_Union[Party, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SearchPartiesRequest(_message.Message):
    __slots__ = ("identifier",)
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    identifier: _types_pb2.Identifier
    def __init__(self, identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ...) -> None: ...

class SearchPartiesResponse(_message.Message):
    __slots__ = ("parties",)
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    parties: _containers.RepeatedCompositeFieldContainer[Party]
    def __init__(self, parties: _Optional[_Iterable[_Union[Party, _Mapping]]] = ...) -> None: ...

class LinkIdentifierRequest(_message.Message):
    __slots__ = ("party_id", "identifier", "evidence", "force", "expected_version")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    identifier: _types_pb2.Identifier
    evidence: Evidence
    force: bool
    expected_version: int
    def __init__(self, party_id: _Optional[str] = ..., identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ..., force: _Optional[bool] = ..., expected_version: _Optional[int] = ...) -> None: ...

class LinkIdentifierResponse(_message.Message):
    __slots__ = ("party", "identifier_id", "previous_party_id")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    party: Party
    identifier_id: str
    previous_party_id: str
    def __init__(self, party: _Optional[_Union[Party, _Mapping]] = ..., identifier_id: _Optional[str] = ..., previous_party_id: _Optional[str] = ...) -> None: ...

class UnlinkIdentifierRequest(_message.Message):
    __slots__ = ("party_id", "identifier", "reason")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    identifier: _types_pb2.Identifier
    reason: str
    def __init__(self, party_id: _Optional[str] = ..., identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class UnlinkIdentifierResponse(_message.Message):
    __slots__ = ("party",)
    PARTY_FIELD_NUMBER: _ClassVar[int]
    party: Party
    def __init__(self, party: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class ResolveIdentifierRequest(_message.Message):
    __slots__ = ("identifier", "create_if_missing", "evidence")
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    CREATE_IF_MISSING_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    identifier: _types_pb2.Identifier
    create_if_missing: bool
    evidence: Evidence
    def __init__(self, identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ..., create_if_missing: _Optional[bool] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class ResolveIdentifierResponse(_message.Message):
    __slots__ = ("party_id", "identifier_id", "created", "identifier")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    identifier_id: str
    created: bool
    identifier: _types_pb2.Identifier
    def __init__(self, party_id: _Optional[str] = ..., identifier_id: _Optional[str] = ..., created: _Optional[bool] = ..., identifier: _Optional[_Union[_types_pb2.Identifier, _Mapping]] = ...) -> None: ...

class ResolvePartyRequest(_message.Message):
    __slots__ = ("party_id",)
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    def __init__(self, party_id: _Optional[str] = ...) -> None: ...

class ResolvePartyResponse(_message.Message):
    __slots__ = ("party_id", "merge_path")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    MERGE_PATH_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    merge_path: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, party_id: _Optional[str] = ..., merge_path: _Optional[_Iterable[str]] = ...) -> None: ...

class MergePartiesRequest(_message.Message):
    __slots__ = ("target_party_id", "source_party_id", "evidence")
    TARGET_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    target_party_id: str
    source_party_id: str
    evidence: Evidence
    def __init__(self, target_party_id: _Optional[str] = ..., source_party_id: _Optional[str] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class MergePartiesResponse(_message.Message):
    __slots__ = ("party",)
    PARTY_FIELD_NUMBER: _ClassVar[int]
    party: Party
    def __init__(self, party: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class UnmergePartyRequest(_message.Message):
    __slots__ = ("party_id", "evidence")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    evidence: Evidence
    def __init__(self, party_id: _Optional[str] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class UnmergePartyResponse(_message.Message):
    __slots__ = ("party", "former_target")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    FORMER_TARGET_FIELD_NUMBER: _ClassVar[int]
    party: Party
    former_target: Party
    def __init__(self, party: _Optional[_Union[Party, _Mapping]] = ..., former_target: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class AddCommunityMemberRequest(_message.Message):
    __slots__ = ("community_party_id", "member_party_id")
    COMMUNITY_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    community_party_id: str
    member_party_id: str
    def __init__(self, community_party_id: _Optional[str] = ..., member_party_id: _Optional[str] = ...) -> None: ...

class AddCommunityMemberResponse(_message.Message):
    __slots__ = ("community",)
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    community: Party
    def __init__(self, community: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class RemoveCommunityMemberRequest(_message.Message):
    __slots__ = ("community_party_id", "member_party_id")
    COMMUNITY_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    community_party_id: str
    member_party_id: str
    def __init__(self, community_party_id: _Optional[str] = ..., member_party_id: _Optional[str] = ...) -> None: ...

class RemoveCommunityMemberResponse(_message.Message):
    __slots__ = ("community",)
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    community: Party
    def __init__(self, community: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class RecordConsentRequest(_message.Message):
    __slots__ = ("party_id", "channel", "status", "time", "source", "expected_version")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    channel: _types_pb2.Channel
    status: _types_pb2.ConsentStatus
    time: _timestamp_pb2.Timestamp
    source: str
    expected_version: int
    def __init__(self, party_id: _Optional[str] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., status: _Optional[_Union[_types_pb2.ConsentStatus, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class RecordConsentResponse(_message.Message):
    __slots__ = ("party",)
    PARTY_FIELD_NUMBER: _ClassVar[int]
    party: Party
    def __init__(self, party: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class SetPreferredChannelsRequest(_message.Message):
    __slots__ = ("party_id", "channels", "expected_version")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    channels: _containers.RepeatedScalarFieldContainer[_types_pb2.Channel]
    expected_version: int
    def __init__(self, party_id: _Optional[str] = ..., channels: _Optional[_Iterable[_Union[_types_pb2.Channel, str]]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class SetPreferredChannelsResponse(_message.Message):
    __slots__ = ("party",)
    PARTY_FIELD_NUMBER: _ClassVar[int]
    party: Party
    def __init__(self, party: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class SetDoNotContactRequest(_message.Message):
    __slots__ = ("party_id", "do_not_contact", "time", "source", "expected_version")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    DO_NOT_CONTACT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    do_not_contact: bool
    time: _timestamp_pb2.Timestamp
    source: str
    expected_version: int
    def __init__(self, party_id: _Optional[str] = ..., do_not_contact: _Optional[bool] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class SetDoNotContactResponse(_message.Message):
    __slots__ = ("party",)
    PARTY_FIELD_NUMBER: _ClassVar[int]
    party: Party
    def __init__(self, party: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class CheckContactPermissionRequest(_message.Message):
    __slots__ = ("party_id", "channel", "time")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    channel: _types_pb2.Channel
    time: _timestamp_pb2.Timestamp
    def __init__(self, party_id: _Optional[str] = ..., channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CheckContactPermissionResponse(_message.Message):
    __slots__ = ("allowed", "reason", "party_id", "preferred")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    reason: str
    party_id: str
    preferred: bool
    def __init__(self, allowed: _Optional[bool] = ..., reason: _Optional[str] = ..., party_id: _Optional[str] = ..., preferred: _Optional[bool] = ...) -> None: ...

class ForgetPartyRequest(_message.Message):
    __slots__ = ("party_id", "requested_by", "legal_basis")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    requested_by: str
    legal_basis: str
    def __init__(self, party_id: _Optional[str] = ..., requested_by: _Optional[str] = ..., legal_basis: _Optional[str] = ...) -> None: ...

class ForgetPartyResponse(_message.Message):
    __slots__ = ("receipt_id", "receipt")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    receipt: _events_pb2.ErasureReceipt
    def __init__(self, receipt_id: _Optional[str] = ..., receipt: _Optional[_Union[_events_pb2.ErasureReceipt, _Mapping]] = ...) -> None: ...

class ExportPartyRequest(_message.Message):
    __slots__ = ("party_id",)
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    def __init__(self, party_id: _Optional[str] = ...) -> None: ...

class ExportPartyResponse(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...

class ImportedConsent(_message.Message):
    __slots__ = ("channel", "status", "time", "source")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    channel: _types_pb2.Channel
    status: _types_pb2.ConsentStatus
    time: _timestamp_pb2.Timestamp
    source: str
    def __init__(self, channel: _Optional[_Union[_types_pb2.Channel, str]] = ..., status: _Optional[_Union[_types_pb2.ConsentStatus, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ...) -> None: ...

class ImportedParty(_message.Message):
    __slots__ = ("source_system", "external_id", "kind", "display_name", "roles", "identifiers", "consents", "preferred_channels", "evidence")
    SOURCE_SYSTEM_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    IDENTIFIERS_FIELD_NUMBER: _ClassVar[int]
    CONSENTS_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    source_system: str
    external_id: str
    kind: _types_pb2.PartyKind
    display_name: str
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.PartyRole]
    identifiers: _containers.RepeatedCompositeFieldContainer[_types_pb2.Identifier]
    consents: _containers.RepeatedCompositeFieldContainer[ImportedConsent]
    preferred_channels: _containers.RepeatedScalarFieldContainer[_types_pb2.Channel]
    evidence: Evidence
    def __init__(self, source_system: _Optional[str] = ..., external_id: _Optional[str] = ..., kind: _Optional[_Union[_types_pb2.PartyKind, str]] = ..., display_name: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.PartyRole, str]]] = ..., identifiers: _Optional[_Iterable[_Union[_types_pb2.Identifier, _Mapping]]] = ..., consents: _Optional[_Iterable[_Union[ImportedConsent, _Mapping]]] = ..., preferred_channels: _Optional[_Iterable[_Union[_types_pb2.Channel, str]]] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ...) -> None: ...

class ImportPartiesRequest(_message.Message):
    __slots__ = ("party", "parties")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    party: ImportedParty
    parties: _containers.RepeatedCompositeFieldContainer[ImportedParty]
    def __init__(self, party: _Optional[_Union[ImportedParty, _Mapping]] = ..., parties: _Optional[_Iterable[_Union[ImportedParty, _Mapping]]] = ...) -> None: ...

class ImportViolation(_message.Message):
    __slots__ = ("field", "description", "rule")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    rule: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ..., rule: _Optional[str] = ...) -> None: ...

class ImportResult(_message.Message):
    __slots__ = ("index", "party_id", "outcome", "violations", "conflicting_party_id")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    CONFLICTING_PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    index: int
    party_id: str
    outcome: ImportOutcome
    violations: _containers.RepeatedCompositeFieldContainer[ImportViolation]
    conflicting_party_id: str
    def __init__(self, index: _Optional[int] = ..., party_id: _Optional[str] = ..., outcome: _Optional[_Union[ImportOutcome, str]] = ..., violations: _Optional[_Iterable[_Union[ImportViolation, _Mapping]]] = ..., conflicting_party_id: _Optional[str] = ...) -> None: ...

class ImportPartiesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ImportResult]
    def __init__(self, results: _Optional[_Iterable[_Union[ImportResult, _Mapping]]] = ...) -> None: ...

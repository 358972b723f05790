from chorus.privacy.v1 import privacy_pb2 as _privacy_pb2
from chorus.validate.v1 import rules_pb2 as _rules_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IdentifierType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTIFIER_TYPE_UNSPECIFIED: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_EMAIL: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_PHONE: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_X: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_FACEBOOK: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_INSTAGRAM: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_YOUTUBE: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_FORUM_USER: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_BLOG_URL: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_MARKETPLACE_REVIEWER: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_CRM_ID: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_DEVICE_ID: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_CHAT_ID: _ClassVar[IdentifierType]
    IDENTIFIER_TYPE_OTHER: _ClassVar[IdentifierType]

class PartyKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTY_KIND_UNSPECIFIED: _ClassVar[PartyKind]
    PARTY_KIND_PERSON: _ClassVar[PartyKind]
    PARTY_KIND_ORGANISATION: _ClassVar[PartyKind]
    PARTY_KIND_COMMUNITY: _ClassVar[PartyKind]

class PartyRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARTY_ROLE_UNSPECIFIED: _ClassVar[PartyRole]
    PARTY_ROLE_CUSTOMER: _ClassVar[PartyRole]
    PARTY_ROLE_PROSPECT: _ClassVar[PartyRole]
    PARTY_ROLE_PARTNER: _ClassVar[PartyRole]
    PARTY_ROLE_INFLUENCER: _ClassVar[PartyRole]
    PARTY_ROLE_EMPLOYEE: _ClassVar[PartyRole]

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_PHONE: _ClassVar[Channel]
    CHANNEL_EMAIL: _ClassVar[Channel]
    CHANNEL_CHAT: _ClassVar[Channel]
    CHANNEL_SMS: _ClassVar[Channel]
    CHANNEL_X: _ClassVar[Channel]
    CHANNEL_FACEBOOK: _ClassVar[Channel]
    CHANNEL_INSTAGRAM: _ClassVar[Channel]
    CHANNEL_YOUTUBE: _ClassVar[Channel]
    CHANNEL_FORUM: _ClassVar[Channel]
    CHANNEL_BLOG: _ClassVar[Channel]
    CHANNEL_MARKETPLACE: _ClassVar[Channel]
    CHANNEL_STORE: _ClassVar[Channel]
    CHANNEL_WEB: _ClassVar[Channel]
    CHANNEL_IN_APP: _ClassVar[Channel]
    CHANNEL_OTHER: _ClassVar[Channel]

class TouchpointKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOUCHPOINT_KIND_UNSPECIFIED: _ClassVar[TouchpointKind]
    TOUCHPOINT_KIND_TOUCHPOINT: _ClassVar[TouchpointKind]
    TOUCHPOINT_KIND_NON_TOUCHPOINT: _ClassVar[TouchpointKind]

class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIRECTION_UNSPECIFIED: _ClassVar[Direction]
    DIRECTION_INBOUND: _ClassVar[Direction]
    DIRECTION_OUTBOUND: _ClassVar[Direction]

class Visibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISIBILITY_UNSPECIFIED: _ClassVar[Visibility]
    VISIBILITY_PUBLIC: _ClassVar[Visibility]
    VISIBILITY_PRIVATE: _ClassVar[Visibility]

class Intent(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTENT_UNSPECIFIED: _ClassVar[Intent]
    INTENT_QUESTION: _ClassVar[Intent]
    INTENT_COMPLAINT: _ClassVar[Intent]
    INTENT_PRAISE: _ClassVar[Intent]
    INTENT_SUGGESTION: _ClassVar[Intent]
    INTENT_PURCHASE: _ClassVar[Intent]
    INTENT_OTHER: _ClassVar[Intent]

class SociabilityDegree(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOCIABILITY_DEGREE_UNSPECIFIED: _ClassVar[SociabilityDegree]
    SOCIABILITY_DEGREE_MONOLOGUE: _ClassVar[SociabilityDegree]
    SOCIABILITY_DEGREE_VENTING: _ClassVar[SociabilityDegree]
    SOCIABILITY_DEGREE_SKEWED: _ClassVar[SociabilityDegree]
    SOCIABILITY_DEGREE_SOCIAL_PRESSURE: _ClassVar[SociabilityDegree]
    SOCIABILITY_DEGREE_OBJECTIVE: _ClassVar[SociabilityDegree]
    SOCIABILITY_DEGREE_COMMUNITY: _ClassVar[SociabilityDegree]

class BusinessSociabilityDegree(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUSINESS_SOCIABILITY_DEGREE_UNSPECIFIED: _ClassVar[BusinessSociabilityDegree]
    BUSINESS_SOCIABILITY_DEGREE_BROADCAST: _ClassVar[BusinessSociabilityDegree]
    BUSINESS_SOCIABILITY_DEGREE_BROADCAST_WITH_BAIT: _ClassVar[BusinessSociabilityDegree]
    BUSINESS_SOCIABILITY_DEGREE_PRETENDING: _ClassVar[BusinessSociabilityDegree]
    BUSINESS_SOCIABILITY_DEGREE_BLOGGING: _ClassVar[BusinessSociabilityDegree]
    BUSINESS_SOCIABILITY_DEGREE_FAN_PAGE: _ClassVar[BusinessSociabilityDegree]
    BUSINESS_SOCIABILITY_DEGREE_COMMUNITY: _ClassVar[BusinessSociabilityDegree]

class CompanyFunction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPANY_FUNCTION_UNSPECIFIED: _ClassVar[CompanyFunction]
    COMPANY_FUNCTION_SERVICE: _ClassVar[CompanyFunction]
    COMPANY_FUNCTION_MARKETING: _ClassVar[CompanyFunction]
    COMPANY_FUNCTION_PR: _ClassVar[CompanyFunction]
    COMPANY_FUNCTION_SALES: _ClassVar[CompanyFunction]
    COMPANY_FUNCTION_PRODUCT: _ClassVar[CompanyFunction]

class ConsentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONSENT_STATUS_UNSPECIFIED: _ClassVar[ConsentStatus]
    CONSENT_STATUS_GRANTED: _ClassVar[ConsentStatus]
    CONSENT_STATUS_DENIED: _ClassVar[ConsentStatus]
    CONSENT_STATUS_REVOKED: _ClassVar[ConsentStatus]
IDENTIFIER_TYPE_UNSPECIFIED: IdentifierType
IDENTIFIER_TYPE_EMAIL: IdentifierType
IDENTIFIER_TYPE_PHONE: IdentifierType
IDENTIFIER_TYPE_X: IdentifierType
IDENTIFIER_TYPE_FACEBOOK: IdentifierType
IDENTIFIER_TYPE_INSTAGRAM: IdentifierType
IDENTIFIER_TYPE_YOUTUBE: IdentifierType
IDENTIFIER_TYPE_FORUM_USER: IdentifierType
IDENTIFIER_TYPE_BLOG_URL: IdentifierType
IDENTIFIER_TYPE_MARKETPLACE_REVIEWER: IdentifierType
IDENTIFIER_TYPE_CRM_ID: IdentifierType
IDENTIFIER_TYPE_DEVICE_ID: IdentifierType
IDENTIFIER_TYPE_CHAT_ID: IdentifierType
IDENTIFIER_TYPE_OTHER: IdentifierType
PARTY_KIND_UNSPECIFIED: PartyKind
PARTY_KIND_PERSON: PartyKind
PARTY_KIND_ORGANISATION: PartyKind
PARTY_KIND_COMMUNITY: PartyKind
PARTY_ROLE_UNSPECIFIED: PartyRole
PARTY_ROLE_CUSTOMER: PartyRole
PARTY_ROLE_PROSPECT: PartyRole
PARTY_ROLE_PARTNER: PartyRole
PARTY_ROLE_INFLUENCER: PartyRole
PARTY_ROLE_EMPLOYEE: PartyRole
CHANNEL_UNSPECIFIED: Channel
CHANNEL_PHONE: Channel
CHANNEL_EMAIL: Channel
CHANNEL_CHAT: Channel
CHANNEL_SMS: Channel
CHANNEL_X: Channel
CHANNEL_FACEBOOK: Channel
CHANNEL_INSTAGRAM: Channel
CHANNEL_YOUTUBE: Channel
CHANNEL_FORUM: Channel
CHANNEL_BLOG: Channel
CHANNEL_MARKETPLACE: Channel
CHANNEL_STORE: Channel
CHANNEL_WEB: Channel
CHANNEL_IN_APP: Channel
CHANNEL_OTHER: Channel
TOUCHPOINT_KIND_UNSPECIFIED: TouchpointKind
TOUCHPOINT_KIND_TOUCHPOINT: TouchpointKind
TOUCHPOINT_KIND_NON_TOUCHPOINT: TouchpointKind
DIRECTION_UNSPECIFIED: Direction
DIRECTION_INBOUND: Direction
DIRECTION_OUTBOUND: Direction
VISIBILITY_UNSPECIFIED: Visibility
VISIBILITY_PUBLIC: Visibility
VISIBILITY_PRIVATE: Visibility
INTENT_UNSPECIFIED: Intent
INTENT_QUESTION: Intent
INTENT_COMPLAINT: Intent
INTENT_PRAISE: Intent
INTENT_SUGGESTION: Intent
INTENT_PURCHASE: Intent
INTENT_OTHER: Intent
SOCIABILITY_DEGREE_UNSPECIFIED: SociabilityDegree
SOCIABILITY_DEGREE_MONOLOGUE: SociabilityDegree
SOCIABILITY_DEGREE_VENTING: SociabilityDegree
SOCIABILITY_DEGREE_SKEWED: SociabilityDegree
SOCIABILITY_DEGREE_SOCIAL_PRESSURE: SociabilityDegree
SOCIABILITY_DEGREE_OBJECTIVE: SociabilityDegree
SOCIABILITY_DEGREE_COMMUNITY: SociabilityDegree
BUSINESS_SOCIABILITY_DEGREE_UNSPECIFIED: BusinessSociabilityDegree
BUSINESS_SOCIABILITY_DEGREE_BROADCAST: BusinessSociabilityDegree
BUSINESS_SOCIABILITY_DEGREE_BROADCAST_WITH_BAIT: BusinessSociabilityDegree
BUSINESS_SOCIABILITY_DEGREE_PRETENDING: BusinessSociabilityDegree
BUSINESS_SOCIABILITY_DEGREE_BLOGGING: BusinessSociabilityDegree
BUSINESS_SOCIABILITY_DEGREE_FAN_PAGE: BusinessSociabilityDegree
BUSINESS_SOCIABILITY_DEGREE_COMMUNITY: BusinessSociabilityDegree
COMPANY_FUNCTION_UNSPECIFIED: CompanyFunction
COMPANY_FUNCTION_SERVICE: CompanyFunction
COMPANY_FUNCTION_MARKETING: CompanyFunction
COMPANY_FUNCTION_PR: CompanyFunction
COMPANY_FUNCTION_SALES: CompanyFunction
COMPANY_FUNCTION_PRODUCT: CompanyFunction
CONSENT_STATUS_UNSPECIFIED: ConsentStatus
CONSENT_STATUS_GRANTED: ConsentStatus
CONSENT_STATUS_DENIED: ConsentStatus
CONSENT_STATUS_REVOKED: ConsentStatus

class Identifier(_message.Message):
    __slots__ = ("type", "value", "namespace")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    type: IdentifierType
    value: str
    namespace: str
    def __init__(self, type: _Optional[_Union[IdentifierType, str]] = ..., value: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

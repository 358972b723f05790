"""The identity domain: parties, the identifiers that point at them, reversible merges, contact permission.

Two aggregates (``party``):

``Party``
    A person, organisation or community: kind, roles, display name, the identifiers linked to it (each with the
    evidence that linked it), community members (both directions: a community lists its members, a party lists
    the communities it belongs to), consent per channel, preferred channels, do-not-contact, and merges.
``IdentifierClaim``
    One per identifier (id = the key of the identifier's normal form, ``services.common.identifiers``): which
    party owns it now. Two parties linking one identifier at the same time both try to write the claim at the
    same version, so one wins and the other gets a concurrency error, never two owners.

``commands`` changes several aggregates at once (link, import, merge, unmerge, memberships); ``contact`` decides
whether a party may be contacted; ``values`` holds the value objects (evidence, linked identifier, consent and
do-not-contact records, what a merge moved); ``policy`` the merge protection; ``errors`` the domain's errors,
which name domain words, never API fields. Identifiers here are in their normal form already; the domain never
parses. It imports the standard library, ``eventsourcing.domain`` and the kernel's errors and identifiers.
"""

from services.identity.domain.commands import (
    CheckedImport,
    add_member,
    check_import,
    check_merge,
    check_unmerge,
    import_party,
    link_identifier,
    merge_parties,
    remove_member,
    unlink_identifier,
    unmerge_party,
)
from services.identity.domain.contact import ContactPermission, ContactState, contact_state
from services.identity.domain.errors import (
    RULE_BLOCKED_IDENTIFIER,
    RULE_COMMAND_TOO_LARGE,
    RULE_IDENTIFIER_CAP,
    RULE_KIND_MISMATCH,
    RULE_MEMBERSHIP_CONFLICT,
    RULE_NOT_A_COMMUNITY,
    RULE_NOT_MERGED,
    RULE_PARTY_FORGOTTEN,
    RULE_PARTY_MERGED,
    RULE_UNMERGE_ORDER,
    AlreadyForgotten,
    IdentifierLinkedElsewhere,
    IdentifierNotLinked,
    IdentityError,
    InvalidIdentityInput,
    MembershipNotFound,
    PartyNotFound,
    ReadAtDifferentMoments,
    RuleViolation,
)
from services.identity.domain.party import (
    IMPORT_NAMESPACE,
    MAX_DISPLAY_NAME,
    PARTY_KINDS,
    PARTY_ROLES,
    IdentifierClaim,
    Party,
    imported_party_id,
)
from services.identity.domain.policy import DEFAULT_BLOCKED, DEFAULT_CAPS, LinkPolicy
from services.identity.domain.values import (
    CONSENT_STATUSES,
    ConsentAnswer,
    ConsentRecord,
    DoNotContactRecord,
    Evidence,
    LinkedIdentifier,
    MergeRecord,
)

__all__ = [
    "CONSENT_STATUSES",
    "DEFAULT_BLOCKED",
    "DEFAULT_CAPS",
    "IMPORT_NAMESPACE",
    "MAX_DISPLAY_NAME",
    "PARTY_KINDS",
    "PARTY_ROLES",
    "RULE_BLOCKED_IDENTIFIER",
    "RULE_COMMAND_TOO_LARGE",
    "RULE_IDENTIFIER_CAP",
    "RULE_KIND_MISMATCH",
    "RULE_MEMBERSHIP_CONFLICT",
    "RULE_NOT_A_COMMUNITY",
    "RULE_NOT_MERGED",
    "RULE_PARTY_FORGOTTEN",
    "RULE_PARTY_MERGED",
    "RULE_UNMERGE_ORDER",
    "AlreadyForgotten",
    "CheckedImport",
    "ConsentAnswer",
    "ConsentRecord",
    "ContactPermission",
    "ContactState",
    "DoNotContactRecord",
    "Evidence",
    "IdentifierClaim",
    "IdentifierLinkedElsewhere",
    "IdentifierNotLinked",
    "IdentityError",
    "InvalidIdentityInput",
    "LinkPolicy",
    "LinkedIdentifier",
    "MembershipNotFound",
    "MergeRecord",
    "Party",
    "PartyNotFound",
    "ReadAtDifferentMoments",
    "RuleViolation",
    "add_member",
    "check_import",
    "check_merge",
    "check_unmerge",
    "contact_state",
    "import_party",
    "imported_party_id",
    "link_identifier",
    "merge_parties",
    "remove_member",
    "unlink_identifier",
    "unmerge_party",
]

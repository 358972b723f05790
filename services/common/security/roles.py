"""The roles of Chorus's callers and the one table saying which roles may call which RPC.

| role | may |
| --- | --- |
| ``ingest`` | record touchpoints (single, batch, stream) |
| ``agent`` | read experiences, timelines, the attention queue, the pulse, suggestions, communities; read touchpoints and parties; correct a touchpoint's classification |
| ``identity-admin`` | register and import parties, link and unlink identifiers, merge and unmerge, communities, consent and contact preferences, and read parties |
| ``privacy-officer`` | forget a party, export what is held about one, and read parties |
| ``auditor`` | read-only: the views' status and quarantine (the event log itself is read over NATS) |
| ``admin`` | everything, including rebuilding the views |

:data:`ALLOWED` maps every RPC of ``protos/chorus/*/v1/*_service.proto`` (its full method name) to the roles
that may call it besides ``admin``; a method missing from the table is ``admin``-only. Health and reflection are
open to everyone (see :data:`OPEN_PREFIXES`). ``tests/integration/common/test_security.py`` checks the table covers every RPC.
"""

from __future__ import annotations

INGEST = "ingest"
AGENT = "agent"
IDENTITY_ADMIN = "identity-admin"
PRIVACY_OFFICER = "privacy-officer"
AUDITOR = "auditor"
ADMIN = "admin"
ROLES = (INGEST, AGENT, IDENTITY_ADMIN, PRIVACY_OFFICER, AUDITOR, ADMIN)

HEALTH_PREFIX = "/grpc.health.v1."
REFLECTION_PREFIX = "/grpc.reflection."
OPEN_PREFIXES = (HEALTH_PREFIX, REFLECTION_PREFIX)

_IDENTITY = "/chorus.identity.v1.IdentityService/"
_TOUCHPOINTS = "/chorus.touchpoints.v1.TouchpointService/"
_EXPERIENCE = "/chorus.experience.v1.ExperienceService/"

_PARTY_READERS = frozenset({AGENT, IDENTITY_ADMIN, PRIVACY_OFFICER})
_IDENTITY_WRITERS = frozenset({IDENTITY_ADMIN})

ALLOWED: dict[str, frozenset[str]] = {
    # identity
    _IDENTITY + "RegisterParty": _IDENTITY_WRITERS,
    _IDENTITY + "GetParty": _PARTY_READERS,
    _IDENTITY + "ListParties": _PARTY_READERS,
    _IDENTITY + "SearchParties": _PARTY_READERS,
    _IDENTITY + "LinkIdentifier": _IDENTITY_WRITERS,
    _IDENTITY + "UnlinkIdentifier": _IDENTITY_WRITERS,
    _IDENTITY + "ResolveIdentifier": _PARTY_READERS,
    _IDENTITY + "ResolveParty": _PARTY_READERS,
    _IDENTITY + "MergeParties": _IDENTITY_WRITERS,
    _IDENTITY + "UnmergeParty": _IDENTITY_WRITERS,
    _IDENTITY + "AddCommunityMember": _IDENTITY_WRITERS,
    _IDENTITY + "RemoveCommunityMember": _IDENTITY_WRITERS,
    _IDENTITY + "RecordConsent": _IDENTITY_WRITERS,
    _IDENTITY + "SetPreferredChannels": _IDENTITY_WRITERS,
    _IDENTITY + "SetDoNotContact": _IDENTITY_WRITERS,
    _IDENTITY + "CheckContactPermission": frozenset({AGENT, IDENTITY_ADMIN}),
    _IDENTITY + "ForgetParty": frozenset({PRIVACY_OFFICER}),
    _IDENTITY + "ExportParty": frozenset({PRIVACY_OFFICER}),
    _IDENTITY + "ImportParties": _IDENTITY_WRITERS,
    # touchpoints
    _TOUCHPOINTS + "RecordTouchpoint": frozenset({INGEST}),
    _TOUCHPOINTS + "RecordTouchpointBatch": frozenset({INGEST}),
    _TOUCHPOINTS + "RecordTouchpointStream": frozenset({INGEST}),
    _TOUCHPOINTS + "GetTouchpoint": frozenset({AGENT}),
    _TOUCHPOINTS + "ListTouchpoints": frozenset({AGENT}),
    _TOUCHPOINTS + "ReclassifyTouchpoint": frozenset({AGENT}),
    # experience
    _EXPERIENCE + "GetExperience": frozenset({AGENT}),
    _EXPERIENCE + "ListTimeline": frozenset({AGENT}),
    _EXPERIENCE + "ListAttention": frozenset({AGENT}),
    _EXPERIENCE + "GetPulse": frozenset({AGENT}),
    _EXPERIENCE + "ListSuggestions": frozenset({AGENT}),
    _EXPERIENCE + "ListCommunities": frozenset({AGENT}),
    _EXPERIENCE + "WatchExperience": frozenset({AGENT}),
    _EXPERIENCE + "WatchAttention": frozenset({AGENT}),
    _EXPERIENCE + "RebuildViews": frozenset(),
    _EXPERIENCE + "GetViewsStatus": frozenset({AUDITOR}),
    _EXPERIENCE + "ListQuarantine": frozenset({AUDITOR}),
}


def is_open(method: str, *, reflection: bool = True) -> bool:
    """Whether ``method`` (``/package.Service/Method``) needs no credentials: health, and reflection if enabled."""
    return method.startswith(HEALTH_PREFIX) or (reflection and method.startswith(REFLECTION_PREFIX))


def allowed_roles(method: str) -> frozenset[str]:
    """The roles that may call ``method``: its row of :data:`ALLOWED`, and ``admin``."""
    return ALLOWED.get(method, frozenset()) | {ADMIN}


def may_call(role: str, method: str) -> bool:
    return role in allowed_roles(method)


def needed(method: str) -> str:
    """The roles ``method`` needs, in words for a PERMISSION_DENIED message: ``agent or admin``."""
    roles = sorted(ALLOWED.get(method, frozenset()))
    return " or ".join([*roles, ADMIN])

"""Parties, the identifiers that point at them, reversible merges, consent.

Two aggregates:

``Party``
    A person, organisation or community: kind, roles, display name, the identifiers linked to it (each with the
    evidence that linked it), community members (both directions: a community lists its members, a party lists
    the communities it belongs to), consent per channel, preferred channels, do-not-contact, and merges.
``IdentifierClaim``
    One per identifier (id = UUIDv5 of the normalised ``(type, namespace, value)``): which party owns it now.
    Two parties linking one identifier at the same time both try to write the claim at the same version, so one
    wins and the other gets a concurrency error, never two owners.

Commands that change several aggregates are the functions at the bottom (``link_identifier``, ``merge_parties``,
``unmerge_party``, ...). They check every rule first and only then trigger events, and return every aggregate
they changed, so the application saves them in one atomic ``save``.

Merges record exactly what moved (identifiers, members, memberships; and of those which were new to the
survivor), so an unmerge gives each side back exactly what it had. What changed in between is respected: an
identifier moved by a merge and later unlinked or moved elsewhere is not taken back.

Identifiers here are always in their normal form already (``services.common.identifiers``); this module never
parses.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from services.common.errors import (
    AlreadyExists,
    ChorusError,
    Conflict,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
)
from services.common.identifiers import Identifier

PARTY_KINDS = ("person", "organisation", "community")
PARTY_ROLES = ("customer", "prospect", "partner", "influencer", "employee")
CONSENT_STATUSES = ("granted", "denied", "revoked")
MAX_DISPLAY_NAME = 200


# --------------------------------------------------------------------------------------------------- errors


class IdentityError(ChorusError):
    """Root of the identity domain's errors; each also derives from one boundary kind."""


class InvalidIdentityInput(IdentityError, InvalidArgument):
    """A request the domain can refuse without looking at any state."""


class PartyNotFound(IdentityError, NotFound):
    def __init__(self, party_id: object) -> None:
        super().__init__("party", str(party_id))


class IdentifierNotLinked(IdentityError, NotFound):
    def __init__(self, identifier: str) -> None:
        super().__init__("identifier", identifier, f"identifier {identifier} is not linked")


class IdentifierLinkedElsewhere(IdentityError, AlreadyExists):
    """The identifier belongs to another party; link with ``force`` to move it."""

    def __init__(self, identifier: str, owner: object) -> None:
        super().__init__(
            "identifier",
            identifier,
            f"identifier {identifier} is already linked to party {owner}; link with force to move it",
        )
        self.owner = str(owner)


class RuleViolation(IdentityError, FailedPrecondition):
    """A rule of the identity domain refuses the command: ``violations[0].type`` names the rule."""

    def __init__(self, rule: str, subject: object, description: str) -> None:
        super().__init__(description, [PreconditionViolation(rule, str(subject), description)])
        self.rule_name = rule


class ReadAtDifferentMoments(IdentityError, Conflict):
    """Two aggregates a command loaded disagree about what they share (a membership one side has and the other
    has not): another command changed them between the two reads. Nothing is changed; retrying is safe."""

    def __init__(self, first: object, second: object) -> None:
        super().__init__(f"parties {first} and {second} changed while the command read them; retry the request")


# Names of the rules a refusal can cite (PreconditionViolation.type).
RULE_BLOCKED_IDENTIFIER = "BLOCKED_IDENTIFIER"
RULE_IDENTIFIER_CAP = "IDENTIFIER_CAP"
RULE_PARTY_MERGED = "PARTY_MERGED"
RULE_KIND_MISMATCH = "KIND_MISMATCH"
RULE_MEMBERSHIP_CONFLICT = "MEMBERSHIP_CONFLICT"
RULE_NOT_MERGED = "NOT_MERGED"
RULE_UNMERGE_ORDER = "UNMERGE_ORDER"
RULE_NOT_A_COMMUNITY = "NOT_A_COMMUNITY"
RULE_COMMAND_TOO_LARGE = "COMMAND_TOO_LARGE"


def _invalid(field_path: str, description: str) -> InvalidIdentityInput:
    return InvalidIdentityInput(f"{field_path}: {description}", [FieldViolation(field_path, description)])


# --------------------------------------------------------------------------------------------------- policy

DEFAULT_CAPS: Mapping[str, int] = {
    "email": 5,
    "phone": 5,
    "x": 3,
    "facebook": 3,
    "instagram": 3,
    "youtube": 3,
    "forum_user": 10,
    "blog_url": 5,
    "marketplace_reviewer": 5,
    "crm_id": 1,
    "device_id": 20,
    "chat_id": 10,
    "other": 20,
}

DEFAULT_BLOCKED: frozenset[str] = frozenset(
    {
        "null",
        "none",
        "nil",
        "undefined",
        "unknown",
        "anonymous",
        "n/a",
        "na",
        "test",
        "-",
        "0",
        "test@example.com",
        "test@test.com",
        "user@example.com",
        "noreply@example.com",
        "no-reply@example.com",
        "anonymous@example.com",
    }
)


@dataclass(frozen=True)
class LinkPolicy:
    """Merge protection: how many identifiers of a type one party may hold, and values that never link.

    ``blocked`` holds normalised values; an entry ``type:value`` blocks the value for that type only, a plain
    entry blocks it for every type. A local part ``noreply``/``no-reply``/``donotreply`` is blocked for email.
    """

    caps: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPS))
    blocked: frozenset[str] = DEFAULT_BLOCKED

    def cap(self, identifier_type: str) -> int | None:
        return self.caps.get(identifier_type)

    def is_blocked(self, identifier_type: str, value: str) -> bool:
        if value in self.blocked or f"{identifier_type}:{value}" in self.blocked:
            return True
        if identifier_type == "email":
            local = value.split("@", 1)[0]
            return local in {"noreply", "no-reply", "donotreply", "do-not-reply"} or local in self.blocked
        return False

    def check_not_blocked(self, identifier_type: str, value: str, key: str) -> None:
        if self.is_blocked(identifier_type, value):
            raise RuleViolation(
                RULE_BLOCKED_IDENTIFIER, key, f"{identifier_type} identifier is a blocked value and never links"
            )


# --------------------------------------------------------------------------------------------------- evidence


def evidence(
    source: str = "",
    confidence: float = 1.0,
    asserted_by: str = "",
    rule: str = "",
    note: str = "",
) -> dict[str, Any]:
    """Why a link or merge was made: where it came from, how sure, who or what asserted it, by which rule."""
    if not 0.0 <= float(confidence) <= 1.0:
        raise _invalid("evidence.confidence", "must be between 0 and 1")
    return {
        "source": source,
        "confidence": float(confidence),
        "asserted_by": asserted_by,
        "rule": rule,
        "note": note,
    }


# --------------------------------------------------------------------------------------------------- aggregates


class Party(Aggregate):
    """A person, organisation or community in the ecosystem."""

    @classmethod
    def register(
        cls,
        kind: str,
        display_name: str,
        roles: Iterable[str] = (),
        *,
        anonymous: bool = False,
    ) -> Party:
        """Check the request and register a new party."""
        if kind not in PARTY_KINDS:
            raise _invalid("kind", f"must be one of {', '.join(PARTY_KINDS)}")
        roles = tuple(dict.fromkeys(roles))
        for role in roles:
            if role not in PARTY_ROLES:
                raise _invalid("roles", f"unknown role {role!r}")
        display_name = " ".join((display_name or "").split())
        if not display_name and not anonymous:
            raise _invalid("display_name", "must not be empty")
        if len(display_name) > MAX_DISPLAY_NAME:
            raise _invalid("display_name", f"longer than {MAX_DISPLAY_NAME} characters")
        return cls(kind=kind, roles=roles, display_name=display_name, anonymous=anonymous)

    @event("Registered")
    def __init__(self, kind: str, roles: tuple[str, ...], display_name: str, anonymous: bool) -> None:
        self.kind = kind
        self.roles = tuple(roles)
        self.display_name = display_name
        self.anonymous = anonymous
        self.identifiers: dict[str, dict[str, Any]] = {}
        self.members: list[str] = []
        self.member_of: list[str] = []
        self.consents: dict[str, list[dict[str, Any]]] = {}
        self.preferred_channels: tuple[str, ...] = ()
        self.do_not_contact_history: list[dict[str, Any]] = []
        self.merged_into: str | None = None
        self.merge_evidence: dict[str, Any] = {}
        #: source party id -> what its merge moved here (kept until it is unmerged)
        self.absorbed: dict[str, dict[str, Any]] = {}

    # ---- queries

    @property
    def party_id(self) -> str:
        return str(self.id)

    @property
    def is_merged(self) -> bool:
        return self.merged_into is not None

    def count_identifiers(self, identifier_type: str) -> int:
        return sum(1 for link in self.identifiers.values() if link["type"] == identifier_type)

    @property
    def do_not_contact(self) -> bool:
        return bool(self.do_not_contact_history and self.do_not_contact_history[-1]["do_not_contact"])

    def do_not_contact_at(self, now: datetime) -> bool:
        current = False
        for entry in self.do_not_contact_history:
            if entry["at"] <= now:
                current = entry["do_not_contact"]
        return current

    def consent_at(self, channel: str, now: datetime) -> dict[str, Any] | None:
        """The latest consent record for a channel effective at ``now``."""
        current = None
        for record in self.consents.get(channel, ()):
            if record["at"] <= now and (current is None or record["at"] >= current["at"]):
                current = record
        return current

    # ---- guards

    def check_live(self) -> None:
        if self.merged_into is not None:
            raise RuleViolation(
                RULE_PARTY_MERGED, self.party_id, f"party {self.id} was merged into party {self.merged_into}"
            )

    def check_room_for(self, identifier_type: str, policy: LinkPolicy, adding: int = 1) -> None:
        cap = policy.cap(identifier_type)
        if cap is not None and self.count_identifiers(identifier_type) + adding > cap:
            raise RuleViolation(
                RULE_IDENTIFIER_CAP,
                f"{self.id}/{identifier_type}",
                f"party {self.id} may hold at most {cap} {identifier_type} identifier(s)",
            )

    def check_community(self) -> None:
        if self.kind != "community":
            raise RuleViolation(RULE_NOT_A_COMMUNITY, self.party_id, f"party {self.id} is not a community")

    # ---- single-aggregate commands

    @event("IdentifierLinked")
    def _link(self, identifier: dict[str, Any]) -> None:
        self.identifiers[identifier["identifier_id"]] = dict(identifier)

    @event("IdentifierUnlinked")
    def _unlink(self, identifier_id: str, reason: str) -> None:
        self.identifiers.pop(identifier_id, None)

    @event("MemberAdded")
    def _add_member(self, member_id: str) -> None:
        self.members.append(member_id)

    @event("MemberRemoved")
    def _remove_member(self, member_id: str) -> None:
        self.members.remove(member_id)

    @event("JoinedCommunity")
    def _join(self, community_id: str) -> None:
        self.member_of.append(community_id)

    @event("LeftCommunity")
    def _leave(self, community_id: str) -> None:
        self.member_of.remove(community_id)

    def record_consent(self, channel: str, status: str, at: datetime, source: str) -> None:
        self.check_live()
        if not channel:
            raise _invalid("channel", "must be set")
        if status not in CONSENT_STATUSES:
            raise _invalid("status", f"must be one of {', '.join(CONSENT_STATUSES)}")
        if at.tzinfo is None:
            raise _invalid("at", "must carry a time zone")
        self._record_consent(channel=channel, status=status, at=at, source=source)

    @event("ConsentRecorded")
    def _record_consent(self, channel: str, status: str, at: datetime, source: str) -> None:
        self.consents.setdefault(channel, []).append({"status": status, "at": at, "source": source})

    def set_preferred_channels(self, channels: Iterable[str]) -> None:
        self.check_live()
        channels = tuple(dict.fromkeys(channels))
        if any(not c for c in channels):
            raise _invalid("channels", "must not contain an unspecified channel")
        if channels != self.preferred_channels:
            self._set_preferred_channels(channels=channels)

    @event("PreferredChannelsSet")
    def _set_preferred_channels(self, channels: tuple[str, ...]) -> None:
        self.preferred_channels = tuple(channels)

    def set_do_not_contact(self, do_not_contact: bool, at: datetime, source: str) -> None:
        self.check_live()
        if at.tzinfo is None:
            raise _invalid("at", "must carry a time zone")
        self._set_do_not_contact(do_not_contact=bool(do_not_contact), at=at, source=source)

    @event("DoNotContactSet")
    def _set_do_not_contact(self, do_not_contact: bool, at: datetime, source: str) -> None:
        self.do_not_contact_history.append({"do_not_contact": do_not_contact, "at": at, "source": source})
        self.do_not_contact_history.sort(key=lambda entry: entry["at"])

    # ---- merge bookkeeping (called by merge_parties / unmerge_party only)

    @event("Absorbed")
    def _absorb(
        self,
        source_party_id: str,
        identifiers: tuple[dict[str, Any], ...],
        members: tuple[str, ...],
        members_added: tuple[str, ...],
        memberships: tuple[str, ...],
        memberships_added: tuple[str, ...],
        evidence: dict[str, Any],
    ) -> None:
        for link in identifiers:
            self.identifiers[link["identifier_id"]] = dict(link)
        self.members.extend(members_added)
        self.member_of.extend(memberships_added)
        self.absorbed[source_party_id] = {
            "identifier_ids": tuple(link["identifier_id"] for link in identifiers),
            "members": tuple(members),
            "members_added": tuple(members_added),
            "memberships": tuple(memberships),
            "memberships_added": tuple(memberships_added),
        }

    @event("MergedInto")
    def _merged_into(
        self,
        target_party_id: str,
        identifier_ids: tuple[str, ...],
        members: tuple[str, ...],
        memberships: tuple[str, ...],
        evidence: dict[str, Any],
    ) -> None:
        for identifier_id_ in identifier_ids:
            self.identifiers.pop(identifier_id_, None)
        for member in members:
            self.members.remove(member)
        for community in memberships:
            self.member_of.remove(community)
        self.merged_into = target_party_id
        self.merge_evidence = dict(evidence)

    @event("Released")
    def _release(
        self,
        source_party_id: str,
        identifier_ids: tuple[str, ...],
        members: tuple[str, ...],
        memberships: tuple[str, ...],
        evidence: dict[str, Any],
    ) -> None:
        for identifier_id_ in identifier_ids:
            self.identifiers.pop(identifier_id_, None)
        for member in members:
            self.members.remove(member)
        for community in memberships:
            self.member_of.remove(community)
        self.absorbed.pop(source_party_id, None)

    @event("Unmerged")
    def _unmerged(
        self,
        from_party_id: str,
        identifiers: tuple[dict[str, Any], ...],
        members: tuple[str, ...],
        memberships: tuple[str, ...],
        evidence: dict[str, Any],
    ) -> None:
        for link in identifiers:
            self.identifiers[link["identifier_id"]] = dict(link)
        self.members.extend(members)
        self.member_of.extend(memberships)
        self.merged_into = None
        self.merge_evidence = {}


class IdentifierClaim(Aggregate):
    """Who owns one identifier now (``party_id`` is empty when it is linked to nobody)."""

    @staticmethod
    def create_id(type: str, namespace: str, value: str) -> uuid.UUID:  # noqa: A002 - domain word
        return Identifier(type, namespace, value).id

    @event("Claimed")
    def __init__(self, type: str, namespace: str, value: str, party_id: str) -> None:  # noqa: A002
        self.type = type
        self.namespace = namespace
        self.value = value
        self.party_id = party_id

    @property
    def key(self) -> str:
        return str(self.id)

    @event("Transferred")
    def _transfer(self, party_id: str, from_party_id: str, reason: str) -> None:
        self.party_id = party_id

    def transfer(self, party_id: str, reason: str) -> None:
        if party_id != self.party_id:
            self._transfer(party_id=party_id, from_party_id=self.party_id, reason=reason)

    @event("Unclaimed")
    def _unclaim(self, from_party_id: str, reason: str) -> None:
        self.party_id = ""


# --------------------------------------------------------------------------------------------------- commands
# Multi-aggregate commands: check everything, then change; return what changed (to save in one call).


def link_identifier(
    party: Party,
    identifier: Identifier,
    claim: IdentifierClaim | None,
    owner: Party | None,
    link_evidence: dict[str, Any],
    policy: LinkPolicy,
    *,
    force: bool = False,
) -> list[Aggregate]:
    """Link an identifier to a party, moving it from its current ``owner`` only when ``force`` is set.

    ``claim`` is the identifier's claim if it exists, ``owner`` the party the claim names (if any).
    Linking an identifier the party holds already changes nothing and returns ``[]``.
    """
    key = identifier.key
    party.check_live()
    policy.check_not_blocked(identifier.type, identifier.value, key)
    current_owner = claim.party_id if claim is not None else ""
    if current_owner == party.party_id:
        return []
    if current_owner and not force:
        raise IdentifierLinkedElsewhere(key, current_owner)
    party.check_room_for(identifier.type, policy)
    changed: list[Aggregate] = []
    if current_owner:
        if owner is None or owner.party_id != current_owner:
            msg = "the owner of a claimed identifier must be loaded to move it"
            raise ValueError(msg)
        owner._unlink(identifier_id=key, reason=f"moved to party {party.id}")  # noqa: SLF001
        changed.append(owner)
    if claim is None:
        claim = IdentifierClaim(
            type=identifier.type, namespace=identifier.namespace, value=identifier.value, party_id=party.party_id
        )
    else:
        claim.transfer(party.party_id, reason="forced link" if current_owner else "link")
    party._link(  # noqa: SLF001
        identifier={
            "identifier_id": key,
            "type": identifier.type,
            "namespace": identifier.namespace,
            "value": identifier.value,
            "evidence": dict(link_evidence),
        }
    )
    return [party, claim, *changed]


def unlink_identifier(party: Party, claim: IdentifierClaim | None, key: str, reason: str) -> list[Aggregate]:
    """Unlink an identifier from the party that holds it."""
    party.check_live()
    if key not in party.identifiers or claim is None or claim.party_id != party.party_id:
        raise IdentifierNotLinked(key)
    party._unlink(identifier_id=key, reason=reason)  # noqa: SLF001
    claim._unclaim(from_party_id=party.party_id, reason=reason)  # noqa: SLF001
    return [party, claim]


def add_member(community: Party, member: Party) -> list[Aggregate]:
    """Add a party to a community (both sides record it). Adding a member twice changes nothing."""
    community.check_live()
    member.check_live()
    community.check_community()
    if community.id == member.id:
        raise _invalid("member_party_id", "a community cannot be its own member")
    _check_read_together(community, member)
    if member.party_id in community.members:
        return []
    community._add_member(member_id=member.party_id)  # noqa: SLF001
    member._join(community_id=community.party_id)  # noqa: SLF001
    return [community, member]


def remove_member(community: Party, member: Party) -> list[Aggregate]:
    community.check_live()
    if member.party_id not in community.members:
        raise NotFound("membership", f"{community.id}/{member.id}")
    _check_read_together(community, member)
    community._remove_member(member_id=member.party_id)  # noqa: SLF001
    member._leave(community_id=community.party_id)  # noqa: SLF001
    return [community, member]


def _check_read_together(one: Party, other: Party) -> None:
    """Every command changes both sides of a membership at once, so two parties read at one moment agree on
    it; when they do not, a concurrent command changed one of them after the other was read."""
    if (other.party_id in one.members) != (one.party_id in other.member_of) or (
        one.party_id in other.members
    ) != (other.party_id in one.member_of):
        raise ReadAtDifferentMoments(one.id, other.id)


def check_merge(target: Party, source: Party, policy: LinkPolicy) -> None:
    """Every rule a merge of ``source`` into ``target`` must pass (raises the first it breaks)."""
    if target.id == source.id:
        raise _invalid("source_party_id", "a party cannot be merged into itself")
    target.check_live()
    source.check_live()
    if target.kind != source.kind:
        raise RuleViolation(
            RULE_KIND_MISMATCH, f"{source.id}->{target.id}", f"cannot merge a {source.kind} into a {target.kind}"
        )
    if target.party_id in source.members or source.party_id in target.members:
        raise RuleViolation(
            RULE_MEMBERSHIP_CONFLICT, f"{source.id}->{target.id}", "cannot merge a community with one of its members"
        )
    types = {link["type"] for link in source.identifiers.values()}
    for identifier_type in sorted(types):
        target.check_room_for(identifier_type, policy, adding=source.count_identifiers(identifier_type))


def merge_parties(
    target: Party,
    source: Party,
    claims: Mapping[str, IdentifierClaim],
    related: Mapping[str, Party],
    merge_evidence: dict[str, Any],
    policy: LinkPolicy,
) -> list[Aggregate]:
    """Merge ``source`` into ``target``: identifiers, members and memberships move; ``source`` points at ``target``.

    ``claims`` are the claims of every identifier of ``source``; ``related`` the communities ``source`` belongs to
    and the members it has (by party id).
    """
    if not merge_evidence.get("rule"):
        raise _invalid("evidence.rule", "a merge must name the rule that justified it")
    check_merge(target, source, policy)
    identifiers = tuple(source.identifiers[key] for key in sorted(source.identifiers))
    members = tuple(source.members)
    memberships = tuple(source.member_of)
    members_added = tuple(m for m in members if m not in target.members and m != target.party_id)
    memberships_added = tuple(c for c in memberships if c not in target.member_of and c != target.party_id)
    missing = [p for p in (*members, *memberships) if p not in related] + [
        link["identifier_id"] for link in identifiers if link["identifier_id"] not in claims
    ]
    if missing:
        msg = f"merge needs every related aggregate loaded, missing {missing}"
        raise ValueError(msg)
    for party_id in (*members, *memberships):
        _check_read_together(source, related[party_id])
    for party_id in (*members_added, *memberships_added):
        _check_read_together(target, related[party_id])
    changed: dict[uuid.UUID, Aggregate] = {}
    source._merged_into(  # noqa: SLF001
        target_party_id=target.party_id,
        identifier_ids=tuple(link["identifier_id"] for link in identifiers),
        members=members,
        memberships=memberships,
        evidence=dict(merge_evidence),
    )
    target._absorb(  # noqa: SLF001
        source_party_id=source.party_id,
        identifiers=identifiers,
        members=members,
        members_added=members_added,
        memberships=memberships,
        memberships_added=memberships_added,
        evidence=dict(merge_evidence),
    )
    for link in identifiers:
        claim = claims[link["identifier_id"]]
        claim.transfer(target.party_id, reason=f"merge of party {source.id}")
        changed[claim.id] = claim
    for member_id in members:
        member = related[member_id]
        member._leave(community_id=source.party_id)  # noqa: SLF001
        if member_id in members_added:
            member._join(community_id=target.party_id)  # noqa: SLF001
        changed[member.id] = member
    for community_id in memberships:
        community = related[community_id]
        community._remove_member(member_id=source.party_id)  # noqa: SLF001
        if community_id in memberships_added:
            community._add_member(member_id=target.party_id)  # noqa: SLF001
        changed[community.id] = community
    return [target, source, *changed.values()]


def check_unmerge(source: Party, target: Party | None) -> None:
    if source.merged_into is None:
        raise RuleViolation(RULE_NOT_MERGED, source.party_id, f"party {source.id} was never merged (or is unmerged)")
    if target is None or target.party_id != source.merged_into:
        msg = "unmerge needs the party the source was merged into"
        raise ValueError(msg)
    if target.merged_into is not None:
        raise RuleViolation(
            RULE_UNMERGE_ORDER,
            target.party_id,
            f"party {target.id} was itself merged into {target.merged_into}: unmerge that first",
        )


def unmerge_party(
    source: Party,
    target: Party,
    claims: Mapping[str, IdentifierClaim],
    related: Mapping[str, Party],
    unmerge_evidence: dict[str, Any],
) -> list[Aggregate]:
    """Undo the merge of ``source`` into ``target``: each side gets back exactly what it had.

    Only what the merge moved and ``target`` still holds goes back; what the merge added to ``target`` (members,
    memberships it did not have before) is taken away again. ``claims`` are the claims of the identifiers the
    merge moved; ``related`` the members and communities the merge touched.
    """
    check_unmerge(source, target)
    record = target.absorbed[source.party_id]
    identifiers = tuple(
        target.identifiers[key]
        for key in record["identifier_ids"]
        if key in target.identifiers and key in claims and claims[key].party_id == target.party_id
    )
    members_back = tuple(m for m in record["members"] if m in related and _still_member(related[m], target))
    memberships_back = tuple(c for c in record["memberships"] if c in related and _still_in(related[c], target))
    target._release(  # noqa: SLF001
        source_party_id=source.party_id,
        identifier_ids=tuple(link["identifier_id"] for link in identifiers),
        members=tuple(m for m in members_back if m in record["members_added"]),
        memberships=tuple(c for c in memberships_back if c in record["memberships_added"]),
        evidence=dict(unmerge_evidence),
    )
    source._unmerged(  # noqa: SLF001
        from_party_id=target.party_id,
        identifiers=identifiers,
        members=members_back,
        memberships=memberships_back,
        evidence=dict(unmerge_evidence),
    )
    changed: dict[uuid.UUID, Aggregate] = {}
    for link in identifiers:
        claim = claims[link["identifier_id"]]
        claim.transfer(source.party_id, reason=f"unmerge from party {target.id}")
        changed[claim.id] = claim
    for member_id in members_back:
        member = related[member_id]
        if member_id in record["members_added"]:
            member._leave(community_id=target.party_id)  # noqa: SLF001
        member._join(community_id=source.party_id)  # noqa: SLF001
        changed[member.id] = member
    for community_id in memberships_back:
        community = related[community_id]
        if community_id in record["memberships_added"]:
            community._remove_member(member_id=target.party_id)  # noqa: SLF001
        community._add_member(member_id=source.party_id)  # noqa: SLF001
        changed[community.id] = community
    return [target, source, *changed.values()]


def _still_member(member: Party, target: Party) -> bool:
    """A member the merge moved goes back if it is still a member of the survivor."""
    return member.party_id in target.members and target.party_id in member.member_of and not member.is_merged


def _still_in(community: Party, target: Party) -> bool:
    """A membership the merge moved goes back if the survivor still has it."""
    return target.party_id in community.members and not community.is_merged

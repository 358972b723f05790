"""Commands that change several aggregates: check every rule first, then change, and return what changed.

The application saves what a command returns in one atomic ``save``. Merges record exactly what moved
(identifiers, members, memberships; and of those which were new to the survivor), so an unmerge gives each side
back exactly what it had. What changed in between is respected: an identifier moved by a merge and later
unlinked or moved elsewhere is not taken back.

The aggregates a command gets were loaded one after another, so another command may have changed some of them
in between. Every command changes both sides of a membership at once, so parties read at one moment agree
about the memberships they share; when two disagree, the command raises ``ReadAtDifferentMoments`` (a
conflict: retrying is safe) instead of changing anything. Reads that agree but are stale lose at save time.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass

from eventsourcing.domain import Aggregate

from services.common.identifiers import Identifier
from services.identity.domain.errors import (
    RULE_KIND_MISMATCH,
    RULE_MEMBERSHIP_CONFLICT,
    RULE_NOT_MERGED,
    RULE_UNMERGE_ORDER,
    IdentifierLinkedElsewhere,
    IdentifierNotLinked,
    InvalidIdentityInput,
    MembershipNotFound,
    ReadAtDifferentMoments,
    RuleViolation,
)
from services.identity.domain.party import (
    IdentifierClaim,
    Party,
    check_cap,
    check_consent,
    checked_channels,
    registration,
)
from services.identity.domain.policy import LinkPolicy
from services.identity.domain.values import ConsentAnswer, Evidence, LinkedIdentifier, MergeRecord

#: the loaded aggregates a command is given, by key: identifier claims (by identifier key), parties (by party id)
Claims = Mapping[str, IdentifierClaim]
Parties = Mapping[str, Party]


def link_identifier(
    party: Party,
    identifier: Identifier,
    claim: IdentifierClaim | None,
    owner: Party | None,
    link_evidence: Evidence,
    policy: LinkPolicy,
    *,
    force: bool = False,
) -> list[Aggregate]:
    """Link an identifier (in its normal form) to a party, moving it from its current ``owner`` only when
    ``force`` is set.

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
        owner.unlink(identifier_id=key, reason=f"moved to party {party.id}")
        changed.append(owner)
    if claim is None:
        claim = IdentifierClaim(
            type=identifier.type, namespace=identifier.namespace, value=identifier.value, party_id=party.party_id
        )
    else:
        claim.transfer(party.party_id, reason="forced link" if current_owner else "link")
    party.link(LinkedIdentifier(identifier=identifier, evidence=link_evidence))
    return [party, claim, *changed]


@dataclass(frozen=True)
class CheckedImport:
    """A party another system knows, checked against every rule an import applies: what to register (kind,
    roles, display name), the consents and preferred channels to record (channels empty: none) and the
    identifiers to link (each once, in order)."""

    kind: str
    roles: tuple[str, ...]
    display_name: str
    consents: tuple[ConsentAnswer, ...]
    preferred_channels: tuple[str, ...]
    identifiers: tuple[Identifier, ...]


def check_import(
    party_id: uuid.UUID,
    kind: str,
    display_name: str,
    roles: Iterable[str],
    identifiers: Sequence[Identifier],
    owners: Mapping[str, str],
    consents: Sequence[ConsentAnswer],
    preferred_channels: Sequence[str],
    policy: LinkPolicy,
) -> CheckedImport:
    """Every rule :func:`import_party` applies, in its order (the first broken is raised); what it would store.

    ``owners`` are the parties holding any of ``identifiers`` now (by key). The merge protection applies as in
    :func:`link_identifier`: a blocked value, an identifier held by another party, or more identifiers of a type
    than the cap refuse the whole party.
    """
    kind, roles, display_name = registration(kind, display_name, roles)
    for answer in consents:
        check_consent(answer.channel, answer.status, answer.at)
    channels = checked_channels(preferred_channels) if preferred_channels else ()
    unique = tuple(dict.fromkeys(identifiers))
    party = str(party_id)
    for identifier in unique:
        policy.check_not_blocked(identifier.type, identifier.value, identifier.key)
        owner = owners.get(identifier.key, "")
        if owner and owner != party:
            raise IdentifierLinkedElsewhere(identifier.key, owner)
    for identifier_type, count in sorted(Counter(identifier.type for identifier in unique).items()):
        check_cap(party, identifier_type, count, policy)
    return CheckedImport(kind, roles, display_name, tuple(consents), channels, unique)


def import_party(
    party_id: uuid.UUID,
    kind: str,
    display_name: str,
    roles: Iterable[str],
    identifiers: Sequence[Identifier],
    owners: Mapping[str, str],
    claims: Claims,
    consents: Sequence[ConsentAnswer],
    preferred_channels: Sequence[str],
    link_evidence: Evidence,
    policy: LinkPolicy,
) -> list[Aggregate]:
    """Register a party another system knows, with its identifiers, consents and preferred channels: all of it,
    or nothing (:func:`check_import` raises the first rule it breaks before any existing aggregate is changed).

    ``party_id`` is its import id (``imported_party_id``); ``owners`` the parties holding any of ``identifiers``
    now (by key), ``claims`` the existing claims nobody holds (by key; an identifier in neither was never
    claimed). Returns the new party first, then the claims it created or took.
    """
    checked = check_import(
        party_id, kind, display_name, roles, identifiers, owners, consents, preferred_channels, policy
    )
    party = Party.register(checked.kind, checked.display_name, checked.roles, party_id=party_id)
    for answer in checked.consents:
        party.record_consent(answer.channel, answer.status, answer.at, answer.source)
    if checked.preferred_channels:
        party.set_preferred_channels(checked.preferred_channels)
    changed: list[Aggregate] = [party]
    for identifier in checked.identifiers:
        changed.extend(
            aggregate
            for aggregate in link_identifier(party, identifier, claims.get(identifier.key), None, link_evidence, policy)
            if aggregate is not party
        )
    return changed


def unlink_identifier(party: Party, claim: IdentifierClaim | None, key: str, reason: str) -> list[Aggregate]:
    """Unlink an identifier from the party that holds it."""
    party.check_live()
    if key not in party.identifiers or claim is None or claim.party_id != party.party_id:
        raise IdentifierNotLinked(key)
    party.unlink(identifier_id=key, reason=reason)
    claim.unclaim(reason=reason)
    return [party, claim]


def add_member(community: Party, member: Party) -> list[Aggregate]:
    """Add a party to a community (both sides record it). Adding a member twice changes nothing."""
    community.check_live()
    member.check_live()
    community.check_community()
    if community.id == member.id:
        raise InvalidIdentityInput("member", "a community cannot be its own member")
    _check_read_together(community, member)
    if member.party_id in community.members:
        return []
    community.add_member(member_id=member.party_id)
    member.join(community_id=community.party_id)
    return [community, member]


def remove_member(community: Party, member: Party) -> list[Aggregate]:
    """Remove a party from a community (both sides record it)."""
    community.check_live()
    if member.party_id not in community.members:
        raise MembershipNotFound(community.id, member.id)
    _check_read_together(community, member)
    community.remove_member(member_id=member.party_id)
    member.leave(community_id=community.party_id)
    return [community, member]


def _check_read_together(one: Party, other: Party) -> None:
    """Two parties read at one moment agree on the memberships they share (see the module docstring)."""
    if (other.party_id in one.members) != (one.party_id in other.member_of) or (one.party_id in other.members) != (
        other.party_id in one.member_of
    ):
        raise ReadAtDifferentMoments(one.id, other.id)


def check_merge(target: Party, source: Party, policy: LinkPolicy) -> None:
    """Every rule a merge of ``source`` into ``target`` must pass (raises the first it breaks)."""
    if target.id == source.id:
        raise InvalidIdentityInput("merge_source", "a party cannot be merged into itself")
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
    for identifier_type in sorted({link.type for link in source.identifiers.values()}):
        target.check_room_for(identifier_type, policy, adding=source.count_identifiers(identifier_type))


def merge_parties(
    target: Party,
    source: Party,
    claims: Claims,
    related: Parties,
    merge_evidence: Evidence,
    policy: LinkPolicy,
) -> list[Aggregate]:
    """Merge ``source`` into ``target``: identifiers, members and memberships move; ``source`` points at ``target``.

    ``claims`` are the claims of every identifier of ``source``; ``related`` the communities ``source`` belongs to
    and the members it has (by party id).
    """
    if not merge_evidence.rule:
        raise InvalidIdentityInput("merge_rule", "a merge must name the rule that justified it")
    check_merge(target, source, policy)
    identifiers = tuple(source.identifiers[key] for key in sorted(source.identifiers))
    moved = MergeRecord(
        identifier_ids=tuple(link.identifier_id for link in identifiers),
        members=tuple(source.members),
        members_added=tuple(m for m in source.members if m not in target.members and m != target.party_id),
        memberships=tuple(source.member_of),
        memberships_added=tuple(c for c in source.member_of if c not in target.member_of and c != target.party_id),
    )
    missing = [p for p in (*moved.members, *moved.memberships) if p not in related] + [
        key for key in moved.identifier_ids if key not in claims
    ]
    if missing:
        msg = f"merge needs every related aggregate loaded, missing {missing}"
        raise ValueError(msg)
    for party_id in (*moved.members, *moved.memberships):
        _check_read_together(source, related[party_id])
    for party_id in (*moved.members_added, *moved.memberships_added):
        _check_read_together(target, related[party_id])
    changed: dict[uuid.UUID, Aggregate] = {}
    source.merge_into(target.party_id, moved, merge_evidence)
    target.absorb(source.party_id, identifiers, moved, merge_evidence)
    for key in moved.identifier_ids:
        claim = claims[key]
        claim.transfer(target.party_id, reason=f"merge of party {source.id}")
        changed[claim.id] = claim
    _repoint(changed, related, _MEMBER_SIDE, moved.members, source, target, joining=moved.members_added)
    _repoint(changed, related, _COMMUNITY_SIDE, moved.memberships, source, target, joining=moved.memberships_added)
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
    claims: Claims,
    related: Parties,
    unmerge_evidence: Evidence,
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
        for key in record.identifier_ids
        if key in target.identifiers and key in claims and claims[key].party_id == target.party_id
    )
    members_back = tuple(m for m in record.members if m in related and _still_member(related[m], target))
    memberships_back = tuple(c for c in record.memberships if c in related and _still_in(related[c], target))
    target.release(
        source.party_id,
        MergeRecord(
            identifier_ids=tuple(link.identifier_id for link in identifiers),
            members=tuple(m for m in members_back if m in record.members_added),
            memberships=tuple(c for c in memberships_back if c in record.memberships_added),
        ),
        unmerge_evidence,
    )
    source.unmerge_from(target.party_id, identifiers, members_back, memberships_back, unmerge_evidence)
    changed: dict[uuid.UUID, Aggregate] = {}
    for link in identifiers:
        claim = claims[link.identifier_id]
        claim.transfer(source.party_id, reason=f"unmerge from party {target.id}")
        changed[claim.id] = claim
    _repoint(changed, related, _MEMBER_SIDE, members_back, target, source, leaving=record.members_added)
    _repoint(changed, related, _COMMUNITY_SIDE, memberships_back, target, source, leaving=record.memberships_added)
    return [target, source, *changed.values()]


#: How the other side of a membership points at a party: a member names its communities (``leave``/``join``), a
#: community its members (``remove_member``/``add_member``).
_MEMBER_SIDE = ("leave", "join")
_COMMUNITY_SIDE = ("remove_member", "add_member")


def _repoint(
    changed: dict[uuid.UUID, Aggregate],
    related: Parties,
    side: tuple[str, str],
    party_ids: Iterable[str],
    old: Party,
    new: Party,
    *,
    leaving: Container[str] | None = None,
    joining: Container[str] | None = None,
) -> None:
    """Each related party of ``party_ids`` stops pointing at ``old`` (only those in ``leaving`` when it is given),
    then points at ``new`` (only those in ``joining`` when it is given); each is recorded in ``changed``."""
    stop, start = side
    for party_id in party_ids:
        party = related[party_id]
        if leaving is None or party_id in leaving:
            getattr(party, stop)(old.party_id)
        if joining is None or party_id in joining:
            getattr(party, start)(new.party_id)
        changed[party.id] = party


def _still_member(member: Party, target: Party) -> bool:
    """A member the merge moved goes back if it is still a member of the survivor."""
    return member.party_id in target.members and target.party_id in member.member_of and not member.is_merged


def _still_in(community: Party, target: Party) -> bool:
    """A membership the merge moved goes back if the survivor still has it."""
    return target.party_id in community.members and not community.is_merged

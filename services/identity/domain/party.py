"""The two aggregates: ``Party`` (a person, organisation or community) and ``IdentifierClaim`` (who owns one
identifier now).

Each public method says what happened (``link``, ``join``, ``merge_into``…) and triggers one event; the event's
body changes the state, so replaying the stored events rebuilds it. The methods check what one aggregate can
check on its own; rules that span aggregates are in ``services.identity.domain.commands``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from services.common.identifiers import Identifier
from services.identity.domain.errors import (
    RULE_IDENTIFIER_CAP,
    RULE_NOT_A_COMMUNITY,
    RULE_PARTY_FORGOTTEN,
    RULE_PARTY_MERGED,
    AlreadyForgotten,
    InvalidIdentityInput,
    RuleViolation,
)
from services.identity.domain.policy import LinkPolicy
from services.identity.domain.values import (
    CONSENT_STATUSES,
    ConsentRecord,
    DoNotContactRecord,
    Evidence,
    LinkedIdentifier,
    MergeRecord,
)

PARTY_KINDS = ("person", "organisation", "community")
PARTY_ROLES = ("customer", "prospect", "partner", "influencer", "employee")
MAX_DISPLAY_NAME = 200

#: Namespace of imported parties' ids: uuid5(IMPORT_NAMESPACE, "source system\x1fexternal id"). Never change it:
#: importing the same party again must find the id it was given the first time.
IMPORT_NAMESPACE = uuid.UUID("0b6f6a55-1d8e-5c55-8a3c-696d706f7274")


def imported_party_id(source_system: str, external_id: str) -> uuid.UUID:
    """The id of the party another system knows as ``external_id``: the same pair always gives the same id."""
    return uuid.uuid5(IMPORT_NAMESPACE, f"{source_system}\x1f{external_id}")


def registration(
    kind: str, display_name: str, roles: Iterable[str] = (), *, anonymous: bool = False
) -> tuple[str, tuple[str, ...], str]:
    """The checked fields of a party's registration: its kind, its roles (each once) and its display name (white
    space collapsed); :class:`InvalidIdentityInput` for the first that is wrong."""
    if kind not in PARTY_KINDS:
        raise InvalidIdentityInput("kind", f"must be one of {', '.join(PARTY_KINDS)}")
    roles = tuple(dict.fromkeys(roles))
    if any(role not in PARTY_ROLES for role in roles):
        raise InvalidIdentityInput("roles", f"each must be one of {', '.join(PARTY_ROLES)}")
    display_name = " ".join((display_name or "").split())
    if not display_name and not anonymous:
        raise InvalidIdentityInput("display_name", "must not be empty")
    if len(display_name) > MAX_DISPLAY_NAME:
        raise InvalidIdentityInput("display_name", f"longer than {MAX_DISPLAY_NAME} characters")
    return kind, roles, display_name


def check_consent(channel: str, status: str, at: datetime) -> None:
    """A consent answer names a channel, a known status and a time with a zone."""
    if not channel:
        raise InvalidIdentityInput("channel", "must be set")
    if status not in CONSENT_STATUSES:
        raise InvalidIdentityInput("consent_status", f"must be one of {', '.join(CONSENT_STATUSES)}")
    if at.tzinfo is None:
        raise InvalidIdentityInput("effective_time", "must carry a time zone")


def checked_channels(channels: Iterable[str]) -> tuple[str, ...]:
    """Preferred channels, each once, in order; none of them unspecified."""
    channels = tuple(dict.fromkeys(channels))
    if any(not c for c in channels):
        raise InvalidIdentityInput("preferred_channels", "must not contain an unspecified channel")
    return channels


def check_cap(party_id: str, identifier_type: str, count: int, policy: LinkPolicy) -> None:
    """A party may hold ``count`` identifiers of the type under the policy's cap."""
    cap = policy.cap(identifier_type)
    if cap is not None and count > cap:
        raise RuleViolation(
            RULE_IDENTIFIER_CAP,
            f"{party_id}/{identifier_type}",
            f"party {party_id} may hold at most {cap} {identifier_type} identifier(s)",
        )


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
        party_id: uuid.UUID | None = None,
    ) -> Party:
        """Check the request and register a new party (with ``party_id`` when its id is given, e.g. an imported
        party's, else a new random one)."""
        kind, roles, display_name = registration(kind, display_name, roles, anonymous=anonymous)
        if party_id is not None:
            registered = cls.Registered  # type: ignore[attr-defined]  # the event class @event("Registered") makes
            return cls._create(
                registered, id=party_id, kind=kind, roles=roles, display_name=display_name, anonymous=anonymous
            )
        return cls(kind=kind, roles=roles, display_name=display_name, anonymous=anonymous)

    @event("Registered")
    def __init__(self, kind: str, roles: tuple[str, ...], display_name: str, anonymous: bool) -> None:
        self.kind = kind
        self.roles = tuple(roles)
        self.display_name = display_name
        self.anonymous = anonymous
        self.identifiers: dict[str, LinkedIdentifier] = {}
        self.members: list[str] = []
        self.member_of: list[str] = []
        self.consents: list[ConsentRecord] = []
        self.preferred_channels: tuple[str, ...] = ()
        self.do_not_contact_history: list[DoNotContactRecord] = []
        self.merged_into: str | None = None
        self.merge_evidence: Evidence | None = None
        #: source party id -> what its merge moved here (kept until it is unmerged)
        self.absorbed: dict[str, MergeRecord] = {}
        #: the erasure receipt once the party is forgotten
        self.forgotten: dict[str, Any] | None = None

    # ---- queries

    @property
    def party_id(self) -> str:
        return str(self.id)

    @property
    def is_merged(self) -> bool:
        return self.merged_into is not None

    def count_identifiers(self, identifier_type: str) -> int:
        return sum(1 for link in self.identifiers.values() if link.type == identifier_type)

    def do_not_contact_at(self, now: datetime) -> DoNotContactRecord | None:
        """The do-not-contact record in effect at ``now`` when it forbids contact, else None."""
        current = None
        for record in self.do_not_contact_history:
            if record.at <= now:
                current = record
        return current if current is not None and current.do_not_contact else None

    def consent_at(self, channel: str, now: datetime) -> ConsentRecord | None:
        """The latest consent record for a channel effective at ``now``."""
        current = None
        for record in self.consents:
            if record.channel == channel and record.at <= now and (current is None or record.at >= current.at):
                current = record
        return current

    # ---- guards

    def check_live(self) -> None:
        if self.forgotten is not None:
            raise RuleViolation(RULE_PARTY_FORGOTTEN, self.party_id, f"party {self.id} is forgotten")
        if self.merged_into is not None:
            raise RuleViolation(
                RULE_PARTY_MERGED, self.party_id, f"party {self.id} was merged into party {self.merged_into}"
            )

    def check_room_for(self, identifier_type: str, policy: LinkPolicy, adding: int = 1) -> None:
        check_cap(self.party_id, identifier_type, self.count_identifiers(identifier_type) + adding, policy)

    def check_community(self) -> None:
        if self.kind != "community":
            raise RuleViolation(RULE_NOT_A_COMMUNITY, self.party_id, f"party {self.id} is not a community")

    # ---- erasure

    def forget(self, receipt: dict[str, Any]) -> None:
        """The party's data keys are destroyed; ``receipt`` says what was erased (ids only)."""
        if self.forgotten is not None:
            raise AlreadyForgotten(self.party_id, self.forgotten)
        self._forgotten(receipt=receipt)

    @event("Forgotten")
    def _forgotten(self, receipt: dict[str, Any]) -> None:
        self.forgotten = dict(receipt)
        self.identifiers = {}

    # ---- identifiers

    def link(self, linked: LinkedIdentifier) -> None:
        """An identifier now points at this party."""
        self._identifier_linked(identifier=linked.as_event())

    @event("IdentifierLinked")
    def _identifier_linked(self, identifier: dict[str, Any]) -> None:
        link = LinkedIdentifier.from_event(identifier)
        self.identifiers[link.identifier_id] = link

    @event("IdentifierUnlinked")
    def unlink(self, identifier_id: str, reason: str) -> None:
        """An identifier no longer points at this party."""
        self.identifiers.pop(identifier_id, None)

    # ---- communities: a community's members, and the communities a party belongs to

    @event("MemberAdded")
    def add_member(self, member_id: str) -> None:
        self.members.append(member_id)

    @event("MemberRemoved")
    def remove_member(self, member_id: str) -> None:
        self.members.remove(member_id)

    @event("JoinedCommunity")
    def join(self, community_id: str) -> None:
        self.member_of.append(community_id)

    @event("LeftCommunity")
    def leave(self, community_id: str) -> None:
        self.member_of.remove(community_id)

    # ---- contact

    def record_consent(self, channel: str, status: str, at: datetime, source: str) -> None:
        self.check_live()
        check_consent(channel, status, at)
        self._consent_recorded(channel=channel, status=status, at=at, source=source)

    @event("ConsentRecorded")
    def _consent_recorded(self, channel: str, status: str, at: datetime, source: str) -> None:
        self.consents.append(
            ConsentRecord(channel=channel, status=status, at=at, source=source, party_id=self.party_id)
        )

    def set_preferred_channels(self, channels: Iterable[str]) -> None:
        self.check_live()
        channels = checked_channels(channels)
        if channels != self.preferred_channels:
            self._preferred_channels_set(channels=channels)

    @event("PreferredChannelsSet")
    def _preferred_channels_set(self, channels: tuple[str, ...]) -> None:
        self.preferred_channels = tuple(channels)

    def set_do_not_contact(self, do_not_contact: bool, at: datetime, source: str) -> None:
        self.check_live()
        if at.tzinfo is None:
            raise InvalidIdentityInput("effective_time", "must carry a time zone")
        self._do_not_contact_set(do_not_contact=bool(do_not_contact), at=at, source=source)

    @event("DoNotContactSet")
    def _do_not_contact_set(self, do_not_contact: bool, at: datetime, source: str) -> None:
        self.do_not_contact_history.append(
            DoNotContactRecord(do_not_contact=do_not_contact, at=at, source=source, party_id=self.party_id)
        )
        self.do_not_contact_history.sort(key=lambda record: record.at)

    # ---- merges (both sides of one merge or unmerge are changed by ``commands.merge_parties`` / ``unmerge_party``)

    class Arrived(Aggregate.Event):
        """What a party takes in, in a merge (``Absorbed``) or an unmerge (``Unmerged``): the base of both, never
        stored itself. Its identifiers are linked to the party here; each kind adds its own members."""

        identifiers: tuple[dict[str, Any], ...]
        members: tuple[str, ...]
        memberships: tuple[str, ...]
        evidence: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            for link in self.links():
                aggregate.identifiers[link.identifier_id] = link

        def links(self) -> list[LinkedIdentifier]:
            return [LinkedIdentifier.from_event(link) for link in self.identifiers]

    class Absorbed(Arrived):
        source_party_id: str
        members_added: tuple[str, ...]
        memberships_added: tuple[str, ...]

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.members.extend(self.members_added)
            aggregate.member_of.extend(self.memberships_added)
            aggregate.absorbed[self.source_party_id] = MergeRecord(
                identifier_ids=tuple(link.identifier_id for link in self.links()),
                members=tuple(self.members),
                members_added=tuple(self.members_added),
                memberships=tuple(self.memberships),
                memberships_added=tuple(self.memberships_added),
            )

    class Unmerged(Arrived):
        from_party_id: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.members.extend(self.members)
            aggregate.member_of.extend(self.memberships)
            aggregate.merged_into = None
            aggregate.merge_evidence = None

    class Departed(Aggregate.Event):
        """What leaves a party in a merge (``MergedInto``) or an unmerge (``Released``): the base of both, never
        stored itself."""

        identifier_ids: tuple[str, ...]
        members: tuple[str, ...]
        memberships: tuple[str, ...]
        evidence: dict[str, Any]

        def apply(self, aggregate: Any) -> None:
            for identifier_id in self.identifier_ids:
                aggregate.identifiers.pop(identifier_id, None)
            for member in self.members:
                aggregate.members.remove(member)
            for community in self.memberships:
                aggregate.member_of.remove(community)

    class MergedInto(Departed):
        target_party_id: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.merged_into = self.target_party_id
            aggregate.merge_evidence = Evidence.from_event(self.evidence)

    class Released(Departed):
        source_party_id: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.absorbed.pop(self.source_party_id, None)

    def merge_into(self, target_party_id: str, moved: MergeRecord, evidence: Evidence) -> None:
        """This party is merged into ``target_party_id``: what ``moved`` names leaves it."""
        self.trigger_event(self.MergedInto, target_party_id=target_party_id, **_departing(moved, evidence))

    def release(self, source_party_id: str, given_back: MergeRecord, evidence: Evidence) -> None:
        """The survivor of a merge gives back what ``given_back`` names to the party being unmerged."""
        self.trigger_event(self.Released, source_party_id=source_party_id, **_departing(given_back, evidence))

    def absorb(
        self, source_party_id: str, identifiers: tuple[LinkedIdentifier, ...], moved: MergeRecord, evidence: Evidence
    ) -> None:
        """The survivor of a merge takes what ``moved`` says from the party merged into it."""
        self.trigger_event(
            self.Absorbed,
            source_party_id=source_party_id,
            members_added=moved.members_added,
            memberships_added=moved.memberships_added,
            **_arriving(identifiers, moved.members, moved.memberships, evidence),
        )

    def unmerge_from(
        self,
        from_party_id: str,
        identifiers: tuple[LinkedIdentifier, ...],
        members: tuple[str, ...],
        memberships: tuple[str, ...],
        evidence: Evidence,
    ) -> None:
        """This party is live again and takes back what its merge into ``from_party_id`` moved."""
        self.trigger_event(
            self.Unmerged, from_party_id=from_party_id, **_arriving(identifiers, members, memberships, evidence)
        )


def _arriving(
    identifiers: tuple[LinkedIdentifier, ...],
    members: tuple[str, ...],
    memberships: tuple[str, ...],
    evidence: Evidence,
) -> dict[str, Any]:
    """The fields of an ``Arrived`` event: a party takes in these identifiers, members and memberships."""
    return {
        "identifiers": tuple(link.as_event() for link in identifiers),
        "members": members,
        "memberships": memberships,
        "evidence": evidence.as_event(),
    }


def _departing(record: MergeRecord, evidence: Evidence) -> dict[str, Any]:
    """The fields of a ``Departed`` event: what ``record`` names leaves a party, on ``evidence``."""
    return {
        "identifier_ids": record.identifier_ids,
        "members": record.members,
        "memberships": record.memberships,
        "evidence": evidence.as_event(),
    }


class IdentifierClaim(Aggregate):
    """Who owns one identifier now (``party_id`` is empty when it is linked to nobody). Its id is the
    identifier's key (``services.common.identifiers.Identifier.id``)."""

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

    def transfer(self, party_id: str, reason: str) -> None:
        """The identifier now belongs to ``party_id`` (nothing happens when it already does)."""
        if party_id != self.party_id:
            self._transferred(party_id=party_id, from_party_id=self.party_id, reason=reason)

    @event("Transferred")
    def _transferred(self, party_id: str, from_party_id: str, reason: str) -> None:
        self.party_id = party_id

    def unclaim(self, reason: str) -> None:
        """The identifier belongs to nobody now."""
        self._unclaimed(from_party_id=self.party_id, reason=reason)

    @event("Unclaimed")
    def _unclaimed(self, from_party_id: str, reason: str) -> None:
        self.party_id = ""

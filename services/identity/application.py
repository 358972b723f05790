"""The identity application: commands and queries in primitives (str ids, dicts), events in the store.

Every command loads the aggregates it needs, lets the domain functions check the rules and trigger events, and
saves every changed aggregate in ONE ``save`` (the event store commits one save atomically: nothing is
half-applied). A concurrent writer that won the race surfaces as ``Conflict`` (gRPC ABORTED; retrying is safe).

Reads of a single party come from its aggregate. Resolve, search and list are served by the resolution
projection (``services.identity.projection``) when one is attached; commands wait for it to apply their own
events before they return, so a caller reads its writes. Without a projection (unit tests, property tests) the
application answers those queries from the claim aggregates.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import DataError, Notification

from services.common.applications import ServiceApplication
from services.common.errors import Conflict, FieldViolation, InvalidArgument, NotFound, Unavailable
from services.common.eventstore import store_errors
from services.common.identifiers import Identifier, InvalidIdentifier, normalise
from services.common.privacy.keyring import installed as installed_keyring
from services.common.projections import handed_over, handed_over_messages
from services.identity.domain import (
    RULE_COMMAND_TOO_LARGE,
    AlreadyForgotten,
    ContactState,
    Evidence,
    IdentifierClaim,
    InvalidIdentityInput,
    LinkPolicy,
    MergeRecord,
    Party,
    PartyNotFound,
    RuleViolation,
    add_member,
    contact_state,
    link_identifier,
    merge_parties,
    remove_member,
    unlink_identifier,
    unmerge_party,
)
from services.identity.importing import ImportOutcome, PartyImport, PartyImporter
from services.identity.importing import prepare as prepare_import

if TYPE_CHECKING:
    from google.protobuf.message import Message

log = structlog.get_logger(__name__)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

#: What a forgotten party's erasure makes unreadable (the categories of its receipt).
ERASED_CATEGORIES = ("identifier values", "names", "free text", "urls")

IdentifierFields = Mapping[str, str]  # {"type": "email", "value": "...", "namespace": ""}


@dataclass(frozen=True)
class _Stored:
    """A stored event as the hand-over reads it (the ``notification`` of a library ``Recording``)."""

    notification: Notification


class IdentityApplication(ServiceApplication):
    """Parties, identifiers, merges and consent (see the module docstring)."""

    name = "identity"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
        policy: LinkPolicy | None = None,
        default_region: str | None = None,
    ) -> None:
        self.policy = policy or LinkPolicy()
        self.default_region = default_region
        self.projection: Any = None  # the ProjectionRunner of the resolution view, attached by the composition root
        super().__init__(env, name=name)

    def attach_projection(self, projection: Any) -> None:
        self.projection = projection

    def hand_over(self, notifications: Sequence[Notification]) -> None:
        """Give the attached projection what this process has just stored (when it takes a hand-over): it applies
        it from memory instead of reading it back from the stream."""
        projection = self._hand_over_to()
        if projection is not None:
            stored = [_Stored(notification) for notification in notifications]
            topics = projection.projection.topics()  # the events of other topics change nothing: left undecoded
            projection.feed(self.name, handed_over(self.name, stored, keep_sealed=True, topics=topics))

    def hand_over_messages(self, stored: Iterable[tuple[int, str, int, Message]]) -> None:
        """:meth:`hand_over` of events whose messages the caller stored as they are (``(notification id, aggregate
        id, version, sealed message)``): none is decoded again, and none may be changed afterwards."""
        projection = self._hand_over_to()
        if projection is not None:
            topics = projection.projection.topics()
            projection.feed(self.name, handed_over_messages(self.name, stored, topics=topics))

    def _hand_over_to(self) -> Any:
        """The attached projection when it takes a hand-over of this application's events, else None."""
        projection = self.projection
        if projection is None or self.name not in getattr(projection, "handed_over", ()):
            return None
        return projection

    def _notify(self, recordings: list[Any]) -> None:
        """Called with what every save stored (``Application.save``)."""
        self.hand_over([recording.notification for recording in recordings])

    # ------------------------------------------------------------------------------------------ helpers

    def normalise(self, identifier: IdentifierFields, field: str = "identifier") -> Identifier:
        """The normal form of a request's identifier; a refusal names ``field`` (``identifiers[2].value``)."""
        try:
            return normalise(
                identifier.get("type", ""),
                identifier.get("namespace", ""),
                identifier.get("value", ""),
                self.default_region,
            )
        except InvalidIdentifier as refused:
            raise refused.at(field) from None

    def _party(self, party_id: str | uuid.UUID, field: str = "party_id") -> Party:
        try:
            uid = party_id if isinstance(party_id, uuid.UUID) else uuid.UUID(str(party_id))
        except ValueError:
            raise InvalidArgument(f"{field}: not a UUID", [FieldViolation(field, "must be a UUID")]) from None
        try:
            aggregate = self._get(uid)
        except AggregateNotFoundError:
            raise PartyNotFound(party_id) from None
        if not isinstance(aggregate, Party):
            raise PartyNotFound(party_id)
        return aggregate

    def _claim(self, key: str) -> IdentifierClaim | None:
        try:
            aggregate = self._get(uuid.UUID(key))
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, IdentifierClaim) else None

    def find(self, uid: uuid.UUID) -> Aggregate | None:
        """The aggregate with id ``uid`` from the event store, or None when there is none."""
        try:
            return self._get(uid)
        except AggregateNotFoundError:
            return None

    def _get(self, uid: uuid.UUID) -> Any:
        with store_errors():
            return self.repository.get(uid)

    def _save(self, *aggregates: Aggregate) -> int | None:
        """Save all changed aggregates atomically; wait for the projection; return the last notification id."""
        if not aggregates:
            return None
        try:
            with store_errors(conflict="a concurrent write changed the same party or identifier; retry the request"):
                recordings = self.save(*aggregates)
        except DataError:
            # The event store commits at most so many events atomically (a merge of a very large community).
            raise RuleViolation(
                RULE_COMMAND_TOO_LARGE,
                str(aggregates[0].id),
                "the command changes more than the event store can commit atomically; split it",
            ) from None
        last = recordings[-1].notification.id if recordings else None
        if self.projection is not None and last is not None:
            self.projection.wait({self.name: last})
        return last

    @staticmethod
    def _check_version(party: Party, expected_version: int | None) -> None:
        if expected_version is not None and party.version != expected_version:
            msg = f"party {party.id} is at version {party.version}, not {expected_version}; read it again and retry"
            raise Conflict(msg)

    # ------------------------------------------------------------------------------------------ parties

    def register_party(
        self,
        kind: str,
        display_name: str,
        roles: Iterable[str] = (),
        identifiers: Iterable[IdentifierFields] = (),
        link_evidence: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Register a party, optionally with identifiers (all linked, or none)."""
        normalised = [self.normalise(i, f"identifiers[{n}]") for n, i in enumerate(identifiers)]
        ev = Evidence(**(link_evidence or {}))
        party = Party.register(kind, display_name, roles)
        changed: dict[uuid.UUID, Aggregate] = {party.id: party}
        for ident in dict.fromkeys(normalised):
            claim = self._claim(ident.key)
            for aggregate in link_identifier(party, ident, claim, None, ev, self.policy, force=False):
                changed[aggregate.id] = aggregate
        self._save(*changed.values())
        log.info("identity.party.registered", party_id=str(party.id), kind=kind, identifiers=len(normalised))
        return self._snapshot(party)

    def get_party(self, party_id: str) -> dict[str, Any]:
        return self._snapshot(self._party(party_id))

    def resolve_party(self, party_id: str) -> list[str]:
        """The ids from ``party_id`` to the live party it stands for now (both included).

        Served by the projection when one is attached (and knows the party), else by the aggregates.
        """
        if self.projection is not None:
            path = self.projection.view.merge_path(str(party_id))
            if path is not None:
                return path
        party = self._party(party_id)
        path = [str(party.id)]
        while party.merged_into is not None and party.merged_into not in path:
            path.append(party.merged_into)
            party = self._party(party.merged_into)
        return path

    def list_parties(self, page_size: int = 0, after: int = 0, kind: str = "") -> tuple[list[dict[str, Any]], int]:
        """One page of live parties registered after position ``after``; returns (parties, last position or 0)."""
        if self.projection is None:
            msg = "listing parties needs the resolution projection"
            raise Unavailable(msg)
        size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        rows = self.projection.view.live_parties(after, size + 1, kind)
        more = len(rows) > size
        rows = rows[:size]
        parties = [self._snapshot(self._party(row["party_id"])) for row in rows]
        return parties, (int(rows[-1]["position"]) if more and rows else 0)

    # ------------------------------------------------------------------------------------------ identifiers

    def link_identifier(
        self,
        party_id: str,
        identifier: IdentifierFields,
        link_evidence: Mapping[str, Any] | None = None,
        *,
        force: bool = False,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Link an identifier; returns {"party": snapshot, "identifier_id", "previous_party_id"}."""
        ident = self.normalise(identifier)
        ev = Evidence(**(link_evidence or {}))
        party = self._party(party_id)
        self._check_version(party, expected_version)
        claim = self._claim(ident.key)
        owner = None
        if claim is not None and claim.party_id and claim.party_id != str(party.id) and force:
            owner = self._party(claim.party_id)
        previous = owner.party_id if owner is not None else ""
        changed = link_identifier(party, ident, claim, owner, ev, self.policy, force=force)
        self._save(*changed)
        if changed:
            log.info("identity.identifier.linked", party_id=str(party.id), type=ident.type, moved=bool(previous))
        return {"party": self._snapshot(party), "identifier_id": ident.key, "previous_party_id": previous}

    def unlink_identifier(self, party_id: str, identifier: IdentifierFields, reason: str = "") -> dict[str, Any]:
        ident = self.normalise(identifier)
        party = self._party(party_id)
        changed = unlink_identifier(party, self._claim(ident.key), ident.key, reason or "unlinked")
        self._save(*changed)
        log.info("identity.identifier.unlinked", party_id=str(party.id), type=ident.type)
        return self._snapshot(party)

    def owner_of(self, key: str) -> str | None:
        """The live party holding an identifier id, from the projection (or the claim without one)."""
        if self.projection is not None:
            owner = self.projection.view.owner_of(key)
        else:
            claim = self._claim(key)
            owner = claim.party_id if claim is not None and claim.party_id else None
        return owner

    def resolve(
        self,
        identifier: IdentifierFields,
        *,
        create_if_missing: bool = False,
        link_evidence: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Which live party an identifier belongs to; with ``create_if_missing`` an anonymous person is created.

        Returns {"party_id", "identifier_id", "created", "identifier": {type, namespace, value}}.
        """
        ident = self.normalise(identifier)
        key = ident.key
        answer = {
            "identifier_id": key,
            "identifier": {"type": ident.type, "namespace": ident.namespace, "value": ident.value},
        }
        owner = self.owner_of(key)
        if owner is not None:
            return {**answer, "party_id": owner, "created": False}
        if not create_if_missing:
            raise NotFound("identifier", key, "no party holds this identifier")
        self.policy.check_not_blocked(ident.type, ident.value, key)
        for _attempt in range(3):
            claim = self._claim(key)  # the projection may lag behind another writer: ask the claim itself
            if claim is not None and claim.party_id:
                return {**answer, "party_id": claim.party_id, "created": False}
            party = Party.register("person", "", anonymous=True)
            ev = Evidence(**(link_evidence or {"source": "resolve", "rule": "create_if_missing"}))
            changed = link_identifier(party, ident, claim, None, ev, self.policy)
            try:
                self._save(*changed)
            except Conflict:
                continue  # someone else created it: read their claim
            log.info("identity.party.created_anonymous", party_id=str(party.id), type=ident.type)
            return {**answer, "party_id": str(party.id), "created": True}
        raise Conflict("the identifier kept changing while resolving it; retry the request")

    def search(self, identifier: IdentifierFields) -> list[dict[str, Any]]:
        """The live parties an identifier points at (zero or one)."""
        ident = self.normalise(identifier)
        owner = self.owner_of(ident.key)
        return [] if owner is None else [self._snapshot(self._party(owner))]

    # ------------------------------------------------------------------------------------------ merges

    def _related(self, party: Party) -> dict[str, Party]:
        return {pid: self._party(pid) for pid in dict.fromkeys([*party.members, *party.member_of])}

    def merge_parties(self, target_id: str, source_id: str, merge_evidence: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``source_id`` into ``target_id``; returns the survivor."""
        ev = Evidence(**merge_evidence)
        if str(target_id) == str(source_id):
            raise InvalidIdentityInput("merge_source", "a party cannot be merged into itself")
        target = self._party(target_id, "target_party_id")
        source = self._party(source_id, "source_party_id")
        claims = {key: claim for key in source.identifiers if (claim := self._claim(key)) is not None}
        changed = merge_parties(target, source, claims, self._related(source), ev, self.policy)
        self._save(*changed)
        log.info("identity.parties.merged", target=str(target.id), source=str(source.id), rule=ev.rule)
        return self._snapshot(target)

    def unmerge_party(self, party_id: str, unmerge_evidence: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Undo the merge of ``party_id``; returns {"party": restored, "former_target": survivor}."""
        ev = Evidence(**(unmerge_evidence or {}))
        source = self._party(party_id)
        target = self._party(source.merged_into) if source.merged_into else None
        if target is None:
            changed = unmerge_party(source, source, {}, {}, ev)  # raises NOT_MERGED
        else:
            record = target.absorbed.get(str(source.id), MergeRecord())
            claims = {key: claim for key in record.identifier_ids if (claim := self._claim(key)) is not None}
            related_ids = [*record.members, *record.memberships]
            related = {pid: self._party(pid) for pid in dict.fromkeys(related_ids)}
            changed = unmerge_party(source, target, claims, related, ev)
        self._save(*changed)
        log.info("identity.parties.unmerged", party=str(source.id), former_target=str(target.id) if target else "")
        return {"party": self._snapshot(source), "former_target": self._snapshot(target) if target else None}

    # ------------------------------------------------------------------------------------------ erasure

    def forget_party(self, party_id: str, requested_by: str, legal_basis: str) -> dict[str, Any]:
        """Forget a party (crypto-shredding); returns the erasure receipt (ids only, no personal data).

        Destroys the data keys of the party, of every party merged into it (recursively), and of every identifier
        any of them holds or once held that no other party holds now; unclaims those identifiers (a later
        sighting of one starts a new party); records ``Party.Forgotten`` with the receipt. The keys go first: a
        failure after them leaves the party unforgotten, and asking again finishes the job.
        """
        party = self._party(party_id)
        if party.forgotten is not None:
            raise AlreadyForgotten(party.party_id, party.forgotten)
        keyring = installed_keyring()
        if keyring is None:
            raise Unavailable("no key vault is configured in this process: ForgetParty cannot destroy keys")
        parties = self._merged_in(party)
        held: dict[str, None] = {}
        for member in parties:
            for stored in self._history(member.id):
                for link in _identifiers_of(stored):
                    held[link] = None
            held.update(dict.fromkeys(member.identifiers))
        forgotten_ids = {str(member.id) for member in parties}
        claims = {key: self._claim(key) for key in held}
        erased = [key for key, claim in claims.items() if claim is None or claim.party_id in ("", *forgotten_ids)]
        released = [claim for key, claim in claims.items() if key in erased and claim is not None and claim.party_id]
        for claim in released:
            claim.unclaim(reason="party forgotten")
        self._save(*released)
        key_ids = [*erased, *sorted(forgotten_ids)]
        for key_id in key_ids:
            keyring.destroy(key_id)
        receipt = {
            "receipt_id": str(uuid.uuid4()),
            "erased_at": datetime.now(tz=UTC),
            "requested_by": requested_by,
            "legal_basis": legal_basis,
            "categories": list(ERASED_CATEGORIES),
            "key_ids": key_ids,
            "party_ids": sorted(forgotten_ids - {str(party.id)}),
            "kept_identifiers": len(held) - len(erased),
        }
        party.forget(receipt)
        self._save(party)
        log.info(
            "identity.party.forgotten",
            party_id=str(party.id),
            receipt_id=receipt["receipt_id"],
            keys=len(key_ids),
            parties=len(parties),
        )
        return receipt

    def _merged_in(self, party: Party) -> list[Party]:
        """``party`` and every party merged into it, recursively (each once)."""
        found: dict[str, Party] = {str(party.id): party}
        todo = [party]
        while todo:
            for source_id in todo.pop().absorbed:
                if source_id not in found:
                    found[source_id] = self._party(source_id)
                    todo.append(found[source_id])
        return list(found.values())

    def _history(self, aggregate_id: uuid.UUID) -> list[Any]:
        with store_errors():
            return list(self.events.get(aggregate_id))

    def export_party(self, party_id: str) -> dict[str, Any]:
        """Everything identity holds about a party, decrypted (right of access): the party as it stands now, and
        every stored event of it and of each party merged into it, oldest first."""
        party = self._party(party_id)
        parties = self._merged_in(party)
        return {
            "party": self._snapshot(party),
            "forgotten": party.forgotten,
            "events": {
                str(member.id): [
                    {
                        "type": type(stored).__qualname__,
                        "version": stored.originator_version,
                        **{k: v for k, v in vars(stored).items() if k not in ("originator_id", "originator_version")},
                    }
                    for stored in self._history(member.id)
                ]
                for member in parties
            },
        }

    # ------------------------------------------------------------------------------------------ communities

    def add_community_member(self, community_id: str, member_id: str) -> dict[str, Any]:
        community = self._party(community_id, "community_party_id")
        member = self._party(member_id, "member_party_id")
        self._save(*add_member(community, member))
        return self._snapshot(community)

    def remove_community_member(self, community_id: str, member_id: str) -> dict[str, Any]:
        community = self._party(community_id, "community_party_id")
        member = self._party(member_id, "member_party_id")
        self._save(*remove_member(community, member))
        return self._snapshot(community)

    # ------------------------------------------------------------------------------------------ consent

    def record_consent(
        self, party_id: str, channel: str, status: str, at: datetime | None, source: str, expected_version: int | None
    ) -> dict[str, Any]:
        moment = at or datetime.now(UTC)
        return self._change(party_id, expected_version, lambda p: p.record_consent(channel, status, moment, source))

    def set_preferred_channels(
        self, party_id: str, channels: Iterable[str], *, expected_version: int | None = None
    ) -> dict[str, Any]:
        return self._change(party_id, expected_version, lambda party: party.set_preferred_channels(channels))

    def set_do_not_contact(
        self, party_id: str, do_not_contact: bool, at: datetime | None, source: str, expected_version: int | None
    ) -> dict[str, Any]:
        moment = at or datetime.now(UTC)
        return self._change(party_id, expected_version, lambda p: p.set_do_not_contact(do_not_contact, moment, source))

    def _change(self, party_id: str, expected_version: int | None, change: Callable[[Party], object]) -> dict[str, Any]:
        """Load the party, check the caller's expected version, apply ``change`` and save it; the party after."""
        party = self._party(party_id)
        self._check_version(party, expected_version)
        change(party)
        self._save(party)
        return self._snapshot(party)

    def contact_state(self, party: Party, now: datetime | None = None) -> ContactState:
        """The effective contact state of ``party`` at ``now``: its own answers and those of every party merged
        into it (``services.identity.domain.contact``)."""
        merged: list[Party] = []
        queue = list(party.absorbed)
        while queue:
            absorbed = self._party(queue.pop())
            merged.append(absorbed)
            queue.extend(absorbed.absorbed)
        return contact_state(party, merged, now or datetime.now(UTC))

    def may_contact(self, party_id: str, channel: str, now: datetime | None = None) -> dict[str, Any]:
        """May the company contact the party on ``channel`` at ``now``? Asked of the live party ``party_id``
        stands for now, by the domain's precedence rule. Returns {"allowed", "reason", "party_id", "preferred"}."""
        if not channel:
            raise InvalidIdentityInput("channel", "must be set")
        live = self._party(self.resolve_party(party_id)[-1])
        answer = self.contact_state(live, now).permission(channel)
        return {
            "party_id": str(live.id),
            "allowed": answer.allowed,
            "reason": answer.reason,
            "preferred": answer.preferred,
        }

    def _snapshot(self, party: Party) -> dict[str, Any]:
        return party_snapshot(party, self.contact_state(party))

    # ------------------------------------------------------------------------------------------ import

    def import_parties(self, items: Iterable[PartyImport], *, first_index: int = 0) -> list[ImportOutcome]:
        """Import parties from another system (``services.identity.importing``): one outcome per item, in order,
        once every save is durable (the resolution view may not have applied them yet)."""
        return PartyImporter(self).commit(prepare_import(self, list(items), first_index))


# ---------------------------------------------------------------------------------------------- snapshots


def party_snapshot(party: Party, contact: ContactState) -> dict[str, Any]:
    """A party as primitives (the shape of ``chorus.identity.v1.Party``), with its effective contact state."""
    return {
        "party_id": str(party.id),
        "kind": party.kind,
        "roles": list(party.roles),
        "display_name": party.display_name,
        "anonymous": party.anonymous,
        "identifiers": [
            {
                "identifier_id": link.identifier_id,
                "type": link.identifier.type,
                "namespace": link.identifier.namespace,
                "value": link.identifier.value,
                "evidence": link.evidence.as_event(),
            }
            for link in sorted(party.identifiers.values(), key=lambda link: (link.type, link.identifier.value))
        ],
        "member_party_ids": list(party.members),
        "community_party_ids": list(party.member_of),
        "consents": [
            {"channel": r.channel, "status": r.status, "at": r.at, "source": r.source, "party_id": r.party_id}
            for r in contact.consents
        ],
        "preferred_channels": list(party.preferred_channels),
        "do_not_contact": contact.do_not_contact,
        "do_not_contact_party_ids": [record.party_id for record in contact.do_not_contact_records],
        "merged_into_party_id": party.merged_into or "",
        "merged_party_ids": list(party.absorbed),
        "version": party.version,
    }


def _identifiers_of(stored: Any) -> list[str]:
    """The identifier ids a party's stored event links to it (a link, a merge's or an unmerge's identifiers)."""
    kind = type(stored).__qualname__  # the event classes the @event decorator makes on Party
    if kind == "Party.IdentifierLinked":
        return [stored.identifier["identifier_id"]]
    if kind in ("Party.Absorbed", "Party.Unmerged"):
        return [link["identifier_id"] for link in stored.identifiers]
    return []

"""Bulk import of parties from another system (a CRM): many parties per atomic save, one outcome per item.

An item (:class:`PartyImport`, primitives) is one party with its identifiers, consents and preferred channels.
Importing is split so a stream can overlap two micro-batches:

:func:`prepare`
    checks what needs no state: the identifiers' normal forms, the evidence, the idempotency key. An item's party
    id follows from its source system and external id (``imported_party_id``), so the same pair always yields
    the same party.
:meth:`PartyImporter.commit`
    asks the resolution view which of the batch's parties and identifiers exist already (one query each; without
    a view, the event store), lets the domain check each remaining item (``check_import``: all of it or nothing,
    merge protection as LinkIdentifier applies it), plans its events without building aggregates
    (:mod:`services.identity.import_events`: the events ``import_party``'s aggregates would store), and stores
    many items' events in one atomic commit of at most :data:`MAX_EVENTS_PER_SAVE` events, then hands their
    messages, as stored, to the resolution view (``IdentityApplication.hand_over_messages``: none is decoded
    again). A party imported before is answered ALREADY_IMPORTED and nothing changes; an identifier held by
    another party (also by an earlier item of the same batch), a blocked value or a cap refuse that item alone.

The view may lag behind the store. The store has the last word: a party or claim that exists although the view
did not know it makes the whole save fail (a second version 1 of its aggregate); the importer then reads every
party and claim of that save from the store and builds its items again. A save that keeps losing to concurrent
writers answers its items REJECTED with the rule CONCURRENT_WRITE (sending them again is safe).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.persistence import IntegrityError

from services.common.errors import InvalidArgument
from services.common.eventstore import store_errors
from services.common.eventstore.recorders import MAX_EVENTS_PER_SAVE as STORE_MAX_EVENTS_PER_SAVE
from services.common.identifiers import Identifier
from services.identity.domain import (
    ConsentAnswer,
    Evidence,
    IdentifierClaim,
    IdentifierLinkedElsewhere,
    IdentityError,
    InvalidIdentityInput,
    Party,
    RuleViolation,
    check_import,
    imported_party_id,
)
from services.identity.import_events import PlannedEvent, plan_import, stored_events

if TYPE_CHECKING:
    from services.identity.application import IdentityApplication

log = structlog.get_logger(__name__)

IMPORTED = "imported"
ALREADY_IMPORTED = "already_imported"
REJECTED = "rejected"

RULE_INVALID = "INVALID_ARGUMENT"
RULE_LINKED_ELSEWHERE = "IDENTIFIER_LINKED_ELSEWHERE"
RULE_CONCURRENT_WRITE = "CONCURRENT_WRITE"

MAX_EVENTS_PER_SAVE = STORE_MAX_EVENTS_PER_SAVE
"""Most events one save of an import holds (the event store commits at most so many atomically)."""
SAVE_ATTEMPTS = 3
"""Saves of one group of items before its items are answered CONCURRENT_WRITE."""

#: The item field each domain word of a refusal stands for (a word not listed is the field's own name).
FIELD_OF: Mapping[str, str] = {
    "confidence": "evidence.confidence",
    "channel": "consents",
    "consent_status": "consents",
    "effective_time": "consents",
}


@dataclass(frozen=True)
class PartyImport:
    """One party as another system knows it. ``consents`` are ``{"channel", "status", "at", "source"}`` (``at``
    a datetime or None for now, ``source`` empty for the source system)."""

    source_system: str
    external_id: str
    kind: str
    display_name: str
    roles: tuple[str, ...] = ()
    identifiers: tuple[Mapping[str, str], ...] = ()
    consents: tuple[Mapping[str, Any], ...] = ()
    preferred_channels: tuple[str, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportViolation:
    """Why an item was refused: the item's field, what is wrong (never the value), the rule that refused it."""

    field: str
    description: str
    rule: str = RULE_INVALID


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one item: imported, already imported, or rejected with violations."""

    index: int
    outcome: str
    party_id: str = ""
    violations: tuple[ImportViolation, ...] = ()
    conflicting_party_id: str = ""


@dataclass(frozen=True)
class ReadyImport:
    """An item whose input is checked: normal forms, evidence and party id; the rules that need state are next."""

    index: int
    party_id: uuid.UUID
    item: PartyImport
    identifiers: tuple[Identifier, ...]
    field_of_key: Mapping[str, str]
    consents: tuple[ConsentAnswer, ...]
    evidence: Evidence


Prepared = ReadyImport | ImportOutcome


def prepare(app: IdentityApplication, items: Sequence[PartyImport], first_index: int = 0) -> list[Prepared]:
    """Check each item's input; an item refused here is an :class:`ImportOutcome`, every other a
    :class:`ReadyImport`. Indexes count from ``first_index``."""
    now = datetime.now(UTC)
    return [_prepare_one(app, first_index + offset, item, now) for offset, item in enumerate(items)]


def _prepare_one(app: IdentityApplication, index: int, item: PartyImport, now: datetime) -> Prepared:
    broken: list[ImportViolation] = []
    system = item.source_system.strip().lower()
    external_id = item.external_id.strip()
    if not system:
        broken.append(ImportViolation("source_system", "must not be empty"))
    if not external_id:
        broken.append(ImportViolation("external_id", "must not be empty"))
    identifiers: list[Identifier] = []
    field_of_key: dict[str, str] = {}
    for position, fields in enumerate(item.identifiers):
        where = f"identifiers[{position}]"
        try:
            identifier = app.normalise(fields, where)
        except InvalidArgument as refused:
            broken.extend(ImportViolation(v.field, v.description) for v in refused.violations)
            continue
        identifiers.append(identifier)
        field_of_key.setdefault(identifier.key, where)
    try:
        evidence = Evidence(**{"source": system, "rule": "import", **{k: v for k, v in item.evidence.items() if v}})
    except InvalidIdentityInput as refused:
        broken.append(ImportViolation(FIELD_OF.get(refused.subject, refused.subject), refused.description))
        evidence = Evidence()
    consents = tuple(
        ConsentAnswer(
            channel=c.get("channel", ""),
            status=c.get("status", ""),
            at=c.get("at") or now,
            source=c.get("source") or system,
        )
        for c in item.consents
    )
    if broken:
        return ImportOutcome(index, REJECTED, violations=tuple(broken))
    return ReadyImport(
        index, imported_party_id(system, external_id), item, tuple(identifiers), field_of_key, consents, evidence
    )


@dataclass
class _Known:
    """What exists before the items being built: parties (by id), who holds each identifier, unowned claims."""

    parties: set[str] = field(default_factory=set)
    owners: dict[str, str] = field(default_factory=dict)
    claims: dict[str, IdentifierClaim] = field(default_factory=dict)


class PartyImporter:
    """Commits prepared items through ``app`` (see the module docstring)."""

    def __init__(self, app: IdentityApplication, *, max_events_per_save: int = MAX_EVENTS_PER_SAVE) -> None:
        self.app = app
        self.max_events_per_save = max_events_per_save

    def commit(self, prepared: Sequence[Prepared]) -> list[ImportOutcome]:
        """Store the ready items; every item's outcome, in item order. Returns once every save is durable."""
        outcomes = {p.index: p for p in prepared if isinstance(p, ImportOutcome)}
        ready = [p for p in prepared if isinstance(p, ReadyImport)]
        known = self._known_by_view(ready)
        group = _Group()
        for item in ready:
            outcome, planned = self._build(item, known, group.overlay)
            if group.pending and group.events + len(planned) > self.max_events_per_save:
                outcomes.update(self._save_group(group, known))
                group = _Group()
                outcome, planned = self._build(item, known, group.overlay)  # after what that save stored
            group.add(item, outcome, planned)
        if group.items:
            outcomes.update(self._save_group(group, known))
        answered = [outcomes[p.index] for p in prepared]
        counts = {IMPORTED: 0, ALREADY_IMPORTED: 0, REJECTED: 0}
        for outcome in answered:
            counts[outcome.outcome] += 1
        log.info("identity.import.committed", items=len(answered), **counts)
        return answered

    # ---- building items

    def _build(
        self, item: ReadyImport, known: _Known, overlay: _Known
    ) -> tuple[ImportOutcome | None, list[PlannedEvent]]:
        """An item's outcome when it is decided without a save, else the events that import it. ``overlay``
        holds what the items built before it in its group will hold once saved."""
        party_id = str(item.party_id)
        if party_id in known.parties or party_id in overlay.parties:
            return ImportOutcome(item.index, ALREADY_IMPORTED, party_id), []
        owners = {
            key: owner for key in item.field_of_key if (owner := overlay.owners.get(key) or known.owners.get(key))
        }
        claims = {key: claim for key in item.field_of_key if (claim := known.claims.get(key)) is not None}
        try:
            checked = check_import(
                item.party_id,
                item.item.kind,
                item.item.display_name,
                item.item.roles,
                item.identifiers,
                owners,
                item.consents,
                item.item.preferred_channels,
                self.app.policy,
            )
        except IdentityError as refused:
            return self._refusal(item, refused), []
        return None, plan_import(item.party_id, checked, claims, item.evidence, datetime.now(UTC))

    @staticmethod
    def _refusal(item: ReadyImport, refused: IdentityError) -> ImportOutcome:
        if isinstance(refused, IdentifierLinkedElsewhere):
            key = refused.resource_name
            violation = ImportViolation(
                item.field_of_key.get(key, "identifiers"),
                f"identifier {key} is already linked to party {refused.owner}",
                RULE_LINKED_ELSEWHERE,
            )
            return ImportOutcome(item.index, REJECTED, violations=(violation,), conflicting_party_id=refused.owner)
        if isinstance(refused, RuleViolation):
            rule = refused.violations[0]
            where = item.field_of_key.get(rule.subject, "identifiers")
            return ImportOutcome(
                item.index, REJECTED, violations=(ImportViolation(where, rule.description, refused.rule_name),)
            )
        if isinstance(refused, InvalidIdentityInput):
            where = FIELD_OF.get(refused.subject, refused.subject)
            return ImportOutcome(item.index, REJECTED, violations=(ImportViolation(where, refused.description),))
        unexpected = ImportViolation("", str(refused), type(refused).__name__)
        return ImportOutcome(item.index, REJECTED, violations=(unexpected,))

    # ---- saving a group of items

    def _save_group(self, group: _Group, known: _Known) -> dict[int, ImportOutcome]:
        """Store the group's events in one atomic commit; on a store refusal read the truth and build the group
        again (every item of it: an item refused for an identifier another item of the group took may now pass)."""
        for _attempt in range(SAVE_ATTEMPTS):
            planned = [event for _item, built in group.pending for event in built]
            try:
                if planned:
                    stored = stored_events(planned, self.app.mapper)
                    with store_errors():
                        ids = self.app.recorder.insert_events(stored)
                    if ids:  # the messages as stored (sealed in place): the view decodes none of them again
                        self.app.hand_over_messages(
                            (n, e.aggregate_id, e.originator_version, e.message)
                            for e, n in zip(planned, ids, strict=True)
                        )
            except IntegrityError:
                self._read_from_store(group.items, known)
                rebuilt = _Group()
                for item in group.items:
                    rebuilt.add(item, *self._build(item, known, rebuilt.overlay))
                group = rebuilt
                continue
            known.parties.update(group.overlay.parties)
            known.owners.update(group.overlay.owners)
            return {
                **group.decided,
                **{
                    item.index: ImportOutcome(item.index, IMPORTED, str(item.party_id))
                    for item, _built in group.pending
                },
            }
        log.warning("identity.import.concurrent_writes", items=len(group.items))
        lost = ImportViolation(
            "", "other writers kept changing the same parties or identifiers; send it again", RULE_CONCURRENT_WRITE
        )
        return {item.index: ImportOutcome(item.index, REJECTED, violations=(lost,)) for item in group.items}

    # ---- what exists

    def _known_by_view(self, ready: Sequence[ReadyImport]) -> _Known:
        """What the resolution view knows about the items' parties and identifiers (the store without a view)."""
        projection = self.app.projection
        if projection is None:
            known = _Known()
            self._read_from_store(ready, known)
            return known
        keys = list(dict.fromkeys(key for item in ready for key in item.field_of_key))
        return _Known(
            parties=projection.view.known_parties([str(item.party_id) for item in ready]),
            owners=projection.view.owners_of(keys),
        )

    def _read_from_store(self, items: Sequence[ReadyImport], known: _Known) -> None:
        """Read the items' parties and claims from the event store into ``known``."""
        for item in items:
            if isinstance(self.app.find(item.party_id), Party):
                known.parties.add(str(item.party_id))
            for key in item.field_of_key:
                claim = self.app.find(uuid.UUID(key))
                known.owners.pop(key, None)
                known.claims.pop(key, None)
                if isinstance(claim, IdentifierClaim):
                    if claim.party_id:
                        known.owners[key] = claim.party_id
                    else:
                        known.claims[key] = claim


@dataclass(frozen=True)
class Reservation:
    """A micro-batch's place in its stream's order of commits (:meth:`ImportStream.reserve`)."""

    prepared: Sequence[Prepared]
    earlier: tuple[threading.Event, ...]
    done: threading.Event


class ImportStream:
    """One stream's micro-batches, committed side by side (one builds its aggregates while another waits for the
    store). A micro-batch that names a party or an identifier an earlier one still being committed names waits
    for it, so within a stream the first item of a party is the one imported, whatever the timing."""

    def __init__(self, app: IdentityApplication) -> None:
        self.importer = PartyImporter(app)
        self._lock = threading.Lock()
        self._in_flight: list[tuple[frozenset[str], threading.Event]] = []

    def reserve(self, prepared: Sequence[Prepared]) -> Reservation:
        """Take the micro-batch's place; call in stream order, before its commit starts."""
        ready = [p for p in prepared if isinstance(p, ReadyImport)]
        names = frozenset(str(p.party_id) for p in ready) | frozenset(key for p in ready for key in p.field_of_key)
        done = threading.Event()
        with self._lock:
            earlier = tuple(event for other, event in self._in_flight if other & names)
            self._in_flight.append((names, done))
        return Reservation(prepared, earlier, done)

    def commit(self, reservation: Reservation) -> list[ImportOutcome]:
        """Commit a reserved micro-batch once the earlier ones it shares names with are committed."""
        try:
            for earlier in reservation.earlier:
                earlier.wait()
            return self.importer.commit(reservation.prepared)
        finally:
            reservation.done.set()
            with self._lock:
                self._in_flight = [entry for entry in self._in_flight if entry[1] is not reservation.done]


@dataclass
class _Group:
    """Items saved together: those to store (``pending``) and those decided against what the others will hold
    (``decided``: answered once the save succeeds, rebuilt with the rest when it does not)."""

    items: list[ReadyImport] = field(default_factory=list)
    pending: list[tuple[ReadyImport, list[PlannedEvent]]] = field(default_factory=list)
    decided: dict[int, ImportOutcome] = field(default_factory=dict)
    overlay: _Known = field(default_factory=_Known)
    events: int = 0

    def add(self, item: ReadyImport, outcome: ImportOutcome | None, planned: list[PlannedEvent]) -> None:
        self.items.append(item)
        if outcome is not None:
            self.decided[item.index] = outcome
            return
        party_id = str(item.party_id)
        self.overlay.parties.add(party_id)  # the next items of the group see its party and identifiers
        for key in item.field_of_key:
            self.overlay.owners[key] = party_id
        self.pending.append((item, planned))
        self.events += len(planned)

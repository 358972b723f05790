"""The resolution projection: identifier -> party, party -> merged into, party listing.

Kept by the identity service itself, from its own stream, in a :class:`services.common.views.View` (SQLite by
default, PostgreSQL in production), by the kernel's :class:`~services.common.projections.ProjectionRunner`: pages
of events in one transaction each with the tracking position of their last event, so a restart resumes where it
stopped and a dropped view is rebuilt from sequence 1.

:class:`ResolutionProjection` has one handler per stored event message (``chorus.identity.events.v1``) that
changes a table: ``IdentifierClaimed`` / ``Transferred`` / ``Unclaimed`` and a party's registration, merge and
unmerge; other events only move the position. Claims and registrations are written a transaction's worth at a
time, and the reader leaves personal data sealed (no handler reads it). Commands wait for their own events
(``ProjectionRunner.wait``), so a caller reads its writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from chorus.common.v1 import types_pb2 as types
from chorus.identity.events.v1 import events_pb2 as pb
from services.common.contracts import enum_words
from services.common.projections import Projection, ProjectionRunner, StreamReader, UpstreamEvent, handles
from services.common.views import View, ViewCursor

_PARTY_KIND = enum_words(types.PartyKind.DESCRIPTOR)


class ResolutionView(View):
    """Tables of the resolution projection."""

    name = "identity_resolution"
    TABLES = ("identity_identifier", "identity_party")
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS identity_identifier ("
        " identifier_id TEXT NOT NULL PRIMARY KEY, party_id TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS identity_party ("
        " party_id TEXT NOT NULL PRIMARY KEY, position BIGINT NOT NULL, kind TEXT NOT NULL,"
        " merged_into TEXT)",
        "CREATE INDEX IF NOT EXISTS identity_party_position ON identity_party (position)",
    )

    # ---- queries

    def owner_of(self, identifier_id: str) -> str | None:
        rows = self.query("SELECT party_id FROM identity_identifier WHERE identifier_id = ?", (identifier_id,))
        return rows[0]["party_id"] if rows else None

    def owners_of(self, identifier_ids: Sequence[str]) -> dict[str, str]:
        """The parties holding those identifier ids, as far as the view knows (ids nobody holds are left out)."""
        owners: dict[str, str] = {}
        for chunk in _chunks(identifier_ids):
            marks = ", ".join("?" * len(chunk))
            for row in self.query(
                f"SELECT identifier_id, party_id FROM identity_identifier WHERE identifier_id IN ({marks})", chunk
            ):
                owners[row["identifier_id"]] = row["party_id"]
        return owners

    def known_parties(self, party_ids: Sequence[str]) -> set[str]:
        """Those of ``party_ids`` the view knows (registered, merged or not)."""
        known: set[str] = set()
        for chunk in _chunks(party_ids):
            marks = ", ".join("?" * len(chunk))
            rows = self.query(f"SELECT party_id FROM identity_party WHERE party_id IN ({marks})", chunk)
            known.update(row["party_id"] for row in rows)
        return known

    def merge_path(self, party_id: str) -> list[str] | None:
        """The ids from ``party_id`` to the live party it stands for (both included); None if unknown."""
        path = [party_id]
        while True:
            rows = self.query("SELECT merged_into FROM identity_party WHERE party_id = ?", (path[-1],))
            if not rows:
                return None if len(path) == 1 else path
            nxt = rows[0]["merged_into"]
            if not nxt or nxt in path:
                return path
            path.append(nxt)

    def live_parties(self, after: int, limit: int, kind: str = "") -> list[dict[str, Any]]:
        """Live parties registered after position ``after``, in registration order."""
        if kind:
            return self.query(
                "SELECT party_id, position FROM identity_party WHERE merged_into IS NULL AND position > ?"
                " AND kind = ? ORDER BY position LIMIT ?",
                (after, kind, limit),
            )
        return self.query(
            "SELECT party_id, position FROM identity_party WHERE merged_into IS NULL AND position > ?"
            " ORDER BY position LIMIT ?",
            (after, limit),
        )

    def counts(self) -> dict[str, int]:
        parties = self.query("SELECT COUNT(*) AS n FROM identity_party")[0]["n"]
        identifiers = self.query("SELECT COUNT(*) AS n FROM identity_identifier")[0]["n"]
        return {"parties": int(parties), "identifiers": int(identifiers)}


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield list(values[start : start + size])


class ResolutionProjection(Projection[ResolutionView]):
    """Identity's events -> the resolution tables (one handler per event that changes them).

    Claims and registrations are collected and written together at the end of their transaction
    (``before_commit``: one statement per table for a whole page of an import); a merge or an unmerge writes what
    was collected before it first, so every row is written in stream order.
    """

    def __init__(self, view: ResolutionView) -> None:
        super().__init__(view)
        self._cursor: ViewCursor | None = None
        self._owners: dict[str, str | None] = {}  # identifier id -> its party now (None: nobody), in this transaction
        self._registered: list[tuple[str, int, str]] = []

    def _collecting(self, cur: ViewCursor) -> None:
        if self._cursor is not cur:  # a new transaction: what an aborted one collected is gone with it
            self._cursor, self._owners, self._registered = cur, {}, []

    @handles(pb.IdentifierClaimed, pb.IdentifierTransferred)
    def claimed(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        self._collecting(cur)
        self._owners[event.aggregate_id] = event.message.party_id  # type: ignore[union-attr]

    @handles(pb.IdentifierUnclaimed)
    def unclaimed(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        self._collecting(cur)
        self._owners[event.aggregate_id] = None

    @handles(pb.PartyRegistered)
    def registered(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        self._collecting(cur)
        kind = _PARTY_KIND.word(event.message.kind)  # type: ignore[union-attr]
        self._registered.append((event.aggregate_id, event.sequence, kind))

    @handles(pb.PartyMergedInto)
    def merged_into(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        self.before_commit(cur)
        cur.execute(
            "UPDATE identity_party SET merged_into = ? WHERE party_id = ?",
            (event.message.target_party_id, event.aggregate_id),  # type: ignore[union-attr]
        )

    @handles(pb.PartyUnmerged)
    def unmerged(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        self.before_commit(cur)
        cur.execute("UPDATE identity_party SET merged_into = NULL WHERE party_id = ?", (event.aggregate_id,))

    def before_commit(self, cur: ViewCursor) -> None:
        """Write the claims and registrations collected in this transaction so far."""
        if self._cursor is not cur:
            return
        owners, registered = self._owners, self._registered
        self._owners, self._registered = {}, []
        held = [(key, party) for key, party in owners.items() if party is not None]
        if held:
            cur.executemany(
                "INSERT INTO identity_identifier (identifier_id, party_id) VALUES (?, ?) ON CONFLICT (identifier_id)"
                " DO UPDATE SET party_id = excluded.party_id",
                held,
            )
        released = [(key,) for key, party in owners.items() if party is None]
        if released:
            cur.executemany("DELETE FROM identity_identifier WHERE identifier_id = ?", released)
        if registered:
            cur.executemany(
                "INSERT INTO identity_party (party_id, position, kind, merged_into) VALUES (?, ?, ?, NULL)"
                " ON CONFLICT (party_id) DO NOTHING",
                registered,
            )


def resolution_runner(app: Any, view: ResolutionView, **options: Any) -> ProjectionRunner:
    """The runner that keeps ``view`` in step with ``app``'s own stream (``options``: the runner's), taking the
    hand-over of what ``app`` stores (``IdentityApplication.hand_over``): the service starts it with
    ``watch=False``, so its own writes come from memory and other writers' by polling the store (at once for a
    command's wait). The view holds no personal data, so its reader leaves sealed fields sealed."""
    return ProjectionRunner(
        ResolutionProjection(view),
        [StreamReader.of_application(app, keep_sealed=True)],
        handed_over=(app.name,),
        **options,
    )


def iter_pages(view: ResolutionView, page: int = 1000) -> Iterator[dict[str, Any]]:
    """Every row of the identifier table, for comparisons in tests and audits."""
    offset = ""
    while True:
        rows = view.query(
            "SELECT identifier_id, party_id FROM identity_identifier WHERE identifier_id > ?"
            " ORDER BY identifier_id LIMIT ?",
            (offset, page),
        )
        if not rows:
            return
        yield from rows
        offset = rows[-1]["identifier_id"]

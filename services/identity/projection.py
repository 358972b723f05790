"""The resolution projection: identifier -> party, party -> merged into, party listing.

Kept by the identity service itself, from its own stream, in a :class:`services.common.views.View` (SQLite by
default, PostgreSQL in production). Events are applied a page at a time, each page in one transaction with the
tracking position of its last table-changing event, so a restart resumes where it stopped and a dropped view is
rebuilt from sequence 1.

Only ``IdentifierClaim`` events and a party's registration, merge and unmerge change the tables; other events
only move the in-memory position that :meth:`ResolutionProjection.wait` watches (their tracking row is written with
the next event that changes a table, so a restart may read them again, which changes nothing).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from services.common.errors import Unavailable
from services.common.views import AppliedPosition, View
from services.identity.domain import IdentifierClaim, Party

log = structlog.get_logger(__name__)


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

    # ---- updates

    def apply(self, events: list[tuple[Any, Tracking]]) -> None:
        """Apply events in one transaction, recording the last one's tracking position."""
        with self.transaction(events[-1][1]) as cur:
            for event, tracking in events:
                _apply(cur, event, tracking)


def _apply(cur: Any, event: Any, tracking: Tracking) -> None:
    originator = str(event.originator_id)
    if isinstance(event, IdentifierClaim.Claimed):
        cur.execute(
            "INSERT INTO identity_identifier (identifier_id, party_id) VALUES (?, ?) ON CONFLICT (identifier_id)"
            " DO UPDATE SET party_id = excluded.party_id",
            (originator, event.party_id),
        )
    elif isinstance(event, IdentifierClaim.Transferred):
        cur.execute(
            "INSERT INTO identity_identifier (identifier_id, party_id) VALUES (?, ?) ON CONFLICT (identifier_id)"
            " DO UPDATE SET party_id = excluded.party_id",
            (originator, event.party_id),
        )
    elif isinstance(event, IdentifierClaim.Unclaimed):
        cur.execute("DELETE FROM identity_identifier WHERE identifier_id = ?", (originator,))
    elif isinstance(event, Party.Registered):
        cur.execute(
            "INSERT INTO identity_party (party_id, position, kind, merged_into) VALUES (?, ?, ?, NULL)"
            " ON CONFLICT (party_id) DO NOTHING",
            (originator, tracking.notification_id, event.kind),
        )
    elif isinstance(event, Party.MergedInto):
        cur.execute("UPDATE identity_party SET merged_into = ? WHERE party_id = ?", (event.target_party_id, originator))
    elif isinstance(event, Party.Unmerged):
        cur.execute("UPDATE identity_party SET merged_into = NULL WHERE party_id = ?", (originator,))


_CHANGES_TABLES = (
    IdentifierClaim.Claimed,
    IdentifierClaim.Transferred,
    IdentifierClaim.Unclaimed,
    Party.Registered,
    Party.MergedInto,
    Party.Unmerged,
)


class ResolutionProjection:
    """Keeps a :class:`ResolutionView` up to date with an application's stream, in background threads.

    The *applier* reads the stream page by page after its position (``select_notifications``), one view
    transaction per page, whenever it is nudged, and at least every ``poll_interval`` seconds. Nudges come from
    a live subscription to the stream (events written by any process) and from :meth:`wait` (a command of this
    process has just been saved). The subscription only wakes the applier, so a subscription that stalls or
    fails (a NATS restart) delays nothing: commands still read their writes, and other writers' events still
    arrive within ``poll_interval``. Both threads restart after failures, backing off.

    ``wait(notification_id)`` blocks until the view reflects that notification: commands call it before they
    answer, so a caller always reads its own writes.
    """

    def __init__(
        self,
        app: Application[Any],
        view: ResolutionView,
        *,
        batch_size: int = 500,
        rebuild_batch_size: int = 10_000,
        poll_interval: float = 1.0,
    ) -> None:
        self.app = app
        self.view = view
        self.batch_size = batch_size
        self.rebuild_batch_size = rebuild_batch_size
        self.poll_interval = poll_interval
        self._applied = AppliedPosition("the resolution view", view.max_tracking_id(app.name) or 0)
        self._nudge = threading.Event()
        self._stopping = threading.Event()
        self._error: BaseException | None = None
        self._subscription: Any = None
        self._applier = threading.Thread(target=self._apply_loop, name=f"{view.view_name}-applier", daemon=True)
        self._listener = threading.Thread(target=self._listen_loop, name=f"{view.view_name}-listener", daemon=True)

    @property
    def position(self) -> int:
        return self._applied.value

    def start(self) -> ResolutionProjection:
        self._applier.start()
        self._listener.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._nudge.set()
        subscription = self._subscription
        if subscription is not None:
            subscription.stop()
        self._applier.join(timeout=10)
        self._listener.join(timeout=10)

    def __enter__(self) -> ResolutionProjection:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait(self, notification_id: int | None, timeout: float = 10.0) -> None:
        """Block until the view has applied ``notification_id`` (raises Unavailable after ``timeout``)."""
        self._applied.wait(notification_id, timeout, failure=lambda: self._error, poke=self._nudge.set, poll=0.05)

    def catch_up(self, timeout: float = 600.0) -> None:
        """Block until the view has applied everything recorded so far."""
        self.wait(self.app.recorder.max_notification_id(), timeout=timeout)

    def _apply_loop(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                self._catch_up_by_pages()
                backoff = 0.2
            except Exception as error:  # noqa: BLE001 - logged, retried; waiters time out meanwhile
                self._failed("identity.projection.retrying", error, backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            self._nudge.wait(self.poll_interval)
            self._nudge.clear()

    def _listen_loop(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                with self.app.recorder.subscribe(gt=self.app.recorder.max_notification_id()) as subscription:
                    self._subscription = subscription
                    if self._stopping.is_set():
                        return
                    for _notification in subscription:
                        self._nudge.set()
                        backoff = 0.2
            except Exception as error:  # noqa: BLE001 - the applier still polls; retry the subscription
                self._failed("identity.projection.subscription_retrying", error, backoff)
                backoff = min(backoff * 2, 5.0)

    def _failed(self, event: str, error: Exception, backoff: float) -> None:
        if self._stopping.is_set():
            return
        self._error = error
        log.warning(event, view=self.view.view_name, error_type=type(error).__name__, retry_in_seconds=backoff)
        self._stopping.wait(backoff)

    def _catch_up_by_pages(self) -> None:
        """Read everything after the position, page by page, one transaction per page.

        Pages start small (``batch_size``: the live case, a few new events, read cheaply at the end of the
        stream) and grow to ``rebuild_batch_size`` while pages come back full (a rebuild or a backlog, where the
        event store streams large reads faster per event).
        """
        limit = self.batch_size
        while not self._stopping.is_set():
            notifications = self.app.recorder.select_notifications(
                start=self._applied.value, limit=limit, inclusive_of_start=False
            )
            if not notifications:
                return
            self._apply_notifications(notifications)
            if len(notifications) < limit:
                return
            limit = max(limit, self.rebuild_batch_size)

    def _apply_notifications(self, notifications: Any) -> None:
        pending: list[tuple[Any, Tracking]] = []
        last = self._applied.value
        for notification in notifications:
            if notification.id <= last:
                continue
            event = self.app.mapper.to_domain_event(notification)
            last = notification.id
            if isinstance(event, _CHANGES_TABLES):
                pending.append((event, Tracking(self.app.name, notification.id)))
        if pending:
            self.view.apply(pending)
        self._error = None
        self._applied.advance(last)


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

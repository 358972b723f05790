"""The touchpoint index: the read model that lists touchpoints and links replies to their parents.

:class:`TouchpointIndex` is a :class:`~services.common.views.View` (SQLite or PostgreSQL) with one row per
touchpoint (its read document as JSON, plus the columns lists filter and sort on), one row per (actor key,
touchpoint) — the key of the actor's normal form (``domain.actor_key``), so a list by any spelling of an identifier
finds every touchpoint of it; the index is built with the service's default region, and a change of that region
needs a rebuild of the index — and two tables for threading:

- ``tp_waiting_replies``: replies whose parent is not recorded yet, keyed by the parent's id (a reply named its
  parent by id or by source + external id, and both give the parent's id, so the parent needs no lookup);
- ``tp_pending_links``: replies whose parent is now known, and the parent's facts, until the link is recorded
  as a ``Touchpoint.ReplyLinked`` event.

Because the index applies events in stream order, exactly one of "reply applied" and "parent applied" sees the
other, so a reply is linked whichever arrives first. Both tables change in the same transaction as the tracking
position; the link event is written after that transaction by :class:`TouchpointProjection` and is idempotent
(a reply is linked once), so a crash in between only repeats a no-op.

:class:`TouchpointProjection` keeps the index in step with the application's stream in a background thread
(fed in-process by the application's own appends, reading the store for everything else), applies many events
per transaction, records pending links, and lets writers ``wait()`` for a position (read-your-writes).

Threads: a reply recorded without a thread inherits its parent's when it is linked,
and replies further down the chain inherit it too (``_spread_thread``), whatever order the links arrive in.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from services.common.contracts import from_micros, micros
from services.common.errors import Unavailable
from services.common.identifiers import Identifier
from services.common.views import AppliedPosition, View, ViewCursor
from services.touchpoints.domain import ParentFacts, Touchpoint, actor_as_dict, actor_from_dict, actor_key

log = structlog.get_logger(__name__)


class TouchpointIndex(View):
    """Lists of touchpoints by actor, thread, channel and time; reply threading (see the module docstring)."""

    name = "touchpoint_index"
    TABLES = ("tp_touchpoints", "tp_actors", "tp_waiting_replies", "tp_pending_links")
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS tp_touchpoints ("
        " touchpoint_id TEXT PRIMARY KEY, position BIGINT NOT NULL, occurred_us BIGINT NOT NULL,"
        " channel TEXT NOT NULL, direction TEXT NOT NULL, thread_id TEXT NOT NULL, reply_to_id TEXT NOT NULL,"
        " doc TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS tp_touchpoints_time ON tp_touchpoints (occurred_us, touchpoint_id)",
        "CREATE INDEX IF NOT EXISTS tp_touchpoints_thread ON tp_touchpoints (thread_id, occurred_us)",
        "CREATE INDEX IF NOT EXISTS tp_touchpoints_channel ON tp_touchpoints (channel, occurred_us)",
        "CREATE INDEX IF NOT EXISTS tp_touchpoints_reply_to ON tp_touchpoints (reply_to_id)",
        "CREATE TABLE IF NOT EXISTS tp_actors ("
        " actor_key TEXT NOT NULL, touchpoint_id TEXT NOT NULL, occurred_us BIGINT NOT NULL,"
        " PRIMARY KEY (actor_key, touchpoint_id))",
        "CREATE INDEX IF NOT EXISTS tp_actors_time ON tp_actors (actor_key, occurred_us)",
        "CREATE TABLE IF NOT EXISTS tp_waiting_replies ("
        " parent_id TEXT NOT NULL, reply_id TEXT NOT NULL, PRIMARY KEY (parent_id, reply_id))",
        "CREATE TABLE IF NOT EXISTS tp_pending_links ("
        " reply_id TEXT PRIMARY KEY, parent_id TEXT NOT NULL, parent_occurred_us BIGINT NOT NULL,"
        " parent_direction TEXT NOT NULL, parent_thread_id TEXT NOT NULL)",
    )

    def __init__(
        self, url: str, *, pg_schema: str | None = None, pool_size: int = 8, default_region: str | None = None,
    ) -> None:
        self.default_region = default_region
        super().__init__(url, pg_schema=pg_schema, pool_size=pool_size)

    def actor_key(self, actor: Identifier) -> str:
        """The key this index lists ``actor``'s touchpoints under (``domain.actor_key`` with its region)."""
        return actor_key(actor, self.default_region)

    # ------------------------------------------------------------------------------------------------ writes

    def apply(self, events: Sequence[tuple[Any, int]], tracking: Tracking) -> None:
        """Apply ``(event, notification id)`` pairs (in stream order) and record ``tracking`` (the last position)
        in one transaction."""
        with self.transaction(tracking) as cur:
            recorded: list[tuple[Touchpoint.Recorded, int]] = []  # a run of Recorded events, applied together
            for event, position in events:
                if isinstance(event, Touchpoint.Recorded):
                    recorded.append((event, position))
                    continue
                if recorded:
                    _apply_recorded(cur, recorded, self.actor_key)
                    recorded = []
                if isinstance(event, Touchpoint.Reclassified):
                    _apply_reclassified(cur, event)
                elif isinstance(event, Touchpoint.ReplyLinked):
                    _apply_reply_linked(cur, event)
            if recorded:
                _apply_recorded(cur, recorded, self.actor_key)

    def advance(self, tracking: Tracking) -> None:
        """Record a position whose events change nothing here."""
        self.insert_tracking(tracking)

    def pending_links(self, limit: int = 500) -> list[tuple[UUID, ParentFacts]]:
        rows = self.query(
            "SELECT reply_id, parent_id, parent_occurred_us, parent_direction, parent_thread_id"
            " FROM tp_pending_links ORDER BY reply_id LIMIT ?", (limit,),
        )
        return [
            (UUID(row["reply_id"]), ParentFacts(
                touchpoint_id=UUID(row["parent_id"]), occurred_at=from_micros(int(row["parent_occurred_us"])),
                direction=row["parent_direction"], thread_id=row["parent_thread_id"],
            ))
            for row in rows
        ]

    def forget_pending_links(self, reply_ids: Iterable[UUID]) -> None:
        with self.transaction(None) as cur:
            cur.executemany("DELETE FROM tp_pending_links WHERE reply_id = ?", [(str(i),) for i in reply_ids])

    # ------------------------------------------------------------------------------------------------ reads

    def document(self, touchpoint_id: UUID) -> dict[str, Any] | None:
        rows = self.query("SELECT doc FROM tp_touchpoints WHERE touchpoint_id = ?", (str(touchpoint_id),))
        return json.loads(rows[0]["doc"]) if rows else None

    def thread_actor_keys(self, thread_ids: Iterable[str]) -> dict[str, set[str]]:
        """The distinct actor identifiers seen in each of ``thread_ids`` so far."""
        wanted = sorted({t for t in thread_ids if t})
        found: dict[str, set[str]] = {t: set() for t in wanted}
        for start in range(0, len(wanted), 200):
            chunk = wanted[start : start + 200]
            marks = ",".join("?" * len(chunk))
            rows = self.query(
                "SELECT DISTINCT t.thread_id AS thread_id, a.actor_key AS actor_key FROM tp_touchpoints t"
                f" JOIN tp_actors a ON a.touchpoint_id = t.touchpoint_id WHERE t.thread_id IN ({marks})",  # noqa: S608
                chunk,
            )
            for row in rows:
                found[row["thread_id"]].add(row["actor_key"])
        return found

    def list(
        self,
        *,
        actor_key: str = "",
        thread_id: str = "",
        channel: str = "",
        occurred_after: datetime | None = None,
        occurred_before: datetime | None = None,
        after: tuple[int, str] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Documents matching every given filter, newest first; ``after`` is the (occurred_us, id) keyset cursor."""
        clauses: list[str] = []
        params: list[Any] = []
        source = "tp_touchpoints t"
        if actor_key:
            source = "tp_actors a JOIN tp_touchpoints t ON t.touchpoint_id = a.touchpoint_id"
            clauses.append("a.actor_key = ?")
            params.append(actor_key)
        if thread_id:
            clauses.append("t.thread_id = ?")
            params.append(thread_id)
        if channel:
            clauses.append("t.channel = ?")
            params.append(channel)
        if occurred_after is not None:
            clauses.append("t.occurred_us >= ?")
            params.append(micros(occurred_after))
        if occurred_before is not None:
            clauses.append("t.occurred_us < ?")
            params.append(micros(occurred_before))
        if after is not None:
            clauses.append("(t.occurred_us < ? OR (t.occurred_us = ? AND t.touchpoint_id < ?))")
            params.extend([after[0], after[0], after[1]])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.query(
            f"SELECT t.doc AS doc FROM {source} {where}"  # noqa: S608 - only fixed fragments are interpolated
            " ORDER BY t.occurred_us DESC, t.touchpoint_id DESC LIMIT ?",
            [*params, limit],
        )
        return [json.loads(row["doc"]) for row in rows]


def document_of(event: Touchpoint.Recorded) -> dict[str, Any]:
    """The read document of a touchpoint as recorded: JSON-ready primitives (times as microseconds)."""
    return {
        "touchpoint_id": str(event.originator_id),
        "kind": event.kind,
        "channel": event.channel,
        "direction": event.direction,
        "visibility": event.visibility,
        "occurred_us": micros(event.occurred_at),
        "recorded_us": micros(event.timestamp),
        "source_system": event.source_system,
        "external_id": event.external_id,
        "external_url": event.external_url,
        "actors": [dict(actor) for actor in event.actors],
        "followers": event.followers,
        "recipients": event.recipients,
        "text": event.text,
        "language": event.language,
        "reply_to_id": event.reply_to_id,
        "thread_id": event.thread_id,
        "intent": event.intent,
        "sentiment_label": event.sentiment_label,
        "sentiment_score": event.sentiment_score,
        "sociability_degree": event.sociability_degree,
        "business_sociability_degree": event.business_sociability_degree,
        "company_function": event.company_function,
        "tags": list(event.tags),
        "inferred": list(event.inferred),
        "rating": event.rating or None,
        "reply_link": None,
        "first_response_seconds": None,
        "reclassifications": [],
    }


def document_of_touchpoint(touchpoint: Touchpoint) -> dict[str, Any]:
    """The read document of a touchpoint aggregate: the same shape as :func:`document_of`, its history applied."""
    link = touchpoint.reply_link
    return {
        "touchpoint_id": str(touchpoint.id),
        "kind": touchpoint.kind,
        "channel": touchpoint.channel,
        "direction": touchpoint.direction,
        "visibility": touchpoint.visibility,
        "occurred_us": micros(touchpoint.occurred_at),
        "recorded_us": micros(touchpoint.recorded_at),
        "source_system": touchpoint.source_system,
        "external_id": touchpoint.external_id,
        "external_url": touchpoint.external_url,
        "actors": [actor_as_dict(actor) for actor in touchpoint.actors],
        "followers": touchpoint.followers,
        "recipients": touchpoint.recipients,
        "text": touchpoint.text,
        "language": touchpoint.language,
        "reply_to_id": str(touchpoint.reply_to_id) if touchpoint.reply_to_id else "",
        "thread_id": touchpoint.thread_id,
        "intent": touchpoint.intent,
        "sentiment_label": touchpoint.sentiment_label,
        "sentiment_score": touchpoint.sentiment_score,
        "sociability_degree": touchpoint.sociability_degree,
        "business_sociability_degree": touchpoint.business_sociability_degree,
        "company_function": touchpoint.company_function,
        "tags": list(touchpoint.tags),
        "inferred": sorted(touchpoint.inferred),
        "rating": touchpoint.rating,
        "reply_link": None if link is None else {
            "parent_id": str(link.parent_id), "response_seconds": link.response_seconds,
            "company_response": touchpoint.direction == "outbound" and link.parent_direction == "inbound",
        },
        "first_response_seconds": None,
        "reclassifications": [
            {"field": r.field, "value": r.value, "previous_value": r.previous_value, "reason": r.reason,
             "actor": r.actor, "at_us": micros(r.at)}
            for r in touchpoint.reclassifications
        ],
    }


_encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _json(doc: dict[str, Any]) -> str:
    return _encode(doc)


def _row(cur: ViewCursor, touchpoint_id: str) -> dict[str, Any] | None:
    row = cur.execute("SELECT doc FROM tp_touchpoints WHERE touchpoint_id = ?", (touchpoint_id,)).fetchone()
    return None if row is None else json.loads(row["doc"])


def _save_doc(cur: ViewCursor, doc: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tp_touchpoints SET doc = ?, thread_id = ? WHERE touchpoint_id = ?",
        (_json(doc), doc["thread_id"], doc["touchpoint_id"]),
    )


def _apply_recorded(
    cur: ViewCursor, run: Sequence[tuple[Touchpoint.Recorded, int]], key_of: Callable[[Identifier], str],
) -> None:
    """Insert a run of new touchpoints, then pend the reply links they make possible, in a few statements.

    Replies whose parent is in the index (or in this run) are pended at once; the others wait for their parent.
    Replies that were waiting for a touchpoint of this run are pended too.
    """
    docs = {}
    for event, position in run:
        doc = document_of(event)
        docs[doc["touchpoint_id"]] = (event, position, doc)
    cur.executemany(
        "INSERT INTO tp_touchpoints (touchpoint_id, position, occurred_us, channel, direction, thread_id,"
        " reply_to_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (touchpoint_id) DO NOTHING",
        [(tid, position, doc["occurred_us"], event.channel, event.direction, event.thread_id, event.reply_to_id,
          _json(doc)) for tid, (event, position, doc) in docs.items()],
    )
    cur.executemany(
        "INSERT INTO tp_actors (actor_key, touchpoint_id, occurred_us) VALUES (?, ?, ?)"
        " ON CONFLICT (actor_key, touchpoint_id) DO NOTHING",
        [(key, tid, doc["occurred_us"]) for tid, (event, _, doc) in docs.items()
         for key in sorted({key_of(actor_from_dict(actor)) for actor in event.actors})],
    )
    replies = {tid: event.reply_to_id for tid, (event, _, _) in docs.items() if event.reply_to_id}
    if replies:
        parents = _facts(cur, set(replies.values()))
        waiting = []
        for reply_id, parent_id in replies.items():
            if parent_id in parents:
                _pend(cur, reply_id, parent_id, *parents[parent_id])
            else:
                waiting.append((parent_id, reply_id))
        cur.executemany(
            "INSERT INTO tp_waiting_replies (parent_id, reply_id) VALUES (?, ?) ON CONFLICT DO NOTHING", waiting
        )
    ids = list(docs)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        found = cur.execute(
            f"SELECT parent_id, reply_id FROM tp_waiting_replies WHERE parent_id IN ({marks})", chunk  # noqa: S608
        ).fetchall()
        for row in found:
            event, _, doc = docs[row["parent_id"]]
            _pend(cur, row["reply_id"], row["parent_id"], doc["occurred_us"], event.direction, event.thread_id)
        if found:
            cur.execute(f"DELETE FROM tp_waiting_replies WHERE parent_id IN ({marks})", chunk)  # noqa: S608


_CHUNK = 500


def _facts(cur: ViewCursor, ids: set[str]) -> dict[str, tuple[int, str, str]]:
    """(occurred_us, direction, thread_id) of those of ``ids`` that are in the index."""
    wanted = sorted(ids)
    out: dict[str, tuple[int, str, str]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        for row in cur.execute(
            "SELECT touchpoint_id, occurred_us, direction, thread_id FROM tp_touchpoints"
            f" WHERE touchpoint_id IN ({marks})", chunk,  # noqa: S608
        ).fetchall():
            out[row["touchpoint_id"]] = (int(row["occurred_us"]), row["direction"], row["thread_id"])
    return out


def _pend(cur: ViewCursor, reply_id: str, parent_id: str, parent_us: int, direction: str, thread_id: str) -> None:
    cur.execute(
        "INSERT INTO tp_pending_links (reply_id, parent_id, parent_occurred_us, parent_direction, parent_thread_id)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (reply_id) DO NOTHING",
        (reply_id, parent_id, parent_us, direction, thread_id),
    )


def _apply_reclassified(cur: ViewCursor, event: Touchpoint.Reclassified) -> None:
    doc = _row(cur, str(event.originator_id))
    if doc is None:
        return
    if event.field == "sentiment":
        doc["sentiment_label"] = event.value
        doc["sentiment_score"] = event.sentiment_score
    else:
        doc[event.field] = event.value
    doc["inferred"] = [name for name in doc["inferred"] if name != event.field]
    doc["reclassifications"].append({
        "field": event.field, "value": event.value, "previous_value": event.previous_value,
        "reason": event.reason, "actor": event.actor, "at_us": micros(event.timestamp),
    })
    _save_doc(cur, doc)


def _apply_reply_linked(cur: ViewCursor, event: Touchpoint.ReplyLinked) -> None:
    reply_id = str(event.originator_id)
    cur.execute("DELETE FROM tp_pending_links WHERE reply_id = ?", (reply_id,))
    doc = _row(cur, reply_id)
    if doc is None:
        return
    company_response = doc["direction"] == "outbound" and event.parent_direction == "inbound"
    doc["reply_link"] = {
        "parent_id": str(event.parent_id), "response_seconds": event.response_seconds,
        "company_response": company_response,
    }
    parent = _row(cur, str(event.parent_id))
    # The parent's thread as the index knows it now: it may have inherited one since the link was decided.
    parent_thread = (parent["thread_id"] if parent is not None else "") or event.parent_thread_id
    inherits = not doc["thread_id"] and bool(parent_thread)
    if inherits:
        doc["thread_id"] = parent_thread
    _save_doc(cur, doc)
    if inherits:
        _spread_thread(cur, reply_id, parent_thread)
    if company_response:
        if parent is not None:
            first = parent["first_response_seconds"]
            if first is None or event.response_seconds < first:
                parent["first_response_seconds"] = event.response_seconds
                _save_doc(cur, parent)


def _spread_thread(cur: ViewCursor, root_id: str, thread_id: str) -> None:
    """Replies linked to ``root_id`` before it knew its thread inherit it too, and theirs, and so on."""
    frontier = [root_id]
    while frontier:
        parent_id = frontier.pop()
        rows = cur.execute(
            "SELECT touchpoint_id FROM tp_touchpoints WHERE reply_to_id = ? AND thread_id = ''", (parent_id,)
        ).fetchall()
        for row in rows:
            child = _row(cur, row["touchpoint_id"])
            if child is None or child["reply_link"] is None:
                continue  # not linked yet: it inherits when its own link is applied
            child["thread_id"] = thread_id
            _save_doc(cur, child)
            frontier.append(child["touchpoint_id"])


LinkReplies = Callable[[Sequence[tuple[UUID, ParentFacts]]], None]

_STOP = object()
_POLL = object()


class TouchpointProjection:
    """Keeps a :class:`TouchpointIndex` up to date with an application's stream, in a background thread.

    Two sources, one order. The application hands over what it has just appended (:meth:`feed`: the events and
    their notification ids, already in memory); the applier applies them as soon as they continue the applied
    position without a gap, many per transaction. Whatever it cannot place that way — events written by another
    process, a gap that stays open for ``gap_wait`` seconds, everything at start (a rebuild), and after a failure
    — it reads from the event store page by page (``select_notifications``). It also polls the store every
    ``poll_interval`` seconds when idle, so writes of other processes appear within about that time.
    Notifications at or below the applied position are skipped, so both sources may overlap.

    The hand-over holds at most ``max_handed_over`` appends (a stream's micro-batch is one); while the applier is
    behind (catching up, or slower than ingest) further appends are not kept in memory but read from the store
    once the applier gets to them, so memory stays bounded whatever the backlog.

    Why not ``recorder.subscribe``: measured on the ingest path, a push subscription makes this process parse
    every event it has just written a second time (headers and payload, ~50 µs per event in nats-py), under
    the same interpreter lock that ingest needs; the in-process hand-over costs nothing of that.

    After each transaction the applier records the reply links that became possible (``link_replies``,
    normally ``TouchpointsApplication.link_replies``); a failure is retried with backoff (``healthy`` is False
    meanwhile).
    """

    def __init__(
        self, app: Application[Any], index: TouchpointIndex, *, link_replies: LinkReplies | None = None,
        batch_size: int = 1000, poll_interval: float = 1.0, gap_wait: float = 0.05, max_handed_over: int = 200,
    ) -> None:
        self.app = app
        self.index = index
        self.link_replies = link_replies
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.gap_wait = gap_wait
        self.max_fed = 50_000
        self._applied = AppliedPosition("the touchpoint index", index.max_tracking_id(app.name) or 0)
        self._stopping = threading.Event()
        self._error: BaseException | None = None
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_handed_over)
        self._passed_over = threading.Event()  # an append was not handed over: read the store for it
        self._applier = threading.Thread(target=self._apply_loop, name="touchpoint-index", daemon=True)

    @property
    def position(self) -> int:
        return self._applied.value

    @property
    def healthy(self) -> bool:
        """Whether the index is following the stream (its last attempt to apply or catch up succeeded)."""
        return self._error is None and self._applier.is_alive()

    def start(self) -> TouchpointProjection:
        self._applier.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._queue.put_nowait(_STOP)
        except queue.Full:
            pass  # the applier sees _stopping after its current step
        self._applier.join(timeout=10)

    def __enter__(self) -> TouchpointProjection:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def feed(self, recordings: Sequence[Any]) -> None:
        """Hand over events this process has just appended (``Recording`` objects of ``EventStore.put``)."""
        if not recordings:
            return
        try:
            self._queue.put_nowait([(recording.notification.id, recording.domain_event) for recording in recordings])
        except queue.Full:  # the applier is behind: it reads these from the store (they are stored already)
            if not self._passed_over.is_set():
                self._passed_over.set()
                log.info("touchpoints.index_behind", handed_over=self._queue.maxsize)

    def wait(self, notification_id: int | None, timeout: float = 10.0) -> None:
        """Block until the index has applied ``notification_id``; raise Unavailable after ``timeout``."""
        self._applied.wait(notification_id, timeout, failure=lambda: self._error)

    def catch_up(self, timeout: float = 60.0) -> None:
        """Block until the index reflects everything recorded so far (also by other processes)."""
        self._passed_over.set()  # read the store, whether or not the hand-over has room for a marker
        try:
            self._queue.put_nowait(_POLL)  # wakes the applier now rather than at its next poll
        except queue.Full:
            pass  # it is busy with the hand-over, and reads the store right after
        self.wait(self.app.recorder.max_notification_id(), timeout=timeout)

    # ------------------------------------------------------------------------------------------------ the loop

    def _apply_loop(self) -> None:
        backoff = 0.1
        catching_up = True
        fed: dict[int, Any] = {}
        gap_since: float | None = None
        while not self._stopping.is_set():
            try:
                if catching_up:
                    catching_up = self._catch_up_page()
                    for stale in [n for n in fed if n <= self._applied.value]:
                        del fed[stale]
                else:
                    timeout = self.gap_wait if fed else self.poll_interval
                    items = self._take(timeout)
                    if items is None:
                        return
                    poll = not items or _POLL in items
                    if self._passed_over.is_set():  # cleared before the store is read, so no append is missed
                        self._passed_over.clear()
                        poll = True
                    for item in items:
                        if item is not _POLL:
                            fed.update(item)
                    self._apply_contiguous(fed)
                    if len(fed) > self.max_fed:  # far behind: read from the store rather than hold it all here
                        fed.clear()
                        poll = True
                    if fed:
                        gap_since = gap_since or time.monotonic()
                        poll = poll or time.monotonic() - gap_since >= self.gap_wait
                    else:
                        gap_since = None
                    catching_up = poll
                self._link()
                self._error = None
                backoff = 0.1
            except Exception as error:  # noqa: BLE001 - reported to waiters and health, then retried
                self._error = error
                catching_up = True
                log.warning("touchpoints.index.failed", view=self.index.view_name, error_type=type(error).__name__,
                            exc_info=True)
                self._applied.notify()
                if self._stopping.wait(backoff):
                    return
                backoff = min(backoff * 2, 5.0)

    def _take(self, timeout: float) -> list[Any] | None:
        """What was fed meanwhile (waits at most ``timeout`` for the first; [] when nothing came)."""
        try:
            items = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return None if _STOP in items else items

    def _apply_contiguous(self, fed: dict[int, Any]) -> None:
        """Apply the fed events that continue the applied position without a gap (in batches)."""
        while True:
            run = []
            following = self._applied.value + 1
            while following in fed and len(run) < self.batch_size:
                run.append((fed.pop(following), following))
                following += 1
            if not run:
                return
            self._apply_events(run)

    def _catch_up_page(self) -> bool:
        """Apply the next page read from the store; return whether more may follow."""
        notifications = self.app.recorder.select_notifications(
            start=self._applied.value, limit=self.batch_size, inclusive_of_start=False
        )
        events = [(self.app.mapper.to_domain_event(n), n.id) for n in notifications if n.id > self._applied.value]
        if events:
            self._apply_events(events)
        return len(notifications) == self.batch_size

    def _apply_events(self, events: Sequence[tuple[Any, int]]) -> None:
        last = events[-1][1]
        self.index.apply(events, Tracking(self.app.name, last))
        self._applied.advance(last)

    def _link(self) -> None:
        """Record the links that became possible; on failure they stay pending and are retried later."""
        if self.link_replies is None:
            return
        links = self.index.pending_links()
        if not links:
            return
        try:
            self.link_replies(links)
        except Exception as error:  # noqa: BLE001 - the event store may be away for a while: retry later
            log.warning("touchpoints.link_deferred", count=len(links), error_type=type(error).__name__)
            return
        self.index.forget_pending_links(reply_id for reply_id, _ in links)

"""The touchpoint index: the read model that lists touchpoints and links replies to their parents.

:class:`TouchpointIndex` is a :class:`~services.common.views.View` (SQLite or PostgreSQL) with one row per
touchpoint (its read document as JSON, plus the columns lists filter and sort on), one row per (actor key,
touchpoint) — the key of the actor's normal form (``domain.actor_key``), so a list by any spelling of an identifier
finds every touchpoint of it; the index is built with the service's default region, and a change of that region
needs a rebuild of the index — and two tables for threading:

- ``tp_waiting_replies``: replies whose parent is not recorded yet, keyed by the parent's id (a reply named its
  parent by id or by source + external id, and both give the parent's id, so the parent needs no lookup);
- ``tp_pending_links``: replies whose parent is now known, and the parent's facts, until the link is recorded
  as a ``TouchpointReplyLinked`` event.

:class:`TouchpointProjection` keeps it, one handler per stored event message (``chorus.touchpoints.events.v1``),
run by the kernel's :class:`~services.common.projections.ProjectionRunner` (:func:`touchpoint_runner`): the
application hands over what it has just appended (the runner decodes the bytes it stored, so the index does not
read its own writes back from NATS), and the runner reads the store for everything else. A run of
``TouchpointRecorded`` events is written together at the end of its transaction (``before_commit``).

Because the index applies events in stream order, exactly one of "reply applied" and "parent applied" sees the
other, so a reply is linked whichever arrives first. Both tables change in the same transaction as the tracking
position; the link event is recorded after that transaction (``after_commit``: ``link_replies``, normally
``TouchpointsApplication.link_replies``) and is idempotent (a reply is linked once), so a crash in between only
repeats a no-op; links whose recording fails stay pending in the view and are tried again on the runner's next
pass.

Threads: a reply recorded without a thread inherits its parent's when it is linked,
and replies further down the chain inherit it too (``_spread_thread``), whatever order the links arrive in.

Personal data stays sealed as stored (``services.common.privacy.sealing``): the runner's reader and the
hand-over leave the marked fields (the text, the source URL, each actor's value) sealed, the documents keep
them so, and :meth:`TouchpointIndex.document` and :meth:`TouchpointIndex.list` open them when read, so a
person whose keys are destroyed reads ``[erased]`` at once, in this index and in any rebuild of it, and its rows
and files never hold anyone's text or identifiers in clear. Actors are listed under their key (a keyed
pseudonym of the normal form), which is the key id its sealed value names: nothing is opened to list it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.events.v1 import events_pb2 as pb
from services.common.contracts import enum_words, from_micros, micros
from services.common.identifiers import Identifier
from services.common.privacy.sealing import OpenKeys, open_value, sealed_key_id
from services.common.projections import Projection, ProjectionRunner, StreamReader, UpstreamEvent, handles
from services.common.views import View, ViewCursor
from services.touchpoints.domain import actor_key

_KIND = enum_words(types.TouchpointKind.DESCRIPTOR).to_word
_CHANNEL = enum_words(types.Channel.DESCRIPTOR).to_word
_DIRECTION = enum_words(types.Direction.DESCRIPTOR).to_word
_VISIBILITY = enum_words(types.Visibility.DESCRIPTOR).to_word
_INTENT = enum_words(types.Intent.DESCRIPTOR).to_word
_DEGREE = enum_words(types.SociabilityDegree.DESCRIPTOR).to_word
_BUSINESS = enum_words(types.BusinessSociabilityDegree.DESCRIPTOR).to_word
_FUNCTION = enum_words(types.CompanyFunction.DESCRIPTOR).to_word
_IDENTIFIER = enum_words(types.IdentifierType.DESCRIPTOR).to_word
_SENTIMENT = enum_words(pb.SentimentLabel.DESCRIPTOR).to_word
_TEXT = pb.TouchpointRecorded.DESCRIPTOR.fields_by_name["text"]
_URL = pb.TouchpointRecorded.DESCRIPTOR.fields_by_name["external_url"]
_ACTOR_VALUE = types.Identifier.DESCRIPTOR.fields_by_name["value"]


@dataclass(frozen=True)
class PendingLink:
    """A reply whose parent the index now knows, and what the reply's link needs of the parent."""

    reply_id: UUID
    parent_id: UUID
    parent_occurred_at: datetime
    parent_direction: str
    parent_thread_id: str


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
        self,
        url: str,
        *,
        pg_schema: str | None = None,
        pool_size: int = 8,
        default_region: str | None = None,
    ) -> None:
        self.default_region = default_region
        super().__init__(url, pg_schema=pg_schema, pool_size=pool_size)

    def actor_key(self, actor: Identifier) -> str:
        """The key this index lists ``actor``'s touchpoints under (``domain.actor_key`` with its region)."""
        return actor_key(actor, self.default_region)

    # ------------------------------------------------------------------------------------------------ links

    def pending_links(self, limit: int = 500) -> list[PendingLink]:
        rows = self.query(
            "SELECT reply_id, parent_id, parent_occurred_us, parent_direction, parent_thread_id"
            " FROM tp_pending_links ORDER BY reply_id LIMIT ?",
            (limit,),
        )
        return [
            PendingLink(
                reply_id=UUID(row["reply_id"]),
                parent_id=UUID(row["parent_id"]),
                parent_occurred_at=from_micros(int(row["parent_occurred_us"])),
                parent_direction=row["parent_direction"],
                parent_thread_id=row["parent_thread_id"],
            )
            for row in rows
        ]

    def forget_pending_links(self, reply_ids: Iterable[UUID]) -> None:
        with self.transaction(None) as cur:
            cur.executemany("DELETE FROM tp_pending_links WHERE reply_id = ?", [(str(i),) for i in reply_ids])

    # ------------------------------------------------------------------------------------------------ reads

    def document(self, touchpoint_id: UUID, *, sealed: bool = False) -> dict[str, Any] | None:
        """The read document of a touchpoint, its personal data opened (``[erased]`` where its key is gone), or
        left sealed for a caller that reads none of it (``sealed``)."""
        rows = self.query("SELECT doc FROM tp_touchpoints WHERE touchpoint_id = ?", (str(touchpoint_id),))
        if not rows:
            return None
        doc: dict[str, Any] = json.loads(rows[0]["doc"])
        return doc if sealed else opened(doc, {})

    def thread_actor_keys(self, thread_ids: Iterable[str]) -> dict[str, set[str]]:
        """The distinct actor identifiers seen in each of ``thread_ids`` so far."""
        wanted = sorted({t for t in thread_ids if t})
        found: dict[str, set[str]] = {t: set() for t in wanted}
        for start in range(0, len(wanted), 200):
            chunk = wanted[start : start + 200]
            marks = ",".join("?" * len(chunk))
            rows = self.query(
                "SELECT DISTINCT t.thread_id AS thread_id, a.actor_key AS actor_key FROM tp_touchpoints t"
                f" JOIN tp_actors a ON a.touchpoint_id = t.touchpoint_id WHERE t.thread_id IN ({marks})",
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
        """Documents matching every given filter, newest first, their personal data opened; ``after`` is the
        (occurred_us, id) keyset cursor."""
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
            f"SELECT t.doc AS doc FROM {source} {where} ORDER BY t.occurred_us DESC, t.touchpoint_id DESC LIMIT ?",
            [*params, limit],
        )
        keys: OpenKeys = {}
        return [opened(json.loads(row["doc"]), keys) for row in rows]


def _us(stamp: Any) -> int:
    """Microseconds since the epoch of a protobuf ``Timestamp``."""
    return int(stamp.seconds) * 1_000_000 + int(stamp.nanos) // 1000


def document_of(touchpoint_id: str, message: pb.TouchpointRecorded) -> dict[str, Any]:
    """The read document of a touchpoint as recorded: JSON-ready primitives (times as microseconds), its marked
    fields as ``message`` holds them (sealed, in the index)."""
    return {
        "touchpoint_id": touchpoint_id,
        "kind": _KIND[message.kind],
        "channel": _CHANNEL[message.channel],
        "direction": _DIRECTION[message.direction],
        "visibility": _VISIBILITY[message.visibility],
        "occurred_us": _us(message.occurred_at),
        "recorded_us": _us(message.timestamp),
        "source_system": message.source_system,
        "external_id": message.external_id,
        "external_url": message.external_url,
        "actors": [
            {"type": _IDENTIFIER[actor.type], "value": actor.value, "namespace": actor.namespace}
            for actor in message.actors
        ],
        "followers": message.followers,
        "recipients": message.recipients,
        "text": message.text,
        "language": message.language,
        "reply_to_id": message.reply_to_id,
        "thread_id": message.thread_id,
        "intent": _INTENT[message.intent],
        "sentiment_label": _SENTIMENT[message.sentiment_label],
        "sentiment_score": message.sentiment_score,
        "sociability_degree": _DEGREE[message.sociability_degree],
        "business_sociability_degree": _BUSINESS[message.business_sociability_degree],
        "company_function": _FUNCTION[message.company_function],
        "tags": list(message.tags),
        "inferred": list(message.inferred),
        "rating": message.rating or None,
        "reply_link": None,
        "first_response_seconds": None,
        "reclassifications": [],
    }


def opened(doc: dict[str, Any], keys: OpenKeys) -> dict[str, Any]:
    """``doc`` with its sealed values opened in place (``[erased]`` where the key is destroyed); returns it."""
    doc["text"] = open_value(_TEXT, doc["text"], keys=keys)
    doc["external_url"] = open_value(_URL, doc["external_url"], keys=keys)
    for actor in doc["actors"]:
        actor["value"] = open_value(_ACTOR_VALUE, actor["value"], keys=keys)
    return doc


def actor_keys(message: pb.TouchpointRecorded, key_of: Callable[[Identifier], str]) -> list[str]:
    """The keys ``message``'s actors are listed under: a sealed value's key id (it was sealed under the key of its
    normal form, so nothing is opened, and an erased actor is listed as before), else the key of the clear value."""
    found = set()
    for actor in message.actors:
        key_id = sealed_key_id(actor.value)
        found.add(key_id or key_of(Identifier(_IDENTIFIER[actor.type], actor.namespace, actor.value)))
    return sorted(found)


_encode = msgspec.json.Encoder().encode


def _json(doc: dict[str, Any]) -> str:
    """The stored text of a document: compact JSON, non-ASCII characters as they are (``json.loads`` reads it)."""
    return _encode(doc).decode()


def _row(cur: ViewCursor, touchpoint_id: str) -> dict[str, Any] | None:
    row = cur.execute("SELECT doc FROM tp_touchpoints WHERE touchpoint_id = ?", (touchpoint_id,)).fetchone()
    return None if row is None else json.loads(row["doc"])


def _save_doc(cur: ViewCursor, doc: dict[str, Any]) -> None:
    cur.execute(
        "UPDATE tp_touchpoints SET doc = ?, thread_id = ? WHERE touchpoint_id = ?",
        (_json(doc), doc["thread_id"], doc["touchpoint_id"]),
    )


def _insert_recorded(cur: ViewCursor, run: Sequence[tuple[int, dict[str, Any], list[str]]]) -> bool:
    """Insert a run of new touchpoints (``(position, document, actor keys)``), then pend the reply links they make possible,
    in a few statements; return whether any link was pended.

    Replies whose parent is in the index (or in this run) are pended at once; the others wait for their parent.
    Replies that were waiting for a touchpoint of this run are pended too.
    """
    docs = {doc["touchpoint_id"]: (position, doc) for position, doc, _keys in run}
    pended = False
    cur.executemany(
        "INSERT INTO tp_touchpoints (touchpoint_id, position, occurred_us, channel, direction, thread_id,"
        " reply_to_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (touchpoint_id) DO NOTHING",
        [
            (
                tid,
                position,
                doc["occurred_us"],
                doc["channel"],
                doc["direction"],
                doc["thread_id"],
                doc["reply_to_id"],
                _json(doc),
            )
            for tid, (position, doc) in docs.items()
        ],
    )
    cur.executemany(
        "INSERT INTO tp_actors (actor_key, touchpoint_id, occurred_us) VALUES (?, ?, ?)"
        " ON CONFLICT (actor_key, touchpoint_id) DO NOTHING",
        [(key, doc["touchpoint_id"], doc["occurred_us"]) for _, doc, keys in run for key in keys],
    )
    replies = {tid: doc["reply_to_id"] for tid, (_, doc) in docs.items() if doc["reply_to_id"]}
    if replies:
        parents = _facts(cur, set(replies.values()))
        waiting = []
        for reply_id, parent_id in replies.items():
            if parent_id in parents:
                _pend(cur, reply_id, parent_id, *parents[parent_id])
                pended = True
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
            f"SELECT parent_id, reply_id FROM tp_waiting_replies WHERE parent_id IN ({marks})", chunk
        ).fetchall()
        for row in found:
            _, doc = docs[row["parent_id"]]
            _pend(cur, row["reply_id"], row["parent_id"], doc["occurred_us"], doc["direction"], doc["thread_id"])
            pended = True
        if found:
            cur.execute(f"DELETE FROM tp_waiting_replies WHERE parent_id IN ({marks})", chunk)
    return pended


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
            f" WHERE touchpoint_id IN ({marks})",
            chunk,
        ).fetchall():
            out[row["touchpoint_id"]] = (int(row["occurred_us"]), row["direction"], row["thread_id"])
    return out


def _pend(cur: ViewCursor, reply_id: str, parent_id: str, parent_us: int, direction: str, thread_id: str) -> None:
    cur.execute(
        "INSERT INTO tp_pending_links (reply_id, parent_id, parent_occurred_us, parent_direction, parent_thread_id)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (reply_id) DO NOTHING",
        (reply_id, parent_id, parent_us, direction, thread_id),
    )


def _apply_reclassified(cur: ViewCursor, touchpoint_id: str, message: pb.TouchpointReclassified) -> None:
    doc = _row(cur, touchpoint_id)
    if doc is None:
        return
    if message.field == "sentiment":
        doc["sentiment_label"] = message.value
        doc["sentiment_score"] = message.sentiment_score
    else:
        doc[message.field] = message.value
    doc["inferred"] = [name for name in doc["inferred"] if name != message.field]
    doc["reclassifications"].append(
        {
            "field": message.field,
            "value": message.value,
            "previous_value": message.previous_value,
            "reason": message.reason,
            "actor": message.actor,
            "at_us": _us(message.timestamp),
        }
    )
    _save_doc(cur, doc)


def _apply_classified(cur: ViewCursor, touchpoint_id: str, message: pb.TouchpointClassified) -> None:
    """A model's values, for those still inferred (a correction applied before it wins)."""
    doc = _row(cur, touchpoint_id)
    if doc is None:
        return
    if message.intent and "intent" in doc["inferred"]:
        doc["intent"] = _INTENT[message.intent]
    if message.sentiment_label and "sentiment" in doc["inferred"]:
        doc["sentiment_label"] = _SENTIMENT[message.sentiment_label]
        doc["sentiment_score"] = message.sentiment_score
    _save_doc(cur, doc)


def _apply_reply_linked(cur: ViewCursor, reply_id: str, event: pb.TouchpointReplyLinked) -> None:
    parent_direction = _DIRECTION[event.parent_direction]
    cur.execute("DELETE FROM tp_pending_links WHERE reply_id = ?", (reply_id,))
    doc = _row(cur, reply_id)
    if doc is None:
        return
    company_response = doc["direction"] == "outbound" and parent_direction == "inbound"
    doc["reply_link"] = {
        "parent_id": str(event.parent_id),
        "response_seconds": event.response_seconds,
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
    if company_response and parent is not None:
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


LinkReplies = Callable[[Sequence[PendingLink]], Any]
LINKS_PER_CALL = 500  #: pending links handed to ``link_replies`` at a time


class TouchpointProjection(Projection[TouchpointIndex]):
    """Touchpoints' events -> the touchpoint index; reply links recorded after each commit (module docstring)."""

    def __init__(self, index: TouchpointIndex, *, link_replies: LinkReplies | None = None) -> None:
        super().__init__(index)
        self.link_replies = link_replies
        self._recorded: list[tuple[int, dict[str, Any], list[str]]] = []  # this transaction's new touchpoints
        self._cursor: ViewCursor | None = None  # the transaction ``_recorded`` belongs to
        self._links_may_wait = True  # links may be pending (at start: left by an earlier process)

    @handles(pb.TouchpointRecorded)
    def recorded(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        if self._cursor is not cur:  # a new transaction: what an aborted one collected is gone with it
            self._recorded, self._cursor = [], cur
        message: pb.TouchpointRecorded = event.message  # type: ignore[assignment]
        keys = actor_keys(message, self.view.actor_key)
        self._recorded.append((event.sequence, document_of(event.aggregate_id, message), keys))

    @handles(pb.TouchpointReclassified)
    def reclassified(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        self.before_commit(cur)  # the touchpoints recorded before it first
        _apply_reclassified(cur, event.aggregate_id, event.message)  # type: ignore[arg-type]

    @handles(pb.TouchpointClassified)
    def classified(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        self.before_commit(cur)
        _apply_classified(cur, event.aggregate_id, event.message)  # type: ignore[arg-type]

    @handles(pb.TouchpointReplyLinked)
    def reply_linked(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        self.before_commit(cur)
        _apply_reply_linked(cur, event.aggregate_id, event.message)  # type: ignore[arg-type]

    def before_commit(self, cur: ViewCursor) -> None:
        """Write the run of touchpoints recorded in this transaction so far."""
        run, self._recorded = (self._recorded if self._cursor is cur else []), []
        if run and _insert_recorded(cur, run):
            self._links_may_wait = True

    def after_commit(self, events: Sequence[UpstreamEvent]) -> None:
        """Record the reply links that became possible; on failure they stay pending for the next call."""
        while self.link_replies is not None and self._links_may_wait:
            links = self.view.pending_links(LINKS_PER_CALL)
            if links:
                self.link_replies(links)
                self.view.forget_pending_links(link.reply_id for link in links)
            self._links_may_wait = len(links) == LINKS_PER_CALL


def touchpoint_runner(
    app: Any, index: TouchpointIndex, *, link_replies: LinkReplies | None = None, **options: Any
) -> ProjectionRunner:
    """The runner that keeps ``index`` in step with ``app``'s own stream, taking the hand-over of ``app``'s appends
    (``options``: the runner's). Start it with ``watch=False``: the hand-over brings this process's writes, and
    polling the store (``poll_interval``) those of others."""
    return ProjectionRunner(
        TouchpointProjection(index, link_replies=link_replies),
        [StreamReader.of_application(app, keep_sealed=True)],  # personal data sealed (the module docstring)
        handed_over=(app.name,),
        **options,
    )

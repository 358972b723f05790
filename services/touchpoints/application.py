"""The touchpoints application: record (one, a batch, a stream's micro-batches), get, list, reclassify, link.

Commands take and return primitives (``TouchpointDraft``, UUIDs, :class:`ItemOutcome`). Lists are served by the
:class:`~services.touchpoints.projection.TouchpointIndex`; gets read the aggregate from the event store.

Recording a batch
    Each item is checked on its own (``TouchpointDraft.check``) and enriched (``enrichment.enrich``); the new
    touchpoints' ``Recorded`` events are appended with ONE ``EventStore.put``: one atomic append to the event
    store (at most :data:`MAX_EVENTS_PER_SAVE` events), as ``save()`` of the new aggregates would. A touchpoint
    recorded before makes that append fail as a whole (``IntegrityError``: a second version 1 of its aggregate,
    refused by the store for ever, not only within NATS's duplicate window); the application then asks the
    store which ids exist, answers those ``already_recorded`` and appends the rest again. Two items of one batch
    with the same id: the first is recorded, the second answered ``already_recorded``. Recording is split in
    :meth:`~TouchpointsApplication.prepare_batch` (check, start enrichment) and
    :meth:`~TouchpointsApplication.commit_batch` (events, append) so a stream can overlap two micro-batches.

Thread context
    An item's inferred values depend on the item and on what was recorded before it, never on the RPC that carried
    it or on timing. The one thing enrichment reads beyond the item is its thread's distinct actors
    (``Signals.thread_parties``): those the index holds, those this process has acknowledged and the index has not
    applied yet (:class:`RecentThreadActors`), and those of earlier items of the same request, in order
    (:class:`ThreadContext`: one per batch, one for a whole stream, so a micro-batch sees the micro-batch before it
    while that one is still being appended). The same items in the same order give the same values through the
    unary, batch and stream RPCs. Writes of other processes count once this process's index has applied them.

Read-your-writes
    ``record_batch(..., wait=True)`` (unary and batch RPCs) returns once the index has applied the batch, so a
    List right after sees it (at most ``read_your_writes_timeout`` seconds; then it answers anyway — the write
    is durable — and logs ``touchpoints.index_lagging``). The stream RPC passes ``wait=False``: it acknowledges
    durability in the event store, which is what its client asked for, at full speed; Get always reads the
    event store, so it sees every acknowledged write.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from services.common import pagination
from services.common.applications import ServiceApplication
from services.common.contracts import micros
from services.common.errors import Conflict, InvalidArgument, NotFound, Unavailable
from services.common.eventstore import store_errors
from services.common.eventstore.connection import MAX_BATCH_MESSAGES
from services.common.identifiers import Identifier
from services.common.projections import ProjectionRunner, handed_over
from services.common.records import made_of, pick
from services.touchpoints import enrichment, events  # noqa: F401 - events: stored as protobuf messages
from services.touchpoints.classifier import Verdict
from services.touchpoints.domain import (
    InvalidTouchpoint,
    NotAReplyToThat,
    ParentFacts,
    Touchpoint,
    TouchpointDraft,
    Violation,
    actor_as_dict,
    actor_key,
    touchpoint_id_for,
)
from services.touchpoints.enrichment_workers import Enricher, Enriching
from services.touchpoints.projection import PendingLink, TouchpointIndex

log = structlog.get_logger(__name__)

MAX_BATCH = 500
"""Most items of one RecordTouchpointBatch request (also declared in the .proto)."""
MAX_EVENTS_PER_SAVE = MAX_BATCH_MESSAGES
"""Most events of one atomic append to the event store (a JetStream atomic batch)."""
SAVE_RETRIES = 5

RECORDED = "recorded"
ALREADY_RECORDED = "already_recorded"
REJECTED = "rejected"

#: what a draft hands to enrichment as it is (``enrichment.Signals`` fields of the same names)
_SIGNALLED = (
    "text",
    "language",
    "kind",
    "direction",
    "visibility",
    "channel",
    "sentiment_label",
    "sentiment_score",
    "intent",
    "sociability_degree",
    "business_sociability_degree",
    "rating",
)


@dataclass(frozen=True)
class RecordingPolicy:
    """The limits and knowledge recording uses (from ``CHORUS_TOUCHPOINTS_*`` settings, see ``main.py``)."""

    max_future_skew: timedelta = timedelta(seconds=300)
    max_content_bytes: int = 16 * 1024
    brand_handles: frozenset[str] = frozenset()
    read_your_writes_timeout: float = 5.0
    enrichment_processes: int = 0
    """Worker processes that enrich large batches in parallel (0: enrich in this process)."""


@dataclass(frozen=True)
class ItemOutcome:
    """What happened to one item: recorded, already recorded, or rejected with violations."""

    index: int
    outcome: str
    touchpoint_id: UUID | None = None
    violations: tuple[Violation, ...] = ()
    inferred: tuple[str, ...] = ()
    position: int = 0  #: the notification id it was stored at, when recorded now


@dataclass
class _Pending:
    """A new touchpoint's index, id and events: the events are kept, so a failed append can be retried."""

    index: int
    touchpoint_id: UUID
    events: Sequence[Any]
    inferred: tuple[str, ...]
    thread_id: str = ""
    actor_keys: frozenset[str] = frozenset()


@dataclass
class ThreadContext:
    """The actor keys that one request's earlier items (a batch, or a whole stream) add to their threads."""

    actor_keys: dict[str, set[str]] = field(default_factory=dict)

    def add(self, thread_id: str, keys: Iterable[str]) -> None:
        self.actor_keys.setdefault(thread_id, set()).update(keys)


class RecentThreadActors:
    """Actor keys this process has appended to threads and its index may not have applied yet.

    An entry goes once the index's applied position reaches its notification id: the index then has it. Thread
    context reads this before the index, so whatever it drops meanwhile is in the index by then.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_thread: dict[str, dict[str, int]] = {}  # thread -> actor key -> notification id
        self._order: deque[tuple[int, str]] = deque()

    def add(self, entries: Iterable[tuple[int, str, Iterable[str]]]) -> None:
        """Remember ``(notification id, thread id, actor keys)`` of touchpoints just appended."""
        with self._lock:
            for notification_id, thread_id, keys in entries:
                known = self._by_thread.setdefault(thread_id, {})
                for key in keys:
                    known[key] = max(known.get(key, 0), notification_id)
                self._order.append((notification_id, thread_id))

    def actor_keys(self, thread_ids: Iterable[str], applied: int) -> dict[str, set[str]]:
        """The keys of ``thread_ids`` the index had not applied at position ``applied``."""
        with self._lock:
            while self._order and self._order[0][0] <= applied:
                _, thread_id = self._order.popleft()
                known = self._by_thread.get(thread_id)
                if known is not None:
                    for key in [key for key, at in known.items() if at <= applied]:
                        del known[key]
                    if not known:
                        del self._by_thread[thread_id]
            return {
                thread_id: set(self._by_thread[thread_id]) for thread_id in thread_ids if thread_id in self._by_thread
            }


@dataclass
class BatchReport:
    """Outcomes in item order, and the highest notification id the batch wrote (for read-your-writes)."""

    outcomes: list[ItemOutcome]
    last_notification_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class PreparedBatch:
    """A batch checked and being enriched, not yet stored (see ``TouchpointsApplication.prepare_batch``)."""

    size: int
    outcomes: dict[int, ItemOutcome]
    fresh: list[tuple[int, TouchpointDraft]]
    enriching: Enriching


class TouchpointsApplication(ServiceApplication):
    """Records touchpoints idempotently and answers questions about them."""

    name = "touchpoints"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
        policy: RecordingPolicy | None = None,
        index: TouchpointIndex | None = None,
        default_region: str | None = None,
    ) -> None:
        self.default_region = index.default_region if index is not None else default_region
        self.policy = policy or RecordingPolicy()
        self.index = index
        self.index_runner: ProjectionRunner | None = None  # keeps ``index``; attached by the composition root
        self.classifying: Any = None  # the model enrichment process, when the composition root started one
        self.enricher = Enricher(self.policy.enrichment_processes)
        self.recent_thread_actors = RecentThreadActors()
        super().__init__(env, name=name)

    def actor_key(self, actor: Identifier) -> str:
        """The key of ``actor`` that lists and party counts go by: with an index, the index's own (its default
        region); without one, ``default_region`` given to this application."""
        return actor_key(actor, self.default_region)

    def close(self) -> None:
        self.enricher.close()
        super().close()

    def _notify(self, recordings: list[Any]) -> None:
        """Called with what every save (and bulk append) stored: the index takes it from memory, its personal data
        sealed as its reader reads it (``projection.touchpoint_runner``)."""
        if self.index_runner is not None:
            self.index_runner.feed(self.name, handed_over(self.name, recordings, keep_sealed=True))

    # --------------------------------------------------------------------------------------------- recording

    def record(self, draft: TouchpointDraft, *, wait: bool = True) -> ItemOutcome:
        """Record one touchpoint; raise :class:`InvalidTouchpoint` naming each bad value."""
        outcome = self.record_batch([draft], wait=wait).outcomes[0]
        if outcome.outcome == REJECTED:
            raise InvalidTouchpoint(outcome.violations)
        return outcome

    def record_batch(self, drafts: Sequence[TouchpointDraft], *, wait: bool = True) -> BatchReport:
        """Record each good item, reject each bad one; one atomic append for all new touchpoints."""
        return self.commit_batch(self.prepare_batch(drafts), wait=wait)

    def prepare_batch(self, drafts: Sequence[TouchpointDraft], context: ThreadContext | None = None) -> PreparedBatch:
        """The first half of :meth:`record_batch`: check each item, set duplicates aside, start enrichment.

        Nothing is stored yet. A stream prepares its next micro-batch while the previous one is being
        committed; a touchpoint in both is then answered ALREADY_RECORDED by the later commit. ``context`` carries
        the threads' actors of the request's earlier items (a stream passes the same one for each micro-batch).
        """
        context = ThreadContext() if context is None else context
        if len(drafts) > MAX_BATCH:
            raise InvalidArgument.field("touchpoints", f"must have at most {MAX_BATCH} items")
        now = datetime.now(UTC)
        outcomes: dict[int, ItemOutcome] = {}
        seen: set[UUID] = set()
        checked: list[tuple[int, TouchpointDraft]] = []
        for index, draft in enumerate(drafts):
            try:
                draft.check(now, self.policy.max_future_skew, self.policy.max_content_bytes)
            except InvalidTouchpoint as error:
                outcomes[index] = ItemOutcome(index, REJECTED, _id_if_any(draft), error.violations)
                continue
            checked.append((index, draft))
        parties = self._thread_parties({draft.thread_id for _, draft in checked if draft.thread_id}, context)
        fresh: list[tuple[int, TouchpointDraft]] = []
        for index, draft in checked:
            touchpoint_id = draft.resolved_id()
            if touchpoint_id in seen:
                outcomes[index] = ItemOutcome(index, ALREADY_RECORDED, touchpoint_id)
                continue
            seen.add(touchpoint_id)
            fresh.append((index, draft))
        enriching = self.enricher.submit([self._signals(draft, parties) for _, draft in fresh])
        for thread_id, keys in parties.items():
            context.add(thread_id, keys)
        return PreparedBatch(size=len(drafts), outcomes=outcomes, fresh=fresh, enriching=enriching)

    def commit_batch(self, prepared: PreparedBatch, *, wait: bool = True) -> BatchReport:
        """The second half of :meth:`record_batch`: make the events and append them (one atomic append)."""
        pending: list[_Pending] = []
        outcomes = prepared.outcomes
        threads_kept = self.index_runner is not None  # only then are a thread's actors remembered
        for (index, draft), values in zip(prepared.fresh, prepared.enriching.result(), strict=True):
            inferred = tuple(sorted(values.inferred))
            event = Touchpoint.recorded_event(
                draft,
                intent=values.intent,
                sentiment_label=values.sentiment_label,
                sentiment_score=values.sentiment_score,
                sociability_degree=values.sociability_degree,
                business_sociability_degree=values.business_sociability_degree,
                inferred=inferred,
            )
            actor_keys: frozenset[str] = frozenset()
            if draft.thread_id and threads_kept:
                actor_keys = frozenset(self.actor_key(actor) for actor in draft.actors)
            pending.append(_Pending(index, event.originator_id, (event,), inferred, draft.thread_id, actor_keys))
        last = self._save_new(pending, outcomes)
        ordered = [outcomes[i] for i in range(prepared.size)]
        report = BatchReport(ordered, last, _count(ordered))
        if wait and last is not None:
            self._wait_for_index(last)
        log.info("touchpoints.recorded", **report.counts)
        return report

    def _signals(self, draft: TouchpointDraft, parties: dict[str, set[str]]) -> enrichment.Signals:
        party_count = 1
        if draft.thread_id:
            keys = parties.setdefault(draft.thread_id, set())
            keys.update(self.actor_key(actor) for actor in draft.actors)
            party_count = len(keys)
        return made_of(
            enrichment.Signals,
            {
                **pick(draft, *_SIGNALLED),
                "is_reply": bool(draft.reply_to_id or draft.reply_to_external_id),
                "thread_parties": party_count,
                "brand_handles": self.policy.brand_handles,
            },
        )

    def _thread_parties(self, threads: set[str], context: ThreadContext) -> dict[str, set[str]]:
        """Each thread's actor keys so far: the index's, this process's not yet indexed, the request's own."""
        found: dict[str, set[str]] = {}
        if threads and self.index is not None:
            applied = self.index_runner.positions[self.name] if self.index_runner is not None else 0
            recent = self.recent_thread_actors.actor_keys(threads, applied)  # read before the index: see there
            found = self.index.thread_actor_keys(threads)
            for thread_id, keys in recent.items():
                found[thread_id].update(keys)
        for thread_id in threads:
            if thread_id in context.actor_keys:
                found.setdefault(thread_id, set()).update(context.actor_keys[thread_id])
        return found

    def _save_new(self, pending: list[_Pending], outcomes: dict[int, ItemOutcome]) -> int | None:
        """Save in chunks of at most MAX_EVENTS_PER_SAVE; answer touchpoints that exist ALREADY_RECORDED."""
        last: int | None = None
        for start in range(0, len(pending), MAX_EVENTS_PER_SAVE):
            chunk = pending[start : start + MAX_EVENTS_PER_SAVE]
            for _attempt in range(SAVE_RETRIES):
                if not chunk:
                    break
                try:
                    recordings = self._append([event for item in chunk for event in item.events])
                except IntegrityError:
                    existing = self._existing({item.touchpoint_id for item in chunk})
                    for item in chunk:
                        if item.touchpoint_id in existing:
                            outcomes[item.index] = ItemOutcome(item.index, ALREADY_RECORDED, item.touchpoint_id)
                    chunk = [item for item in chunk if item.touchpoint_id not in existing]
                    continue
                stored_at = {r.notification.originator_id: r.notification.id for r in recordings}
                for item in chunk:
                    outcomes[item.index] = ItemOutcome(
                        item.index,
                        RECORDED,
                        item.touchpoint_id,
                        (),
                        item.inferred,
                        stored_at.get(item.touchpoint_id, 0),
                    )
                self._remember_threads(chunk, recordings)
                if recordings:
                    last = max(last or 0, *(r.notification.id for r in recordings))
                chunk = []
            if chunk:
                msg = "touchpoints are being recorded concurrently under the same ids; retry"
                raise Conflict(msg)
        return last

    def _remember_threads(self, chunk: Sequence[_Pending], recordings: Sequence[Any]) -> None:
        """Keep the threads' new actors until the index has them (before the items are acknowledged)."""
        if self.index_runner is None:
            return  # no index, so no thread context beyond the request itself
        positions = {r.notification.originator_id: r.notification.id for r in recordings}
        self.recent_thread_actors.add(
            (positions[item.touchpoint_id], item.thread_id, item.actor_keys)
            for item in chunk
            if item.thread_id and item.touchpoint_id in positions
        )

    def _save(self, *objects: Any) -> list[Any]:
        with store_errors():
            return self.save(*objects)

    def _append(self, new_events: list[Any]) -> list[Any]:
        """Append new touchpoints' first events as one atomic batch (``EventStore.put``: what ``save`` does with
        the events of new aggregates, without collecting them from aggregate objects first)."""
        with store_errors():
            recordings = self.events.put(new_events)
        self._notify(recordings)
        return recordings

    def _existing(self, ids: set[UUID]) -> set[UUID]:
        """Which of ``ids`` have a stored aggregate (their first event)."""
        return {touchpoint_id for touchpoint_id in ids if self.recorder.select_events(touchpoint_id, limit=1)}

    def _wait_for_index(self, notification_id: int) -> None:
        if self.index_runner is None:
            return
        try:
            self.index_runner.wait({self.name: notification_id}, timeout=self.policy.read_your_writes_timeout)
        except Unavailable:
            log.warning("touchpoints.index_lagging", notification_id=notification_id)

    # --------------------------------------------------------------------------------------------- threading

    def link_replies(self, links: Sequence[PendingLink]) -> int:
        """Record ``ReplyLinked`` on each reply whose parent is now known; replies linked before are skipped."""
        facts = {
            link.reply_id: ParentFacts(
                touchpoint_id=link.parent_id,
                occurred_at=link.parent_occurred_at,
                direction=link.parent_direction,
                thread_id=link.parent_thread_id,
            )
            for link in links
        }
        linked: list[Touchpoint] = []
        for reply_id, parent in facts.items():
            try:
                reply: Touchpoint = self.repository.get(reply_id)
            except AggregateNotFoundError:
                log.warning("touchpoints.link_without_reply", reply_id=str(reply_id))
                continue
            try:
                if reply.link_to_parent(parent):
                    linked.append(reply)
            except NotAReplyToThat:
                log.warning("touchpoints.link_mismatch", reply_id=str(reply_id))
        for start in range(0, len(linked), MAX_EVENTS_PER_SAVE):
            chunk = linked[start : start + MAX_EVENTS_PER_SAVE]
            try:
                self._save(*chunk)
            except IntegrityError:
                # Another writer changed one of them (a reclassification, another linker): one at a time.
                for reply in chunk:
                    self._link_one(reply.id, facts[reply.id])
        return len(linked)

    def _link_one(self, reply_id: UUID, parent: ParentFacts) -> None:
        for _attempt in range(SAVE_RETRIES):
            reply: Touchpoint = self.repository.get(reply_id)
            if not reply.link_to_parent(parent):
                return
            try:
                self._save(reply)
            except IntegrityError:
                continue
            return
        raise Conflict(f"reply {reply_id} keeps changing; its link will be retried")

    # --------------------------------------------------------------------------------------------- classifying

    def record_classifications(self, verdicts: Mapping[UUID, Verdict], *, model: str, model_version: str) -> int:
        """Record ``Classified`` on each touchpoint whose inferred values a model classified (``classifying``);
        touchpoints this model version classified before, or with no value left inferred, are skipped. Returns
        how many were recorded."""
        recorded = 0
        for touchpoint_id, verdict in verdicts.items():
            for _attempt in range(SAVE_RETRIES):
                try:
                    touchpoint: Touchpoint = self.repository.get(touchpoint_id)
                except AggregateNotFoundError:
                    log.warning("touchpoints.classified_unknown", touchpoint_id=str(touchpoint_id))
                    break
                if not touchpoint.classify(
                    intent=verdict.intent,
                    sentiment_label=verdict.sentiment_label,
                    sentiment_score=verdict.sentiment_score,
                    intent_confidence=verdict.intent_confidence,
                    model=model,
                    model_version=model_version,
                ):
                    break
                try:
                    self._save(touchpoint)
                except IntegrityError:
                    continue  # changed meanwhile (a person's correction, a reply link): classify what it is now
                recorded += 1
                break
            else:
                raise Conflict(f"touchpoint {touchpoint_id} keeps changing; its classification will be retried")
        return recorded

    # --------------------------------------------------------------------------------------------- queries

    def get(self, touchpoint_id: UUID) -> dict[str, Any]:
        """The touchpoint as recorded, with its corrections and reply link, read from the event store (so it
        reflects every acknowledged write), plus what the index derived: its first response time, and the thread
        a reply inherits from further up its chain."""
        doc = document_of_touchpoint(self._aggregate(touchpoint_id))
        if self.index is not None:
            indexed = self.index.document(touchpoint_id, sealed=True)  # its derived facts only
            if indexed is not None:
                doc["first_response_seconds"] = indexed.get("first_response_seconds")
                doc["thread_id"] = doc["thread_id"] or indexed["thread_id"]  # inherited along a reply chain
        return doc

    def get_by_source(self, source_system: str, external_id: str) -> dict[str, Any]:
        return self.get(touchpoint_id_for(source_system, external_id))

    def _aggregate(self, touchpoint_id: UUID) -> Touchpoint:
        try:
            with store_errors():
                return self.repository.get(touchpoint_id)
        except AggregateNotFoundError:
            raise NotFound("touchpoint", str(touchpoint_id)) from None

    def list_touchpoints(
        self,
        *,
        actor: Identifier | None = None,
        thread_id: str = "",
        channel: str = "",
        occurred_after: datetime | None = None,
        occurred_before: datetime | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[dict[str, Any]], str]:
        """A page of read documents matching every given filter, newest first, and the next page's token."""
        if self.index is None:
            raise Unavailable("this process serves no touchpoint index")
        if occurred_after and occurred_before and occurred_after >= occurred_before:
            raise InvalidArgument.field("occurred_before", "must be later than occurred_after")
        query = pagination.query_fingerprint(
            method="ListTouchpoints",
            actor=self.actor_key(actor) if actor else "",
            thread_id=thread_id,
            channel=channel,
            occurred_after=occurred_after.isoformat() if occurred_after else "",
            occurred_before=occurred_before.isoformat() if occurred_before else "",
        )
        size = pagination.page_size(page_size)
        start = pagination.decode(page_token, query)
        after = _cursor(start.cursor)
        rows = self.index.list(
            actor_key=self.actor_key(actor) if actor else "",
            thread_id=thread_id,
            channel=channel,
            occurred_after=occurred_after,
            occurred_before=occurred_before,
            after=after,
            limit=size + 1,
        )
        next_token = ""
        if len(rows) > size:
            rows = rows[:size]
            last = rows[-1]
            next_token = start.at([last["occurred_us"], last["touchpoint_id"]]).encode()
        return rows, next_token

    # --------------------------------------------------------------------------------------------- corrections

    def reclassify(
        self,
        touchpoint_id: UUID,
        field_name: str,
        value: str,
        *,
        reason: str,
        actor: str,
        sentiment_score: float | None = None,
    ) -> dict[str, Any]:
        """Correct one value; the correction is an event with reason and actor. Returns the touchpoint after it;
        raises :class:`InvalidReclassification` for a correction the touchpoint does not take."""
        for _attempt in range(SAVE_RETRIES):
            touchpoint = self._aggregate(touchpoint_id)
            changed = touchpoint.reclassify(field_name, value, reason, actor, sentiment_score)
            if not changed:
                return self.get(touchpoint_id)
            try:
                recordings = self._save(touchpoint)
            except IntegrityError:
                continue
            self._wait_for_index(max(r.notification.id for r in recordings))
            return self.get(touchpoint_id)
        raise Conflict("the touchpoint changed concurrently; retry")


def _id_if_any(draft: TouchpointDraft) -> UUID | None:
    try:
        return draft.resolved_id()
    except ValueError:
        return None


def _count(outcomes: Sequence[ItemOutcome]) -> dict[str, int]:
    counts = {RECORDED: 0, ALREADY_RECORDED: 0, REJECTED: 0}
    for outcome in outcomes:
        counts[outcome.outcome] += 1
    return counts


def _cursor(value: Any) -> tuple[int, str] | None:
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 2 and type(value[0]) is int and isinstance(value[1], str):
        return value[0], value[1]
    raise InvalidArgument.field("page_token", "is malformed: pass the next_page_token of a previous response")


def document_of_touchpoint(touchpoint: Touchpoint) -> dict[str, Any]:
    """The read document of a touchpoint aggregate: the shape of the index's (``projection.document_of``), its
    history applied."""
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
        "reply_link": None
        if link is None
        else {
            "parent_id": str(link.parent_id),
            "response_seconds": link.response_seconds,
            "company_response": touchpoint.direction == "outbound" and link.parent_direction == "inbound",
        },
        "first_response_seconds": None,
        "reclassifications": [
            {
                "field": r.field,
                "value": r.value,
                "previous_value": r.previous_value,
                "reason": r.reason,
                "actor": r.actor,
                "at_us": micros(r.at),
            }
            for r in touchpoint.reclassifications
        ],
    }

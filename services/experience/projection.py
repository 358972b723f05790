"""The experience views and the projection that keeps them: identity's and touchpoints' events -> tables.

Tables (``exp_*``), each changed only by the events named:

- ``exp_party``, ``exp_consent``, ``exp_member``: parties (kind, name, roles, merged into, do-not-contact,
  preferred channels), newest consent per channel, community members — from identity's ``Party*`` events;
- ``exp_claim``: which party holds each identifier now (identifier id = the key of its normal form) — from
  ``IdentifierClaimed`` / ``Transferred`` / ``Unclaimed``, which identity also records for merges and unmerges;
- ``exp_touchpoint``: one row per interaction with what the read side needs (channel, kind, direction,
  visibility, intent, sentiment, sociability, followers, thread, text, whether it needs a reply and whether and
  how fast the company answered) — from ``TouchpointRecorded``, ``Reclassified``, ``Classified`` (a model's
  intent and sentiment, where still inferred) and ``ReplyLinked``;
- ``exp_actor``: one row per (identifier key, touchpoint), the actor's identifier in the kernel's normal form.

Attribution rewrites nothing: a party's interactions are found at read time by joining ``exp_claim`` to
``exp_actor`` on the identifier key, so a late link, a merge or an unmerge changes the answer by changing one
claim row. No table depends on which upstream was applied first: identity's rows and touchpoints' rows are
only ever joined when read.

``PartyForgotten`` purges a party: its ``exp_party``, consent, membership and claim rows go, its identifier keys'
``exp_actor`` rows go, and every touchpoint whose person actor (its author, or the person a company reply answers:
the key that sealed its text) was one of them keeps its row with text and URL ``[erased]``, so volumes still count it.
The purge's transaction scrubs the SQLite files before it returns (``View.scrub_after_commit``), so the position
moves past the event once no old WAL frame holds what was purged (unless another connection keeps reading those
frames for longer than the scrub waits: then :meth:`ExperienceProjection.after_commit` retries it). Replayed from
sequence 1 the views
come out the same: the destroyed keys make the upstream readers give ``[erased]`` for every sealed value, and the
event purges again whatever was applied before it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chorus.common.v1 import types_pb2 as common
from chorus.identity.events.v1 import events_pb2 as identity_events
from chorus.touchpoints.events.v1 import events_pb2 as touchpoint_events
from services.common.contracts import enum_words, timestamp_micros
from services.common.identifiers import normal_key
from services.common.privacy.keyring import evict_cached_keys, installed
from services.common.privacy.sealing import ERASED, open_value, sealed_key_id
from services.common.projections import Projection, UpstreamEvent, handles
from services.common.views import SQLITE, View, ViewCursor, created_indexes
from services.experience.domain import needs_reply

IDENTITY = "identity"
TOUCHPOINTS = "touchpoints"

_KIND = enum_words(common.TouchpointKind.DESCRIPTOR)
_CHANNEL = enum_words(common.Channel.DESCRIPTOR)
_DIRECTION = enum_words(common.Direction.DESCRIPTOR)
_VISIBILITY = enum_words(common.Visibility.DESCRIPTOR)
_INTENT = enum_words(common.Intent.DESCRIPTOR)
_SOCIABILITY = enum_words(common.SociabilityDegree.DESCRIPTOR)
_SENTIMENT = enum_words(touchpoint_events.SentimentLabel.DESCRIPTOR)
_IDENTIFIER_TYPE = enum_words(common.IdentifierType.DESCRIPTOR)


@dataclass(frozen=True)
class InteractionFilter:
    """Which of a party's interactions to read: of one channel and kind (all when empty), occurred in
    [after, before), and older than a page's last (occurred_us, touchpoint_id) ``cursor``."""

    channel: str = ""
    kind: str = ""
    after_us: int | None = None
    before_us: int | None = None
    cursor: tuple[int, str] | None = None


ALL_INTERACTIONS = InteractionFilter()

#: What :meth:`ExperienceView.bucketed` reads per bucket: (columns, further condition, what follows the query)
BUCKETED_READINGS = {
    # volume, inbound, outbound, non-touchpoints, inbound sentiment sum and count, per (bucket, channel)
    "pulse": (
        "COUNT(*) AS volume,"
        " SUM(CASE WHEN direction = 'inbound' THEN 1 ELSE 0 END) AS inbound,"
        " SUM(CASE WHEN direction = 'outbound' THEN 1 ELSE 0 END) AS outbound,"
        " SUM(CASE WHEN kind = 'non_touchpoint' THEN 1 ELSE 0 END) AS non_touchpoints,"
        " SUM(CASE WHEN direction = 'inbound' AND sentiment_score IS NOT NULL THEN sentiment_score ELSE 0 END)"
        " AS sentiment_sum,"
        " SUM(CASE WHEN direction = 'inbound' AND sentiment_score IS NOT NULL THEN 1 ELSE 0 END)"
        " AS sentiment_count",
        "",
        " GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    # the response time of each answered inbound interaction
    "responses": ("response_seconds", " AND answered = 1 AND direction = 'inbound'", ""),
}
_PARTY_KIND = enum_words(common.PartyKind.DESCRIPTOR)
_ROLE = enum_words(common.PartyRole.DESCRIPTOR)
_CONSENT = enum_words(common.ConsentStatus.DESCRIPTOR)
_RECORDED = touchpoint_events.TouchpointRecorded.DESCRIPTOR.full_name
_ACTOR_VALUE = common.Identifier.DESCRIPTOR.fields_by_name["value"]
#: The events whose handlers collect rows for :meth:`ExperienceProjection.before_commit` to write together.
_COLLECTED = frozenset(
    {
        _RECORDED,
        identity_events.PartyRegistered.DESCRIPTOR.full_name,
        identity_events.IdentifierClaimed.DESCRIPTOR.full_name,
    }
)


class ExperienceView(View):
    """The experience service's tables (see the module docstring) and the queries its application makes."""

    name = "experience"
    TABLES = ("exp_party", "exp_consent", "exp_member", "exp_claim", "exp_touchpoint", "exp_actor")
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS exp_party ("
        " party_id TEXT PRIMARY KEY, kind TEXT NOT NULL, display_name TEXT NOT NULL, roles TEXT NOT NULL,"
        " merged_into TEXT, do_not_contact INTEGER NOT NULL, preferred_channels TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS exp_party_merged ON exp_party (merged_into)",
        "CREATE TABLE IF NOT EXISTS exp_consent ("
        " party_id TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL, at_us BIGINT NOT NULL,"
        " PRIMARY KEY (party_id, channel))",
        "CREATE TABLE IF NOT EXISTS exp_member ("
        " community_id TEXT NOT NULL, member_id TEXT NOT NULL, PRIMARY KEY (community_id, member_id))",
        "CREATE TABLE IF NOT EXISTS exp_claim ("
        " identifier_id TEXT PRIMARY KEY, party_id TEXT NOT NULL, id_type TEXT NOT NULL,"
        " id_namespace TEXT NOT NULL, id_value TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS exp_claim_party ON exp_claim (party_id)",
        "CREATE TABLE IF NOT EXISTS exp_touchpoint ("
        " touchpoint_id TEXT PRIMARY KEY, sequence BIGINT NOT NULL, occurred_us BIGINT NOT NULL,"
        " channel TEXT NOT NULL, kind TEXT NOT NULL, direction TEXT NOT NULL, visibility TEXT NOT NULL,"
        " intent TEXT NOT NULL, sentiment TEXT NOT NULL, sentiment_score DOUBLE PRECISION,"
        " sociability TEXT NOT NULL, followers BIGINT NOT NULL, thread_id TEXT NOT NULL,"
        " reply_to_id TEXT NOT NULL, text TEXT NOT NULL, url TEXT NOT NULL, inferred TEXT NOT NULL,"
        " needs_reply INTEGER NOT NULL, answered INTEGER NOT NULL, response_seconds DOUBLE PRECISION)",
        "CREATE INDEX IF NOT EXISTS exp_touchpoint_time ON exp_touchpoint (occurred_us)",
        # Partial indexes: each holds only the rows its query reads (the open items, the suggestions, the
        # threaded interactions), so applying a touchpoint updates fewer of them.
        "CREATE INDEX IF NOT EXISTS exp_touchpoint_waiting ON exp_touchpoint (occurred_us)"
        " WHERE needs_reply = 1 AND answered = 0",
        "CREATE INDEX IF NOT EXISTS exp_touchpoint_suggestion ON exp_touchpoint (occurred_us)"
        " WHERE intent = 'suggestion'",
        "CREATE INDEX IF NOT EXISTS exp_touchpoint_threaded ON exp_touchpoint (thread_id) WHERE thread_id <> ''",
        # the full indexes these replace, in views created before them
        "DROP INDEX IF EXISTS exp_touchpoint_open",
        "DROP INDEX IF EXISTS exp_touchpoint_intent",
        "DROP INDEX IF EXISTS exp_touchpoint_thread",
        "CREATE TABLE IF NOT EXISTS exp_actor ("
        " id_key TEXT NOT NULL, touchpoint_id TEXT NOT NULL, ord INTEGER NOT NULL, occurred_us BIGINT NOT NULL,"
        " PRIMARY KEY (id_key, touchpoint_id))",
        "CREATE INDEX IF NOT EXISTS exp_actor_touchpoint ON exp_actor (touchpoint_id)",
    )
    #: every index: the handlers read through primary keys alone (a purge first builds them, ``party_forgotten``)
    DEFERRABLE_INDEXES = tuple(created_indexes(SCHEMA))

    def schema(self, dialect: str) -> Sequence[str]:
        """:attr:`SCHEMA`; on SQLite, ``exp_actor`` (narrow rows, found by its key) is a ``WITHOUT ROWID`` table,
        stored in its primary key's tree alone."""
        if dialect != SQLITE:
            return self.SCHEMA
        return tuple(
            f"{statement} WITHOUT ROWID" if statement.startswith("CREATE TABLE IF NOT EXISTS exp_actor") else statement
            for statement in self.SCHEMA
        )

    # ------------------------------------------------------------------------------------------ parties

    def party(self, party_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM exp_party WHERE party_id = ?", (party_id,))
        return rows[0] if rows else None

    def live_party_id(self, party_id: str) -> str | None:
        """The party ``party_id`` stands for now (following merges), or None when identity never registered it."""
        seen = [party_id]
        while True:
            row = self.party(seen[-1])
            if row is None:
                return None if len(seen) == 1 else seen[-2]
            following = row["merged_into"]
            if not following or following in seen:
                return seen[-1]
            seen.append(following)

    def merged_into(self, party_id: str) -> list[str]:
        """Every party merged into ``party_id``, directly or through another, in id order."""
        found: list[str] = []
        frontier = [party_id]
        while frontier:
            rows = self.query("SELECT party_id FROM exp_party WHERE merged_into = ?", (frontier.pop(),))
            for row in rows:
                if row["party_id"] not in found and row["party_id"] != party_id:
                    found.append(row["party_id"])
                    frontier.append(row["party_id"])
        return sorted(found)

    def consents(self, party_ids: Sequence[str]) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(party_ids))
        return self.query(
            f"SELECT party_id, channel, status, at_us FROM exp_consent WHERE party_id IN ({marks})",
            tuple(party_ids),
        )

    def owner_of(self, identifier_key: str) -> str | None:
        rows = self.query("SELECT party_id FROM exp_claim WHERE identifier_id = ?", (identifier_key,))
        return rows[0]["party_id"] if rows else None

    def claims_of(self, party_id: str) -> list[dict[str, Any]]:
        return self.query(
            "SELECT identifier_id, id_type, id_namespace, id_value FROM exp_claim WHERE party_id = ?"
            " ORDER BY id_type, id_namespace, id_value",
            (party_id,),
        )

    # ------------------------------------------------------------------------------------------ interactions

    def interactions_of(
        self, party_id: str, only: InteractionFilter = ALL_INTERACTIONS, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The party's interactions (through its claims), newest first, each with ``matched_by`` id keys."""
        sql = [
            "SELECT t.*, a.id_key FROM exp_claim c JOIN exp_actor a ON a.id_key = c.identifier_id"
            " JOIN exp_touchpoint t ON t.touchpoint_id = a.touchpoint_id WHERE c.party_id = ?"
        ]
        params: list[Any] = [party_id]
        for clause, value in (("t.channel = ?", only.channel), ("t.kind = ?", only.kind)):
            if value:
                sql.append(f"AND {clause}")
                params.append(value)
        if only.after_us is not None:
            sql.append("AND t.occurred_us >= ?")
            params.append(only.after_us)
        if only.before_us is not None:
            sql.append("AND t.occurred_us < ?")
            params.append(only.before_us)
        if only.cursor is not None:
            sql.append("AND (t.occurred_us < ? OR (t.occurred_us = ? AND t.touchpoint_id < ?))")
            params.extend((only.cursor[0], only.cursor[0], only.cursor[1]))
        sql.append("ORDER BY t.occurred_us DESC, t.touchpoint_id DESC")
        rows = self.query(" ".join(sql), tuple(params))
        merged: dict[str, dict[str, Any]] = {}
        for row in rows:
            entry = merged.get(row["touchpoint_id"])
            if entry is None:
                entry = merged[row["touchpoint_id"]] = {**row, "matched_by": []}
                del entry["id_key"]
                if limit is not None and len(merged) > limit:
                    del merged[row["touchpoint_id"]]
                    break
            entry["matched_by"].append(row["id_key"])
        return list(merged.values())

    def open_items(self, channel: str = "") -> list[dict[str, Any]]:
        """Interactions that need a reply and have none, with the party of their first attributed actor."""
        sql = (
            "SELECT t.touchpoint_id, t.occurred_us, t.channel, t.intent, t.visibility, t.sociability,"
            " t.sentiment, t.sentiment_score, t.followers, t.text,"
            " (SELECT c.party_id FROM exp_actor a JOIN exp_claim c ON c.identifier_id = a.id_key"
            "  WHERE a.touchpoint_id = t.touchpoint_id ORDER BY a.ord LIMIT 1) AS party_id"
            " FROM exp_touchpoint t WHERE t.needs_reply = 1 AND t.answered = 0"
        )
        if channel:
            return self.query(sql + " AND t.channel = ?", (channel,))
        return self.query(sql)

    def bucketed(
        self, reading: str, since_us: int, until_us: int, length_us: int, offset_us: int, channel: str = ""
    ) -> list[dict[str, Any]]:
        """A reading of :data:`BUCKETED_READINGS` over the interactions in [since, until) (of ``channel`` when it is
        set), each row with its ``bucket`` (the start of the ``length_us`` bucket aligned to ``offset_us``) and
        ``channel``."""
        columns, condition, tail = BUCKETED_READINGS[reading]
        sql = (
            f"SELECT occurred_us - ((occurred_us - ?) % ?) AS bucket, channel, {columns}"
            f" FROM exp_touchpoint WHERE occurred_us >= ? AND occurred_us < ?{condition}"
        )
        params: list[Any] = [offset_us, length_us, since_us, until_us]
        if channel:
            sql += " AND channel = ?"
            params.append(channel)
        return self.query(sql + tail, tuple(params))

    def suggestions(self, since_us: int) -> list[dict[str, Any]]:
        """Suggestions since ``since_us`` with their author (party, or identifier key when unattributed)."""
        return self.query(
            "SELECT t.touchpoint_id, t.occurred_us, t.text,"
            " COALESCE((SELECT c.party_id FROM exp_actor a JOIN exp_claim c ON c.identifier_id = a.id_key"
            "  WHERE a.touchpoint_id = t.touchpoint_id ORDER BY a.ord LIMIT 1),"
            " (SELECT a.id_key FROM exp_actor a WHERE a.touchpoint_id = t.touchpoint_id ORDER BY a.ord LIMIT 1),"
            " '') AS author"
            " FROM exp_touchpoint t WHERE t.intent = 'suggestion' AND t.occurred_us >= ?",
            (since_us,),
        )

    def thread_participants(self) -> list[dict[str, Any]]:
        """Per (thread, participant): interactions and the newest one; a participant is a party or an id key."""
        return self.query(
            "SELECT t.thread_id, COALESCE(c.party_id, a.id_key) AS who, COUNT(*) AS interactions,"
            " MAX(t.occurred_us) AS last_us FROM exp_touchpoint t"
            " JOIN exp_actor a ON a.touchpoint_id = t.touchpoint_id"
            " LEFT JOIN exp_claim c ON c.identifier_id = a.id_key"
            " WHERE t.thread_id <> '' GROUP BY t.thread_id, COALESCE(c.party_id, a.id_key)"
        )

    def communities(self) -> list[dict[str, Any]]:
        """Identity's community parties and their members."""
        return self.query(
            "SELECT p.party_id, p.display_name, m.member_id FROM exp_party p"
            " LEFT JOIN exp_member m ON m.community_id = p.party_id"
            " WHERE p.kind = 'community' AND p.merged_into IS NULL ORDER BY p.party_id, m.member_id"
        )

    def activity_of(self, party_id: str) -> tuple[int, int | None]:
        """(interactions, newest occurred us) of a party through its claims."""
        rows = self.query(
            "SELECT COUNT(DISTINCT a.touchpoint_id) AS n, MAX(a.occurred_us) AS last_us FROM exp_claim c"
            " JOIN exp_actor a ON a.id_key = c.identifier_id WHERE c.party_id = ?",
            (party_id,),
        )
        return int(rows[0]["n"] or 0), rows[0]["last_us"]

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table in a canonical order: rebuilt views compare equal to live ones."""
        keys = {
            "exp_party": "party_id",
            "exp_consent": "party_id, channel",
            "exp_member": "community_id, member_id",
            "exp_claim": "identifier_id",
            "exp_touchpoint": "touchpoint_id",
            "exp_actor": "id_key, touchpoint_id",
        }
        return {table: self.query(f"SELECT * FROM {table} ORDER BY {order}") for table, order in keys.items()}


class ExperienceProjection(Projection[ExperienceView]):
    """Keeps :class:`ExperienceView` from identity's and touchpoints' events (one handler per event type).

    Handlers dispatch on the event's type alone, so the streams may have any application names (the runner's
    readers name them). ``default_region`` normalises national phone numbers among actors.
    """

    #: An actor's value is sealed under the key of its identifier's normal form (``sealing``), the key its
    #: ``exp_actor`` row needs: it is read from the sealed value, and the value itself is not decrypted.
    KEY_ONLY = frozenset({_ACTOR_VALUE.full_name})

    def __init__(self, view: ExperienceView, *, default_region: str | None = None) -> None:
        super().__init__(view)
        self.default_region = default_region
        self._touchpoints: list[tuple[Any, ...]] = []  # this transaction's run of new touchpoints' rows
        self._actors: list[tuple[str, str, int, int]] = []  # and their actors' rows
        self._parties: list[tuple[str, str, str, str]] = []  # its run of new parties' rows
        self._claims: list[tuple[str, str, str, str, str]] = []  # and of claims' rows
        self._cursor: ViewCursor | None = None  # the transaction they belong to

    def apply(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        """Apply ``event``; any event but a new touchpoint, party or claim (whose handlers only collect rows, each
        kind for a table of its own that none of them reads) first writes the runs collected before it, so every
        handler sees the view as if each event had been applied on its own."""
        if event.topic not in _COLLECTED:
            self.before_commit(cur)
        super().apply(cur, event)

    def _collecting(self, cur: ViewCursor) -> None:
        """Rows are about to be collected in ``cur``'s transaction: what an aborted one collected is gone with it."""
        if self._cursor is not cur:
            self._drop_runs()
            self._cursor = cur

    def _taken(self, cur: ViewCursor) -> tuple[list[Any], ...]:
        """The runs collected in ``cur``'s transaction (touchpoints, actors, parties, claims; none for another
        transaction), which the projection holds no more."""
        runs = (self._touchpoints, self._actors, self._parties, self._claims) if self._cursor is cur else ([],) * 4
        self._drop_runs()
        return runs

    def _drop_runs(self) -> None:
        self._touchpoints, self._actors, self._parties, self._claims = [], [], [], []

    def after_commit(self, events: Sequence[UpstreamEvent]) -> None:
        """Do a purge's scrub that readers held up when its transaction committed (it raises while they still
        do, and the runner calls again on its next pass)."""
        if self.view.scrub_due:
            self.view.scrub()

    # ------------------------------------------------------------------------------------------ identity

    @handles(identity_events.PartyRegistered)
    def party_registered(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        """Collect the party's row; :meth:`before_commit` writes the run together."""
        self._collecting(cur)
        message = event.payload
        roles = [_ROLE.word(role) for role in message.roles]
        self._parties.append(
            (event.aggregate_id, _PARTY_KIND.word(message.kind), message.display_name, json.dumps(roles))
        )

    @handles(identity_events.PartyMergedInto)
    def party_merged(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        cur.execute(
            "UPDATE exp_party SET merged_into = ? WHERE party_id = ?",
            (event.payload.target_party_id, event.aggregate_id),
        )

    @handles(identity_events.PartyUnmerged)
    def party_unmerged(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        cur.execute("UPDATE exp_party SET merged_into = NULL WHERE party_id = ?", (event.aggregate_id,))

    @handles(identity_events.PartyConsentRecorded)
    def consent_recorded(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        message = event.payload
        cur.execute(
            "INSERT INTO exp_consent (party_id, channel, status, at_us) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (party_id, channel) DO UPDATE SET status = excluded.status, at_us = excluded.at_us"
            " WHERE exp_consent.at_us <= excluded.at_us",
            (
                event.aggregate_id,
                _CHANNEL.word(message.channel),
                _CONSENT.word(message.status),
                timestamp_micros(message.at),
            ),
        )

    @handles(identity_events.PartyDoNotContactSet)
    def do_not_contact_set(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        cur.execute(
            "UPDATE exp_party SET do_not_contact = ? WHERE party_id = ?",
            (int(event.payload.do_not_contact), event.aggregate_id),
        )

    @handles(identity_events.PartyPreferredChannelsSet)
    def preferred_channels_set(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        channels = [_CHANNEL.word(channel) for channel in event.payload.channels]
        cur.execute(
            "UPDATE exp_party SET preferred_channels = ? WHERE party_id = ?", (json.dumps(channels), event.aggregate_id)
        )

    @handles(identity_events.PartyMemberAdded)
    def member_added(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        cur.execute(
            "INSERT INTO exp_member (community_id, member_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (event.aggregate_id, event.payload.member_id),
        )

    @handles(identity_events.PartyMemberRemoved)
    def member_removed(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        cur.execute(
            "DELETE FROM exp_member WHERE community_id = ? AND member_id = ?",
            (event.aggregate_id, event.payload.member_id),
        )

    @handles(identity_events.IdentifierClaimed)
    def identifier_claimed(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        """Collect the claim's row; :meth:`before_commit` writes the run together."""
        self._collecting(cur)
        message = event.payload
        self._claims.append(
            (
                event.aggregate_id,
                message.party_id,
                _IDENTIFIER_TYPE.word(message.type),
                message.namespace,
                message.value,
            )
        )

    @handles(identity_events.IdentifierTransferred)
    def identifier_transferred(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        cur.execute(
            "UPDATE exp_claim SET party_id = ? WHERE identifier_id = ?", (event.payload.party_id, event.aggregate_id)
        )

    @handles(identity_events.IdentifierUnclaimed)
    def identifier_unclaimed(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        cur.execute("DELETE FROM exp_claim WHERE identifier_id = ?", (event.aggregate_id,))

    @handles(identity_events.PartyForgotten)
    def party_forgotten(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        """Purge a forgotten party: its rows, its claims and attributions, and the text and URL of every
        touchpoint sealed under one of its destroyed keys. Touchpoint rows stay (redacted), so volumes and other
        aggregates that identify nobody keep counting them. The person actor is chosen as the codec chose it
        (``services.common.privacy.sealing.person_actor``): the author of an inbound touchpoint, the person
        answered by an outbound one."""
        receipt: Any = event.payload.receipt
        parties = [event.aggregate_id, *receipt.party_ids]
        keys = list(receipt.key_ids)
        self.view.build_indexes(cur)  # its statements find touchpoints by actor: not by scanning, mid-rebuild
        evict_cached_keys(keys)
        self.view.scrub_after_commit()  # the purge's transaction returns (and the position moves) once scrubbed
        for chunk in _chunks(keys):
            marks = ", ".join("?" * len(chunk))
            cur.execute(
                "UPDATE exp_touchpoint SET text = CASE WHEN text = '' THEN '' ELSE ? END,"
                " url = CASE WHEN url = '' THEN '' ELSE ? END WHERE touchpoint_id IN"
                " (SELECT a.touchpoint_id FROM exp_actor a JOIN exp_touchpoint t ON t.touchpoint_id = a.touchpoint_id"
                f" WHERE a.id_key IN ({marks}) AND a.ord = CASE WHEN t.direction = 'outbound' AND EXISTS"
                " (SELECT 1 FROM exp_actor o WHERE o.touchpoint_id = a.touchpoint_id AND o.ord > 0) THEN 1 ELSE 0 END)",
                (ERASED, ERASED, *chunk),
            )
            cur.execute(f"DELETE FROM exp_actor WHERE id_key IN ({marks})", tuple(chunk))
            cur.execute(f"DELETE FROM exp_claim WHERE identifier_id IN ({marks})", tuple(chunk))
        for chunk in _chunks(parties):
            marks = ", ".join("?" * len(chunk))
            cur.execute(f"DELETE FROM exp_claim WHERE party_id IN ({marks})", tuple(chunk))
            cur.execute(f"DELETE FROM exp_consent WHERE party_id IN ({marks})", tuple(chunk))
            cur.execute(
                f"DELETE FROM exp_member WHERE community_id IN ({marks}) OR member_id IN ({marks})", (*chunk, *chunk)
            )
            cur.execute(f"DELETE FROM exp_party WHERE party_id IN ({marks})", tuple(chunk))

    # ------------------------------------------------------------------------------------------ touchpoints

    @handles(touchpoint_events.TouchpointRecorded)
    def touchpoint_recorded(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        """Collect the touchpoint's row and its actors' rows; :meth:`before_commit` writes the run together."""
        self._collecting(cur)
        m: Any = event.payload
        direction, intent, sociability = (
            _DIRECTION.word(m.direction),
            _INTENT.word(m.intent),
            _SOCIABILITY.word(m.sociability_degree),
        )
        sentiment = _SENTIMENT.word(m.sentiment_label)
        occurred = timestamp_micros(m.occurred_at)
        self._touchpoints.append(
            (
                event.aggregate_id,
                event.sequence,
                occurred,
                _CHANNEL.word(m.channel),
                _KIND.word(m.kind),
                direction,
                _VISIBILITY.word(m.visibility),
                intent,
                sentiment,
                m.sentiment_score if sentiment else None,
                sociability,
                int(m.followers),
                m.thread_id,
                m.reply_to_id,
                m.text,
                m.external_url,
                json.dumps(sorted(m.inferred)) if m.inferred else "[]",
                int(needs_reply(direction, intent, sociability)),
            )
        )
        keys: dict[str, int] = {}
        keyring = installed()
        sealed_normal = keyring is not None and keyring.default_region == self.default_region
        for ord_, actor in enumerate(m.actors):
            value = actor.value
            key = sealed_key_id(value)  # the key of its normal form, under which the writer sealed it
            if not key or not sealed_normal:
                if key:  # sealed under another region's normal form: ours needs the value
                    value = open_value(_ACTOR_VALUE, value, keyring)
                key = normal_key(_IDENTIFIER_TYPE.word(actor.type), actor.namespace, value, self.default_region)
            keys.setdefault(key, ord_)
        self._actors.extend((key, event.aggregate_id, ord_, occurred) for key, ord_ in keys.items())

    def before_commit(self, cur: ViewCursor) -> None:
        """Write the touchpoints recorded in this transaction so far, their actors, the parties and the claims."""
        touchpoints, actors, parties, claims = self._taken(cur)
        if parties:
            cur.executemany(
                "INSERT INTO exp_party (party_id, kind, display_name, roles, merged_into, do_not_contact,"
                " preferred_channels) VALUES (?, ?, ?, ?, NULL, 0, '[]') ON CONFLICT (party_id) DO NOTHING",
                parties,
            )
        if claims:
            cur.executemany(
                "INSERT INTO exp_claim (identifier_id, party_id, id_type, id_namespace, id_value)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (identifier_id) DO UPDATE SET party_id = excluded.party_id",
                claims,
            )
        if touchpoints:
            cur.executemany(
                "INSERT INTO exp_touchpoint (touchpoint_id, sequence, occurred_us, channel, kind, direction,"
                " visibility, intent, sentiment, sentiment_score, sociability, followers, thread_id, reply_to_id,"
                " text, url, inferred, needs_reply, answered, response_seconds)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)"
                " ON CONFLICT (touchpoint_id) DO NOTHING",
                touchpoints,
            )
        if actors:
            cur.executemany(
                "INSERT INTO exp_actor (id_key, touchpoint_id, ord, occurred_us) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id_key, touchpoint_id) DO NOTHING",
                actors,
            )

    @handles(touchpoint_events.TouchpointReclassified)
    def touchpoint_reclassified(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        m: Any = event.payload
        row = cur.execute(
            "SELECT direction, intent, sociability, inferred FROM exp_touchpoint WHERE touchpoint_id = ?",
            (event.aggregate_id,),
        ).fetchone()
        if row is None:
            return
        inferred = json.dumps([name for name in json.loads(row["inferred"]) if name != m.field])
        if m.field == "sentiment":
            score = m.sentiment_score if m.value else None
            cur.execute(
                "UPDATE exp_touchpoint SET sentiment = ?, sentiment_score = ?, inferred = ? WHERE touchpoint_id = ?",
                (m.value, score, inferred, event.aggregate_id),
            )
            return
        column = {"intent": "intent", "sociability_degree": "sociability", "kind": "kind"}.get(m.field)
        if column is None:
            return  # fields the views do not hold (company function, business sociability)
        values = {"intent": row["intent"], "sociability": row["sociability"], column: m.value}
        waiting = needs_reply(row["direction"], values["intent"], values["sociability"])
        cur.execute(
            f"UPDATE exp_touchpoint SET {column} = ?, needs_reply = ?, inferred = ? WHERE touchpoint_id = ?",
            (m.value, int(waiting), inferred, event.aggregate_id),
        )

    @handles(touchpoint_events.TouchpointClassified)
    def touchpoint_classified(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        """A model's intent and sentiment, for those still inferred (a correction applied before it wins)."""
        m: Any = event.payload
        row = cur.execute(
            "SELECT direction, intent, sociability, sentiment, sentiment_score, inferred FROM exp_touchpoint"
            " WHERE touchpoint_id = ?",
            (event.aggregate_id,),
        ).fetchone()
        if row is None:
            return
        inferred = json.loads(row["inferred"])
        intent = _INTENT.word(m.intent) if m.intent and "intent" in inferred else row["intent"]
        sentiment, score = row["sentiment"], row["sentiment_score"]
        if m.sentiment_label and "sentiment" in inferred:
            sentiment, score = _SENTIMENT.word(m.sentiment_label), m.sentiment_score
        cur.execute(
            "UPDATE exp_touchpoint SET intent = ?, sentiment = ?, sentiment_score = ?, needs_reply = ?"
            " WHERE touchpoint_id = ?",
            (
                intent,
                sentiment,
                score,
                int(needs_reply(row["direction"], intent, row["sociability"])),
                event.aggregate_id,
            ),
        )

    @handles(touchpoint_events.TouchpointReplyLinked)
    def reply_linked(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        m: Any = event.payload
        reply = cur.execute(
            "SELECT direction FROM exp_touchpoint WHERE touchpoint_id = ?", (event.aggregate_id,)
        ).fetchone()
        if reply is None or reply["direction"] != "outbound" or _DIRECTION.word(m.parent_direction) != "inbound":
            return  # only a company reply to the party answers it
        cur.execute(
            "UPDATE exp_touchpoint SET answered = 1, response_seconds = CASE WHEN response_seconds IS NULL"
            " OR response_seconds > ? THEN ? ELSE response_seconds END WHERE touchpoint_id = ?",
            (m.response_seconds, m.response_seconds, m.parent_id),
        )


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]

"""The experience application: the views' generations, their runner, and every query, in primitives.

It owns no facts: :class:`ExperienceApplication` reads identity's and touchpoints' streams through the kernel's
read-only readers into an :class:`~services.experience.projection.ExperienceView`, and answers from it.

- **Upstreams.** The API speaks of the roles ``identity`` and ``touchpoints``; ``upstream_apps`` maps them to the
  application names whose streams hold them (the same words unless a deployment renames an application).
- **Freshness.** Every answer carries the applied position per role; ``min_positions`` waits for positions first.
- **Generations.** The views live in generation 1 (the configured views URL) until a rebuild builds generation
  N + 1 beside them (a SQLite file ``<name>.g<N+1>.db`` or a PostgreSQL schema ``experience_g<N+1>``); reads keep
  using generation N until N + 1 has caught up with what was stored when the rebuild started, then switch, and
  generation N is dropped. The active generation is remembered in the generation-1 database.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from services.common.contracts import micros
from services.common.errors import ChorusError, InvalidArgument, NotFound, Unavailable
from services.common.eventstore.connection import JetStreamConnection
from services.common.identifiers import InvalidIdentifier, normalise
from services.common.projections import ProjectionRunner, StreamReader
from services.common.records import pick
from services.common.views import POSTGRESQL, View
from services.experience import domain
from services.experience.projection import (
    ALL_INTERACTIONS,
    IDENTITY,
    TOUCHPOINTS,
    ExperienceProjection,
    ExperienceView,
    InteractionFilter,
)

log = structlog.get_logger(__name__)

ROLES = (IDENTITY, TOUCHPOINTS)
MAX_WAIT_SECONDS = 10.0
RETIRE_AFTER_SECONDS = 30.0  #: a replaced generation is dropped this long after the switch
US = 1_000_000


@dataclass(frozen=True)
class ExperienceSettings:
    """The experience service's own settings (documented in :mod:`services.experience.main`)."""

    upstream_apps: Mapping[str, str] = field(default_factory=lambda: {IDENTITY: IDENTITY, TOUCHPOINTS: TOUCHPOINTS})
    at_risk_after_seconds: int = domain.DEFAULT_AT_RISK_AFTER
    bars: Mapping[str, int] = field(default_factory=dict)
    default_region: str | None = None
    poll_interval: float = 0.5
    batch_size: int = 1000
    views_schema: str | None = None  #: PostgreSQL schema of generation 1 (default: the connection's own)


def now_us() -> int:
    """Now, in microseconds since the epoch: the default "as of" of the queries (the views never read the clock)."""
    return micros(datetime.now(tz=UTC))


class GenerationPointer(View):
    """Which generation of the experience views answers reads (one row, in the generation-1 database)."""

    name = "experience_generation"
    TABLES = ("exp_generation",)
    SCHEMA = ("CREATE TABLE IF NOT EXISTS exp_generation (id INTEGER PRIMARY KEY, active BIGINT NOT NULL)",)

    def active(self) -> int:
        rows = self.query("SELECT active FROM exp_generation WHERE id = 1")
        return int(rows[0]["active"]) if rows else 1

    def set(self, generation: int) -> None:
        with self.transaction(None) as cur:
            cur.execute(
                "INSERT INTO exp_generation (id, active) VALUES (1, ?)"
                " ON CONFLICT (id) DO UPDATE SET active = excluded.active",
                (generation,),
            )


def generation_url(url: str, generation: int, schema: str | None = None) -> tuple[str, str | None]:
    """(views URL, PostgreSQL schema) of a generation: generation 1 is the configured URL (and schema) itself."""
    if generation == 1:
        return url, schema
    if url.startswith(("postgresql://", "postgres://")):
        return url, f"{schema or 'experience'}_g{generation}"
    location = url.removeprefix("sqlite://")
    if location in (":memory:", "/:memory:"):
        return url, None
    path = Path(location.removeprefix("/"))  # sqlite:///relative or sqlite:////absolute, as View reads it
    suffixed = path.with_name(f"{path.stem}.g{generation}{path.suffix or '.db'}")
    return f"sqlite:///{suffixed}", None


class _Generation:
    """One generation of the views with its runner."""

    def __init__(self, number: int, view: ExperienceView, runner: ProjectionRunner) -> None:
        self.number = number
        self.view = view
        self.runner = runner


class ExperienceApplication:
    """Keeps the experience views and answers every query (see the module docstring)."""

    def __init__(self, connection: JetStreamConnection, views_url: str, settings: ExperienceSettings) -> None:
        self.connection = connection
        self.views_url = views_url
        self.settings = settings
        self.apps = {role: settings.upstream_apps.get(role, role) for role in ROLES}
        self.readers = [StreamReader(connection, self.apps[role]) for role in ROLES]
        self._pointer = GenerationPointer(views_url, pg_schema=settings.views_schema)
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._changes = 0
        self._live = self._open(self._pointer.active())
        self._rebuild: _Generation | None = None
        self._retired: dict[int, tuple[_Generation, threading.Timer]] = {}

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self) -> ExperienceApplication:
        self._live.runner.start()
        return self

    def close(self) -> None:
        with self._lock:
            generations = [g for g in (self._rebuild, self._live) if g is not None]
            retired, self._retired = list(self._retired.values()), {}
        for old, timer in retired:
            timer.cancel()
            _drop(old, self.views_url, self.settings.views_schema)
        for generation in generations:
            generation.runner.stop()
            generation.view.close()
        self._pointer.close()

    def _open(self, number: int, *, fresh: bool = False) -> _Generation:
        url, schema = generation_url(self.views_url, number, self.settings.views_schema)
        view = ExperienceView(url, pg_schema=schema)
        if fresh:
            view.reset()
        runner = ProjectionRunner(
            ExperienceProjection(view, default_region=self.settings.default_region),
            self.readers,
            poll_interval=self.settings.poll_interval,
            batch_size=self.settings.batch_size,
            name=f"experience-g{number}",
        )
        runner.on_applied(self._bump)
        return _Generation(number, view, runner)

    def _bump(self) -> None:
        with self._changed:
            self._changes += 1
            self._changed.notify_all()

    # ------------------------------------------------------------------------------------------ freshness

    @property
    def view(self) -> ExperienceView:
        return self._live.view

    @property
    def runner(self) -> ProjectionRunner:
        return self._live.runner

    @property
    def healthy(self) -> bool:
        return self._live.runner.healthy

    def applied(self) -> dict[str, int]:
        """The applied position of each upstream role."""
        positions = self._live.runner.positions
        return {role: positions[self.apps[role]] for role in ROLES}

    def wait(self, min_positions: Sequence[tuple[str, int]], timeout: float = MAX_WAIT_SECONDS) -> None:
        """Block until the views reflect ``(role, sequence)`` positions; Unavailable after ``timeout``."""
        wanted: dict[str, int] = {}
        for index, (role, sequence) in enumerate(min_positions):
            if role not in self.apps:
                raise InvalidArgument.field(f"min_positions[{index}].upstream", f"one of {', '.join(ROLES)}")
            wanted[self.apps[role]] = max(wanted.get(self.apps[role], 0), sequence)
        if wanted:
            self._live.runner.wait(wanted, timeout=min(timeout, MAX_WAIT_SECONDS))

    def changes(self) -> int:
        """A counter that moves each time the views commit (for watchers)."""
        return self._changes

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until the views commit after ``seen`` changes, or ``timeout``; return the current counter."""
        with self._changed:
            self._changed.wait_for(lambda: self._changes != seen, timeout=timeout)
            return self._changes

    def catch_up(self, timeout: float = 60.0) -> None:
        self._live.runner.catch_up(timeout)

    # ------------------------------------------------------------------------------------------ parties

    def resolve_party(
        self, party_id: str = "", identifier: tuple[str, str, str] | None = None, field_path: str = "party"
    ) -> str:
        """The live party of a party id or of any spelling of an identifier; NotFound when unknown."""
        view = self.view
        if identifier is not None:
            try:
                key = normalise(*identifier, self.settings.default_region).key
            except InvalidIdentifier as error:
                raise error.at(f"{field_path}.identifier") from None
            owner = view.owner_of(key)
            if owner is None:
                raise NotFound("identifier", identifier[0], f"no party holds this {identifier[0]} identifier")
            return view.live_party_id(owner) or owner
        live = view.live_party_id(party_id)
        if live is None:
            raise NotFound("party", party_id)
        return live

    def experience(self, party_id: str, at_us: int | None = None) -> dict[str, Any]:
        """The holistic experience of a live party (see ``chorus.experience.v1.Experience``)."""
        view = self.view
        now = now_us() if at_us is None else at_us
        party = view.party(party_id) or {
            "party_id": party_id,
            "kind": "",
            "display_name": "",
            "roles": "[]",
            "do_not_contact": 0,
            "preferred_channels": "[]",
        }
        merged = view.merged_into(party_id)
        claims = view.claims_of(party_id)
        rows = sorted(view.interactions_of(party_id), key=lambda r: (r["occurred_us"], r["touchpoint_id"]))
        inbound = [r for r in rows if r["direction"] == "inbound"]
        channels = Counter(r["channel"] for r in rows)
        scored = [r for r in inbound if r["sentiment_score"] is not None]
        earlier, recent, sentiment_trend = domain.split_trend(
            [r["sentiment_score"] for r in scored], domain.TREND_SENTIMENT_STEP
        )
        weeks: dict[int, list[float]] = {}
        for r in scored:
            weeks.setdefault(domain.week_start(r["occurred_us"]), []).append(r["sentiment_score"])
        degrees = [r for r in inbound if domain.degree_number(r["sociability"])]
        _, _, social_trend = domain.split_trend(
            [domain.degree_number(r["sociability"]) for r in degrees], domain.TREND_SOCIABILITY_STEP
        )
        degree_now = degrees[-1]["sociability"] if degrees else ""
        answered = sorted(r["response_seconds"] for r in inbound if r["answered"] and r["response_seconds"] is not None)
        public = [r for r in inbound if r["visibility"] == "public"]
        last_inbound = inbound[-1] if inbound else None
        negative = last_inbound is not None and (
            last_inbound["sentiment"] == "negative"
            or (last_inbound["intent"] == "complaint" and not last_inbound["answered"])
        )
        quiet_us = max(0, now - last_inbound["occurred_us"]) if last_inbound else 0
        threshold_us = self.settings.at_risk_after_seconds * US
        return {
            "party_id": party_id,
            "merged_party_ids": merged,
            "kind": party["kind"],
            "display_name": party["display_name"],
            "roles": json.loads(party["roles"]),
            "identifiers": [(c["id_type"], c["id_namespace"], c["id_value"]) for c in claims],
            "channels": [channel for channel, _ in sorted(channels.items(), key=lambda kv: (-kv[1], kv[0]))],
            "first_us": rows[0]["occurred_us"] if rows else None,
            "last_us": rows[-1]["occurred_us"] if rows else None,
            "interactions": len(rows),
            "by_channel": _counts(r["channel"] for r in rows),
            "by_kind": _counts(r["kind"] for r in rows),
            "by_intent": _counts(r["intent"] for r in rows if r["intent"]),
            "sentiment": {
                "points": [(week, sum(values) / len(values), len(values)) for week, values in sorted(weeks.items())],
                "earlier_mean": earlier,
                "recent_mean": recent,
                "trend": sentiment_trend,
            },
            "awaiting": [
                {
                    "touchpoint_id": r["touchpoint_id"],
                    "channel": r["channel"],
                    "intent": r["intent"],
                    "occurred_us": r["occurred_us"],
                    "waiting_us": max(0, now - r["occurred_us"]),
                }
                for r in inbound
                if r["needs_reply"] and not r["answered"]
            ],
            "responses": {
                "answered": len(answered),
                "median_seconds": domain.percentile(answered, 0.5),
                "slowest_seconds": answered[-1] if answered else 0.0,
            },
            "sociability": {
                "now": degree_now,
                "trajectory": [(r["occurred_us"], r["sociability"]) for r in degrees],
                "trend": social_trend,
                "becoming_social": social_trend == "rising" and domain.degree_number(degree_now) >= 4,
            },
            "influence": {
                "score": round(sum(domain.influence_of(r["followers"]) for r in public), 6),
                "public_interactions": len(public),
                "max_followers": max((r["followers"] for r in public), default=0),
            },
            "contact": self._contact(party, merged),
            "at_risk": {
                "at_risk": negative and quiet_us > threshold_us,
                "last_inbound_us": last_inbound["occurred_us"] if last_inbound else None,
                "last_experience_negative": negative,
                "quiet_us": quiet_us,
                "threshold_us": threshold_us,
            },
            "talk": sum(1 for r in rows if r["direction"] == "outbound"),
            "listen": len(inbound),
        }

    def _contact(self, party: Mapping[str, Any], merged: Sequence[str]) -> dict[str, Any]:
        view = self.view
        records = [party] + [view.party(p) or {} for p in merged]
        newest: dict[str, dict[str, Any]] = {}
        for consent in view.consents([party["party_id"], *merged]):
            known = newest.get(consent["channel"])
            if known is None or (consent["at_us"], consent["party_id"]) > (known["at_us"], known["party_id"]):
                newest[consent["channel"]] = consent
        return {
            "do_not_contact": any(record.get("do_not_contact") for record in records),
            "consents": [newest[channel] for channel in sorted(newest)],
            "preferred_channels": json.loads(party["preferred_channels"]),
        }

    def timeline(
        self, party_id: str, only: InteractionFilter = ALL_INTERACTIONS, limit: int = 50
    ) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str, str]]]:
        """Up to ``limit + 1`` entries newest first (of those ``only`` lets through), and the identifiers their keys
        stand for."""
        view = self.view
        rows = view.interactions_of(party_id, only, limit=limit + 1)
        identifiers = {
            c["identifier_id"]: (c["id_type"], c["id_namespace"], c["id_value"]) for c in view.claims_of(party_id)
        }
        return rows, identifiers

    # ------------------------------------------------------------------------------------------ the company's view

    def attention(self, lens: str, channel: str = "", at_us: int | None = None) -> list[dict[str, Any]]:
        """Every open item, scored in ``lens`` with its parts, highest score first (ties: oldest first)."""
        if lens not in domain.LENS_WEIGHTS:
            raise domain.UnknownLens(lens)
        now = now_us() if at_us is None else at_us
        items = []
        for row in self.view.open_items(channel):
            waited = max(0, now - row["occurred_us"]) / US
            waiting = domain.Waiting(
                **pick(row, "channel", "intent", "visibility", "sociability", "sentiment_score"),
                followers=int(row["followers"]),
                waited_seconds=waited,
            )
            parts = domain.attention_parts(waiting, lens, self.settings.bars)
            items.append(
                {
                    **row,
                    "waited_seconds": waited,
                    "bar_seconds": domain.bar_of(row["channel"], self.settings.bars),
                    "score": domain.score(parts),
                    "parts": parts,
                }
            )
        items.sort(key=lambda item: (-item["score"], item["occurred_us"], item["touchpoint_id"]))
        return items

    def pulse(self, bucket: str, since_us: int, until_us: int, channel: str = "") -> list[dict[str, Any]]:
        """Per (bucket start, channel): volume, talk : listen, sentiment, response times, within-bar share."""
        length, offset = domain.BUCKETS_US[bucket]
        view = self.view
        responses: dict[tuple[int, str], list[float]] = {}
        for row in view.bucketed("responses", since_us, until_us, length, offset, channel):
            responses.setdefault((int(row["bucket"]), row["channel"]), []).append(float(row["response_seconds"]))
        out = []
        for row in view.bucketed("pulse", since_us, until_us, length, offset, channel):
            key = (int(row["bucket"]), row["channel"])
            times = sorted(responses.get(key, []))
            bar = domain.bar_of(row["channel"], self.settings.bars)
            volume, inbound, outbound = int(row["volume"]), int(row["inbound"] or 0), int(row["outbound"] or 0)
            count = int(row["sentiment_count"] or 0)
            out.append(
                {
                    "start_us": key[0],
                    "channel": key[1],
                    "volume": volume,
                    "inbound": inbound,
                    "outbound": outbound,
                    "mean_sentiment": float(row["sentiment_sum"] or 0) / count if count else 0.0,
                    "talk_share": outbound / (inbound + outbound) if inbound + outbound else 0.0,
                    "response_p50": domain.percentile(times, 0.5),
                    "response_p90": domain.percentile(times, 0.9),
                    "answered": len(times),
                    "within_bar_share": sum(1 for t in times if t <= bar) / len(times) if times else 0.0,
                    "non_touchpoint_share": int(row["non_touchpoints"] or 0) / volume if volume else 0.0,
                }
            )
        return out

    def suggestions(self, since_us: int, until_us: int, min_parties: int) -> list[dict[str, Any]]:
        """Suggestion groups (``domain.group_suggestions``) with distinct parties, counts and trend."""
        rows = [r for r in self.view.suggestions(since_us) if r["occurred_us"] < until_us]
        middle = since_us + (until_us - since_us) // 2
        groups = domain.group_suggestions((r["touchpoint_id"], r["occurred_us"], r["author"], r["text"]) for r in rows)
        out: list[dict[str, Any]] = []
        for group in groups:
            if len(group.authors) < max(1, min_parties):
                continue
            recent = sum(1 for _, us, _ in group.members if us >= middle)
            earlier = len(group.members) - recent
            trend = "rising" if recent > earlier else "falling" if recent < earlier else "steady"
            newest = sorted(group.members, key=lambda m: (m[1], m[0]), reverse=True)
            out.append(
                {
                    "topic": group.topic,
                    "suggestions": len(group.members),
                    "parties": len(group.authors),
                    "recent": recent,
                    "earlier": earlier,
                    "trend": trend,
                    "examples": [touchpoint_id for touchpoint_id, _, _ in newest[:5]],
                }
            )
        out.sort(key=lambda g: (-g["parties"], -g["suggestions"], g["topic"]))
        return out

    def communities(self, min_parties: int) -> list[dict[str, Any]]:
        """Threads with at least ``min_parties`` participants, and identity's communities, most parties first."""
        view = self.view
        threads: dict[str, list[dict[str, Any]]] = {}
        for row in view.thread_participants():
            threads.setdefault(row["thread_id"], []).append(row)
        out: list[dict[str, Any]] = []
        for thread_id, participants in threads.items():
            if len(participants) < min_parties:
                continue
            participants.sort(key=lambda p: (-int(p["interactions"]), p["who"]))
            out.append(
                {
                    "source": "thread",
                    "id": thread_id,
                    "display_name": "",
                    "parties": len(participants),
                    "interactions": sum(int(p["interactions"]) for p in participants),
                    "last_us": max(int(p["last_us"]) for p in participants),
                    "members": [(p["who"], int(p["interactions"]), int(p["last_us"])) for p in participants],
                }
            )
        by_community: dict[str, dict[str, Any]] = {}
        for row in view.communities():
            community = by_community.setdefault(
                row["party_id"],
                {
                    "source": "identity",
                    "id": row["party_id"],
                    "display_name": row["display_name"],
                    "members": [],
                },
            )
            if row["member_id"]:
                interactions, last_us = view.activity_of(row["member_id"])
                community["members"].append((row["member_id"], interactions, int(last_us or 0)))
        for community in by_community.values():
            members = sorted(community["members"], key=lambda m: (-m[1], m[0]))
            out.append(
                {
                    **community,
                    "members": members,
                    "parties": len(members),
                    "interactions": sum(m[1] for m in members),
                    "last_us": max((m[2] for m in members), default=0),
                }
            )
        out.sort(key=lambda c: (-c["parties"], -c["interactions"], c["source"], c["id"]))
        return out

    # ------------------------------------------------------------------------------------------ operations

    def rebuild(self) -> tuple[int, bool]:
        """Start building fresh views from sequence 1 beside the live ones; (generation, whether it started now)."""
        with self._lock:
            if self._rebuild is not None:
                return self._rebuild.number, False
            building = self._open(self._live.number + 1, fresh=True)
            self._rebuild = building
        building.runner.on_applied(lambda: None)
        targets = {reader.upstream: reader.last_sequence() for reader in self.readers}
        building.runner.start()
        threading.Thread(
            target=self._finish_rebuild, args=(building, targets), name="experience-rebuild", daemon=True
        ).start()
        log.info("experience.rebuild_started", generation=building.number)
        return building.number, True

    def _finish_rebuild(self, building: _Generation, targets: Mapping[str, int]) -> None:
        while True:
            try:
                building.runner.wait(targets, timeout=3600)
                break
            except Unavailable:
                if building.runner.error is None and not building.runner.healthy:
                    return  # stopped (the service is closing)
        with self._lock:
            old, self._live, self._rebuild = self._live, building, None
            self._pointer.set(building.number)
        old.runner.stop()
        self._retire(old)
        self._bump()
        log.info("experience.rebuild_finished", generation=building.number, replaced=old.number)

    def _retire(self, old: _Generation) -> None:
        """Drop a replaced generation once the reads that began on it have had time to finish."""
        timer = threading.Timer(RETIRE_AFTER_SECONDS, self._drop_retired, args=(old,))
        timer.daemon = True
        with self._lock:
            self._retired[old.number] = (old, timer)
        timer.start()

    def _drop_retired(self, old: _Generation) -> None:
        with self._lock:
            if self._retired.pop(old.number, None) is None:
                return
        _drop(old, self.views_url, self.settings.views_schema)

    def status(self) -> dict[str, Any]:
        live, rebuild = self._live, self._rebuild

        def upstreams(runner: ProjectionRunner) -> list[tuple[str, int, int]]:
            lag = runner.lag()
            return [(role, runner.positions[self.apps[role]], lag[self.apps[role]]) for role in ROLES]

        return {
            "generation": live.number,
            "healthy": live.runner.healthy,
            "upstreams": upstreams(live.runner),
            "quarantined": live.view.quarantine_count(),
            "rebuilding_generation": rebuild.number if rebuild else 0,
            "rebuild_upstreams": upstreams(rebuild.runner) if rebuild else [],
        }

    def quarantine(self, after: tuple[str, int], limit: int) -> list[dict[str, Any]]:
        roles = {app: role for role, app in self.apps.items()}
        rows = self.view.quarantined(after=(self.apps.get(after[0], after[0]), after[1]), limit=limit)
        return [{**row, "upstream": roles.get(row["upstream"], row["upstream"])} for row in rows]


def _counts(words: Any) -> list[tuple[str, int]]:
    return sorted(Counter(words).items(), key=lambda kv: (-kv[1], kv[0]))


def _drop(generation: _Generation, views_url: str, schema: str | None) -> None:
    """Free what a replaced generation held: its tables (generation 1) or its file or schema."""
    view = generation.view
    url, generation_schema = generation_url(views_url, generation.number, schema)
    try:
        view.reset()
        if view.dialect == POSTGRESQL and generation.number > 1 and generation_schema:
            with view.transaction(None) as cur:
                cur.execute(f'DROP SCHEMA IF EXISTS "{generation_schema}" CASCADE')
        view.close()
        if generation.number > 1 and url.startswith("sqlite:///") and ":memory:" not in url:
            path = Path(url.removeprefix("sqlite:///"))
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
    except ChorusError as error:
        log.warning("experience.drop_failed", generation=generation.number, error_type=type(error).__name__)

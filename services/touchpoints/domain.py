"""Touchpoints: every recorded interaction, its threading, and later corrections — as events.

A :class:`Touchpoint` is immutable once recorded except for two things that add to it, never rewrite it:
``Reclassified`` (a person or a rule corrects an inferred or given value, with reason and actor) and
``ReplyLinked`` (the touchpoint it replies to has been recorded; the link carries what response time needs).

Identity is idempotency. A touchpoint's id is derived from its source system and external id (UUIDv5 in
:data:`TOUCHPOINT_NAMESPACE`), or supplied by the client; recording the same id again cannot create a second
aggregate (the event store refuses a second version 1), for ever — not only within the broker's dedup window.

Actors are recorded as the source spelled them (an :class:`~services.common.identifiers.Identifier`, not its
normal form): the record is evidence and keeps what was seen. Lists and counts of parties go by
:func:`actor_key`, the key of the actor's normal form, so every spelling of one identifier is one actor. An
actor that has no normal form (a national phone number without a configured default region, an e-mail address
that is not one) is still recorded — refusing it would lose the interaction — and is keyed by its raw spelling,
which can never equal the key of a normal form. A control character inside an actor's value is refused, as it
is for every identifier everywhere (``services.common.identifiers``).

Values are the lower-case names of the ``chorus.common.v1`` enums (``"email"``, ``"inbound"``); ``""`` is
unspecified. This module imports the standard library, ``eventsourcing.domain`` and the kernel's identifiers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NotRequired, TypedDict, Unpack
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.common.identifiers import IDENTIFIER_TYPES, Identifier, InvalidIdentifier, has_refused_characters
from services.common.records import made_of, pick

TOUCHPOINT_NAMESPACE = UUID("6f1c2b8e-4a8d-5d7e-9c3b-2f6e1a0d9b47")
"""Namespace of touchpoint ids derived from (source system, external id). Never change it: ids are for ever."""

KINDS = frozenset({"touchpoint", "non_touchpoint"})
CHANNELS = frozenset(
    {
        "phone",
        "email",
        "chat",
        "sms",
        "x",
        "facebook",
        "instagram",
        "youtube",
        "forum",
        "blog",
        "marketplace",
        "store",
        "web",
        "in_app",
        "other",
    }
)
DIRECTIONS = frozenset({"inbound", "outbound"})
VISIBILITIES = frozenset({"public", "private"})
INTENTS = frozenset({"question", "complaint", "praise", "suggestion", "purchase", "other"})
SOCIABILITY_DEGREES = frozenset({"monologue", "venting", "skewed", "social_pressure", "objective", "community"})
BUSINESS_SOCIABILITY_DEGREES = frozenset(
    {
        "broadcast",
        "broadcast_with_bait",
        "pretending",
        "blogging",
        "fan_page",
        "community",
    }
)
COMPANY_FUNCTIONS = frozenset({"service", "marketing", "pr", "sales", "product"})
SENTIMENT_LABELS = frozenset({"positive", "neutral", "negative"})

RECLASSIFIABLE: Mapping[str, frozenset[str]] = {
    "intent": INTENTS,
    "sentiment": SENTIMENT_LABELS,
    "sociability_degree": SOCIABILITY_DEGREES,
    "business_sociability_degree": BUSINESS_SOCIABILITY_DEGREES,
    "company_function": COMPANY_FUNCTIONS,
    "kind": KINDS,
}
"""Fields a ``Reclassified`` event may correct, and the values each accepts (``""`` clears a field except kind)."""

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
"""A sentiment score's label (VADER's documented thresholds): ``>= 0.05`` positive, ``<= -0.05`` negative."""

MIN_RATING, MAX_RATING = 1, 5
"""A review's star rating, worst to best."""

MAX_ACTORS = 20
MAX_TAGS = 50
MAX_IDENTIFIER_CHARS = 500


class TouchpointError(Exception):
    """Root of the errors of the touchpoints domain."""


@dataclass(frozen=True)
class Violation:
    """One bad value of a touchpoint to record and what is wrong with it.

    ``subject`` is the draft's own word for it (a :class:`TouchpointDraft` field such as ``occurred_at`` or
    ``reply_to_source_system``; ``actor_type``, ``actor_value``, ``actor_namespace`` and ``tag`` for one actor's or
    one tag's, ``reply_to_source`` for the pair of the reply's source system and external id); ``item`` is which
    actor or tag, counted from 0. It is never an API field path: the servicer translates it.
    """

    subject: str
    description: str
    item: int | None = None


class InvalidTouchpoint(TouchpointError):
    """The touchpoint cannot be recorded as given; ``violations`` name each bad value."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__(
            "; ".join(f"{v.subject}{'' if v.item is None else f' {v.item}'}: {v.description}" for v in self.violations)
        )


class InvalidReclassification(TouchpointError):
    """A reclassification names a field that cannot be corrected, a value it does not take, or no reason.

    ``subject`` is the domain's word for what is wrong: ``field``, ``value``, ``reason``, ``actor`` or
    ``sentiment_score``.
    """

    def __init__(self, subject: str, description: str) -> None:
        self.subject = subject
        self.description = description
        super().__init__(f"{subject}: {description}")


class NotAReplyToThat(TouchpointError):
    """A reply link names a parent other than the one the reply was recorded with."""


def sentiment_label(score: float) -> str:
    """The label a sentiment score carries: ``>= 0.05`` positive, ``<= -0.05`` negative, else neutral."""
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def score_for_label(label: str, score: float) -> float:
    """The score nearest ``score`` that carries ``label``: ``score`` itself when it already does.

    >>> score_for_label("negative", 0.51), score_for_label("neutral", -0.7), score_for_label("positive", 0.8)
    (-0.05, 0.0, 0.8)
    """
    if sentiment_label(score) == label:
        return score
    return {"positive": POSITIVE_THRESHOLD, "negative": NEGATIVE_THRESHOLD}.get(label, 0.0)


def normalise_source(source_system: str) -> str:
    """Source systems compare case-insensitively: ``" Zendesk "`` and ``"zendesk"`` are one system."""
    return source_system.strip().lower()


def touchpoint_id_for(source_system: str, external_id: str) -> UUID:
    """The id of the touchpoint with ``external_id`` in ``source_system``: the same inputs, the same id, always.

    >>> touchpoint_id_for("Zendesk", "T-1") == touchpoint_id_for("zendesk", "T-1")
    True
    """
    name = f"{normalise_source(source_system)}\n{external_id}".encode()
    digest = int.from_bytes(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    return UUID(int=digest & _UUID5_KEPT | _UUID5_SET)  # uuid.uuid5's UUID, without its per-call work


_NAMESPACE_BYTES = TOUCHPOINT_NAMESPACE.bytes
_UUID5_KEPT = ~((0xF000 << 64) | (0xC000 << 48)) & (2**128 - 1)  # all but the version and variant bits
_UUID5_SET = (5 << 76) | (0x8000 << 48)  # version 5, RFC 4122 variant


def actor_key(actor: Identifier, default_region: str | None) -> str:
    """The key touchpoints are listed and parties counted by: the key of the actor's normal form, or of its raw
    spelling when it has none (see the module docstring).

    >>> actor_key(Identifier("x", "", "@JaneSmithTweets"), None) == actor_key(Identifier("x", "", "janesmithtweets"), None)
    True
    """
    try:
        return actor.normal(default_region).key
    except InvalidIdentifier:
        return actor.key


def actor_as_dict(actor: Identifier) -> dict[str, str]:
    return {"type": actor.type, "value": actor.value, "namespace": actor.namespace}


def actor_from_dict(data: Mapping[str, Any]) -> Identifier:
    return Identifier(
        type=str(data.get("type", "")), namespace=str(data.get("namespace", "")), value=str(data.get("value", ""))
    )


@dataclass(frozen=True)
class TouchpointDraft:
    """What a caller asks to record, before it has an id or enrichment. Checked by :meth:`check`."""

    kind: str
    channel: str
    direction: str
    visibility: str
    occurred_at: datetime | None
    actors: tuple[Identifier, ...]
    touchpoint_id: str = ""
    source_system: str = ""
    external_id: str = ""
    external_url: str = ""
    followers: int = 0
    recipients: int = 0
    text: str = ""
    language: str = ""
    reply_to_id: str = ""
    reply_to_source_system: str = ""
    reply_to_external_id: str = ""
    thread_id: str = ""
    intent: str = ""
    sentiment_label: str = ""
    sentiment_score: float | None = None
    sociability_degree: str = ""
    business_sociability_degree: str = ""
    company_function: str = ""
    tags: tuple[str, ...] = ()
    rating: int | None = None
    """A review's star rating, 1 (worst) to 5 (best)."""

    def resolved_id(self) -> UUID:
        """The touchpoint's id: derived from (source system, external id) when both are given, else the client's."""
        known = self.__dict__.get("_resolved_id")
        if known is None:
            if self.source_system and self.external_id:
                known = touchpoint_id_for(self.source_system, self.external_id)
            else:
                known = UUID(self.touchpoint_id)
            object.__setattr__(self, "_resolved_id", known)  # a cache, not a field: eq and repr ignore it
        return known

    def resolved_reply_to(self) -> UUID | None:
        """The id of the touchpoint this one replies to, if any (derived the same way as touchpoint ids)."""
        if "_resolved_reply_to" in self.__dict__:
            return self.__dict__["_resolved_reply_to"]  # type: ignore[no-any-return]
        known: UUID | None = None
        if self.reply_to_source_system and self.reply_to_external_id:
            known = touchpoint_id_for(self.reply_to_source_system, self.reply_to_external_id)
        elif self.reply_to_id:
            known = UUID(self.reply_to_id)
        object.__setattr__(self, "_resolved_reply_to", known)
        return known

    def check(self, now: datetime, max_future_skew: timedelta, max_content_bytes: int) -> TouchpointDraft:
        """Return the draft when it can be recorded; raise :class:`InvalidTouchpoint` naming every bad field."""
        problems = list(self._problems(now, max_future_skew, max_content_bytes))
        if problems:
            raise InvalidTouchpoint(problems)
        return self

    def _problems(self, now: datetime, max_future_skew: timedelta, max_content_bytes: int) -> Sequence[Violation]:
        out: list[Violation] = []

        def bad(name: str, description: str, item: int | None = None) -> None:
            out.append(Violation(name, description, item))

        for name, value, allowed, required in (
            ("kind", self.kind, KINDS, True),
            ("channel", self.channel, CHANNELS, True),
            ("direction", self.direction, DIRECTIONS, True),
            ("visibility", self.visibility, VISIBILITIES, True),
            ("intent", self.intent, INTENTS, False),
            ("sentiment_label", self.sentiment_label, SENTIMENT_LABELS, False),
            ("sociability_degree", self.sociability_degree, SOCIABILITY_DEGREES, False),
            ("business_sociability_degree", self.business_sociability_degree, BUSINESS_SOCIABILITY_DEGREES, False),
            ("company_function", self.company_function, COMPANY_FUNCTIONS, False),
        ):
            if not value:
                if required:
                    bad(name, "is required")
            elif value not in allowed:
                bad(name, f"is not a known {name.removesuffix('_label').replace('_', ' ')}")

        if self.occurred_at is None:
            bad("occurred_at", "is required")
        elif self.occurred_at.tzinfo is None:
            bad("occurred_at", "must carry a time zone")
        elif self.occurred_at > now + max_future_skew:
            bad("occurred_at", f"is more than {max_future_skew.total_seconds():g} seconds in the future")

        if not self.actors:
            bad("actors", "at least one actor identifier is required")
        elif len(self.actors) > MAX_ACTORS:
            bad("actors", f"must have at most {MAX_ACTORS} items")
        for index, actor in enumerate(self.actors):
            if actor.type not in IDENTIFIER_TYPES:
                bad("actor_type", "is not a known identifier type", index)
            if not actor.value.strip():
                bad("actor_value", "is required", index)
            elif has_refused_characters(actor.value):
                bad("actor_value", "must not contain control characters or line breaks", index)
            if has_refused_characters(actor.namespace):
                bad("actor_namespace", "must not contain control characters or line breaks", index)
            if actor.type == "other" and not actor.namespace:
                bad("actor_namespace", "is required for identifier type other", index)

        own_id: UUID | None = None
        if self.touchpoint_id:
            try:
                own_id = UUID(self.touchpoint_id)
            except ValueError:
                bad("touchpoint_id", "must be a UUID")
        if bool(self.source_system) != bool(self.external_id):
            bad(
                "external_id" if self.source_system else "source_system",
                "source system and external id are given together",
            )
        elif self.source_system and self.external_id:
            derived = self.resolved_id()
            if own_id is not None and own_id != derived:
                bad("touchpoint_id", "differs from the id derived from source system and external id")
            own_id = derived
        elif not self.touchpoint_id:
            bad("touchpoint_id", "give a touchpoint_id or a source system and external id (idempotency key)")

        if bool(self.reply_to_source_system) != bool(self.reply_to_external_id):
            bad("reply_to_source", "system and external id are given together")
        reply_to: UUID | None = None
        try:
            reply_to = self.resolved_reply_to()
        except ValueError:
            bad("reply_to_id", "must be a UUID")
        if reply_to is not None and own_id is not None and reply_to == own_id:
            bad("reply_to", "a touchpoint cannot reply to itself")

        if len(self.text.encode("utf-8")) > max_content_bytes:
            bad("text", f"must be at most {max_content_bytes} bytes in UTF-8")
        if self.followers < 0:
            bad("followers", "must not be negative")
        if self.recipients < 0:
            bad("recipients", "must not be negative")
        if self.sentiment_score is not None and not -1.0 <= self.sentiment_score <= 1.0:
            bad("sentiment_score", "must be between -1 and 1")
        if self.rating is not None and not MIN_RATING <= self.rating <= MAX_RATING:
            bad("rating", f"must be between {MIN_RATING} and {MAX_RATING}")
        if len(self.tags) > MAX_TAGS:
            bad("tags", f"must have at most {MAX_TAGS} items")
        for name, item, value, limit in (
            ("source_system", None, self.source_system, 100),
            ("external_id", None, self.external_id, 500),
            ("external_url", None, self.external_url, 2000),
            ("language", None, self.language, 35),
            ("thread_id", None, self.thread_id, 500),
            ("reply_to_source_system", None, self.reply_to_source_system, 100),
            ("reply_to_external_id", None, self.reply_to_external_id, 500),
            *(("actor_value", i, actor.value, MAX_IDENTIFIER_CHARS) for i, actor in enumerate(self.actors)),
            *(("actor_namespace", i, actor.namespace, 200) for i, actor in enumerate(self.actors)),
            *(("tag", i, tag, 100) for i, tag in enumerate(self.tags)),
        ):
            if len(value) > limit:
                bad(name, f"must be at most {limit} characters long", item)
        return out


@dataclass(frozen=True)
class ReplyLink:
    """A reply's link to the touchpoint it answers, and how long the answer took."""

    parent_id: UUID
    parent_occurred_at: datetime
    parent_direction: str
    response_seconds: float


@dataclass(frozen=True)
class Reclassification:
    """One correction of a recorded value."""

    field: str
    value: str
    previous_value: str
    reason: str
    actor: str
    at: datetime


class Enrichment(TypedDict):
    """What enrichment adds to a draft when it is recorded (``Touchpoint.record``'s keyword arguments)."""

    intent: str
    sentiment_label: str
    sentiment_score: float | None
    sociability_degree: str
    business_sociability_degree: str
    inferred: NotRequired[Sequence[str]]


class Touchpoint(Aggregate):
    """One interaction, touch or non-touch, recorded once and for ever under its id."""

    class Recorded(Aggregate.Created):
        """A touchpoint was recorded. Values Chorus inferred are named in ``inferred``."""

        kind: str
        channel: str
        direction: str
        visibility: str
        occurred_at: datetime
        source_system: str
        external_id: str
        external_url: str
        actors: tuple[dict[str, str], ...]
        followers: int
        recipients: int
        text: str
        language: str
        reply_to_id: str
        reply_to_source_system: str
        reply_to_external_id: str
        thread_id: str
        intent: str
        sentiment_label: str
        sentiment_score: float
        sociability_degree: str
        business_sociability_degree: str
        company_function: str
        tags: tuple[str, ...]
        inferred: tuple[str, ...]
        rating: int
        """1-5; 0 when the touchpoint carries no rating."""

        def apply(self, aggregate: Touchpoint) -> None:
            aggregate._apply_recorded(self)

    class Reclassified(Aggregate.Event):
        """A recorded value was corrected; the correction is asserted, no longer inferred."""

        field: str
        value: str
        previous_value: str
        sentiment_score: float
        reason: str
        actor: str

        def apply(self, aggregate: Touchpoint) -> None:
            aggregate._apply_reclassified(self)

    class Classified(Aggregate.Event):
        """A model classified the text; the values it sets stay inferred (see :meth:`Touchpoint.classify`)."""

        intent: str
        """The intent it sets; ``""`` when it sets none."""
        sentiment_label: str
        """The sentiment label it sets; ``""`` when it sets none."""
        sentiment_score: float
        intent_confidence: float
        model: str
        model_version: str

        def apply(self, aggregate: Touchpoint) -> None:
            if self.intent:
                aggregate.intent = self.intent
            if self.sentiment_label:
                aggregate.sentiment_label = self.sentiment_label
                aggregate.sentiment_score = self.sentiment_score
            aggregate.classified_by = (*aggregate.classified_by, f"{self.model}/{self.model_version}")

    class ReplyLinked(Aggregate.Event):
        """The touchpoint this one replies to is recorded: here is what response time needs from it."""

        parent_id: UUID
        parent_occurred_at: datetime
        parent_direction: str
        parent_thread_id: str
        response_seconds: float

        def apply(self, aggregate: Touchpoint) -> None:
            aggregate.reply_link = ReplyLink(
                parent_id=self.parent_id,
                parent_occurred_at=self.parent_occurred_at,
                parent_direction=self.parent_direction,
                response_seconds=self.response_seconds,
            )
            if not aggregate.thread_id and self.parent_thread_id:
                aggregate.thread_id = self.parent_thread_id

    def __init__(self) -> None:
        """State is set by :class:`Recorded` (see :meth:`record`)."""

    @classmethod
    def record(cls, draft: TouchpointDraft, **enrichment: Unpack[Enrichment]) -> Touchpoint:
        """A new touchpoint from a checked draft and its enrichment (see ``enrichment.enrich``)."""
        return cls._create(cls.Recorded, id=draft.resolved_id(), **_recorded_fields(draft, **enrichment))

    @classmethod
    def recorded_event(cls, draft: TouchpointDraft, **enrichment: Unpack[Enrichment]) -> Touchpoint.Recorded:
        """The ``Recorded`` event :meth:`record` would make, without building the aggregate (for bulk ingest,
        which saves the new touchpoints' first events and never looks at the aggregates)."""
        return made_of(
            cls.Recorded,
            {
                "originator_id": draft.resolved_id(),  # a UUID: what DomainEvent.__post_init__ checks
                "originator_version": cls.INITIAL_VERSION,
                "timestamp": cls.Recorded.create_timestamp(),
                "originator_topic": _TOUCHPOINT_TOPIC,
                **_recorded_fields(draft, **enrichment),
            },
        )

    def _apply_recorded(self, event: Touchpoint.Recorded) -> None:
        self.kind = event.kind
        self.channel = event.channel
        self.direction = event.direction
        self.visibility = event.visibility
        self.occurred_at = event.occurred_at
        self.recorded_at = event.timestamp
        self.source_system = event.source_system
        self.external_id = event.external_id
        self.external_url = event.external_url
        self.actors = tuple(actor_from_dict(actor) for actor in event.actors)
        self.followers = event.followers
        self.recipients = event.recipients
        self.text = event.text
        self.language = event.language
        self.reply_to_id = UUID(event.reply_to_id) if event.reply_to_id else None
        self.reply_to_source_system = event.reply_to_source_system
        self.reply_to_external_id = event.reply_to_external_id
        self.thread_id = event.thread_id
        self.intent = event.intent
        self.sentiment_label = event.sentiment_label
        self.sentiment_score = event.sentiment_score
        self.sociability_degree = event.sociability_degree
        self.business_sociability_degree = event.business_sociability_degree
        self.company_function = event.company_function
        self.tags = tuple(event.tags)
        self.inferred = frozenset(event.inferred)
        self.rating: int | None = event.rating or None
        self.reply_link: ReplyLink | None = None
        self.reclassifications: tuple[Reclassification, ...] = ()
        self.classified_by: tuple[str, ...] = ()  # "model/version" of each model that classified it

    def reclassify(self, field: str, value: str, reason: str, actor: str, sentiment_score: float | None = None) -> bool:
        """Correct ``field`` to ``value``; return False (and record nothing) when it already holds that value
        as an asserted (not inferred) value. A sentiment correction leaves a label and a score that agree (see
        :func:`_consistent_sentiment`)."""
        allowed = RECLASSIFIABLE.get(field)
        if allowed is None:
            raise InvalidReclassification(
                "field", f"{field!r} cannot be reclassified; one of {', '.join(sorted(RECLASSIFIABLE))}"
            )
        if value not in allowed and not (value == "" and field != "kind"):
            raise InvalidReclassification("value", f"is not a known {field.replace('_', ' ')}")
        if not reason.strip():
            raise InvalidReclassification("reason", "is required")
        if not actor.strip():
            raise InvalidReclassification("actor", "is required")
        if sentiment_score is not None and (field != "sentiment" or not -1.0 <= sentiment_score <= 1.0):
            raise InvalidReclassification("sentiment_score", "only for sentiment, between -1 and 1")
        score = self.sentiment_score
        if field == "sentiment":
            value, score = _consistent_sentiment(value, sentiment_score, self.sentiment_score)
        previous = self.current_value(field)
        if previous == value and score == self.sentiment_score and field not in self.inferred:
            return False
        self.trigger_event(
            self.Reclassified,
            field=field,
            value=value,
            previous_value=previous,
            sentiment_score=float(score),
            reason=reason,
            actor=actor,
        )
        return True

    def classify(
        self,
        *,
        intent: str,
        sentiment_label: str,
        sentiment_score: float,
        intent_confidence: float,
        model: str,
        model_version: str,
    ) -> bool:
        """Record a model's values for those of intent and sentiment that are still inferred (a value the caller
        gave or a person corrected is never touched); return False (and record nothing) when neither is, or when
        this model version has classified the touchpoint already. The score is made to carry the label
        (:func:`score_for_label`)."""
        if f"{model}/{model_version}" in self.classified_by:
            return False
        if intent and intent not in INTENTS:
            raise InvalidReclassification("intent", "is not a known intent")
        if sentiment_label and sentiment_label not in SENTIMENT_LABELS:
            raise InvalidReclassification("sentiment", "is not a known sentiment")
        intent = intent if "intent" in self.inferred else ""
        sentiment_label = sentiment_label if "sentiment" in self.inferred else ""
        if not intent and not sentiment_label:
            return False
        score = score_for_label(sentiment_label, max(-1.0, min(1.0, sentiment_score))) if sentiment_label else 0.0
        self.trigger_event(
            self.Classified,
            intent=intent,
            sentiment_label=sentiment_label,
            sentiment_score=float(score),
            intent_confidence=float(intent_confidence),
            model=model,
            model_version=model_version,
        )
        return True

    def current_value(self, field: str) -> str:
        return str(self.sentiment_label if field == "sentiment" else getattr(self, field))

    def _apply_reclassified(self, event: Touchpoint.Reclassified) -> None:
        if event.field == "sentiment":
            self.sentiment_label = event.value
            self.sentiment_score = event.sentiment_score
        else:
            setattr(self, event.field, event.value)
        self.inferred = self.inferred - {event.field}
        self.reclassifications = (
            *self.reclassifications,
            Reclassification(**pick(event, "field", "value", "previous_value", "reason", "actor"), at=event.timestamp),
        )

    def link_to_parent(self, parent: ParentFacts) -> bool:
        """Link this reply to its parent; return False when it is already linked (links are made once)."""
        if self.reply_to_id != parent.touchpoint_id:
            raise NotAReplyToThat(f"touchpoint {self.id} replies to {self.reply_to_id}, not {parent.touchpoint_id}")
        if self.reply_link is not None:
            return False
        self.trigger_event(
            self.ReplyLinked,
            parent_id=parent.touchpoint_id,
            parent_occurred_at=parent.occurred_at,
            parent_direction=parent.direction,
            parent_thread_id=parent.thread_id,
            response_seconds=response_seconds(parent.occurred_at, self.occurred_at),
        )
        return True

    @property
    def is_reply(self) -> bool:
        return self.reply_to_id is not None


def _consistent_sentiment(label: str, score: float | None, old_score: float) -> tuple[str, float]:
    """A corrected sentiment whose label and score agree.

    A score decides its label (a label given with it must be that label). A label alone keeps the old score when
    that carries the label, else takes the score nearest it that does (:func:`score_for_label`: -0.05, 0 or 0.05):
    the correction changes the direction, and claims no strength nobody gave. ``""`` clears both.
    """
    if score is not None:
        implied = sentiment_label(score)
        if label and label != implied:
            raise InvalidReclassification("sentiment_score", f"is {implied} by its value, not {label}")
        return implied, score
    if not label:
        return "", 0.0
    return label, score_for_label(label, old_score)


_TOUCHPOINT_TOPIC = f"{Touchpoint.__module__}:{Touchpoint.__qualname__}"


def _recorded_fields(
    draft: TouchpointDraft,
    *,
    intent: str,
    sentiment_label: str,
    sentiment_score: float | None,
    sociability_degree: str,
    business_sociability_degree: str,
    inferred: Sequence[str] = (),
) -> dict[str, Any]:
    reply_to = draft.resolved_reply_to()
    assert draft.occurred_at is not None  # guaranteed by TouchpointDraft.check
    return {
        "kind": draft.kind,
        "channel": draft.channel,
        "direction": draft.direction,
        "visibility": draft.visibility,
        "occurred_at": draft.occurred_at.astimezone(UTC),
        "source_system": normalise_source(draft.source_system),
        "external_id": draft.external_id,
        "external_url": draft.external_url,
        "actors": tuple(actor_as_dict(actor) for actor in draft.actors),
        "followers": draft.followers,
        "recipients": draft.recipients,
        "text": draft.text,
        "language": draft.language,
        "reply_to_id": str(reply_to) if reply_to else "",
        "reply_to_source_system": normalise_source(draft.reply_to_source_system),
        "reply_to_external_id": draft.reply_to_external_id,
        "thread_id": draft.thread_id,
        "intent": intent,
        "sentiment_label": sentiment_label,
        "sentiment_score": 0.0 if sentiment_score is None else float(sentiment_score),
        "sociability_degree": sociability_degree,
        "business_sociability_degree": business_sociability_degree,
        "company_function": draft.company_function,
        "tags": tuple(draft.tags),
        "inferred": tuple(sorted(inferred)),
        "rating": draft.rating or 0,
    }


@dataclass(frozen=True)
class ParentFacts:
    """What a reply needs to know about the touchpoint it answers."""

    touchpoint_id: UUID
    occurred_at: datetime
    direction: str
    thread_id: str = ""


def response_seconds(asked_at: datetime, answered_at: datetime) -> float:
    """Seconds from a touchpoint to its reply; negative when the source's clocks disagree (kept, not hidden)."""
    return (answered_at - asked_at).total_seconds()

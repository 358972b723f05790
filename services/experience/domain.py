"""What the experience views mean: lenses, expectation bars, the attention score, trends, influence, silence.

Pure functions over plain values (no I/O, no grpc, no generated code), so every rule here is tested alone.

**What needs a reply** (``needs_reply``): an inbound interaction whose intent is a question, a complaint or a
purchase request, unless its author spoke in monologue ("I said what I said, really not hoping for a
response"). Praise, suggestions and "other" stay out of the attention queue — keep the ordinary, ordinary — but
stay in timelines; suggestions are read as co-creation signals instead.

**The attention score** is the sum of six parts, each ``weight(lens) * value``:

==================  ==========================================================================================
part                value
==================  ==========================================================================================
``intent``          complaint 3, question 2, purchase 2 (the sales lens counts a purchase 3)
``waiting``         time waited / the channel's expectation bar, at most 5 (over 1: the bar was missed)
``social_pressure`` sociability degree above "skewed": social pressure 1, objective 2, community 3
``visibility``      1 when public, 0 when private
``sentiment``       how negative: -score when the score is below 0, else 0
``influence``       log10(1 + followers)
==================  ==========================================================================================

and the lenses weigh them (service ignores influence: "I need to solve their problem"):

=============  ======  =======  ======  ==========  =========  =========
lens           intent  waiting  social  visibility  sentiment  influence
=============  ======  =======  ======  ==========  =========  =========
``service``    1       1        1       1           1          0
``marketing``  0.5     0.5      1       1           1          1
``pr``         0.5     1        1.5     2           1.5        1.5
``sales``      1       1        0.5     0.5         0.5        0.5
``product``    1       0.5      0.5     0.5         1          0
=============  ======  =======  ======  ==========  =========  =========

**Expectation bars** (``DEFAULT_BARS``, overridden per channel by ``CHORUS_EXPERIENCE_BARS``) are Chorus's own
starting points, not a standard: the essays say only that "there is a bar, you need to get over it" and that the
social customer expects an instant response. Live channels (phone, chat) get 5 minutes, public social channels
and SMS an hour, e-mail, forums, the web and the app a day, blogs and marketplace reviews two days. Measure what
your customers expect and set them.

**At risk** (the silent unhappy): the newest inbound interaction was negative (a negative sentiment, or a
complaint nobody answered) and the party has been quiet for longer than ``CHORUS_EXPERIENCE_AT_RISK_AFTER``
(14 days by default): the average business never hears from most of its unhappy customers, and most of those
do not come back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from services.common.errors import ChorusError, InvalidArgument

LENSES = ("service", "marketing", "pr", "sales", "product")
PARTS = ("intent", "waiting", "social_pressure", "visibility", "sentiment", "influence")

LENS_WEIGHTS: Mapping[str, Mapping[str, float]] = {
    "service": {"intent": 1, "waiting": 1, "social_pressure": 1, "visibility": 1, "sentiment": 1, "influence": 0},
    "marketing": {"intent": 0.5, "waiting": 0.5, "social_pressure": 1, "visibility": 1, "sentiment": 1, "influence": 1},
    "pr": {"intent": 0.5, "waiting": 1, "social_pressure": 1.5, "visibility": 2, "sentiment": 1.5, "influence": 1.5},
    "sales": {"intent": 1, "waiting": 1, "social_pressure": 0.5, "visibility": 0.5, "sentiment": 0.5, "influence": 0.5},
    "product": {"intent": 1, "waiting": 0.5, "social_pressure": 0.5, "visibility": 0.5, "sentiment": 1, "influence": 0},
}
INTENT_VALUES: Mapping[str, float] = {"complaint": 3, "question": 2, "purchase": 2}
SALES_PURCHASE_VALUE = 3.0
MAX_WAITING_VALUE = 5.0
NEEDS_REPLY_INTENTS = frozenset(INTENT_VALUES)
SOCIABILITY_ORDER = ("monologue", "venting", "skewed", "social_pressure", "objective", "community")

MINUTE, HOUR, DAY = 60, 3600, 86_400
DEFAULT_BARS: Mapping[str, int] = {
    "phone": 5 * MINUTE,
    "chat": 5 * MINUTE,
    "in_app": DAY,
    "x": HOUR,
    "facebook": HOUR,
    "instagram": HOUR,
    "youtube": HOUR,
    "sms": HOUR,
    "email": DAY,
    "forum": DAY,
    "web": DAY,
    "store": DAY,
    "other": DAY,
    "blog": 2 * DAY,
    "marketplace": 2 * DAY,
}
DEFAULT_AT_RISK_AFTER = 14 * DAY
#: The talk share the essays advise: talk 25 : listen 75.
TALK_SHARE_GUIDANCE = 0.25
TREND_SENTIMENT_STEP = 0.1
TREND_SOCIABILITY_STEP = 1.0


class ExperienceError(ChorusError):
    """The root of the experience service's own errors."""


class UnknownLens(ExperienceError, InvalidArgument):
    def __init__(self, lens: str) -> None:
        super().__init__(f"unknown lens {lens!r}: one of {', '.join(LENSES)}")


def needs_reply(direction: str, intent: str, sociability: str) -> bool:
    """Whether an interaction waits for a company response (see the module docstring)."""
    return direction == "inbound" and intent in NEEDS_REPLY_INTENTS and sociability != "monologue"


def degree_number(degree: str) -> int:
    """1..6 for a sociability degree word, 0 when unknown."""
    return SOCIABILITY_ORDER.index(degree) + 1 if degree in SOCIABILITY_ORDER else 0


def influence_of(followers: int) -> float:
    return math.log10(1 + max(0, followers))


# ------------------------------------------------------------------------------------------ attention


@dataclass(frozen=True)
class ScorePart:
    name: str
    value: float
    weight: float
    explanation: str

    @property
    def contribution(self) -> float:
        return self.weight * self.value


@dataclass(frozen=True)
class Waiting:
    """An interaction that needs a reply, as the attention score sees it."""

    channel: str
    intent: str
    visibility: str
    sociability: str
    sentiment_score: float | None
    followers: int
    waited_seconds: float


def attention_parts(item: Waiting, lens: str, bars: Mapping[str, int]) -> list[ScorePart]:
    """The parts of ``item``'s score in ``lens``, in the order of :data:`PARTS`."""
    if lens not in LENS_WEIGHTS:
        raise UnknownLens(lens)
    weights = LENS_WEIGHTS[lens]
    intent = INTENT_VALUES.get(item.intent, 0.0)
    if lens == "sales" and item.intent == "purchase":
        intent = SALES_PURCHASE_VALUE
    bar = bar_of(item.channel, bars)
    waited = min(MAX_WAITING_VALUE, max(0.0, item.waited_seconds) / bar)
    social = float(max(0, degree_number(item.sociability) - 3))
    public = 1.0 if item.visibility == "public" else 0.0
    negative = max(0.0, -(item.sentiment_score or 0.0))
    influence = influence_of(item.followers)
    return [
        ScorePart("intent", intent, weights["intent"], f"a {item.intent or 'request'}"),
        ScorePart(
            "waiting",
            waited,
            weights["waiting"],
            f"waited {waited:.2f}x the {item.channel} bar of {human_duration(bar)}",
        ),
        ScorePart(
            "social_pressure", social, weights["social_pressure"], f"sociability {item.sociability or 'unknown'}"
        ),
        ScorePart("visibility", public, weights["visibility"], "public" if public else "private"),
        ScorePart(
            "sentiment",
            negative,
            weights["sentiment"],
            "no sentiment" if item.sentiment_score is None else f"sentiment {item.sentiment_score:+.2f}",
        ),
        ScorePart("influence", influence, weights["influence"], f"{item.followers} followers"),
    ]


def score(parts: Iterable[ScorePart]) -> float:
    return round(sum(part.contribution for part in parts), 6)


def bar_of(channel: str, bars: Mapping[str, int]) -> int:
    return bars.get(channel) or DEFAULT_BARS.get(channel) or DAY


def human_duration(seconds: float) -> str:
    """``300`` -> ``5m``; ``7200`` -> ``2h``; ``172800`` -> ``2d``."""
    for unit, size in (("d", DAY), ("h", HOUR), ("m", MINUTE)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


# ------------------------------------------------------------------------------------------ trends


def split_trend(values: Sequence[float], step: float) -> tuple[float, float, str]:
    """(older half's mean, newer half's mean, trend word) of a series in time order; '' with under 2 values."""
    if len(values) < 2:
        mean = values[0] if values else 0.0
        return mean, mean, ""
    middle = len(values) // 2
    earlier = sum(values[:middle]) / middle
    recent = sum(values[middle:]) / (len(values) - middle)
    if recent - earlier >= step - 1e-9:
        return earlier, recent, "rising"
    if earlier - recent >= step - 1e-9:
        return earlier, recent, "falling"
    return earlier, recent, "steady"


def week_start(us: int) -> int:
    """Microseconds of the Monday 00:00 UTC starting the week of ``us``."""
    return bucket_start(us, 7 * DAY * 1_000_000, offset=4 * DAY * 1_000_000)  # 1970-01-05 was a Monday


def bucket_start(us: int, length_us: int, offset: int = 0) -> int:
    return us - (us - offset) % length_us


BUCKETS_US: Mapping[str, tuple[int, int]] = {
    "hour": (HOUR * 1_000_000, 0),
    "day": (DAY * 1_000_000, 0),
    "week": (7 * DAY * 1_000_000, 4 * DAY * 1_000_000),
}


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending series (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


# ------------------------------------------------------------------------------------------ co-creation

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
#: Words that say "this is a suggestion" or carry no subject: dropped before grouping.
SUGGESTION_STOPWORDS = frozenset(
    (
        "a",
        "about",
        "add",
        "added",
        "adding",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "anyone",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "do",
        "does",
        "dont",
        "don't",
        "for",
        "from",
        "get",
        "give",
        "go",
        "good",
        "great",
        "had",
        "has",
        "have",
        "having",
        "i",
        "i'd",
        "i'm",
        "idea",
        "if",
        "in",
        "into",
        "is",
        "it",
        "it's",
        "its",
        "just",
        "kind",
        "let",
        "like",
        "love",
        "lot",
        "make",
        "maybe",
        "me",
        "more",
        "most",
        "much",
        "my",
        "need",
        "needs",
        "new",
        "nice",
        "of",
        "offer",
        "offering",
        "on",
        "one",
        "or",
        "option",
        "options",
        "our",
        "out",
        "please",
        "plus",
        "really",
        "should",
        "so",
        "some",
        "someone",
        "start",
        "suggest",
        "suggestion",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "try",
        "us",
        "want",
        "was",
        "we",
        "we'd",
        "were",
        "what",
        "when",
        "which",
        "while",
        "who",
        "why",
        "will",
        "wish",
        "with",
        "would",
        "yes",
        "you",
        "your",
        "you're",
    )
)


def suggestion_words(text: str) -> frozenset[str]:
    """The content words of a suggestion: lower-cased, stop words dropped, a plural ``s`` trimmed.

    >>> sorted(suggestion_words("Please add gluten-free crusts!"))
    ['crust', 'free', 'gluten']
    """
    words = set()
    for found in _WORD.findall(text.lower()):
        if found in SUGGESTION_STOPWORDS or len(found) < 2:
            continue
        plural = len(found) > 3 and found.endswith("s") and not found.endswith("ss")
        words.add(found[:-1] if plural else found)
    return frozenset(words)


@dataclass
class SuggestionGroup:
    """Suggestions that ask for the same thing: their shared words, members and authors."""

    words: frozenset[str]
    members: list[tuple[str, int, str]] = field(default_factory=list)  # (touchpoint id, occurred us, author)

    @property
    def authors(self) -> set[str]:
        return {author for _, _, author in self.members}

    @property
    def topic(self) -> str:
        return " ".join(sorted(self.words))


def group_suggestions(items: Iterable[tuple[str, int, str, str]], threshold: float = 0.5) -> list[SuggestionGroup]:
    """Group ``(touchpoint id, occurred us, author, text)`` by what they ask for.

    Each suggestion is reduced to its content words (:func:`suggestion_words`) and joins the first group whose
    shared words overlap its own with a Jaccard similarity of at least ``threshold``; a group's words are then
    the words its members share (a group keeps at least one word). Items are taken oldest first, so the result
    depends only on the items, not on the order they were given in.
    """
    groups: list[SuggestionGroup] = []
    for touchpoint_id, occurred_us, author, text in sorted(items, key=lambda item: (item[1], item[0])):
        words = suggestion_words(text)
        if not words:
            continue
        best, best_similarity = None, 0.0
        for group in groups:
            similarity = len(words & group.words) / len(words | group.words)
            if similarity > best_similarity:
                best, best_similarity = group, similarity
        if best is not None and best_similarity >= threshold:
            shared = best.words & words
            best.words = shared or best.words
            best.members.append((touchpoint_id, occurred_us, author))
        else:
            groups.append(SuggestionGroup(words=words, members=[(touchpoint_id, occurred_us, author)]))
    return groups


# ------------------------------------------------------------------------------------------ settings words


def parse_duration(raw: str) -> int:
    """``90s``, ``30m``, ``12h``, ``14d`` or plain seconds -> seconds (ValueError otherwise)."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", raw)
    if not match:
        msg = "expected a duration such as 90s, 30m, 12h or 14d"
        raise ValueError(msg)
    number, unit = int(match.group(1)), match.group(2) or "s"
    seconds = number * {"s": 1, "m": MINUTE, "h": HOUR, "d": DAY}[unit]
    if seconds <= 0:
        msg = "a duration must be positive"
        raise ValueError(msg)
    return seconds


def parse_bars(raw: str) -> dict[str, int]:
    """``x=30m,email=12h`` -> per-channel bars in seconds (unknown channels are an error)."""
    bars: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        channel, _, duration = item.partition("=")
        channel = channel.strip().lower()
        if channel not in DEFAULT_BARS:
            msg = f"{channel!r} is not a channel ({', '.join(sorted(DEFAULT_BARS))})"
            raise ValueError(msg)
        bars[channel] = parse_duration(duration)
    return bars

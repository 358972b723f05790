"""Enrichment: what a touchpoint means when its caller did not say — sentiment, intent, sociability degree.

Every rule lives here, as a table read top to bottom, first match wins. Each inferred value is reported in
:attr:`Enrichment.inferred` so the touchpoint records which of its values are Chorus's guess (a later
``Reclassified`` event can correct any of them). A value the caller gave is never overwritten.

Values are the domain's lower-case names of the ``chorus.common.v1`` enums (``"question"`` for
``INTENT_QUESTION``); ``""`` means unspecified.

Sentiment
    VADER (``vaderSentiment``), a lexicon-and-rules model for short social-media English. Its ``compound`` score
    in [-1, 1] is the sentiment score; the label uses VADER's documented thresholds: ``>= 0.05`` positive,
    ``<= -0.05`` negative, neutral in between. Only inferred for text in English (``language`` empty or starting
    with ``en``) and non-empty text; a caller's score without a label gets the label by the same thresholds.

Intent (inbound touchpoints only: a company's own message says what the company wants, not the party)
    ==========  ===============================================================================
    suggestion  a co-creation phrase: "you should", "please add", "would be great if", "i wish", ...
    complaint   a complaint word ("broken", "refund", "worst", "still waiting", ...) or sentiment <= -0.5
    question    a "?" or a first word that asks (how, what, why, can, does, ...)
    purchase    a buying word ("bought", "ordered", "purchase", "checkout", ...)
    praise      a praise word ("love", "thank", "awesome", ...) or sentiment >= 0.5
    other       anything else with text; no text, no intent
    ==========  ===============================================================================

Sociability degree (DESIGN.md, 1-6). Customer side, for inbound touchpoints and all non-touchpoints:
    ===============  ============================================================================
    community        the thread has ``COMMUNITY_PARTIES`` or more distinct parties (many with many)
    social_pressure  public, mentions a brand handle, and asks or complains (question / complaint)
    objective        a reply inside a conversation, with mild sentiment (abs(score) < 0.5)
    skewed           a reply inside a conversation, with strong sentiment (one side pushes)
    venting          not a reply, negative sentiment (lets off steam, public or private)
    monologue        anything else: talks to nobody in particular
    ===============  ============================================================================

Business side (``business_sociability_degree``), for outbound touchpoints:
    ===================  ========================================================================
    community            the thread has ``COMMUNITY_PARTIES`` or more distinct parties
    pretending           a reply that pushes an offer ("discount", "check out our", ...)
    (none)               any other reply: a one-to-one answer is not a broadcast degree
    blogging             an original post on a blog ("comment nicely please")
    fan_page             an original public post asking for fans ("follow us", "like our page", ...)
    broadcast_with_bait  an original post that fishes for reactions ("tell us", "comment below", "?")
    broadcast            any other original outbound message
    ===================  ========================================================================

The cost of this module is VADER: the stock analyser takes about 0.2 ms for a 300-character text on this
machine's cores. :class:`WindowedVader` removes its avoidable work (see there) and returns exactly VADER's scores
(``tests/touchpoints/test_enrichment.py`` checks that against the stock analyser).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

from services.touchpoints.domain import NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD, sentiment_label

COMMUNITY_PARTIES = 4
"""Distinct parties in a thread from which it is a community (many with many)."""

STRONG_SENTIMENT = 0.5
"""abs(score) from which sentiment alone decides complaint / praise, and a reply counts as skewed."""

SUGGESTION_PHRASES = (
    "you should", "you guys should", "please add", "would be great if", "would be nice if", "it would be great",
    "it would be nice", "i wish you", "i wish it", "why don't you", "why not add", "could you add", "can you add",
    "feature request", "i suggest", "my suggestion", "how about adding", "please consider",
)
COMPLAINT_WORDS = (
    "broken", "refund", "worst", "terrible", "awful", "unacceptable", "disappointed", "disappointing", "complaint",
    "not working", "doesn't work", "does not work", "didn't work", "stopped working", "still waiting", "never arrived",
    "never received", "no response", "rip off", "ripoff", "scam", "faulty", "defective", "overcharged", "cancel my",
    "waste of money", "fed up", "useless", "rude",
)
QUESTION_WORDS = (
    "how", "what", "why", "when", "where", "who", "which", "can", "could", "does", "do", "is", "are", "will",
    "would", "should", "anyone", "any",
)
PURCHASE_WORDS = (
    "bought", "buy", "buying", "ordered", "order placed", "purchase", "purchased", "checkout", "checked out",
    "pre-order", "preorder", "subscribed", "paid for", "add to cart", "added to cart",
)
PRAISE_WORDS = (
    "love", "loved", "thank", "thanks", "awesome", "amazing", "excellent", "fantastic", "great job", "well done",
    "brilliant", "the best", "perfect", "recommend",
)
PROMOTION_PHRASES = (
    "discount", "% off", "offer", "promo", "coupon", "check out our", "buy now", "shop now", "sale", "deal",
)
FAN_PAGE_PHRASES = ("follow us", "like our page", "like us", "join our page", "fingers crossed", "become a fan")
BAIT_PHRASES = (
    "tell us", "let us know", "comment below", "share your", "tag a friend", "what do you think", "vote", "reply with",
    "which one", "caption this",
)

_WORD = re.compile(r"[a-z0-9']+(?:-[a-z0-9']+)*")
_HANDLE = re.compile(r"@([A-Za-z0-9_.]+)")


class WindowedVader(SentimentIntensityAnalyzer):
    """VADER, scoring exactly as the stock analyser does, without its avoidable work.

    - Text without an emoji skips the character-by-character emoji translation (it would copy the text).
    - Words are lower-cased once per text (the stock analyser lower-cases the whole text again in each check,
      for every sentiment word) and the per-word rules (``sentiment_valence``, ``scalar_inc_dec``, the
      negation, idiom and "least" checks) run inline in one loop, with the same arithmetic in the same order.
    - A word outside the lexicon gets valence 0 without the per-word method call.
    - The negation check tests VADER's own ``NEGATE`` words as a set; the idiom check builds only its n-grams.
    - The "but" rule updates its list in place instead of popping and inserting each value.

    Safe to share between threads (no state is kept between calls).
    """

    def __init__(self) -> None:
        super().__init__()
        self._emoji_chars = frozenset(key for key in self.emojis if len(key) == 1)

    def polarity_scores(self, text: str) -> dict[str, float]:  # type: ignore[override]
        if not isinstance(text, str) or not self._emoji_chars.isdisjoint(text):
            return super().polarity_scores(text)
        text = text.strip()
        punctuation = _PUNCTUATION
        # SentiText's words_and_emoticons: punctuation stripped around each word, unless 2 characters or fewer
        # remain (an emoticon)
        words = [word if len(stripped := word.strip(punctuation)) <= 2 else stripped for word in text.split()]
        lowered = list(map(str.lower, words))
        capitals = sum(map(str.isupper, words))
        is_cap_diff = 0 < len(words) - capitals < len(words)  # VADER's allcap_differential
        sentiments = self._sentiments(words, lowered, is_cap_diff)
        if "but" in lowered:
            _lowered_but_check(lowered, sentiments)
        return self.score_valence(sentiments, text)  # type: ignore[no-any-return]

    def _sentiments(self, words: list[str], lowered: list[str], is_cap_diff: bool) -> list[float]:
        """VADER's per-word valences (its ``sentiment_valence`` and the checks it calls), on words lower-cased
        once: the same arithmetic in the same order."""
        lexicon = self.lexicon
        last = len(words) - 1
        sentiments: list[float] = [0] * len(words)  # a word outside the lexicon has valence 0, whatever surrounds it
        for i in [i for i, low in enumerate(lowered) if low in lexicon]:
            low = lowered[i]
            if low in BOOSTER_DICT or (i < last and low == "kind" and lowered[i + 1] == "of"):
                continue
            valence = lexicon[low]
            if low == "no" and i != last and lowered[i + 1] in lexicon:
                valence = 0.0
            if (
                (i > 0 and lowered[i - 1] == "no")
                or (i > 1 and lowered[i - 2] == "no")
                or (i > 2 and lowered[i - 3] == "no" and lowered[i - 1] in ("or", "nor"))
            ):
                valence = lexicon[low] * N_SCALAR
            if is_cap_diff and words[i].isupper():
                if valence > 0:
                    valence += C_INCR
                else:
                    valence -= C_INCR
            for start_i in (0, 1, 2):
                if i <= start_i:
                    break
                before = lowered[i - (start_i + 1)]
                if before in lexicon:
                    continue
                scalar = 0.0  # VADER's scalar_inc_dec
                if before in BOOSTER_DICT:
                    scalar = BOOSTER_DICT[before]
                    if valence < 0:
                        scalar *= -1
                    if is_cap_diff and words[i - (start_i + 1)].isupper():
                        if valence > 0:
                            scalar += C_INCR
                        else:
                            scalar -= C_INCR
                if start_i == 1 and scalar != 0:
                    scalar = scalar * 0.95
                if start_i == 2 and scalar != 0:
                    scalar = scalar * 0.9
                valence = valence + scalar
                valence = _lowered_negation_check(valence, lowered, start_i, i)
                if start_i == 2:
                    valence = _lowered_idioms_check(valence, lowered, i)
            if i > 1 and lowered[i - 1] not in lexicon and lowered[i - 1] == "least":  # VADER's _least_check
                if lowered[i - 2] != "at" and lowered[i - 2] != "very":
                    valence = valence * N_SCALAR
            elif i > 0 and lowered[i - 1] not in lexicon and lowered[i - 1] == "least":
                valence = valence * N_SCALAR
            sentiments[i] = valence
        return sentiments

    # The stock analyser's checks, for the texts it still scores (those with emoji, see polarity_scores): the
    # same rules as the inline path above, on the words lower-cased as far as each rule reads.

    def _negation_check(self, valence, words_and_emoticons, start_i, i):  # type: ignore[no-untyped-def,override]
        return _lowered_negation_check(valence, [str(word).lower() for word in words_and_emoticons[:i]], start_i, i)

    @staticmethod
    def _but_check(words_and_emoticons, sentiments):  # type: ignore[no-untyped-def,override]
        lowered = [str(word).lower() for word in words_and_emoticons]
        if "but" in lowered:
            _lowered_but_check(lowered, sentiments)
        return sentiments

    def _special_idioms_check(self, valence, words_and_emoticons, i):  # type: ignore[no-untyped-def,override]
        return _lowered_idioms_check(valence, [str(word).lower() for word in words_and_emoticons[: i + 3]], i)


_NEGATIONS = frozenset(NEGATE)


def _negates(lowered: str) -> bool:
    """VADER's ``negated([word])`` for one lower-cased word."""
    return lowered in _NEGATIONS or "n't" in lowered


_PUNCTUATION = string.punctuation


def _lowered_but_check(lowered: list[str], sentiments: list[float]) -> None:
    """VADER's "but" rule on lower-cased words, in place: values before the first "but" halved, after it
    raised by half, each found (as VADER does) by its first equal value. Zeros are skipped: scaling a zero
    leaves a zero, whichever zero it finds."""
    but_at = lowered.index("but")
    for position in range(len(sentiments)):
        sentiment = sentiments[position]
        if sentiment == 0:
            continue
        first = sentiments.index(sentiment)
        if first < but_at:
            sentiments[first] = sentiment * 0.5
        elif first > but_at:
            sentiments[first] = sentiment * 1.5


def _lowered_negation_check(valence: float, lowered: list[str], start_i: int, i: int) -> float:
    """VADER's ``_negation_check`` on lower-cased words (called only with i > start_i)."""
    one = lowered[i - 1]
    if start_i == 0:
        if _negates(one):
            valence = valence * N_SCALAR
    elif start_i == 1:
        two = lowered[i - 2]
        if two == "never" and one in ("so", "this"):
            valence = valence * 1.25
        elif two == "without" and one == "doubt":
            pass
        elif _negates(two):
            valence = valence * N_SCALAR
    else:
        two = lowered[i - 2]
        three = lowered[i - 3]
        if (three == "never" and two in ("so", "this")) or one in ("so", "this"):
            valence = valence * 1.25
        elif three == "without" and (two == "doubt" or one == "doubt"):
            pass
        elif _negates(three):
            valence = valence * N_SCALAR
    return valence


def _lowered_idioms_check(valence: float, lowered: list[str], i: int) -> float:
    """VADER's ``_special_idioms_check`` on lower-cased words (called only with i >= 3)."""
    zero, one, two, three = lowered[i], lowered[i - 1], lowered[i - 2], lowered[i - 3]
    twoone = f"{two} {one}"
    threetwoone = f"{three} {two} {one}"
    threetwo = f"{three} {two}"
    for seq in (f"{one} {zero}", f"{two} {one} {zero}", twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    count = len(lowered)
    if count - 1 > i:
        zeroone = f"{zero} {lowered[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if count - 1 > i + 1:
        zeroonetwo = f"{zero} {lowered[i + 1]} {lowered[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


_analyser = WindowedVader()


def vader_score(text: str) -> float:
    """VADER's compound score of ``text``, in [-1, 1]."""
    return float(_analyser.polarity_scores(text)["compound"])


@dataclass(frozen=True)
class Signals:
    """What enrichment looks at: the recorded values of one touchpoint, plus what its thread knows."""

    text: str = ""
    language: str = ""
    kind: str = ""
    direction: str = ""
    visibility: str = ""
    channel: str = ""
    is_reply: bool = False
    thread_parties: int = 1
    """Distinct parties in the touchpoint's thread, this one included, as far as known when it is recorded."""
    brand_handles: frozenset[str] = frozenset()
    """The company's own handles, lower-case, without "@"."""
    sentiment_label: str = ""
    sentiment_score: float | None = None
    rating: int | None = None
    """A review's star rating (1-5): when given, it decides the sentiment (see :func:`rating_score`)."""
    intent: str = ""
    sociability_degree: str = ""
    business_sociability_degree: str = ""


@dataclass(frozen=True)
class Enrichment:
    """The values a touchpoint is recorded with, and the names of those Chorus inferred."""

    sentiment_label: str
    sentiment_score: float | None
    intent: str
    sociability_degree: str
    business_sociability_degree: str
    inferred: frozenset[str] = field(default_factory=frozenset)


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text``; apostrophes and hyphens stay inside a word."""
    return _WORD.findall(text.lower())


def mentions_brand(text: str, brand_handles: frozenset[str]) -> bool:
    """Whether ``text`` names one of the company's handles as ``@handle``."""
    return any(handle.lower() in brand_handles for handle in _HANDLE.findall(text))


_MATCHERS: dict[tuple[str, ...], Callable[[str], object]] = {}


def _contains_any(padded: str, phrases: tuple[str, ...]) -> bool:
    """Whole-word phrase match on ``" " + " ".join(words) + " "`` (so "sale" does not match "wholesale").

    One compiled alternation per phrase list: the same answer as testing each ``f" {phrase} "`` in turn.
    """
    search = _MATCHERS.get(phrases)
    if search is None:
        search = _MATCHERS[phrases] = re.compile("|".join(re.escape(f" {phrase} ") for phrase in phrases)).search
    return search(padded) is not None


@dataclass(frozen=True)
class _Text:
    """A text prepared once for every rule: its words, padded for phrase matching, and its sentiment."""

    raw: str
    words: list[str]
    padded: str
    score: float

    @classmethod
    def of(cls, raw: str, score: float | None) -> _Text:
        words = words_of(raw)
        padded = f" {' '.join(words)} "
        return cls(raw=raw, words=words, padded=padded, score=0.0 if score is None else score)


IntentRule = tuple[str, Callable[[_Text], bool]]

INTENT_RULES: tuple[IntentRule, ...] = (
    ("suggestion", lambda t: _contains_any(t.padded, SUGGESTION_PHRASES)),
    ("complaint", lambda t: _contains_any(t.padded, COMPLAINT_WORDS) or t.score <= -STRONG_SENTIMENT),
    ("question", lambda t: "?" in t.raw or (bool(t.words) and t.words[0] in QUESTION_WORDS)),
    ("purchase", lambda t: _contains_any(t.padded, PURCHASE_WORDS)),
    ("praise", lambda t: _contains_any(t.padded, PRAISE_WORDS) or t.score >= STRONG_SENTIMENT),
    ("other", lambda t: bool(t.words)),
)
"""Intent of an inbound text: the first rule that holds wins (see the module docstring)."""


@dataclass(frozen=True)
class _Context:
    signals: Signals
    text: _Text
    intent: str


SociabilityRule = tuple[str, Callable[[_Context], bool]]

CUSTOMER_RULES: tuple[SociabilityRule, ...] = (
    ("community", lambda c: c.signals.thread_parties >= COMMUNITY_PARTIES),
    (
        "social_pressure",
        lambda c: c.signals.visibility == "public"
        and mentions_brand(c.text.raw, c.signals.brand_handles)
        and c.intent in ("question", "complaint"),
    ),
    ("objective", lambda c: c.signals.is_reply and abs(c.text.score) < STRONG_SENTIMENT),
    ("skewed", lambda c: c.signals.is_reply),
    ("venting", lambda c: c.text.score <= NEGATIVE_THRESHOLD),
    ("monologue", lambda c: True),
)
"""Customer-side degree: first rule that holds wins."""

BUSINESS_RULES: tuple[SociabilityRule, ...] = (
    ("community", lambda c: c.signals.thread_parties >= COMMUNITY_PARTIES),
    ("pretending", lambda c: c.signals.is_reply and _contains_any(c.text.padded, PROMOTION_PHRASES)),
    ("", lambda c: c.signals.is_reply),
    ("blogging", lambda c: c.signals.channel == "blog"),
    ("fan_page", lambda c: c.signals.visibility == "public" and _contains_any(c.text.padded, FAN_PAGE_PHRASES)),
    ("broadcast_with_bait", lambda c: "?" in c.text.raw or _contains_any(c.text.padded, BAIT_PHRASES)),
    ("broadcast", lambda c: True),
)
"""Business-side degree: first rule that holds wins; ``""`` means no degree is inferred."""


def _first(rules: tuple[tuple[str, Callable[[object], bool]], ...], subject: object) -> str:
    for value, holds in rules:
        if holds(subject):
            return value
    return ""


def rating_score(rating: int) -> float:
    """The sentiment score of a star rating: ``(rating - 3) / 2``, so 1 star is -1, 3 stars 0 and 5 stars 1."""
    return (rating - 3) / 2


def infers_sentiment_for(language: str) -> bool:
    """VADER reads English: infer sentiment only for English or unknown language."""
    return not language or language.lower().startswith("en")


def enrich(signals: Signals, score_text: Callable[[str], float] = vader_score) -> Enrichment:
    """Fill in what the caller left unspecified, and say which values were inferred.

    >>> e = enrich(Signals(text="@acme why is my kettle still broken?", direction="inbound", visibility="public",
    ...                    kind="non_touchpoint", channel="x", brand_handles=frozenset({"acme"})))
    >>> e.sentiment_label, e.intent, e.sociability_degree, sorted(e.inferred)
    ('negative', 'complaint', 'social_pressure', ['intent', 'sentiment', 'sociability_degree'])
    """
    inferred: set[str] = set()
    label, score = signals.sentiment_label, signals.sentiment_score
    if score is None and not label and signals.rating is not None:
        score = rating_score(signals.rating)
        label = sentiment_label(score)
        inferred.add("sentiment")
    elif score is None and not label and signals.text.strip() and infers_sentiment_for(signals.language):
        score = score_text(signals.text)
        label = sentiment_label(score)
        inferred.add("sentiment")
    elif score is not None and not label:
        label = sentiment_label(score)

    text = _Text.of(signals.text, score)
    intent = signals.intent
    if not intent and signals.direction != "outbound":
        intent = _first(INTENT_RULES, text)  # type: ignore[arg-type]
        if intent:
            inferred.add("intent")

    context = _Context(signals=signals, text=text, intent=intent)
    degree = signals.sociability_degree
    business_degree = signals.business_sociability_degree
    if signals.direction == "outbound":
        if not business_degree and not degree:
            business_degree = _first(BUSINESS_RULES, context)  # type: ignore[arg-type]
            if business_degree:
                inferred.add("business_sociability_degree")
    elif not degree and not business_degree:
        degree = _first(CUSTOMER_RULES, context)  # type: ignore[arg-type]
        inferred.add("sociability_degree")

    return Enrichment(
        sentiment_label=label,
        sentiment_score=score,
        intent=intent,
        sociability_degree=degree,
        business_sociability_degree=business_degree,
        inferred=frozenset(inferred),
    )


def enrich_all(signals: Sequence[Signals]) -> list[Enrichment]:
    """:func:`enrich` over a batch (a top-level function, so worker processes can run it)."""
    return [enrich(one) for one in signals]

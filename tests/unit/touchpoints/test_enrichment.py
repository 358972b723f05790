"""The enrichment rules, one row per rule: what Chorus infers when the caller did not say."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from services.touchpoints import enrichment
from services.touchpoints.enrichment import (
    COMMUNITY_PARTIES,
    Signals,
    WindowedVader,
    enrich,
    sentiment_label,
)

BRAND = frozenset({"acme"})

INTENT_CASES = [
    # text, expected intent
    ("You should add a dark mode to the app", "suggestion"),
    ("It would be great if the kettle came in blue?", "suggestion"),
    ("Please add oat milk to the menu", "suggestion"),
    ("My kettle arrived broken, I want a refund", "complaint"),
    ("Still waiting for my parcel after three weeks", "complaint"),
    ("This is horrible, I hate it, what a disaster", "complaint"),
    ("How do I reset my password", "question"),
    ("Is the store open on Sunday?", "question"),
    ("Just bought the new kettle", "purchase"),
    ("Ordered two more for my parents", "purchase"),
    ("Thanks for the quick help", "praise"),
    ("Wonderful, beautiful, happy day, superb", "praise"),
    ("The kettle is on the shelf", "other"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "intent"), INTENT_CASES)
def test_intent_of_an_inbound_text_follows_the_first_matching_rule(text: str, intent: str) -> None:
    result = enrich(Signals(text=text, direction="inbound", visibility="private", channel="email"))
    assert result.intent == intent
    assert ("intent" in result.inferred) is bool(intent)


def test_an_outbound_message_gets_no_inferred_intent() -> None:
    result = enrich(Signals(text="Sorry your kettle arrived broken, how can we help?", direction="outbound"))
    assert result.intent == ""
    assert "intent" not in result.inferred


CUSTOMER_CASES = [
    # signals, expected customer-side degree
    (
        Signals(
            text="Great thread, agree with all of you",
            direction="inbound",
            visibility="public",
            thread_parties=COMMUNITY_PARTIES,
        ),
        "community",
    ),
    (
        Signals(text="@acme why is my order late?", direction="inbound", visibility="public", channel="x"),
        "social_pressure",
    ),
    (
        Signals(text="@ACME my kettle is broken", direction="inbound", visibility="public", channel="x"),
        "social_pressure",
    ),
    # the same question in private is not pressure: nobody watches; but in a chat with the company it is said to it
    (
        Signals(
            text="@acme why is my order late?",
            direction="inbound",
            visibility="private",
            channel="x",
            kind="non_touchpoint",
        ),
        "monologue",
    ),
    (
        Signals(
            text="Hi, can you tell me when my order will arrive?",
            direction="inbound",
            visibility="private",
            channel="chat",
            kind="touchpoint",
        ),
        "objective",
    ),
    # public, but not addressed to the brand
    (Signals(text="why is my order late?", direction="inbound", visibility="public", channel="x"), "monologue"),
    (Signals(text="Thanks, that answers it", direction="inbound", visibility="private", is_reply=True), "objective"),
    (Signals(text="This is the worst, most horrible answer ever", direction="inbound", is_reply=True), "skewed"),
    (Signals(text="I am so angry and sad about this", direction="inbound", visibility="private"), "venting"),
    (Signals(text="Had tea from the kettle", kind="non_touchpoint", visibility="public", channel="blog"), "monologue"),
]


@pytest.mark.parametrize(("signals", "degree"), CUSTOMER_CASES)
def test_customer_side_sociability_degree(signals: Signals, degree: str) -> None:
    signals = Signals(**{**signals.__dict__, "brand_handles": BRAND})
    result = enrich(signals)
    assert result.sociability_degree == degree
    assert result.business_sociability_degree == ""
    assert "sociability_degree" in result.inferred


BUSINESS_CASES = [
    (Signals(text="Welcome all", direction="outbound", visibility="public", thread_parties=5), "community"),
    (Signals(text="Sorry about that! Check out our spring sale", direction="outbound", is_reply=True), "pretending"),
    (Signals(text="Sorry about that, a new one is on its way", direction="outbound", is_reply=True), ""),
    (Signals(text="How we design kettles", direction="outbound", visibility="public", channel="blog"), "blogging"),
    (
        Signals(text="Follow us for more kettles", direction="outbound", visibility="public", channel="facebook"),
        "fan_page",
    ),
    (
        Signals(
            text="Which colour should we make next? Tell us",
            direction="outbound",
            visibility="public",
            channel="instagram",
        ),
        "broadcast_with_bait",
    ),
    (Signals(text="Our new kettle is here", direction="outbound", visibility="public", channel="x"), "broadcast"),
    (Signals(text="Your monthly newsletter", direction="outbound", visibility="private", channel="email"), "broadcast"),
]


@pytest.mark.parametrize(("signals", "degree"), BUSINESS_CASES)
def test_business_side_sociability_degree(signals: Signals, degree: str) -> None:
    result = enrich(signals)
    assert result.business_sociability_degree == degree
    assert result.sociability_degree == ""
    assert ("business_sociability_degree" in result.inferred) is bool(degree)


SENTIMENT_CASES = [
    ("I love this kettle, it is wonderful", "positive"),
    ("The kettle is on the shelf", "neutral"),
    ("I hate this kettle, it is awful", "negative"),
]


@pytest.mark.parametrize(("text", "label"), SENTIMENT_CASES)
def test_sentiment_is_inferred_from_english_text(text: str, label: str) -> None:
    result = enrich(Signals(text=text, language="en", direction="inbound"))
    assert result.sentiment_label == label
    assert result.sentiment_score is not None
    assert sentiment_label(result.sentiment_score) == label
    assert "sentiment" in result.inferred


def test_sentiment_is_not_inferred_for_other_languages_or_empty_text() -> None:
    german = enrich(Signals(text="Ich hasse diesen Wasserkocher", language="de", direction="inbound"))
    empty = enrich(Signals(text="   ", direction="inbound"))
    for result in (german, empty):
        assert result.sentiment_label == ""
        assert result.sentiment_score is None
        assert "sentiment" not in result.inferred


def test_values_the_caller_gave_are_kept_and_not_marked_inferred() -> None:
    result = enrich(
        Signals(
            text="I hate this kettle, it is broken",
            direction="inbound",
            visibility="public",
            sentiment_label="positive",
            sentiment_score=0.9,
            intent="praise",
            sociability_degree="objective",
        )
    )
    assert (result.sentiment_label, result.sentiment_score, result.intent, result.sociability_degree) == (
        "positive",
        0.9,
        "praise",
        "objective",
    )
    assert result.inferred == frozenset()


def test_a_caller_score_without_label_gets_the_label_by_the_same_thresholds() -> None:
    result = enrich(
        Signals(
            text="whatever", direction="inbound", sentiment_score=-0.3, intent="other", sociability_degree="monologue"
        )
    )
    assert result.sentiment_label == "negative"
    assert result.inferred == frozenset()


def test_a_given_customer_degree_on_outbound_is_not_overridden_by_a_business_degree() -> None:
    result = enrich(Signals(text="hi", direction="outbound", sociability_degree="community"))
    assert result.business_sociability_degree == ""
    assert result.sociability_degree == "community"


_stock = SentimentIntensityAnalyzer()
_windowed = WindowedVader()
_vocabulary = sorted(_stock.lexicon)[::40] + [
    "not",
    "never",
    "no",
    "but",
    "very",
    "kind",
    "of",
    "least",
    "at",
    "so",
    "this",
    "without",
    "doubt",
    "the",
    "bad",
    "ass",
    "yeah",
    "right",
    "cut",
    "mustard",
    "KILLS",
    "GREAT",
    "!",
    "?",
    ":)",
    "sort",
    "isn't",
    "Don't",
    "NEVER",
    "nor",
    "or",
    "kinda",
    "hardly",
    "extremely",
    "good,",
    "(great)",
    "love!!",
    "\N{GRINNING FACE}",
    "\t",
    "\N{PILE OF POO}",
    "ok\N{THUMBS UP SIGN}",
    "WITHOUT",
    "Doubt",
    "the shit",
    "bad ass",
    "kiss of death",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_vocabulary), min_size=0, max_size=60), st.sampled_from([" ", "  ", "\n", ""]))
def test_windowed_vader_scores_exactly_like_stock_vader(words: list[str], separator: str) -> None:
    text = separator.join(words)
    assert _windowed.polarity_scores(text) == _stock.polarity_scores(text)
    assert _windowed.compound(text) == _stock.polarity_scores(text)["compound"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_windowed_vader_scores_any_text_exactly_like_stock_vader(text: str) -> None:
    assert _windowed.polarity_scores(text) == _stock.polarity_scores(text)
    assert _windowed.compound(text) == _stock.polarity_scores(text)["compound"]


# Labels a person would call wrong (issue 13), each as that person would put it.


def inbound(text: str, **changes: object) -> Signals:
    return Signals(
        **{
            "text": text,
            "language": "en",
            "direction": "inbound",
            "kind": "touchpoint",
            "visibility": "private",
            "channel": "chat",
            **changes,
        }
    )  # type: ignore[arg-type]


def test_a_complaint_after_a_polite_opening_is_negative() -> None:
    result = enrich(
        inbound(
            "Oh great, another automated reply. Thanks so much. Worst customer service ever",
            kind="non_touchpoint",
            visibility="public",
            channel="x",
        )
    )
    assert (result.intent, result.sentiment_label) == ("complaint", "negative")
    assert result.sentiment_score is not None and result.sentiment_score < 0


def test_a_four_star_review_is_positive_whatever_it_grumbles_about() -> None:
    result = enrich(
        inbound(
            "Boils fast. The lid is stiff and the handle gets a little warm, which is annoying.",
            kind="non_touchpoint",
            visibility="public",
            channel="marketplace",
            rating=4,
        )
    )
    assert result.sentiment_label == "positive"
    assert result.sociability_degree != "venting"


def test_a_bare_thank_you_is_not_praise() -> None:
    assert enrich(inbound("ok, thanks")).intent == "other"
    assert enrich(inbound("Thanks so much, you sorted it in minutes!")).intent == "praise"


def test_a_broken_product_and_a_replacement_asked_for_is_a_complaint() -> None:
    result = enrich(
        inbound("Customer called: the kettle stopped heating after a week. I'd like a replacement.", channel="phone")
    )
    assert (result.intent, result.sentiment_label) == ("complaint", "negative")


def test_a_question_in_a_private_chat_with_the_company_is_a_conversation() -> None:
    result = enrich(inbound("How do I change my delivery address?"))
    assert result.intent == "question"
    assert result.sociability_degree == "objective"


# The evidence searches (``_matcher``) are rearranged for speed; they must find evidence exactly where the plain
# alternation of the pattern tables does.

_TABLES = {
    "suggestion": enrichment.SUGGESTION_PATTERNS,
    "complaint": enrichment.COMPLAINT_PATTERNS,
    "purchase": enrichment.PURCHASE_PATTERNS,
    "asked": enrichment.ASKED_PATTERNS,
    "praise": enrichment.PRAISE_PATTERNS,
    "acknowledgement": enrichment.ACKNOWLEDGEMENT_PATTERNS,
    "not_a_suggestion": (enrichment.NOT_A_SUGGESTION,),
}
_LABELLED = Path(__file__).resolve().parents[3] / "bench" / "data" / "enrichment_labelled.jsonl"
_TABLE_WORDS = sorted(
    {word for table in _TABLES.values() for pattern in table for word in re.findall(r"[a-z0-9']+", pattern)}
)


def _plain(patterns: tuple[str, ...]) -> Callable[[str], object]:
    return re.compile(" (?:" + "|".join(f"(?:{pattern})" for pattern in patterns) + ")(?= )").search


def _padded(text: str) -> str:
    return f" {' '.join(enrichment.words_of(text))} "


@pytest.mark.parametrize("table", sorted(_TABLES))
def test_evidence_is_found_in_the_labelled_texts_exactly_where_the_plain_patterns_find_it(table: str) -> None:
    fast, plain = enrichment._matcher(_TABLES[table]), _plain(_TABLES[table])
    texts = [json.loads(line)["text"] for line in _LABELLED.read_text().splitlines() if line.strip()]
    found = 0
    for text in texts:
        for padded in (_padded(text), enrichment._SOLVED.sub(" ", _padded(text))):
            assert (fast(padded) is None) == (plain(padded) is None), text
            found += plain(padded) is not None
    assert found or table == "not_a_suggestion"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(_TABLES)), st.lists(st.sampled_from(_TABLE_WORDS), min_size=1, max_size=12))
def test_evidence_is_found_in_any_words_exactly_where_the_plain_patterns_find_it(table: str, words: list[str]) -> None:
    padded = _padded(" ".join(words))
    assert (enrichment._matcher(_TABLES[table])(padded) is None) == (_plain(_TABLES[table])(padded) is None)


@pytest.mark.parametrize(
    ("patterns", "matching", "not_matching"),
    [
        ((r"(it )?would (be|make) great",), ["it would be great", "would make great"], ["it would great"]),
        (
            (r"(you|you guys|u) (should|could)( really)? add",),
            ["you guys could really add", "u should add"],
            ["you add"],
        ),
        ((r"(?<!can't )fault|keeps? (on )?[a-z]+ing",), ["a fault", "keep on crashing"], ["can't fault", "keeps"]),
        ((r"(a|an)+ idea",), ["a idea", "an an idea"], ["idea"]),
    ],
)
def test_a_rearranged_search_keeps_optional_groups_lookbehinds_and_repeats(
    patterns: tuple[str, ...], matching: list[str], not_matching: list[str]
) -> None:
    search = enrichment._matcher(patterns)
    assert all(search(_padded(text)) is not None for text in matching)
    assert all(search(_padded(text)) is None for text in not_matching)


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="aZ09'-\u2019 .,!?@#\t\n", max_size=80),
        st.text(alphabet=st.characters(codec="ascii"), max_size=80),
        st.text(max_size=80),
    )
)
def test_the_words_of_a_text_are_the_word_patterns_matches_in_it_lower_cased(text: str) -> None:
    assert enrichment.words_of(text) == re.findall(r"[a-z0-9']+(?:-[a-z0-9']+)*", text.lower().replace("\u2019", "'"))


@pytest.mark.parametrize(
    "text",
    [
        "Love it 😍 but the lid 💔",
        "😂😂😂",
        "great service 👍",
        "ok :) thanks",
        "no emoji here, only ASCII!",
        "café is fine ☕",
    ],
)
def test_windowed_vader_translates_emoji_as_stock_vader_does_and_ascii_text_has_none(text: str) -> None:
    assert _windowed.polarity_scores(text) == _stock.polarity_scores(text)
    assert _windowed.compound(text) == _stock.polarity_scores(text)["compound"]

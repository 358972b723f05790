"""Enrichment: what a touchpoint means when its caller did not say — sentiment, intent, sociability degree.

Every rule lives here, as a table read top to bottom, first match wins. Each inferred value is reported in
:attr:`Enrichment.inferred` so the touchpoint records which of its values are Chorus's guess (a later
``Reclassified`` event can correct any of them). A value the caller gave is never overwritten.

Values are the domain's lower-case names of the ``chorus.common.v1`` enums (``"question"`` for
``INTENT_QUESTION``); ``""`` means unspecified.

Sentiment (in this order; the first that applies decides)
    1. The caller's: a score without a label gets its label by the thresholds below.
    2. A review's star rating (``rating``, 1-5): score ``(rating - 3) / 2``.
    3. VADER (``vaderSentiment``), a lexicon-and-rules model for short social-media English, on the text as
       :func:`text_for_sentiment` rewrites it (courtesy words out, a few phrases VADER does not know); then made
       to agree with the inferred intent: a complaint at least mildly negative and praise at least mildly
       positive (``INTENT_SENTIMENT``), a suggestion neutral unless it praises or its words are strongly
       negative. Only for text in English (``language`` empty or starting with ``en``).
    The label uses VADER's documented thresholds: ``>= 0.05`` positive, ``<= -0.05`` negative, else neutral.

Intent (inbound touchpoints only: a company's own message says what the company wants, not the party). The
evidence is in the pattern tables below (``COMPLAINT_PATTERNS`` ...), matched as whole words:
    ==========  ===============================================================================
    complaint   a problem: something failed ("stopped heating", "doesn't fit"), the company let the party
                down ("still waiting", "no reply", "took nine days"), money ("charged twice", "refund"), a
                remedy asked for ("I'd like a replacement"), or the words of a complaint ("worst");
                a problem the text says was solved ("fixed the leak") does not count; or sentiment <= -0.5
    suggestion  a co-creation phrase: "you should add", "please add", "would be great if", "how about", ...
                (adding something to one's own order is buying)
    purchase    a question about buying: price, stock, how to order ("is this available in size 6?")
    question    a "?", a first word that asks (how, what, can, ...), or a reported one ("Caller asked how")
    praise      praise words or thanks for something ("thanks for sorting it"), not a bare "ok, thanks"
    purchase    a buying word: "bought", "ordered the", "pre-ordered", "upgrade to", "i'll take", ...
    praise      sentiment >= 0.5
    other       anything else with text; no text, no intent
    ==========  ===============================================================================
    ``python bench/enrichment.py`` measures these rules on a labelled set (precision and recall per intent).

Sociability degree (DESIGN.md, 1-6). Customer side, for inbound touchpoints and all non-touchpoints:
    ===============  ============================================================================
    community        the thread has ``COMMUNITY_PARTIES`` or more distinct parties (many with many)
    social_pressure  public, mentions a brand handle, and asks or complains (question / complaint)
    objective        in a conversation (a reply, or a touchpoint: said to the company, as in a chat or a
                     call), with mild sentiment (abs(score) < 0.5)
    skewed           in a conversation, with strong sentiment (one side pushes)
    venting          not in a conversation, negative sentiment (lets off steam, public or private)
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

The cost of this module is VADER. :class:`WindowedVader` removes its avoidable work (see there) and returns
exactly VADER's scores (``tests/unit/touchpoints/test_enrichment.py`` checks that against the stock analyser).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    normalize,
)

from services.common.records import made_of
from services.touchpoints.domain import NEGATIVE_THRESHOLD, sentiment_label

COMMUNITY_PARTIES = 4
"""Distinct parties in a thread from which it is a community (many with many)."""

INTENT_SENTIMENT = 0.3
"""The weakest inferred score a complaint (negative) or praise (positive) is given."""
STRONG_SENTIMENT = 0.5
"""abs(score) from which sentiment alone decides complaint / praise, and a reply counts as skewed."""

# Intent evidence. Each entry is a regular expression over a text's lower-case words joined by single spaces
# (``words_of``: apostrophes and hyphens stay inside a word, other punctuation goes), matched as whole words.
# Tuned on the tuning half of bench/data/enrichment_labelled.jsonl only (``python bench/enrichment.py``).

SUGGESTION_PATTERNS = (
    r"(you|you guys|u) (should|could|need to|ought to)( really)? (add|make|do|let|offer|bring|have|include|put|sell)",
    r"you should let",
    r"should (do|make|add|offer|bring)",
    r"please (add|consider|bring back|make|put|include|offer)",
    r"(it )?(would|it'd|would've|will) (be|make) (great|nice|cool|good|better|handy|useful|helpful|easier|perfect)",
    r"(it )?would (help|be (so )?(much )?(easier|better)) if",
    r"it'd be (great|nice|cool|handy|useful|good|better)",
    r"(i'd|i would|we'd|would) love (to see|the option|an option|a way|it if|if)",
    r"i wish (you|it|there|they)",
    r"wish it (came|had|was|were|could)",
    r"why (don't|not) (you|add|make|let|offer)",
    r"(maybe|perhaps) you could",
    r"(could|can|would) you (add|make|offer|include|bring|consider)",
    r"can you make",
    r"how about (a|an|adding|some)",
    r"what about (a|an|adding)",
    r"have you (thought about|considered)",
    r"(feature request|suggestion|suggest)",
    r"(suggested|proposed|recommended) (a|an|that|adding|we|they|offering)",
    r"(one|an|my) idea",
    r"next do",
    r"do a (collab|version|tutorial|range)",
    r"bring back",
    r"(add|make|let) (a|an|me|us|users|people) ",
    r"could be (clearer|better|improved|easier)",
    r"(add|make) (a way|an option|the font|it possible)",
    r"(you|acme|they|it|the app|the website|the site|the store) (should|could|ought to|need to|needs to|might) [a-z]+",
    r"would be (a |really |so |very )?(helpful|useful|welcome|good|great|nice|better|possible|handy|cool|amazing)",
    r"(might|would) be worth|consider",
    r"would be (a )?welcome|it might be (nice|good|useful|helpful)|(could|may|can) (i|we) suggest",
    r"would it be possible to|is there any chance (you|of)|(you|acme) (need|needs) (more|to)|if only",
    r"(should|could) (sell|offer|stock|open|have|bring|make)|please (give|let|allow|stock|sell|do)|pls",
    r"(a|an) [a-z-]+ (mode|option|button|feature|setting|version) would",
)
"""Co-creation: the party proposes something the company could do."""

SUGGESTION_OPENINGS = frozenset(
    {
        "add",
        "make",
        "bring",
        "let",
        "give",
        "offer",
        "put",
        "include",
        "allow",
        "consider",
        "introduce",
        "sell",
    }
)
"""First words of a request in the imperative ("add a dark mode", "let us pin recipes")."""

NOT_A_SUGGESTION = (
    r"(add|put)( the| an?| my)?( [a-z0-9'-]+){0,3} (to|on) (my|her|his|our)"
    r" (order|basket|cart|account|contract|plan)"
)
"""Asking to add something to one's own order is buying, not co-creation."""

COMPLAINT_PATTERNS = (
    # something broke or does not work
    r"broken|broke|breaks|crash(ed|es|ing)?|freez(es|ing)|froze|leak(s|ed|ing)?|crack(ed|s)?|dent(ed)?|torn|tear in",
    r"damaged|faulty|defective|(?<!can't )(?<!cannot )fault|shattered|peel(ed|ing)|swell(ed)?|swollen|jam(med|s)",
    r"sparks|fogged( up)?|blunt|died|dies|dead|drops out|(fell|came|falls|comes) (off|apart)",
    r"keeps? (disconnecting|dropping|crashing|resetting|freezing|failing|getting charged)",
    r"disconnect(s|ing)|blurry|deleted|locked out|spoil(ed|t)|soaked|residue|banging|noisy|too (hot|loud|slow|small)",
    r"stopped [a-z']+|not (working|heating|cooling|charging|cleaning|responding|here|the one|what i (expected|ordered))",
    r"(doesn't|does not|don't|didn't|did not|won't|will not|isn't|wasn't|aren't|can't|cannot|couldn't|hasn't|haven't"
    r"|never|still hasn't|still haven't) (work|working|heat|cool|charge|turn|turned|switch|start|connect|load|open|fit"
    r"|arrive|arrived|come|came|respond|responded|reply|replied|answer|answered|call|called|show|showed|apply|applied"
    r"|let|sync|print|pair|got|get|received|receive|heard|pay|log|login|control|fix|fixed|help|been)",
    r"(is|been|was|went) down|(already|is|now) gone|ignores|expires before|gave (it|our table) away|smells? of",
    # the company let the party down
    r"missing|lost|wrong (item|size|colour|color|order|one|product|address|model|part|parcel|thing)",
    r"different (material|colour|color|size|item|model|product)|than advertised|higher than",
    r"not as (described|advertised)",
    r"still (no|not|waiting|missing|broken|nothing|the same)|supposed to|was promised|promised|nobody|no one",
    r"no (reply|response|answer|apology|refund|update|callback|call back|one)|missed|on hold|for (weeks|months|ages)",
    r"took ([0-9]+|a|an|two|three|four|five|six|seven|eight|nine|ten|over a) (days|weeks|months|hours|week|month|day)",
    r"for ([0-9]+|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|forty|fifty)"
    r" (minutes|hours|days|weeks)",
    r"(second|third|fourth|fifth) (time|email|call|attempt|missed|parcel)",
    r"(cancelled|closed|charged|changed) without|without (any )?(warning|notice)|passed around",
    r"ordered [a-z0-9' -]* (and|but) (received|got|they sent|you sent|came)|got it [a-z]+day",
    # money
    r"overcharged|(charged|billed) (me|twice|double|for|after|again)|double charged|refund|money back|difference back",
    # remedies asked for
    r"(like|want|need|expect|demand) (a|my) (replacement|refund|new one|repair)|sort (this|it) out",
    r"(like|want|need|get) (this|it) resolved|not (been )?resolved|(is|was|has been) unresolved",
    # words of a complaint
    r"worst|terrible|awful|horrible|disgrace(ful)?|ridiculous|unacceptable|disappoint(ed|ing|ment)|frustrat(ing|ed)",
    r"annoy(ing|ed)|not (happy|okay|ok|good enough|acceptable)|unhappy|upset|useless|rude|a joke|never again|avoid",
    r"waste of|rip ?off|scam|fed up|ruined|complain(ed|t|ts|ing)?|poor|dangerous|zero stars|fix your|can't believe",
    r"errors?|bugs?|buggy|glitch(es|y)?|outage",
    # general wording of faults and let-downs (broadened from everyday usage, not from one labelled set)
    r"overheat(s|ed|ing)?|shuts? (off|down)|turns? (itself )?off|snapped|split|ripped|bent|scratch(ed|es)|stained",
    r"faded|shr(a|u)nk|rust(ed|y)|mou?ldy|stale|expired|undercooked|burnt|melted|flood(s|ed|ing)|drains?|draining",
    r"flicker(s|ing)?|rattl(es|ing)|squeak(s|ing|y)|wobbly|flimsy|loose|stuck|unusable|unreadable|lagg(ing|y)",
    r"(so|too|really|very|painfully) slow|not loading|won't load|keeps? (on )?(?!going|getting better|improving)[a-z]+ing",
    r"every (single )?time|each time|never (happened|showed|turned up|got back)|no-one|hasn't (updated|been|arrived)",
    r"day [0-9a-z]+ without|without (internet|power|heating|hot water|a reply|a response|any help)|been waiting",
    r"waited ([0-9]+|an|a|two|three|over)|overdue|late again|arrived late|turned up (late|crushed|broken|damaged)",
    r"(charged|billed) (£|\$|€)?[0-9]+|supposed to be (covered|free|included)|closed my (ticket|case|account)",
    r"without (fixing|solving|resolving|asking)|someone else's|came undone|went wrong|gone wrong",
)
"""A problem: something failed, the company let the party down, or the words of a complaint."""

NEGATIVE_WORD = -1.5
"""A word VADER's lexicon values at or below this (a negative word: "crushed", "useless") is complaint evidence,
unless a negation comes right before it ("can't fault")."""
NEGATIONS = frozenset({"no", "not", "never", "can't", "cannot", "couldn't", "without", "don't", "didn't", "less"})

PURCHASE_PATTERNS = (
    r"bought|buy|buying|purchased|purchasing|to purchase|pre-?order(ed)?|preordered|caved|taking the plunge",
    r"ordered (the|a|an|two|three|some|more|another|it)|order (one|two|three|more|a|an|the|today|it|some|another)",
    r"to order|placed an order|place an order|(to|in) my (basket|cart)|checkout|checked out|quoted price",
    r"subscrib(e|ed|ing)|sign(ing)? up (for|to)|upgrad(e|ing) to|a quote|quote for|pay for|reserve|restock",
    r"(back )?in stock|available in|how much (is|are|for|does|do|would)|i'll take|take the [a-z0-9-]+ (plan|one|deal)",
    r"grab the|grabbing|picked up my new|interested in buying|book (the|a|me)",
    r"deposit|go ahead with|renew|treat(ing)? myself|i'm after|looking (to buy|for a new)|what do you have in",
    r"my new [a-z0-9-]+ (arrives|gets delivered|is coming|comes)|charge my card|bulk (price|order|discount|buy)",
    r"(what's|what is) the (price|cost)|the (price|cost) of|prices? for|how much (to|would it cost)|afford",
    NOT_A_SUGGESTION,
)
"""Buying: bought, ordering, or asking what buying needs (price, stock, a quote)."""

QUESTION_WORDS = (
    "how",
    "what",
    "why",
    "when",
    "where",
    "who",
    "which",
    "can",
    "could",
    "does",
    "do",
    "is",
    "are",
    "will",
    "would",
    "should",
    "anyone",
    "any",
)
ASKED_PATTERNS = (
    r"(asked|asks|asking|enquired|inquired) (how|whether|if|what|when|where|which|why|who|about|for the)",
    r"want(ed|s)? to know|wondering (if|whether|how)",
    r"(tell|let) me (know|if|whether|when|what|how)|(confirm|advise|check) (whether|if|when|what|how)",
    r"(i'd|i would) like to know",
    r"(i|we) need to know|any idea|i was wondering",
    r"(can|could) you (tell|confirm|check|explain)|kindly (confirm|advise|let)",
    r"is it (normal|possible|safe|ok|okay) (to|for|that)",
)
"""A question without a question mark: reported in a call note ("Caller wanted to know ..."), or asked as a
request ("please let me know whether ...", "kindly confirm whether ...")."""

PRAISE_PATTERNS = (
    r"love|loved|loving|awesome|amazing|excellent|fantastic|great job|well done|brilliant|perfect(ly)?|superb",
    r"(the|my) best|best (ever|service|purchase|pizza|coffee|thing)|(highly )?recommend( it| this| them)?$",
    r"highly recommend|impress(ed|ive)|gorgeous|obsessed|unreal|lovely|a star|above and beyond|extra mile",
    r"shout ?out|kudos|credit where|can't fault|couldn't be happier|(very|so|really) (happy|pleased|helpful|quick)",
    r"pleased|delighted|quietest|easiest|fastest|friendliest|still going strong|zero issues|no issues|beautifully",
    r"(really|genuinely|so|very|super|incredibly|extremely) (good|great|nice|comfy|easy|friendly|polite|patient"
    r"|professional|kind)",
    r"(so much|much|massive|huge) (easier|better|improvement)|improvement|praised|appreciate|grateful",
    r"(thank you|thanks|thank) (so much|very much|for|to)|(big|huge|many) thanks|(his|her|their|my) thanks",
    r"thank the",
    r"legends?|saved my|nothing but good|good things|favourite|fab|stunning|slick|smoothly|commend|spot on",
    r"bang on time|(arrived|delivered) on time|like new|like the day|real upgrade|a (great|big|real) help|10/10",
    r"(five|5) stars|top notch|first class|faultless|flawless|exceeded|couldn't ask for|can't recommend",
)
"""Praise, gratitude for something done ("thanks for sorting it"), not a bare "ok, thanks"."""

ACKNOWLEDGEMENT_PATTERNS = (
    r"thanks? (you )?for (letting me know|the info|the information|confirming|getting back|your reply|the update)",
)
"""Thanks that only acknowledge: no praise."""

PROMOTION_PHRASES = (
    "discount",
    "% off",
    "offer",
    "promo",
    "coupon",
    "check out our",
    "buy now",
    "shop now",
    "sale",
    "deal",
)
FAN_PAGE_PHRASES = ("follow us", "like our page", "like us", "join our page", "fingers crossed", "become a fan")
BAIT_PHRASES = (
    "tell us",
    "let us know",
    "comment below",
    "share your",
    "tag a friend",
    "what do you think",
    "vote",
    "reply with",
    "which one",
    "caption this",
)

_WORD = re.compile(r"[a-z0-9']+(?:-[a-z0-9']+)*")
_HANDLE = re.compile(r"@([A-Za-z0-9_.]+)")


class WindowedVader(SentimentIntensityAnalyzer):
    """VADER, scoring exactly as the stock analyser does, without its avoidable work.

    - Text without an emoji skips the character-by-character emoji translation (it would copy the text); an
      ASCII text has none (no emoji is ASCII), which is told without looking at each character.
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
        self._ascii_has_no_emoji = not any(char.isascii() for char in self._emoji_chars)

    def _has_emoji(self, text: str) -> bool:
        """Whether ``text`` has a character VADER translates as an emoji (an ASCII text none, when no emoji is
        ASCII: told without looking at each character)."""
        return not (self._ascii_has_no_emoji and text.isascii()) and not self._emoji_chars.isdisjoint(text)

    def polarity_scores(self, text: str) -> dict[str, float]:  # type: ignore[override]
        if not isinstance(text, str) or self._has_emoji(text):
            return super().polarity_scores(text)
        text = text.strip()
        return self.score_valence(self._valences(text), text)  # type: ignore[no-any-return]

    def compound(self, text: str) -> float:
        """``polarity_scores(text)["compound"]`` without the positive, negative and neutral parts."""
        if self._has_emoji(text):
            return float(super().polarity_scores(text)["compound"])
        text = text.strip()
        sentiments = self._valences(text)
        if not sentiments:
            return 0.0
        total = float(sum(sentiments))  # VADER's score_valence, its compound part: the same steps
        emphasis = self._punctuation_emphasis(text)
        if total > 0:
            total += emphasis
        elif total < 0:
            total -= emphasis
        return round(normalize(total), 4)

    def _valences(self, text: str) -> list[float]:
        """VADER's per-word valences of ``text`` (stripped, without emoji), its "but" rule applied."""
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
        return sentiments

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
_NEGATIVE_WORDS = frozenset(word for word, valence in _analyser.lexicon.items() if valence <= NEGATIVE_WORD)


def vader_score(text: str) -> float:
    """VADER's compound score of ``text``, in [-1, 1]."""
    return _analyser.compound(text)


COURTESY_WORDS = frozenset(
    {
        "please",
        "pls",
        "help",
        "thanks",
        "thank",
        "cheers",
        "ok",
        "okay",
        "yes",
        "sure",
        "fine",
        "alright",
        "free",
        "safe",
        "ready",
        "interested",
        "kind",
        "care",
        "share",
        "sharing",
        "join",
        "want",
        "sorry",
        "fit",
        "loyalty",
    }
)
"""Words VADER does not read (see :func:`text_for_sentiment`)."""
LIKERS = frozenset({"i", "we", "they", "really", "people", "kids", "everyone"})
"""Words after which "like" is the verb of liking; elsewhere ("I'd like", "looks like") VADER does not read it."""

VADER_REWRITES: tuple[tuple[str, str, frozenset[str]], ...] = (
    (r"\bcan'?t wait\b", "excited", frozenset({"can't", "cant"})),
    (r"\bno questions asked\b", "easy", frozenset({"questions"})),
    (r"\ba joke\b", "ridiculous", frozenset({"joke"})),
    (r"\bnoise[- ]cancell?ing\b", "quiet", frozenset({"noise-cancelling", "noise-canceling", "noise"})),
)
"""Phrases VADER does not know, and a word it does for each (case-insensitive): pattern, replacement, and the
words one of which a text must have for the rewrite to be tried."""

_REWRITES = tuple(
    (re.compile(pattern, re.IGNORECASE), replacement, triggers) for pattern, replacement, triggers in VADER_REWRITES
)
_PUNCTUATION_ONLY = re.compile(r"[\w'’-]+")


def text_for_sentiment(text: str) -> str:
    """``text`` as VADER should read it.

    Courtesy and request words (:data:`COURTESY_WORDS`: "please", "help", "thanks", "ok", "sorry", "I want",
    "free delivery", "is it safe") and product words ("fit", "loyalty card") carry no feeling in a customer's
    message, yet VADER scores each of them; they are left out (their punctuation stays: VADER counts "!").
    "like" stays only as the verb of liking (:data:`LIKERS`). :data:`VADER_REWRITES` give phrases VADER does not
    know a word it does ("can't wait": excited; "a joke": ridiculous).
    """
    return _rewritten(_Text.of(text, None))


def _rewritten(text: _Text) -> str:
    present = set(text.words)
    raw = text.raw
    if not COURTESY_WORDS.isdisjoint(present) or "like" in present:
        kept: list[str] = []
        previous = ""
        for word in raw.split():
            low = word.strip(_PUNCTUATION).lower().replace("\u2019", "'")
            token = word
            if low in COURTESY_WORDS or (low == "like" and previous not in LIKERS):
                token = _PUNCTUATION_ONLY.sub("", word)
            previous = low
            if token:
                kept.append(token)
        raw = " ".join(kept)
    for pattern, replacement, triggers in _REWRITES:
        if not triggers.isdisjoint(present):
            raw = pattern.sub(replacement, raw)
    return raw


def sentiment_score(text: str) -> float:
    """The inferred sentiment score of ``text``: VADER's compound score of :func:`text_for_sentiment`."""
    return vader_score(text_for_sentiment(text))


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
    """Distinct actor identifiers in the touchpoint's thread, this one's included: those recorded before it and
    those of earlier items of the same request (``application.ThreadContext``), whatever the RPC or its timing."""
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
    """Lower-case words of ``text``; apostrophes (also typographic ones) and hyphens stay inside a word.

    The words are the matches of ``_WORD`` in the lower-cased text. An ASCII text takes a quicker way to the same
    list: every character outside ``_WORD``'s (letters, digits, ``'`` and ``-``) becomes a space and the text is
    split; only a run with a hyphen in it is matched with ``_WORD`` (a stray hyphen is no word and parts none)."""
    lowered = text.lower().replace("\u2019", "'")
    if not lowered.isascii():
        return _WORD.findall(lowered)
    runs = lowered.encode("ascii").translate(_WORD_BYTES).decode("ascii").split()
    if "-" not in lowered:
        return runs
    return [word for run in runs for word in ((run,) if "-" not in run else _WORD.findall(run))]


_WORD_BYTES = bytes(byte if chr(byte) in "abcdefghijklmnopqrstuvwxyz0123456789'-" else 32 for byte in range(256))
"""Each ASCII byte of a lower-cased text that ``_WORD`` takes as it is, every other byte a space."""


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


def _matcher(patterns: tuple[str, ...]) -> Callable[[str], object]:
    """One search for any of ``patterns`` as whole words of a padded text (see :func:`_contains_any`).

    The search is the alternation of the patterns, rearranged so that it finds a match exactly where the plain
    ``" (?:p1|p2|...)(?= )"`` finds one (only whether there is one is read, never what it captured): each
    pattern's alternatives, with a leading group opened into its alternatives ("(it )?would" gives "it would" and
    "would"), are grouped by their first character ("a(?:dd|sk)|b(?:uy|roken)|..."). The regular expression
    engine then tries the one group of a word's first letter instead of every alternative at every word.
    """
    grouped: dict[str, list[str]] = {}
    others: list[str] = []
    for pattern in patterns:
        for alternative in (led for part in _alternatives(pattern) for led in _opened(part)):
            if _literal_led(alternative):
                grouped.setdefault(alternative[0], []).append(alternative[1:])
            else:
                others.append(alternative)
    branches = [f"{re.escape(first)}(?:{'|'.join(rests)})" for first, rests in grouped.items()] + others
    return re.compile(" (?:" + "|".join(branches) + ")(?= )").search


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regular expression ("a|(b|c)d": "a", "(b|c)d")."""
    parts: list[str] = []
    start = 0
    for i, char, depth in _structure(pattern):
        if char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


def _group_end(pattern: str) -> int:
    """The index of the ")" closing the group that opens ``pattern``."""
    for i, char, depth in _structure(pattern):
        if char == ")" and depth == 0:
            return i
    raise ValueError("unbalanced group")


def _structure(pattern: str) -> Iterator[tuple[int, str, int]]:
    """Each "(", ")" and "|" of ``pattern`` outside character classes and escapes, with its index and the
    depth of groups around it (a ")" with the depth after it)."""
    depth, in_class, escaped = 0, False, False
    for i, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()|":
            depth += {"(": 1, ")": -1, "|": 0}[char]
            yield i, char, depth if char != "(" else depth - 1


_MOST_OPENED = 64


def _opened(alternative: str) -> list[str]:
    """``alternative`` as alternatives that match the same texts, a leading (optional) group opened into its
    own alternatives, again for each while it starts with a group; unchanged where that cannot be done (a
    repeated group, a lookaround) or would give more than :data:`_MOST_OPENED`."""
    plain = alternative.startswith("(") and not alternative.startswith("(?")
    if not (plain or alternative.startswith("(?:")):
        return [alternative]
    end = _group_end(alternative)
    inner, after = alternative[1 if plain else 3 : end], alternative[end + 1 :]
    optional = after.startswith("?")
    if after[:1] in ("*", "+", "{") or after.startswith("??"):
        return [alternative]
    tail = after[1:] if optional else after
    opened = [led for part in _alternatives(inner) + ([""] if optional else []) for led in _opened(part + tail)]
    return opened if len(opened) <= _MOST_OPENED else [alternative]


def _literal_led(alternative: str) -> bool:
    """Whether ``alternative`` starts with one plain character that is not repeated or optional."""
    return bool(alternative) and alternative[0] not in "\\()[].^$|?*+{" and alternative[1:2] not in ("?", "*", "+", "{")


_SUGGESTS = _matcher(SUGGESTION_PATTERNS)
_NOT_A_SUGGESTION = _matcher((NOT_A_SUGGESTION,))
_COMPLAINS = _matcher(COMPLAINT_PATTERNS)
_BUYS = _matcher(PURCHASE_PATTERNS)
_ASKED = _matcher(ASKED_PATTERNS)
_PRAISES = _matcher(PRAISE_PATTERNS)
_ACKNOWLEDGES = _matcher(ACKNOWLEDGEMENT_PATTERNS)
_SOLVED = re.compile(r" (fixed|sorted|repaired|solved|resolved|replaced) (the|my|our|a|an) [a-z'-]+(?= )")


@dataclass
class _Text:
    """A text prepared once for every rule: its words, padded for phrase matching, its sentiment (set once it
    is known), and what each kind of evidence found (computed once, when a rule first asks)."""

    raw: str
    words: list[str]
    padded: str
    score: float

    @classmethod
    def of(cls, raw: str, score: float | None) -> _Text:
        words = words_of(raw)
        padded = f" {' '.join(words)} "
        return cls(raw=raw, words=words, padded=padded, score=0.0 if score is None else score)

    @cached_property
    def suggests(self) -> bool:
        return _found(_SUGGESTS, self) or _opening(self.raw) in SUGGESTION_OPENINGS

    @cached_property
    def complains(self) -> bool:
        """Complaint evidence, leaving out a problem the text says was solved ("fixed the leak")."""
        if _COMPLAINS(_SOLVED.sub(" ", self.padded)) is not None:
            return True
        words = self.words
        if _NEGATIVE_WORDS.isdisjoint(words):
            return False
        return any(
            word in _NEGATIVE_WORDS and (i == 0 or words[i - 1] not in NEGATIONS) for i, word in enumerate(words)
        )

    @property
    def asks(self) -> bool:
        """A question mark, a first word that asks, or a question reported in a call note."""
        return "?" in self.raw or (bool(self.words) and self.words[0] in QUESTION_WORDS) or _found(_ASKED, self)

    @cached_property
    def praises(self) -> bool:
        return _found(_PRAISES, self) and not _found(_ACKNOWLEDGES, self)


def _opening(raw: str) -> str:
    """The first word of a text after any leading @handles ("@acme bring back the muffins": "bring")."""
    for token in raw.split():
        if not token.startswith("@"):
            words = words_of(token)
            return words[0] if words else ""
    return ""


def _found(search: Callable[[str], object], text: _Text) -> bool:
    return search(text.padded) is not None


IntentRule = tuple[str, Callable[[_Text], bool]]

INTENT_RULES: tuple[IntentRule, ...] = (
    ("complaint", lambda t: t.complains or t.score <= -STRONG_SENTIMENT),
    ("suggestion", lambda t: t.suggests and not _found(_NOT_A_SUGGESTION, t)),
    ("purchase", lambda t: t.asks and _found(_BUYS, t)),
    ("question", lambda t: t.asks),
    ("praise", lambda t: t.praises),
    ("purchase", lambda t: _found(_BUYS, t)),
    ("praise", lambda t: t.score >= STRONG_SENTIMENT),
    ("other", lambda t: bool(t.raw.strip())),
)
"""Intent of an inbound text: the first rule that holds wins (see the module docstring)."""


@dataclass(frozen=True)
class _Context:
    signals: Signals
    text: _Text
    intent: str


SociabilityRule = tuple[str, Callable[[_Context], bool]]


def _in_conversation(signals: Signals) -> bool:
    """A reply, or a touchpoint: the company takes part, so an inbound one is said to it (a chat, a call)."""
    return signals.is_reply or signals.kind == "touchpoint"


CUSTOMER_RULES: tuple[SociabilityRule, ...] = (
    ("community", lambda c: c.signals.thread_parties >= COMMUNITY_PARTIES),
    (
        "social_pressure",
        lambda c: (
            c.signals.visibility == "public"
            and mentions_brand(c.text.raw, c.signals.brand_handles)
            and c.intent in ("question", "complaint")
        ),
    ),
    ("objective", lambda c: _in_conversation(c.signals) and abs(c.text.score) < STRONG_SENTIMENT),
    ("skewed", lambda c: _in_conversation(c.signals)),
    ("venting", lambda c: c.text.score <= NEGATIVE_THRESHOLD),
    ("monologue", lambda _c: True),
)
"""Customer-side degree: first rule that holds wins."""

BUSINESS_RULES: tuple[SociabilityRule, ...] = (
    ("community", lambda c: c.signals.thread_parties >= COMMUNITY_PARTIES),
    ("pretending", lambda c: c.signals.is_reply and _contains_any(c.text.padded, PROMOTION_PHRASES)),
    ("", lambda c: c.signals.is_reply),
    ("blogging", lambda c: c.signals.channel == "blog"),
    ("fan_page", lambda c: c.signals.visibility == "public" and _contains_any(c.text.padded, FAN_PAGE_PHRASES)),
    ("broadcast_with_bait", lambda c: "?" in c.text.raw or _contains_any(c.text.padded, BAIT_PHRASES)),
    ("broadcast", lambda _c: True),
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


def enrich(signals: Signals) -> Enrichment:
    """Fill in what the caller left unspecified, and say which values were inferred.

    >>> e = enrich(Signals(text="@acme why is my kettle still broken?", direction="inbound", visibility="public",
    ...                    kind="non_touchpoint", channel="x", brand_handles=frozenset({"acme"})))
    >>> e.sentiment_label, e.intent, e.sociability_degree, sorted(e.inferred)
    ('negative', 'complaint', 'social_pressure', ['intent', 'sentiment', 'sociability_degree'])
    """
    inferred: set[str] = set()
    text = _Text.of(signals.text, None)
    label, score = signals.sentiment_label, signals.sentiment_score
    if score is None and not label and signals.rating is not None:
        score = rating_score(signals.rating)
        label = sentiment_label(score)
        inferred.add("sentiment")
    elif score is None and not label and signals.text.strip() and infers_sentiment_for(signals.language):
        score = vader_score(_rewritten(text))
        label = sentiment_label(score)
        inferred.add("sentiment")
    elif score is not None and not label:
        label = sentiment_label(score)

    text.score = 0.0 if score is None else score
    intent = signals.intent
    if not intent and signals.direction != "outbound":
        intent = _first(INTENT_RULES, text)  # type: ignore[arg-type]
        if intent:
            inferred.add("intent")
    if score is not None and "sentiment" in inferred and signals.rating is None:
        score = _agreeing_with_intent(score, intent, text)
        label = sentiment_label(score)
        text.score = score

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

    return made_of(
        Enrichment,
        {
            "sentiment_label": label,
            "sentiment_score": score,
            "intent": intent,
            "sociability_degree": degree,
            "business_sociability_degree": business_degree,
            "inferred": frozenset(inferred),
        },
    )


def _agreeing_with_intent(score: float, intent: str, text: _Text) -> float:
    """A text's score made to agree with its intent: a complaint is at least mildly negative, praise at least
    mildly positive (:data:`INTENT_SENTIMENT`), whatever VADER made of their words ("Worst service ever" after
    a polite opening). A suggestion is neutral unless it also praises or its words are strongly negative:
    proposing is not a feeling, and VADER scores the proposing words themselves ("would be great if")."""
    if intent == "complaint":
        return min(score, -INTENT_SENTIMENT)
    if intent == "praise" or (intent == "suggestion" and text.praises):
        return max(score, INTENT_SENTIMENT)
    if intent == "suggestion" and score > -STRONG_SENTIMENT:
        return 0.0
    return score


def enrich_all(signals: Sequence[Signals]) -> list[Enrichment]:
    """:func:`enrich` over a batch (a top-level function, so worker processes can run it)."""
    return [enrich(one) for one in signals]

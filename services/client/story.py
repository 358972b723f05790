"""The demo's story, as API requests: Jane Smith's journey across channels, and a synthetic brand's month.

Everything is made here, nothing is sent: :func:`jane` and :func:`brand_month` return the parties to register,
the touchpoints to record, the identifiers to link late and the merge to make and undo, as protobuf requests.
The same seed gives the same story (names, identifiers, texts, channels, offsets in time); times are laid out
backwards from the ``now`` given, so the month always ends today.

**Jane Smith** calls support about her boiler, asks in chat, complains on X (the brand answers two hours later),
blogs about it, asks on a forum where two other customers join her thread, suggests a pressure gauge app there,
and leaves a two-star marketplace review: ten interactions under five identifiers, each spelled where she used it
as she typed it there. Identity knows only her e-mail at first; the other four are linked after the touchpoints
are recorded. Then "Jan Smith" is merged into her by mistake, and the merge is undone.

**The brand's month** (Acme Heating): parties with an e-mail each and, for some, an X handle, a chat id, a forum
name or a marketplace reviewer id; touchpoints and non-touchpoints on every channel, spread over 30 days with
more on weekdays; questions, complaints, praise, purchases and suggestions, the suggestions drawn mostly from a
few product asks (one of them growing through the month) so they cluster; company replies after delays that
suit the channel (minutes in chat, hours on X, a day or two by e-mail and on review sites), some never; broadcast
campaigns; authors nobody knows yet; forum threads where many customers talk to each other; and some
identifiers linked to their parties only after their touchpoints were recorded.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from google.protobuf import timestamp_pb2

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as ipb
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb

BRAND_HANDLE = "acme"
FORUM = "forum.acme.example"
MARKET = "market.example"
CHAT = "chat.acme.example"
AGENT = types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="support@acme.example")
BRAND_X = types.Identifier(type=types.IDENTIFIER_TYPE_X, value=BRAND_HANDLE)
JANE_EMAIL = types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="jane.smith@example.com")

T, C = types.TouchpointKind, types.Channel
CUSTOMER = (types.PARTY_ROLE_CUSTOMER,)


@dataclass
class Party:
    """A party to register, and the identifiers it is told about only later."""

    request: ipb.RegisterPartyRequest
    late: list[types.Identifier] = field(default_factory=list)


@dataclass
class Story:
    """What the demo sends, in order: parties, touchpoints, late links, then the wrong merge and its undoing."""

    parties: list[Party] = field(default_factory=list)
    touchpoints: list[tpb.TouchpointInput] = field(default_factory=list)
    wrong_merge: tuple[int, int] | None = None  #: (target, source) indexes into parties

    def extend(self, other: Story) -> None:
        offset = len(self.parties)
        self.parties += other.parties
        self.touchpoints += other.touchpoints
        if other.wrong_merge is not None:
            self.wrong_merge = (other.wrong_merge[0] + offset, other.wrong_merge[1] + offset)


def _stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


def _ident(type_: int, value: str, namespace: str = "") -> types.Identifier:
    return types.Identifier(type=type_, value=value, namespace=namespace)


def _evidence(source: str, rule: str) -> ipb.Evidence:
    return ipb.Evidence(source=source, rule=rule, asserted_by="chorus-demo")


def _touchpoint(
    source: str,
    external_id: str,
    at: datetime,
    kind: int,
    channel: int,
    direction: int,
    visibility: int,
    actors: Sequence[types.Identifier],
    text: str,
    **fields: object,
) -> tpb.TouchpointInput:
    return tpb.TouchpointInput(
        source=tpb.Source(system=source, external_id=external_id),
        occurred_at=_stamp(at),
        kind=kind,
        channel=channel,
        direction=direction,
        visibility=visibility,
        actors=list(actors),
        content=tpb.Content(text=text, language="en"),
        **fields,
    )


def _reply_to(source: str, external_id: str) -> tpb.ReplyTo:
    return tpb.ReplyTo(source=tpb.SourceReference(system=source, external_id=external_id))


# ------------------------------------------------------------------------------------------------ Jane Smith

#: How Jane spelled each identifier where she used it, and how identity is told about it (late).
JANE_SPELLED = {
    "phone": (
        _ident(types.IDENTIFIER_TYPE_PHONE, "+44 20 7946 0958"),
        _ident(types.IDENTIFIER_TYPE_PHONE, "+442079460958"),
    ),
    "email": (_ident(types.IDENTIFIER_TYPE_EMAIL, "Jane.Smith@Example.COM"), JANE_EMAIL),
    "x": (_ident(types.IDENTIFIER_TYPE_X, "@JaneSmithTweets"), _ident(types.IDENTIFIER_TYPE_X, "janesmithtweets")),
    "blog": (
        _ident(types.IDENTIFIER_TYPE_BLOG_URL, "JaneSmith.example.net/blog/"),
        _ident(types.IDENTIFIER_TYPE_BLOG_URL, "https://janesmith.example.net/blog"),
    ),
    "forum": (
        _ident(types.IDENTIFIER_TYPE_FORUM_USER, "Jane  S", FORUM),
        _ident(types.IDENTIFIER_TYPE_FORUM_USER, "jane s", FORUM),
    ),
    "review": (
        _ident(types.IDENTIFIER_TYPE_MARKETPLACE_REVIEWER, "R-778", MARKET),
        _ident(types.IDENTIFIER_TYPE_MARKETPLACE_REVIEWER, "R-778", MARKET),
    ),
}


@dataclass(frozen=True)
class Said:
    """One interaction of Jane's story. Its source system, kind and visibility are its channel's (:data:`CHANNELS`);
    a reply (``reply_to``, the external id it answers) is the company's: outbound, and a touchpoint."""

    external_id: str
    ago: timedelta
    channel: int
    who: tuple[str, ...]  #: names of :func:`jane`'s people: her identifiers as spelled there, the company's, others'
    intent: int
    text: str
    sentiment: float | None = None
    degree: int = 0  #: customer-side sociability degree
    followers: int = 0
    thread: str = ""
    reply_to: str = ""


_D = timedelta  # a shorthand for the table below
#: Jane's journey, oldest first, the two forum users who join her thread, and Jan Smith's order.
JANE_STORY = (
    Said(
        "jane-call", _D(days=20), C.CHANNEL_PHONE, ("phone", "agent"), types.INTENT_COMPLAINT,
        "My boiler stopped heating, I'd like a replacement", -0.6, types.SOCIABILITY_DEGREE_VENTING,
    ),
    Said(
        "jane-chat", _D(days=19), C.CHANNEL_CHAT, ("email",), types.INTENT_QUESTION, "How do I reset the thermostat?",
        degree=types.SOCIABILITY_DEGREE_SKEWED,
    ),
    Said(
        "jane-chat-reply", _D(days=19, minutes=-3), C.CHANNEL_CHAT, ("agent", "email"), types.INTENT_OTHER,
        "Hold the reset button for five seconds.", reply_to="jane-chat",
    ),
    Said(
        "jane-tweet", _D(days=17), C.CHANNEL_X, ("x",), types.INTENT_COMPLAINT,
        "@acme still no heating after 3 days. Worst customer service ever", -0.8,
        types.SOCIABILITY_DEGREE_SOCIAL_PRESSURE, followers=999,
    ),
    Said(
        "jane-tweet-reply", _D(days=17, hours=-2), C.CHANNEL_X, ("brand", "x"), types.INTENT_OTHER,
        "@JaneSmithTweets so sorry, an engineer will call you today", reply_to="jane-tweet",
    ),
    Said(
        "jane-blog", _D(days=15), C.CHANNEL_BLOG, ("blog",), types.INTENT_OTHER,
        "Three weeks with a broken boiler: what I learned", -0.4, types.SOCIABILITY_DEGREE_OBJECTIVE, followers=99,
    ),
    Said(
        "jane-forum-1", _D(days=14), C.CHANNEL_FORUM, ("forum",), types.INTENT_QUESTION,
        "Anyone else's boiler losing pressure?", -0.2, types.SOCIABILITY_DEGREE_COMMUNITY, thread="boiler-pressure",
    ),
    Said(
        "jane-forum-other-0", _D(days=14, hours=-1), C.CHANNEL_FORUM, ("bob",), types.INTENT_OTHER,
        "Same here, every week.", -0.1, types.SOCIABILITY_DEGREE_COMMUNITY, thread="boiler-pressure",
    ),
    Said(
        "jane-forum-other-1", _D(days=14, hours=-2), C.CHANNEL_FORUM, ("carol",), types.INTENT_OTHER,
        "Same here, every week.", -0.1, types.SOCIABILITY_DEGREE_COMMUNITY, thread="boiler-pressure",
    ),
    Said(
        "jane-forum-2", _D(days=13), C.CHANNEL_FORUM, ("forum",), types.INTENT_SUGGESTION,
        "Please add a pressure gauge app", 0.3, types.SOCIABILITY_DEGREE_COMMUNITY, thread="boiler-pressure",
    ),
    Said(
        "jane-review", _D(days=12), C.CHANNEL_MARKETPLACE, ("review",), types.INTENT_COMPLAINT,
        "Two stars. Broke within a month, support was slow.", -0.7, types.SOCIABILITY_DEGREE_OBJECTIVE,
    ),
    Said(
        "jan-order", _D(days=2), C.CHANNEL_EMAIL, ("jan",), types.INTENT_PURCHASE,
        "I'd like to order two more radiators", degree=types.SOCIABILITY_DEGREE_OBJECTIVE,
    ),
)  # fmt: skip
JAN_EMAIL = _ident(types.IDENTIFIER_TYPE_EMAIL, "jan.smith@elsewhere.example")


def jane(now: datetime) -> Story:
    """Jane Smith's journey, the two forum users who join her thread, and Jan Smith (merged into her by mistake)."""
    people = {name: pair[0] for name, pair in JANE_SPELLED.items()} | {
        "agent": AGENT,
        "brand": BRAND_X,
        "jan": JAN_EMAIL,
        "bob": _ident(types.IDENTIFIER_TYPE_FORUM_USER, "Bob B", FORUM),
        "carol": _ident(types.IDENTIFIER_TYPE_FORUM_USER, "carol c", FORUM),
    }
    touchpoints = []
    for said in JANE_STORY:
        place = _PLACE[said.channel]
        fields: dict[str, object] = {"intent": said.intent, "sociability_degree": said.degree}
        if said.sentiment is not None:
            fields["sentiment"] = tpb.Sentiment(score=said.sentiment)
        if said.followers:
            fields["audience"] = tpb.Audience(followers=said.followers)
        if said.thread:
            fields["thread_id"] = said.thread
        if said.reply_to:
            fields["reply_to"] = _reply_to(place.system, said.reply_to)
        touchpoints.append(
            _touchpoint(
                place.system,
                said.external_id,
                now - said.ago,
                TOUCH if said.reply_to else place.kind,
                said.channel,
                types.DIRECTION_OUTBOUND if said.reply_to else types.DIRECTION_INBOUND,
                place.visibility,
                [people[name] for name in said.who],
                said.text,
                **fields,
            )
        )
    return Story(
        parties=[
            Party(_registration("Jane Smith", [JANE_EMAIL]), late=[JANE_SPELLED[name][1] for name in JANE_LATE]),
            Party(_registration("Jan Smith", [JAN_EMAIL])),
        ],
        touchpoints=touchpoints,
        wrong_merge=(0, 1),
    )


#: The identifiers identity learns of Jane only after her touchpoints are recorded.
JANE_LATE = ("phone", "x", "blog", "forum", "review")


def _registration(
    name: str, identifiers: list[types.Identifier], roles: Sequence[int] = CUSTOMER
) -> ipb.RegisterPartyRequest:
    """A person the CRM knows, to register with the identifiers identity is told at once."""
    return ipb.RegisterPartyRequest(
        kind=types.PARTY_KIND_PERSON,
        display_name=name,
        roles=list(roles),
        identifiers=identifiers,
        evidence=_evidence("crm-import", "crm record"),
    )


# ------------------------------------------------------------------------------------------------ the brand's month

FIRST = tuple(
    """
    Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Freya Willow Emily Ella Poppy Evie
    Sienna Noah Oliver George Leo Arthur Muhammad Harry Oscar Archie Henry Theodore Jack Charlie
    Freddie Thomas Alfie Priya Aisha Mateo Yuki Chen Lars Ingrid Amara Kofi Nia Diego Lucia Sven Hana
    """.split()  # noqa: SIM905 - a list of names reads best as the names
)
LAST = tuple(
    """
    Smith Jones Taylor Brown Williams Wilson Johnson Davies Patel Robinson Wright Thompson Evans Walker
    White Roberts Green Hall Thomas Clarke Jackson Wood Harris Edwards Turner Martin Cooper Hill Ward
    Hughes Moore Clark King Harrison Lewis Baker Lee Allen Morris Khan Scott Watson Davis Parker James
    Bennett Young
    """.split()  # noqa: SIM905 - a list of names reads best as the names
)
PRODUCTS = ("boiler", "thermostat", "radiator", "heat pump", "smart valve", "water heater")

#: What a party says, by intent ({p} a product, {n} a number); suggestions are drawn from ASKS instead.
SAYS = {
    types.INTENT_QUESTION: (
        "How do I bleed the {p}?",
        "Is the {p} covered by the warranty?",
        "When will the engineer arrive for my {p}?",
        "Can I control the {p} from my phone?",
        "What does error E{n} on the {p} mean?",
        "Do you install the {p} on weekends?",
        "How long does a {p} service take?",
    ),
    types.INTENT_COMPLAINT: (
        "My {p} broke again, this is unacceptable",
        "Still waiting for a refund on the {p}, third week now",
        "The {p} is making a terrible noise and nobody calls back",
        "Engineer never showed up to fix my {p}. Awful",
        "Worst experience ever with the {p}, cold house all weekend",
        "The {p} leaks and support keeps me on hold",
    ),
    types.INTENT_PRAISE: (
        "Love the new {p}, the house is warm in minutes",
        "Thank you for the quick {p} repair, brilliant engineer",
        "The {p} app is awesome, saved a lot on bills",
        "Great service today, the {p} works perfectly",
        "Really happy with my {p}, best purchase this year",
    ),
    types.INTENT_PURCHASE: (
        "I'd like to order a second {p}",
        "Just ordered the {p} bundle, when will it ship?",
        "Bought the {p} yesterday, checkout was smooth",
    ),
    types.INTENT_OTHER: (
        "Moving house next month, updating my details",
        "Shared the {p} guide with my neighbour",
        "Reading up on {p} efficiency",
        "Back from holiday, the {p} kept the house dry",
    ),
}
#: The product asks suggestions cluster into: (the ask, how to say it); the last one grows through the month.
ASKS = (
    ("pressure gauge app", ("Please add a {a}", "Would love a {a}!", "A {a} would be great", "I wish there was a {a}")),
    (
        "weekend engineer visits",
        ("Please offer {a}", "You should start {a}", "{a} would be great for us", "Could you add {a}?"),
    ),
    ("paperless billing", ("Please add {a}", "I'd like {a}, no more letters", "You should offer {a}", "{a} please")),
    (
        "smart thermostat schedule",
        ("Please add a {a}", "A {a} option would be nice", "I wish the app had a {a}", "You should add a {a}"),
    ),
)
ODD_SUGGESTIONS = (
    "Please add a purple colour option",
    "Maybe sponsor the local football club",
    "You should open a showroom in Leeds",
    "Please bring back the old manual",
)
CAMPAIGNS = (
    "Winter check-up: book your boiler service now",
    "New: the Acme smart valve, 20% off this week",
    "Your energy-saving tips for the cold months",
)
REPLIES = {
    types.INTENT_QUESTION: "Thanks for asking! Here is how: {h}",
    types.INTENT_COMPLAINT: "We're sorry about this. An engineer will contact you today. {h}",
    types.INTENT_PURCHASE: "Thank you for your order, it ships tomorrow. {h}",
    types.INTENT_PRAISE: "Thank you so much, we'll pass it on to the team! {h}",
}

TOUCH, NON_TOUCH = T.TOUCHPOINT_KIND_TOUCHPOINT, T.TOUCHPOINT_KIND_NON_TOUCHPOINT
PRIVATE, PUBLIC = types.VISIBILITY_PRIVATE, types.VISIBILITY_PUBLIC


class Place(NamedTuple):
    """A channel as the story uses it."""

    channel: int
    kind: int  #: of what a party says there
    visibility: int
    weight: int  #: how often parties speak there, relative to the other channels
    uses: str  #: the identifier a party uses there (a key of ``_Person.typed``)
    system: str  #: the source system that records it
    reply_after: tuple[int, int]  #: how long the company takes to reply there: (shortest, longest) in minutes


#: Every channel: (channel, kind, visibility, weight, identifier used, source system, reply delay in minutes)
CHANNELS = (
    Place(C.CHANNEL_PHONE, TOUCH, PRIVATE, 10, "email", "acme-callcentre", (0, 30)),
    Place(C.CHANNEL_EMAIL, TOUCH, PRIVATE, 16, "email", "acme-mail", (90, 2880)),
    Place(C.CHANNEL_CHAT, TOUCH, PRIVATE, 14, "chat", "acme-chat", (1, 12)),
    Place(C.CHANNEL_SMS, TOUCH, PRIVATE, 3, "phone", "acme-sms", (10, 240)),
    Place(C.CHANNEL_X, NON_TOUCH, PUBLIC, 14, "x", "x", (8, 600)),
    Place(C.CHANNEL_FACEBOOK, NON_TOUCH, PUBLIC, 5, "facebook", "facebook", (20, 900)),
    Place(C.CHANNEL_INSTAGRAM, NON_TOUCH, PUBLIC, 4, "instagram", "instagram", (30, 1200)),
    Place(C.CHANNEL_YOUTUBE, NON_TOUCH, PUBLIC, 2, "youtube", "youtube", (60, 2880)),
    Place(C.CHANNEL_FORUM, NON_TOUCH, PUBLIC, 10, "forum", FORUM, (60, 2880)),
    Place(C.CHANNEL_BLOG, NON_TOUCH, PUBLIC, 2, "blog", "blogs", (240, 4320)),
    Place(C.CHANNEL_MARKETPLACE, NON_TOUCH, PUBLIC, 6, "review", "marketplace", (600, 5760)),
    Place(C.CHANNEL_STORE, TOUCH, PRIVATE, 4, "email", "acme-store", (30, 1440)),
    Place(C.CHANNEL_WEB, TOUCH, PRIVATE, 5, "email", "acme-web", (60, 1440)),
    Place(C.CHANNEL_IN_APP, TOUCH, PRIVATE, 4, "device", "acme-app", (30, 1440)),
    Place(C.CHANNEL_OTHER, TOUCH, PRIVATE, 1, "email", "acme-other", (120, 2880)),
)
_PLACE = {place.channel: place for place in CHANNELS}
INTENTS = (
    (types.INTENT_QUESTION, 30),
    (types.INTENT_COMPLAINT, 18),
    (types.INTENT_PRAISE, 18),
    (types.INTENT_SUGGESTION, 9),
    (types.INTENT_PURCHASE, 9),
    (types.INTENT_OTHER, 16),
)
REPLY_CHANCE = {
    types.INTENT_QUESTION: 0.75,
    types.INTENT_COMPLAINT: 0.7,
    types.INTENT_PURCHASE: 0.8,
    types.INTENT_PRAISE: 0.25,
}
HOUR_WEIGHTS = [1.0 if 7 <= hour < 22 else 0.2 for hour in range(24)]
THREADS = (
    "which-thermostat",
    "heat-pump-noise",
    "winter-tips",
    "radiator-balancing",
    "app-wishlist",
    "boiler-pressure-2",
    "installer-reviews",
)


@dataclass(frozen=True)
class Size:
    """How big a month: parties, inbound interactions from them, and from authors nobody knows yet."""

    parties: int
    interactions: int
    strangers: int


SIZES = {
    "small": Size(parties=40, interactions=220, strangers=20),
    "full": Size(parties=2000, interactions=19000, strangers=1500),
}


#: How likely a party is to use each kind of identifier (phones are never told to identity: unattributed SMS).
USES = (
    ("x", 0.35),
    ("chat", 0.5),
    ("forum", 0.2),
    ("review", 0.15),
    ("facebook", 0.15),
    ("instagram", 0.1),
    ("device", 0.3),
    ("youtube", 0.03),
    ("blog", 0.03),
    ("phone", 0.1),
)


class _Person:
    def __init__(self, rng: random.Random, n: int) -> None:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        self.name = f"{first} {last}"
        handle = f"{first[:6]}{last[:5]}{n}".lower()  # at most 15 characters, as X allows
        self.email = f"{first}.{last}.{n}@example.org".lower()
        self.typed: dict[str, types.Identifier] = {  # as the person types them where they use them
            "email": _ident(
                types.IDENTIFIER_TYPE_EMAIL,
                rng.choice((self.email, self.email.title(), f"{first}.{last}.{n}@Example.org")),
            ),
            "x": _ident(types.IDENTIFIER_TYPE_X, f"@{first[:6]}{last[:5]}{n}"),
            "facebook": _ident(types.IDENTIFIER_TYPE_FACEBOOK, handle),
            "instagram": _ident(types.IDENTIFIER_TYPE_INSTAGRAM, f"@{handle}"),
            "youtube": _ident(types.IDENTIFIER_TYPE_YOUTUBE, f"@{handle}"),
            "chat": _ident(types.IDENTIFIER_TYPE_CHAT_ID, f"c-{n:06d}", CHAT),
            "forum": _ident(types.IDENTIFIER_TYPE_FORUM_USER, f"{first} {last[0]}{n}", FORUM),
            "review": _ident(types.IDENTIFIER_TYPE_MARKETPLACE_REVIEWER, f"R-{10_000 + n}", MARKET),
            "device": _ident(types.IDENTIFIER_TYPE_DEVICE_ID, f"{n:08X}-ACME-APP"),
            "phone": _ident(types.IDENTIFIER_TYPE_PHONE, f"+44 7700 9{n % 100_000:05d}"[:17]),
            "blog": _ident(types.IDENTIFIER_TYPE_BLOG_URL, f"{handle}.blog.example/"),
        }
        #: where the person turns up: always e-mail, some of the others
        self.uses = {"email"} | {name for name, chance in USES if rng.random() < chance}


def brand_month(seed: int, size: Size, now: datetime) -> Story:
    """The synthetic brand's month; the same seed gives the same story."""
    rng = random.Random(seed)  # noqa: S311 - a story told again from its seed, not a secret
    people = [_Person(rng, n) for n in range(size.parties)]
    story = Story()
    for n, registered in enumerate(people):
        known = [registered.typed[name] for name in sorted(registered.uses) if name != "phone"]
        late = [i for i in known[1:] if rng.random() < 0.2]  # told to identity only after its touchpoints
        roles = CUSTOMER + ((types.PARTY_ROLE_INFLUENCER,) if n % 97 == 0 else ())
        story.parties.append(Party(_registration(registered.name, [i for i in known if i not in late], roles), late))
    activity = [min(rng.paretovariate(1.5), 40.0) for _ in people]  # a few very active parties, a long quiet tail
    start = now - timedelta(days=30)
    for k in range(size.interactions + size.strangers):
        stranger = k >= size.interactions
        person: _Person | None = None if stranger else rng.choices(people, weights=activity)[0]
        if person is None:
            eligible = [c for c in CHANNELS if c.visibility == PUBLIC and c.uses != "blog"]
        else:
            eligible = [c for c in CHANNELS if c.uses in person.uses]
        place = rng.choices(eligible, weights=[c.weight for c in eligible])[0]
        channel, kind, visibility, _, uses, system, (low, high) = place
        author = (person or _Person(rng, 900_000 + k)).typed[uses]
        at = _moment(rng, start)
        intent = rng.choices([i for i, _ in INTENTS], weights=[w for _, w in INTENTS])[0]
        product = rng.choice(PRODUCTS)
        thread = rng.choice(THREADS) if channel == C.CHANNEL_FORUM else ""
        text = _text(rng, intent, product, at, start)
        external = f"demo-{seed}-{k + 1}"
        followers = int(rng.paretovariate(0.9) * 40) if visibility == types.VISIBILITY_PUBLIC else 0
        if (
            visibility == types.VISIBILITY_PUBLIC
            and intent in (types.INTENT_COMPLAINT, types.INTENT_QUESTION)
            and channel in (C.CHANNEL_X, C.CHANNEL_FACEBOOK, C.CHANNEL_INSTAGRAM)
        ):
            text = f"@{BRAND_HANDLE} {text}"
        story.touchpoints.append(
            _touchpoint(
                system,
                external,
                at,
                kind,
                channel,
                types.DIRECTION_INBOUND,
                visibility,
                [author],
                text,
                intent=intent,
                thread_id=thread,
                audience=tpb.Audience(followers=followers),
                sociability_degree=_degree(visibility, intent, thread),
            )
        )
        if rng.random() < REPLY_CHANCE.get(intent, 0.0):
            delay = timedelta(minutes=low + (high - low) * rng.random() ** 2)
            if at + delay < now:
                company = BRAND_X if channel == C.CHANNEL_X else AGENT
                story.touchpoints.append(
                    _touchpoint(
                        system,
                        f"{external}-reply",
                        at + delay,
                        T.TOUCHPOINT_KIND_TOUCHPOINT,
                        channel,
                        types.DIRECTION_OUTBOUND,
                        visibility,
                        [company, author],
                        REPLIES[intent].format(h=f"acme.example/help/{product.replace(' ', '-')}"),
                        reply_to=_reply_to(system, external),
                        thread_id=thread,
                        intent=types.INTENT_OTHER,
                    )
                )
    for n, campaign in enumerate(CAMPAIGNS):  # broadcasts: talk without listening
        for m, person in enumerate(people[n :: max(1, len(CAMPAIGNS) * 4)]):
            story.touchpoints.append(
                _touchpoint(
                    "acme-campaigns",
                    f"demo-{seed}-campaign-{n}-{m}",
                    start + timedelta(days=3 + 9 * n, hours=9),
                    T.TOUCHPOINT_KIND_TOUCHPOINT,
                    C.CHANNEL_EMAIL,
                    types.DIRECTION_OUTBOUND,
                    types.VISIBILITY_PRIVATE,
                    [AGENT, person.typed["email"]],
                    campaign,
                    intent=types.INTENT_OTHER,
                    audience=tpb.Audience(recipients=1),
                )
            )
    story.touchpoints.sort(key=lambda item: (item.occurred_at.seconds, item.source.external_id))
    return story


def _moment(rng: random.Random, start: datetime) -> datetime:
    """A time in the 30 days from ``start``, weekdays and daytime more likely; three draws whatever the date, so
    a seed makes the same story on any day."""
    day_weights = [1.0 if (start + timedelta(days=d)).weekday() < 5 else 0.55 for d in range(30)]
    day = rng.choices(range(30), weights=day_weights)[0]
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    midnight = (start + timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
    at = midnight + timedelta(hours=hour, seconds=rng.random() * 3600)
    return min(max(at, start), start + timedelta(days=30, seconds=-1))


def _text(rng: random.Random, intent: int, product: str, at: datetime, start: datetime) -> str:
    if intent == types.INTENT_SUGGESTION:
        if rng.random() < 0.12:
            return rng.choice(ODD_SUGGESTIONS)
        growing = (at - start).days / 30  # the last ask grows through the month
        weights = (4, 3, 2, 1 + 6 * growing)
        ask, phrasings = rng.choices(ASKS, weights=weights)[0]
        text = rng.choice(phrasings).format(a=ask)
        return text[0].upper() + text[1:]
    return rng.choice(SAYS[intent]).format(p=product, n=rng.randint(10, 99))


def _degree(visibility: int, intent: int, thread: str) -> int:
    """The customer-side sociability degree a source integration would tell: public pressure, community, talk."""
    if thread:
        return types.SOCIABILITY_DEGREE_COMMUNITY
    if visibility == types.VISIBILITY_PUBLIC:
        if intent in (types.INTENT_COMPLAINT, types.INTENT_QUESTION):
            return types.SOCIABILITY_DEGREE_SOCIAL_PRESSURE
        return types.SOCIABILITY_DEGREE_MONOLOGUE if intent == types.INTENT_OTHER else 0
    if intent == types.INTENT_COMPLAINT:
        return types.SOCIABILITY_DEGREE_SKEWED
    return types.SOCIABILITY_DEGREE_OBJECTIVE if intent != types.INTENT_OTHER else 0

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
#: Jane's interactions: nine of hers (and the company's replies to her), two by other forum users.
JANE_INTERACTIONS = 9


def jane(now: datetime) -> Story:
    """Jane Smith's journey, the two forum users who join her thread, and Jan Smith (merged into her by mistake)."""
    spelled = {name: pair[0] for name, pair in JANE_SPELLED.items()}
    s = lambda score: tpb.Sentiment(score=score)  # noqa: E731 - a shorthand for the table below

    def ago(**delta: float) -> datetime:
        return now - timedelta(**delta)

    inbound, outbound = types.DIRECTION_INBOUND, types.DIRECTION_OUTBOUND
    private, public = types.VISIBILITY_PRIVATE, types.VISIBILITY_PUBLIC
    touch, non_touch = T.TOUCHPOINT_KIND_TOUCHPOINT, T.TOUCHPOINT_KIND_NON_TOUCHPOINT
    tp = _touchpoint
    story = [
        tp(
            "acme-callcentre",
            "jane-call",
            ago(days=20),
            touch,
            C.CHANNEL_PHONE,
            inbound,
            private,
            [spelled["phone"], AGENT],
            "My boiler stopped heating, I'd like a replacement",
            intent=types.INTENT_COMPLAINT,
            sentiment=s(-0.6),
            sociability_degree=types.SOCIABILITY_DEGREE_VENTING,
        ),
        tp(
            "acme-chat",
            "jane-chat",
            ago(days=19),
            touch,
            C.CHANNEL_CHAT,
            inbound,
            private,
            [spelled["email"]],
            "How do I reset the thermostat?",
            intent=types.INTENT_QUESTION,
            sociability_degree=types.SOCIABILITY_DEGREE_SKEWED,
        ),
        tp(
            "acme-chat",
            "jane-chat-reply",
            ago(days=19, minutes=-3),
            touch,
            C.CHANNEL_CHAT,
            outbound,
            private,
            [AGENT, spelled["email"]],
            "Hold the reset button for five seconds.",
            reply_to=_reply_to("acme-chat", "jane-chat"),
            intent=types.INTENT_OTHER,
        ),
        tp(
            "x",
            "jane-tweet",
            ago(days=17),
            non_touch,
            C.CHANNEL_X,
            inbound,
            public,
            [spelled["x"]],
            "@acme still no heating after 3 days. Worst customer service ever",
            audience=tpb.Audience(followers=999),
            intent=types.INTENT_COMPLAINT,
            sentiment=s(-0.8),
            sociability_degree=types.SOCIABILITY_DEGREE_SOCIAL_PRESSURE,
        ),
        tp(
            "x",
            "jane-tweet-reply",
            ago(days=17, hours=-2),
            touch,
            C.CHANNEL_X,
            outbound,
            public,
            [BRAND_X, spelled["x"]],
            "@JaneSmithTweets so sorry, an engineer will call you today",
            reply_to=_reply_to("x", "jane-tweet"),
            intent=types.INTENT_OTHER,
        ),
        tp(
            "blogs",
            "jane-blog",
            ago(days=15),
            non_touch,
            C.CHANNEL_BLOG,
            inbound,
            public,
            [spelled["blog"]],
            "Three weeks with a broken boiler: what I learned",
            audience=tpb.Audience(followers=99),
            intent=types.INTENT_OTHER,
            sentiment=s(-0.4),
            sociability_degree=types.SOCIABILITY_DEGREE_OBJECTIVE,
        ),
        tp(
            FORUM,
            "jane-forum-1",
            ago(days=14),
            non_touch,
            C.CHANNEL_FORUM,
            inbound,
            public,
            [spelled["forum"]],
            "Anyone else's boiler losing pressure?",
            thread_id="boiler-pressure",
            intent=types.INTENT_QUESTION,
            sentiment=s(-0.2),
            sociability_degree=types.SOCIABILITY_DEGREE_COMMUNITY,
        ),
        *(
            tp(
                FORUM,
                f"jane-forum-other-{n}",
                ago(days=14, hours=-n - 1),
                non_touch,
                C.CHANNEL_FORUM,
                inbound,
                public,
                [_ident(types.IDENTIFIER_TYPE_FORUM_USER, who, FORUM)],
                "Same here, every week.",
                thread_id="boiler-pressure",
                intent=types.INTENT_OTHER,
                sentiment=s(-0.1),
                sociability_degree=types.SOCIABILITY_DEGREE_COMMUNITY,
            )
            for n, who in enumerate(("Bob B", "carol c"))
        ),
        tp(
            FORUM,
            "jane-forum-2",
            ago(days=13),
            non_touch,
            C.CHANNEL_FORUM,
            inbound,
            public,
            [spelled["forum"]],
            "Please add a pressure gauge app",
            thread_id="boiler-pressure",
            intent=types.INTENT_SUGGESTION,
            sentiment=s(0.3),
            sociability_degree=types.SOCIABILITY_DEGREE_COMMUNITY,
        ),
        tp(
            "marketplace",
            "jane-review",
            ago(days=12),
            non_touch,
            C.CHANNEL_MARKETPLACE,
            inbound,
            public,
            [spelled["review"]],
            "Two stars. Broke within a month, support was slow.",
            intent=types.INTENT_COMPLAINT,
            sentiment=s(-0.7),
            sociability_degree=types.SOCIABILITY_DEGREE_OBJECTIVE,
        ),
    ]
    jan_email = _ident(types.IDENTIFIER_TYPE_EMAIL, "jan.smith@elsewhere.example")
    story.append(
        tp(
            "acme-mail",
            "jan-order",
            ago(days=2),
            touch,
            C.CHANNEL_EMAIL,
            inbound,
            private,
            [jan_email],
            "I'd like to order two more radiators",
            intent=types.INTENT_PURCHASE,
            sociability_degree=types.SOCIABILITY_DEGREE_OBJECTIVE,
        )
    )
    customer = [types.PARTY_ROLE_CUSTOMER]
    return Story(
        parties=[
            Party(
                ipb.RegisterPartyRequest(
                    kind=types.PARTY_KIND_PERSON,
                    display_name="Jane Smith",
                    roles=customer,
                    identifiers=[JANE_EMAIL],
                    evidence=_evidence("crm-import", "crm record"),
                ),
                late=[JANE_SPELLED[name][1] for name in ("phone", "x", "blog", "forum", "review")],
            ),
            Party(
                ipb.RegisterPartyRequest(
                    kind=types.PARTY_KIND_PERSON,
                    display_name="Jan Smith",
                    roles=customer,
                    identifiers=[jan_email],
                    evidence=_evidence("crm-import", "crm record"),
                )
            ),
        ],
        touchpoints=story,
        wrong_merge=(0, 1),
    )


# ------------------------------------------------------------------------------------------------ the brand's month

FIRST = (
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Rosie",
    "Sophia",
    "Grace",
    "Freya",
    "Willow",
    "Emily",
    "Ella",
    "Poppy",
    "Evie",
    "Sienna",
    "Noah",
    "Oliver",
    "George",
    "Leo",
    "Arthur",
    "Muhammad",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Theodore",
    "Jack",
    "Charlie",
    "Freddie",
    "Thomas",
    "Alfie",
    "Priya",
    "Aisha",
    "Mateo",
    "Yuki",
    "Chen",
    "Lars",
    "Ingrid",
    "Amara",
    "Kofi",
    "Nia",
    "Diego",
    "Lucia",
    "Sven",
    "Hana",
)
LAST = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "Scott",
    "Watson",
    "Davis",
    "Parker",
    "James",
    "Bennett",
    "Young",
)
PRODUCTS = ("boiler", "thermostat", "radiator", "heat pump", "smart valve", "water heater")

QUESTIONS = (
    "How do I bleed the {p}?",
    "Is the {p} covered by the warranty?",
    "When will the engineer arrive for my {p}?",
    "Can I control the {p} from my phone?",
    "What does error E{n} on the {p} mean?",
    "Do you install the {p} on weekends?",
    "How long does a {p} service take?",
)
COMPLAINTS = (
    "My {p} broke again, this is unacceptable",
    "Still waiting for a refund on the {p}, third week now",
    "The {p} is making a terrible noise and nobody calls back",
    "Engineer never showed up to fix my {p}. Awful",
    "Worst experience ever with the {p}, cold house all weekend",
    "The {p} leaks and support keeps me on hold",
)
PRAISE = (
    "Love the new {p}, the house is warm in minutes",
    "Thank you for the quick {p} repair, brilliant engineer",
    "The {p} app is awesome, saved a lot on bills",
    "Great service today, the {p} works perfectly",
    "Really happy with my {p}, best purchase this year",
)
PURCHASES = (
    "I'd like to order a second {p}",
    "Just ordered the {p} bundle, when will it ship?",
    "Bought the {p} yesterday, checkout was smooth",
)
OTHER = (
    "Moving house next month, updating my details",
    "Shared the {p} guide with my neighbour",
    "Reading up on {p} efficiency",
    "Back from holiday, the {p} kept the house dry",
)
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

#: (channel, kind, visibility, weight, identifier the author uses there, source system)
CHANNELS = (
    (C.CHANNEL_PHONE, T.TOUCHPOINT_KIND_TOUCHPOINT, types.VISIBILITY_PRIVATE, 10, "email", "acme-callcentre"),
    (C.CHANNEL_EMAIL, T.TOUCHPOINT_KIND_TOUCHPOINT, types.VISIBILITY_PRIVATE, 16, "email", "acme-mail"),
    (C.CHANNEL_CHAT, T.TOUCHPOINT_KIND_TOUCHPOINT, types.VISIBILITY_PRIVATE, 14, "chat", "acme-chat"),
    (C.CHANNEL_SMS, T.TOUCHPOINT_KIND_TOUCHPOINT, types.VISIBILITY_PRIVATE, 3, "phone", "acme-sms"),
    (C.CHANNEL_X, T.TOUCHPOINT_KIND_NON_TOUCHPOINT, types.VISIBILITY_PUBLIC, 14, "x", "x"),
    (C.CHANNEL_FACEBOOK, T.TOUCHPOINT_KIND_NON_TOUCHPOINT, types.VISIBILITY_PUBLIC, 5, "facebook", "facebook"),
    (C.CHANNEL_INSTAGRAM, T.TOUCHPOINT_KIND_NON_TOUCHPOINT, types.VISIBILITY_PUBLIC, 4, "instagram", "instagram"),
    (C.CHANNEL_YOUTUBE, T.TOUCHPOINT_KIND_NON_TOUCHPOINT, types.VISIBILITY_PUBLIC, 2, "youtube", "youtube"),
    (C.CHANNEL_FORUM, T.TOUCHPOINT_KIND_NON_TOUCHPOINT, types.VISIBILITY_PUBLIC, 10, "forum", FORUM),
    (C.CHANNEL_BLOG, T.TOUCHPOINT_KIND_NON_TOUCHPOINT, types.VISIBILITY_PUBLIC, 2, "blog", "blogs"),
    (C.CHANNEL_MARKETPLACE, T.TOUCHPOINT_KIND_NON_TOUCHPOINT, types.VISIBILITY_PUBLIC, 6, "review", "marketplace"),
    (C.CHANNEL_STORE, T.TOUCHPOINT_KIND_TOUCHPOINT, types.VISIBILITY_PRIVATE, 4, "email", "acme-store"),
    (C.CHANNEL_WEB, T.TOUCHPOINT_KIND_TOUCHPOINT, types.VISIBILITY_PRIVATE, 5, "email", "acme-web"),
    (C.CHANNEL_IN_APP, T.TOUCHPOINT_KIND_TOUCHPOINT, types.VISIBILITY_PRIVATE, 4, "device", "acme-app"),
    (C.CHANNEL_OTHER, T.TOUCHPOINT_KIND_TOUCHPOINT, types.VISIBILITY_PRIVATE, 1, "email", "acme-other"),
)
#: How long the company takes to reply, per channel: (shortest, longest) in minutes.
REPLY_DELAY = {
    C.CHANNEL_PHONE: (0, 30),
    C.CHANNEL_CHAT: (1, 12),
    C.CHANNEL_SMS: (10, 240),
    C.CHANNEL_X: (8, 600),
    C.CHANNEL_FACEBOOK: (20, 900),
    C.CHANNEL_INSTAGRAM: (30, 1200),
    C.CHANNEL_YOUTUBE: (60, 2880),
    C.CHANNEL_FORUM: (60, 2880),
    C.CHANNEL_BLOG: (240, 4320),
    C.CHANNEL_MARKETPLACE: (600, 5760),
    C.CHANNEL_EMAIL: (90, 2880),
    C.CHANNEL_STORE: (30, 1440),
    C.CHANNEL_WEB: (60, 1440),
    C.CHANNEL_IN_APP: (30, 1440),
    C.CHANNEL_OTHER: (120, 2880),
}
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
        roles = [types.PARTY_ROLE_CUSTOMER] + ([types.PARTY_ROLE_INFLUENCER] if n % 97 == 0 else [])
        story.parties.append(
            Party(
                ipb.RegisterPartyRequest(
                    kind=types.PARTY_KIND_PERSON,
                    display_name=registered.name,
                    roles=roles,
                    identifiers=[i for i in known if i not in late],
                    evidence=_evidence("crm-import", "crm record"),
                ),
                late=late,
            )
        )
    activity = [min(rng.paretovariate(1.5), 40.0) for _ in people]  # a few very active parties, a long quiet tail
    start = now - timedelta(days=30)
    for k in range(size.interactions + size.strangers):
        stranger = k >= size.interactions
        person: _Person | None = None if stranger else rng.choices(people, weights=activity)[0]
        if person is None:
            eligible = [c for c in CHANNELS if c[2] == types.VISIBILITY_PUBLIC and c[4] != "blog"]
        else:
            eligible = [c for c in CHANNELS if c[4] in person.uses]
        channel, kind, visibility, _, uses, system = rng.choices(eligible, weights=[c[3] for c in eligible])[0]
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
            low, high = REPLY_DELAY[channel]
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
    table = {
        types.INTENT_QUESTION: QUESTIONS,
        types.INTENT_COMPLAINT: COMPLAINTS,
        types.INTENT_PRAISE: PRAISE,
        types.INTENT_PURCHASE: PURCHASES,
    }.get(intent, OTHER)
    return rng.choice(table).format(p=product, n=rng.randint(10, 99))


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

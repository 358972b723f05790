"""The company's views over a small fixed data set: attention queue, pulse, co-creation, communities.

Every expected number below is worked out by hand from the data set and the rules in
``services.experience.domain`` (the score table, the bars, the grouping).
"""

from __future__ import annotations

import pytest

from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as xpb
from chorus.identity.v1 import identity_service_pb2 as ipb
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from tests.support.stack import NOW, Stack, ago, ident, stamp

EMAIL, X, FORUM = types.IDENTIFIER_TYPE_EMAIL, types.IDENTIFIER_TYPE_X, types.IDENTIFIER_TYPE_FORUM_USER
INBOUND, OUTBOUND = types.DIRECTION_INBOUND, types.DIRECTION_OUTBOUND
PUBLIC, PRIVATE = types.VISIBILITY_PUBLIC, types.VISIBILITY_PRIVATE
TOUCH, NON_TOUCH = types.TOUCHPOINT_KIND_TOUCHPOINT, types.TOUCHPOINT_KIND_NON_TOUCHPOINT


def who(name: str) -> types.Identifier:
    return ident(EMAIL, f"{name}@pizza.example")


@pytest.fixture
def pizza(stack: Stack) -> dict[str, str]:
    """Four customers of a pizza shop and what they said; returns party and touchpoint ids by name."""
    ids: dict[str, str] = {}
    for name in ("ann", "ben", "cat", "dan"):
        ids[name] = stack.register(name.title())
        stack.link(ids[name], who(name))
        stack.link(ids[name], ident(X, name))
        stack.link(ids[name], ident(FORUM, name, "pizza.example"))

    def say(key: str, actor: types.Identifier, **fields: object) -> None:
        ids[key] = stack.record(key, actors=[actor], **fields)

    say(
        "ann_tweet",
        ident(X, "@Ann"),
        kind=NON_TOUCH,
        channel=types.CHANNEL_X,
        direction=INBOUND,
        visibility=PUBLIC,
        occurred_at=ago(hours=2),
        audience=tpb.Audience(followers=99),
        intent=types.INTENT_COMPLAINT,
        sentiment=tpb.Sentiment(score=-0.5),
        sociability_degree=types.SOCIABILITY_DEGREE_SOCIAL_PRESSURE,
        content=tpb.Content(text="@pizzashop cold pizza again"),
    )
    say(
        "ben_mail",
        who("ben"),
        kind=TOUCH,
        channel=types.CHANNEL_EMAIL,
        direction=INBOUND,
        visibility=PRIVATE,
        occurred_at=ago(hours=12),
        intent=types.INTENT_QUESTION,
        sentiment=tpb.Sentiment(score=0.0),
        sociability_degree=types.SOCIABILITY_DEGREE_SKEWED,
        content=tpb.Content(text="Do you deliver on Sundays?"),
    )
    say(
        "cat_chat",
        who("cat"),
        kind=TOUCH,
        channel=types.CHANNEL_CHAT,
        direction=INBOUND,
        visibility=PRIVATE,
        occurred_at=ago(minutes=30),
        intent=types.INTENT_COMPLAINT,
        sentiment=tpb.Sentiment(score=-0.9),
        sociability_degree=types.SOCIABILITY_DEGREE_VENTING,
        content=tpb.Content(text="My order is an hour late"),
    )
    say(
        "dan_praise",
        ident(X, "dan"),
        kind=NON_TOUCH,
        channel=types.CHANNEL_X,
        direction=INBOUND,
        visibility=PUBLIC,
        occurred_at=ago(hours=3),
        intent=types.INTENT_PRAISE,
        sentiment=tpb.Sentiment(score=0.8),
        sociability_degree=types.SOCIABILITY_DEGREE_OBJECTIVE,
        content=tpb.Content(text="Best pizza in town"),
    )
    say(
        "ann_monologue",
        ident(FORUM, "ann", "pizza.example"),
        kind=NON_TOUCH,
        channel=types.CHANNEL_FORUM,
        direction=INBOUND,
        visibility=PUBLIC,
        occurred_at=ago(hours=5),
        intent=types.INTENT_QUESTION,
        sociability_degree=types.SOCIABILITY_DEGREE_MONOLOGUE,
        thread_id="pizza-night",
        content=tpb.Content(text="Why do I even bother ordering?"),
    )
    say(
        "ben_answered",
        who("ben"),
        kind=TOUCH,
        channel=types.CHANNEL_EMAIL,
        direction=INBOUND,
        visibility=PRIVATE,
        occurred_at=ago(hours=10),
        intent=types.INTENT_QUESTION,
        sentiment=tpb.Sentiment(score=0.2),
        content=tpb.Content(text="Can I pay by card?"),
    )
    ids["reply"] = stack.record(
        "reply",
        actors=[ident(EMAIL, "help@pizza.example"), who("ben")],
        kind=TOUCH,
        channel=types.CHANNEL_EMAIL,
        direction=OUTBOUND,
        visibility=PRIVATE,
        occurred_at=ago(hours=9),
        intent=types.INTENT_OTHER,
        reply_to=tpb.ReplyTo(touchpoint_id=ids["ben_answered"]),
        content=tpb.Content(text="Yes, any card."),
    )
    for n, (name, days) in enumerate((("ben", 2), ("cat", 3))):
        say(
            f"forum_{name}",
            ident(FORUM, name, "pizza.example"),
            kind=NON_TOUCH,
            channel=types.CHANNEL_FORUM,
            direction=INBOUND,
            visibility=PUBLIC,
            occurred_at=ago(days=days, hours=n),
            intent=types.INTENT_OTHER,
            sociability_degree=types.SOCIABILITY_DEGREE_COMMUNITY,
            thread_id="pizza-night",
            content=tpb.Content(text="Friday pizza night at the shop, who's in?"),
        )
    suggestions = [
        ("ann", 20, "Please add a gluten-free crust"),
        ("ben", 2, "Would love gluten free crusts!"),
        ("cat", 1, "A gluten-free crust option, please"),
        ("dan", 25, "Add pineapple topping"),
        ("ann", 24, "Pineapple topping please"),
    ]
    for n, (name, days, text) in enumerate(suggestions):
        say(
            f"suggestion_{n}",
            who(name),
            kind=TOUCH,
            channel=types.CHANNEL_WEB,
            direction=INBOUND,
            visibility=PRIVATE,
            occurred_at=ago(days=days),
            intent=types.INTENT_SUGGESTION,
            sentiment=tpb.Sentiment(score=0.4),
            content=tpb.Content(text=text),
        )
    community = stack.register("Pizza Lovers", kind=types.PARTY_KIND_COMMUNITY)
    for name in ("ann", "ben"):
        stack.identity.AddCommunityMember(
            ipb.AddCommunityMemberRequest(community_party_id=community, member_party_id=ids[name])
        )
    ids["community"] = community
    stack.caught_up()
    return ids


def queue(stack: Stack, lens: int) -> xpb.ListAttentionResponse:
    return stack.experience.ListAttention(xpb.ListAttentionRequest(lens=lens, as_of_time=stamp(NOW)))


def test_the_attention_queue_ranks_by_the_lens_and_says_why(stack: Stack, pizza: dict[str, str]) -> None:
    service = queue(stack, xpb.LENS_SERVICE)
    # cat: complaint 3 + waited 30m on a 5m bar (6x, capped at 5) + sentiment 0.9 = 8.9
    # ann: complaint 3 + waited 2h on a 1h bar (2) + social pressure 1 + public 1 + sentiment 0.5 = 7.5
    # ben: question 2 + waited 12h on a 1d bar (0.5) = 2.5; praise, monologue and the answered question stay out
    assert [(item.touchpoint_id, round(item.score, 6)) for item in service.items] == [
        (pizza["cat_chat"], 8.9),
        (pizza["ann_tweet"], 7.5),
        (pizza["ben_mail"], 2.5),
    ]
    assert service.total == 3
    ann = service.items[1]
    assert ann.party_id == pizza["ann"]
    parts = {part.name: (part.value, part.weight) for part in ann.parts}
    assert parts == {
        "intent": (3, 1),
        "waiting": (2, 1),
        "social_pressure": (1, 1),
        "visibility": (1, 1),
        "sentiment": (0.5, 1),
        "influence": (2, 0),
    }  # service ignores influence
    assert sum(part.contribution for part in ann.parts) == pytest.approx(ann.score)
    assert ann.bar.ToSeconds() == 3600
    # marketing weighs influence: ann 1.5 + 1 + 1 + 1 + 0.5 + 2 = 7.0; cat 1.5 + 2.5 + 0.9 = 4.9; ben 1 + 0.25
    marketing = queue(stack, xpb.LENS_MARKETING)
    assert [(item.touchpoint_id, round(item.score, 6)) for item in marketing.items] == [
        (pizza["ann_tweet"], 7.0),
        (pizza["cat_chat"], 4.9),
        (pizza["ben_mail"], 1.25),
    ]
    first = stack.experience.ListAttention(xpb.ListAttentionRequest(as_of_time=stamp(NOW), page_size=2))
    rest = stack.experience.ListAttention(
        xpb.ListAttentionRequest(as_of_time=stamp(NOW), page_size=2, page_token=first.next_page_token)
    )
    assert [i.touchpoint_id for i in (*first.items, *rest.items)] == [i.touchpoint_id for i in service.items]
    assert not rest.next_page_token


def test_the_pulse_counts_volume_talk_listen_and_response_times_per_channel_and_day(
    stack: Stack, pizza: dict[str, str]
) -> None:
    reply = stack.experience.GetPulse(xpb.GetPulseRequest(bucket=xpb.BUCKET_DAY, since=ago(hours=12), until=stamp(NOW)))
    buckets = {types.Channel.Name(b.channel): b for b in reply.buckets}
    assert set(buckets) == {"CHANNEL_X", "CHANNEL_EMAIL", "CHANNEL_CHAT", "CHANNEL_FORUM"}
    x = buckets["CHANNEL_X"]
    assert (x.volume, x.inbound, x.outbound, x.non_touchpoint_share) == (2, 2, 0, 1.0)
    assert x.mean_sentiment == pytest.approx((-0.5 + 0.8) / 2)
    email = buckets["CHANNEL_EMAIL"]
    assert (email.volume, email.inbound, email.outbound, email.answered) == (3, 2, 1, 1)
    assert email.talk_share == pytest.approx(1 / 3)
    assert email.response_p50.ToSeconds() == 3600
    assert email.answered_within_bar_share == 1.0
    assert reply.talk_share_guidance == 0.25
    assert {b.start.ToDatetime().date() for b in reply.buckets} == {NOW.date()}


def test_suggestions_are_grouped_by_what_they_ask_for_across_parties(stack: Stack, pizza: dict[str, str]) -> None:
    reply = stack.experience.ListSuggestions(
        xpb.ListSuggestionsRequest(since=ago(days=30), until=stamp(NOW), min_parties=2)
    )
    groups = [(g.topic, g.suggestions, g.parties, g.recent, g.earlier, g.trend) for g in reply.groups]
    # the halves of the last 30 days meet 15 days ago: gluten-free came 20, 2 and 1 days ago; pineapple 25 and 24
    assert groups == [
        ("crust free gluten", 3, 3, 2, 1, xpb.TREND_RISING),
        ("pineapple topping", 2, 2, 0, 2, xpb.TREND_FALLING),
    ]
    assert list(reply.groups[0].example_touchpoint_ids) == [
        pizza["suggestion_2"],
        pizza["suggestion_1"],
        pizza["suggestion_0"],
    ]


def test_communities_are_busy_threads_and_identitys_communities(stack: Stack, pizza: dict[str, str]) -> None:
    reply = stack.experience.ListCommunities(xpb.ListCommunitiesRequest(min_parties=3))
    thread = next(c for c in reply.communities if c.source == "thread")
    assert (thread.id, thread.parties, thread.interactions) == ("pizza-night", 3, 3)
    assert {m.party_id for m in thread.members} == {pizza["ann"], pizza["ben"], pizza["cat"]}
    lovers = next(c for c in reply.communities if c.source == "identity")
    assert (lovers.id, lovers.display_name, lovers.parties) == (pizza["community"], "Pizza Lovers", 2)
    activity = {m.party_id: m.interactions for m in lovers.members}
    assert activity == {pizza["ann"]: 4, pizza["ben"]: 5}  # ann: tweet, forum, 2 suggestions; ben: 2 mails, reply,
    # forum, suggestion

"""Jane Smith's experience, end to end: three services on a real nats-server, through their gRPC APIs only.

She called support, chatted, tweeted (the company answered), blogged, asked on a forum where others talked too,
and left a marketplace review — from five identifiers, each spelled differently where she used it, linked to her
late. Then someone else is merged into her by mistake, and the merge is undone.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as xpb
from chorus.identity.v1 import identity_service_pb2 as ipb
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from tests.support.stack import NOW, Stack, ago, ident, stamp

EMAIL, PHONE, X, BLOG = (
    types.IDENTIFIER_TYPE_EMAIL,
    types.IDENTIFIER_TYPE_PHONE,
    types.IDENTIFIER_TYPE_X,
    types.IDENTIFIER_TYPE_BLOG_URL,
)
FORUM, REVIEWER = types.IDENTIFIER_TYPE_FORUM_USER, types.IDENTIFIER_TYPE_MARKETPLACE_REVIEWER
AGENT = ident(EMAIL, "bob.agent@acme.example")

#: How she spelled each identifier where she used it, and how identity was told about it (later).
SPELLED = {
    "email": (ident(EMAIL, "Jane.Smith@Example.COM"), ident(EMAIL, "jane.smith@example.com")),
    "phone": (ident(PHONE, "020 7946 0958"), ident(PHONE, "+44 20 7946 0958")),
    "x": (ident(X, "@JaneSmithTweets"), ident(X, "janesmithtweets")),
    "blog": (ident(BLOG, "JaneSmith.example.net/blog/"), ident(BLOG, "https://janesmith.example.net/blog")),
    "forum": (ident(FORUM, "Jane  S", "forum.acme.example"), ident(FORUM, "jane s", "forum.acme.example")),
    "review": (ident(REVIEWER, "R-778", "market.example"), ident(REVIEWER, "R-778", "market.example")),
}


def sentiment(score: float) -> tpb.Sentiment:
    return tpb.Sentiment(score=score)


def jane_story(stack: Stack) -> dict[str, str]:
    """Record her ten interactions (and two by other forum users); return their ids by name."""
    r = stack.record
    ids = {}
    ids["call"] = r(
        "call",
        kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
        channel=types.CHANNEL_PHONE,
        direction=types.DIRECTION_INBOUND,
        visibility=types.VISIBILITY_PRIVATE,
        occurred_at=ago(days=20),
        actors=[SPELLED["phone"][0], AGENT],
        intent=types.INTENT_COMPLAINT,
        sentiment=sentiment(-0.6),
        sociability_degree=types.SOCIABILITY_DEGREE_VENTING,
        content=tpb.Content(text="My boiler stopped heating, I'd like a replacement"),
    )
    ids["chat"] = r(
        "chat",
        kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
        channel=types.CHANNEL_CHAT,
        direction=types.DIRECTION_INBOUND,
        visibility=types.VISIBILITY_PRIVATE,
        occurred_at=ago(days=19),
        actors=[SPELLED["email"][0]],
        intent=types.INTENT_QUESTION,
        sentiment=sentiment(0.0),
        sociability_degree=types.SOCIABILITY_DEGREE_SKEWED,
        content=tpb.Content(text="How do I reset the thermostat?"),
    )
    ids["chat_reply"] = r(
        "chat-reply",
        kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
        channel=types.CHANNEL_CHAT,
        direction=types.DIRECTION_OUTBOUND,
        visibility=types.VISIBILITY_PRIVATE,
        occurred_at=ago(days=19, minutes=-3),
        actors=[AGENT, SPELLED["email"][0]],
        reply_to=tpb.ReplyTo(touchpoint_id=ids["chat"]),
        intent=types.INTENT_OTHER,
        content=tpb.Content(text="Hold the reset button for five seconds."),
    )

    def posted(
        key: str,
        channel: int,
        when: dict[str, float],
        actor: types.Identifier,
        intent: int,
        score: float,
        degree: int,
        text: str,
        **extra: object,
    ) -> str:
        """A public inbound post the company took no part in (a non-touchpoint)."""
        return r(
            key,
            kind=types.TOUCHPOINT_KIND_NON_TOUCHPOINT,
            channel=channel,
            direction=types.DIRECTION_INBOUND,
            visibility=types.VISIBILITY_PUBLIC,
            occurred_at=ago(**when),
            actors=[actor],
            intent=intent,
            sentiment=sentiment(score),
            sociability_degree=degree,
            content=tpb.Content(text=text),
            **extra,
        )

    ids["tweet"] = posted(
        "tweet",
        types.CHANNEL_X,
        {"days": 17},
        SPELLED["x"][0],
        types.INTENT_COMPLAINT,
        -0.8,
        types.SOCIABILITY_DEGREE_SOCIAL_PRESSURE,
        "@acme still no heating after 3 days. Worst customer service ever",
        audience=tpb.Audience(followers=999),
    )
    ids["x_reply"] = r(
        "x-reply",
        kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
        channel=types.CHANNEL_X,
        direction=types.DIRECTION_OUTBOUND,
        visibility=types.VISIBILITY_PUBLIC,
        occurred_at=ago(days=17, hours=-2),
        actors=[ident(X, "acme"), SPELLED["x"][0]],
        reply_to=tpb.ReplyTo(touchpoint_id=ids["tweet"]),
        intent=types.INTENT_OTHER,
        content=tpb.Content(text="@JaneSmithTweets so sorry, an engineer will call you today"),
    )
    ids["blog"] = posted(
        "blog",
        types.CHANNEL_BLOG,
        {"days": 15},
        SPELLED["blog"][0],
        types.INTENT_OTHER,
        -0.4,
        types.SOCIABILITY_DEGREE_OBJECTIVE,
        "Three weeks with a broken boiler: what I learned",
        audience=tpb.Audience(followers=99),
    )
    thread = {"thread_id": "boiler-pressure"}
    ids["forum"] = posted(
        "forum-1",
        types.CHANNEL_FORUM,
        {"days": 14},
        SPELLED["forum"][0],
        types.INTENT_QUESTION,
        -0.2,
        types.SOCIABILITY_DEGREE_COMMUNITY,
        "Anyone else's boiler losing pressure?",
        **thread,
    )
    for n, who in enumerate(("bob b", "carol c")):
        posted(
            f"forum-other-{n}",
            types.CHANNEL_FORUM,
            {"days": 14, "hours": -n - 1},
            ident(FORUM, who, "forum.acme.example"),
            types.INTENT_OTHER,
            -0.1,
            types.SOCIABILITY_DEGREE_COMMUNITY,
            "Same here, every week.",
            **thread,
        )
    ids["suggestion"] = posted(
        "forum-2",
        types.CHANNEL_FORUM,
        {"days": 13},
        SPELLED["forum"][0],
        types.INTENT_SUGGESTION,
        0.3,
        types.SOCIABILITY_DEGREE_COMMUNITY,
        "Please add a pressure gauge app",
        **thread,
    )
    ids["review"] = posted(
        "review",
        types.CHANNEL_MARKETPLACE,
        {"days": 12},
        SPELLED["review"][0],
        types.INTENT_COMPLAINT,
        -0.7,
        types.SOCIABILITY_DEGREE_OBJECTIVE,
        "Two stars. Broke within a month, support was slow.",
    )
    return ids


JANE_IDS = ("call", "chat", "chat_reply", "tweet", "x_reply", "blog", "forum", "suggestion", "review")


def by_key(counts: Any) -> dict[str, int]:
    return {count.key: count.count for count in counts}


def test_her_interactions_from_five_identifiers_become_one_experience_once_identity_links_them(stack: Stack) -> None:
    jane = stack.register("Jane Smith")
    stack.link(jane, SPELLED["email"][1])  # identity knows her e-mail only, at first
    ids = jane_story(stack)
    selector = xpb.PartySelector(identifier=SPELLED["phone"][0])  # her phone, as she spelled it on the call

    with pytest.raises(grpc.RpcError) as unknown:  # nobody holds the phone yet
        stack.experience_of(selector)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert "7946" not in (unknown.value.details() or "")  # the error names no identifier value

    early = stack.experience_of(xpb.PartySelector(party_id=jane))
    assert early.interactions == 2  # the chat and the company's chat reply carry her e-mail

    for name in ("phone", "x", "blog", "forum", "review"):  # late links, in identity's own spelling
        stack.link(jane, SPELLED[name][1])
    experience = stack.experience_of(selector)

    assert experience.party_id == jane
    assert experience.interactions == len(JANE_IDS)
    assert by_key(experience.by_kind) == {"touchpoint": 4, "non_touchpoint": 5}
    assert by_key(experience.by_channel) == {"phone": 1, "chat": 2, "x": 2, "blog": 1, "forum": 2, "marketplace": 1}
    assert by_key(experience.by_intent) == {"complaint": 3, "question": 2, "other": 3, "suggestion": 1}
    assert (experience.talk, experience.listen) == (2, 7)
    assert experience.first_interaction == ago(days=20)
    assert experience.last_interaction == ago(days=12)
    # waiting for the company: the call (nobody called back), the forum question, the review; chat and tweet answered
    assert [(a.touchpoint_id, a.intent) for a in experience.awaiting] == [
        (ids["call"], types.INTENT_COMPLAINT),
        (ids["forum"], types.INTENT_QUESTION),
        (ids["review"], types.INTENT_COMPLAINT),
    ]
    assert experience.responses.answered == 2
    assert experience.responses.median.ToSeconds() == 180  # the chat in 3 minutes, the tweet in 2 hours
    assert experience.responses.slowest.ToSeconds() == 7200
    # becoming a social customer: venting, skewed in private; then social pressure, objective, community in public
    assert experience.sociability.trend == xpb.TREND_RISING
    assert experience.sociability.becoming_social
    assert experience.sociability.now == types.SOCIABILITY_DEGREE_OBJECTIVE
    assert experience.influence.public_interactions == 5
    assert experience.influence.max_followers == 999
    assert experience.influence.score == pytest.approx(3 + 2)  # log10(1000) + log10(100)
    # her last word was a negative review 12 days ago: not at risk yet; quiet for 15 days, she is
    assert experience.at_risk.last_experience_negative
    assert not experience.at_risk.at_risk
    later = stack.experience.GetExperience(
        xpb.GetExperienceRequest(party=selector, as_of_time=stamp(NOW.replace(day=3, month=12)))
    ).experience
    assert later.at_risk.at_risk
    assert sorted((i.type, i.value) for i in experience.identifiers) == sorted(
        (spelled[1].type, normal)
        for spelled, normal in (
            (SPELLED["email"], "jane.smith@example.com"),
            (SPELLED["phone"], "+442079460958"),
            (SPELLED["x"], "janesmithtweets"),
            (SPELLED["blog"], "https://janesmith.example.net/blog"),
            (SPELLED["forum"], "jane s"),
            (SPELLED["review"], "R-778"),
        )
    )

    timeline = stack.experience.ListTimeline(xpb.ListTimelineRequest(party=selector, page_size=4))
    seen = [entry.touchpoint_id for entry in timeline.entries]
    while timeline.next_page_token:
        timeline = stack.experience.ListTimeline(
            xpb.ListTimelineRequest(party=selector, page_size=4, page_token=timeline.next_page_token)
        )
        seen += [entry.touchpoint_id for entry in timeline.entries]
    assert seen == [ids[name] for name in reversed(JANE_IDS)]  # newest first, every page
    forum_only = stack.experience.ListTimeline(xpb.ListTimelineRequest(party=selector, channel=types.CHANNEL_FORUM))
    assert [entry.touchpoint_id for entry in forum_only.entries] == [ids["suggestion"], ids["forum"]]
    assert {entry.matched_by[0].value for entry in forum_only.entries} == {"jane s"}


def test_a_wrong_merge_reattributes_and_its_unmerge_splits_back_exactly(stack: Stack) -> None:
    jane = stack.register("Jane Smith")
    for name in SPELLED:
        stack.link(jane, SPELLED[name][1])
    jane_story(stack)
    other = stack.register("Jan Smith")
    other_email = ident(EMAIL, "jan.smith@elsewhere.example")
    stack.link(other, other_email)
    stack.inbound(
        "other-mail",
        other_email,
        "I'd like to order two more radiators",
        occurred_at=ago(days=2),
        intent=types.INTENT_PURCHASE,
        sentiment=sentiment(0.5),
    )
    stack.identity.SetDoNotContact(ipb.SetDoNotContactRequest(party_id=other, do_not_contact=True, source="phone"))
    before_jane = stack.experience_of(xpb.PartySelector(party_id=jane))
    before_other = stack.experience_of(xpb.PartySelector(party_id=other))

    stack.identity.MergeParties(
        ipb.MergePartiesRequest(
            target_party_id=jane, source_party_id=other, evidence=ipb.Evidence(source="agent", rule="same-name")
        )
    )
    merged = stack.experience_of(xpb.PartySelector(identifier=other_email))
    assert merged.party_id == jane
    assert merged.merged_party_ids == [other]
    assert merged.interactions == before_jane.interactions + 1
    assert merged.contact.do_not_contact  # what identity says of the merged-in record counts for her too
    assert stack.experience_of(xpb.PartySelector(party_id=other)).party_id == jane  # a merged id reads the survivor

    stack.identity.UnmergeParty(ipb.UnmergePartyRequest(party_id=other, evidence=ipb.Evidence(rule="wrong-merge")))
    assert stack.experience_of(xpb.PartySelector(party_id=jane)) == before_jane
    assert stack.experience_of(xpb.PartySelector(party_id=other)) == before_other


def test_a_reader_waits_for_the_position_it_asks_for(stack: Stack) -> None:
    jane = stack.register("Jane Smith")
    stack.link(jane, SPELLED["email"][1])
    stack.caught_up()
    recorded = stack.touchpoints.RecordTouchpoint(
        tpb.RecordTouchpointRequest(
            touchpoint=tpb.TouchpointInput(
                source=tpb.Source(system="story", external_id=f"{stack.run}-late-mail"),
                kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
                channel=types.CHANNEL_EMAIL,
                direction=types.DIRECTION_INBOUND,
                visibility=types.VISIBILITY_PRIVATE,
                occurred_at=ago(hours=1),
                actors=[SPELLED["email"][0]],
                intent=types.INTENT_QUESTION,
                content=tpb.Content(text="Is my engineer still coming?"),
            )
        )
    )
    stored = recorded.position
    assert stored == stack.touchpoints_app.recorder.max_notification_id()
    reply = stack.experience.GetExperience(
        xpb.GetExperienceRequest(
            party=xpb.PartySelector(party_id=jane),
            min_positions=[xpb.UpstreamPosition(upstream="touchpoints", sequence=stored)],
        )
    )
    assert reply.experience.interactions == 1
    assert {p.upstream: p.sequence for p in reply.applied}["touchpoints"] >= stored

    with pytest.raises(grpc.RpcError) as unknown:
        stack.experience.GetExperience(
            xpb.GetExperienceRequest(
                party=xpb.PartySelector(party_id=jane), min_positions=[xpb.UpstreamPosition(upstream="crm", sequence=1)]
            )
        )
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "min_positions[0].upstream" in (unknown.value.details() or "")


def test_watch_experience_pushes_the_change_a_new_interaction_makes(stack: Stack) -> None:
    jane = stack.register("Jane Smith")
    stack.link(jane, SPELLED["email"][1])
    stack.caught_up()
    call = stack.experience.WatchExperience(
        xpb.WatchExperienceRequest(query=xpb.GetExperienceRequest(party=xpb.PartySelector(party_id=jane))), timeout=30
    )
    try:
        first = next(call)
        assert first.update.experience.interactions == 0
        stack.inbound("watched", SPELLED["email"][0], "Hello again", occurred_at=ago(hours=1))
        second = next(call)
        assert second.update.experience.interactions == 1
    finally:
        call.cancel()


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (xpb.GetExperienceRequest(party=xpb.PartySelector(party_id="not-a-uuid")), "party.party_id"),
        (xpb.GetExperienceRequest(), "party"),
        (
            xpb.GetExperienceRequest(party=xpb.PartySelector(identifier=ident(EMAIL, "no-at-sign"))),
            "party.identifier.value",
        ),
    ],
)
def test_bad_selectors_are_invalid_argument_naming_the_field(stack: Stack, request_: Any, field: str) -> None:
    with pytest.raises(grpc.RpcError) as error:
        stack.experience.GetExperience(request_)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in (error.value.details() or "")


def test_unknown_lens_bucket_and_channel_name_their_field(stack: Stack) -> None:
    cases = [
        (stack.experience.ListAttention, xpb.ListAttentionRequest(lens=99), "lens"),
        (stack.experience.ListAttention, xpb.ListAttentionRequest(channel=99), "channel"),
        (stack.experience.GetPulse, xpb.GetPulseRequest(bucket=42), "bucket"),
    ]
    for method, request, field in cases:
        with pytest.raises(grpc.RpcError) as error:
            method(request)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field in (error.value.details() or "")


def test_an_unknown_party_is_not_found(stack: Stack) -> None:
    with pytest.raises(grpc.RpcError) as error:
        stack.experience.GetExperience(
            xpb.GetExperienceRequest(party=xpb.PartySelector(party_id="00000000-0000-4000-8000-000000000001"))
        )
    assert error.value.code() == grpc.StatusCode.NOT_FOUND

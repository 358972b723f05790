"""The Jane Smith story, through gRPC against a real nats-server.

Jane calls support tonight (phone). Earlier she chatted on the web site (chat id), tweeted about us (x handle),
wrote a blog post (blog url) and asked on a how-to forum (forum user). The service learns these in some order,
merges what it learns is one person, and undoes a merge that turns out to be wrong; every resolve follows the
current state, and a fresh projection rebuilt from the stream gives the same answers.
"""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as pb
from services.common.testing import postgres_url
from services.identity.projection import ResolutionView, iter_pages, resolution_runner

if TYPE_CHECKING:
    from tests.integration.identity.conftest import IdentityHarness

POSTGRES_URL = postgres_url()

PHONE = types.Identifier(type=types.IDENTIFIER_TYPE_PHONE, value="+44 20 7946 0958")
CHAT = types.Identifier(type=types.IDENTIFIER_TYPE_CHAT_ID, value="visitor-81F3", namespace="livechat")
X = types.Identifier(type=types.IDENTIFIER_TYPE_X, value="@JaneSmithBakes")
BLOG = types.Identifier(type=types.IDENTIFIER_TYPE_BLOG_URL, value="HTTPS://JaneBakes.example.com/")
FORUM = types.Identifier(type=types.IDENTIFIER_TYPE_FORUM_USER, value="JaneS", namespace="howto.example.org")
ALL = {"phone": PHONE, "chat": CHAT, "x": X, "blog": BLOG, "forum": FORUM}


def resolve(identity: IdentityHarness, identifier: types.Identifier, create: bool = False) -> str:
    answer = identity.stub.ResolveIdentifier(
        pb.ResolveIdentifierRequest(
            identifier=identifier, create_if_missing=create, evidence=pb.Evidence(source="listening")
        )
    )
    return answer.party_id


def owners(identity: IdentityHarness) -> dict[str, str]:
    return {name: resolve(identity, identifier) for name, identifier in ALL.items()}


def unique(identifier: types.Identifier, run: int) -> types.Identifier:
    """The same identifier made unique per run (each run of the story needs its own Jane)."""
    value = identifier.value
    if identifier.type == types.IDENTIFIER_TYPE_PHONE:
        value = value[:-1] + str(run)
    elif identifier.type == types.IDENTIFIER_TYPE_BLOG_URL:
        value = value.replace("JaneBakes", f"JaneBakes{run}")
    else:
        value = f"{value}{run}"
    return types.Identifier(type=identifier.type, value=value, namespace=identifier.namespace)


ORDERS = [
    ("phone", "chat", "x", "blog", "forum"),
    ("forum", "blog", "x", "chat", "phone"),
    ("x", "phone", "forum", "chat", "blog"),
]


@pytest.mark.parametrize("order", ORDERS, ids=["call-first", "forum-first", "tweet-first"])
def test_jane_smith_is_one_person_until_a_merge_is_undone(identity: IdentityHarness, order: tuple[str, ...]) -> None:
    run = ORDERS.index(order)
    ids = {name: unique(identifier, run) for name, identifier in ALL.items()}
    stub = identity.stub
    jane = stub.RegisterParty(
        pb.RegisterPartyRequest(
            kind=types.PARTY_KIND_PERSON, display_name="Jane Smith", roles=[types.PARTY_ROLE_CUSTOMER]
        )
    ).party.party_id

    # The identifiers arrive in this run's order: the call and the forum post are Jane's for sure (agent,
    # forum profile); the chat, the tweet and the blog come from strangers until someone connects them.
    strangers: dict[str, str] = {}
    for name in order:
        if name in ("phone", "forum"):
            stub.LinkIdentifier(
                pb.LinkIdentifierRequest(
                    party_id=jane,
                    identifier=ids[name],
                    evidence=pb.Evidence(source="support-call", asserted_by="agent-17", confidence=0.95),
                )
            )
        elif name == "blog" and "x" in strangers:
            stub.LinkIdentifier(
                pb.LinkIdentifierRequest(
                    party_id=strangers["x"], identifier=ids[name], evidence=pb.Evidence(rule="link in x bio")
                )
            )
        else:
            answer = stub.ResolveIdentifier(pb.ResolveIdentifierRequest(identifier=ids[name], create_if_missing=True))
            assert answer.created
            strangers[name] = answer.party_id
            if name == "x" and "blog" in strangers:  # the blog arrived first: its anonymous author is the tweeter
                stub.MergeParties(
                    pb.MergePartiesRequest(
                        target_party_id=strangers["x"],
                        source_party_id=strangers.pop("blog"),
                        evidence=pb.Evidence(rule="link in x bio"),
                    )
                )

    # The x account is one of the bakers of an impromptu community; Jane is in a customer panel.
    chat_party, x_party = strangers["chat"], strangers["x"]
    bakers = stub.RegisterParty(
        pb.RegisterPartyRequest(kind=types.PARTY_KIND_COMMUNITY, display_name=f"Home bakers {run}")
    ).party.party_id
    panel = stub.RegisterParty(
        pb.RegisterPartyRequest(kind=types.PARTY_KIND_COMMUNITY, display_name=f"Customer panel {run}")
    ).party.party_id
    stub.AddCommunityMember(pb.AddCommunityMemberRequest(community_party_id=bakers, member_party_id=x_party))
    stub.AddCommunityMember(pb.AddCommunityMemberRequest(community_party_id=panel, member_party_id=jane))

    # Evidence connects the chat and the x account to Jane: two merges.
    merged = stub.MergeParties(
        pb.MergePartiesRequest(
            target_party_id=jane,
            source_party_id=chat_party,
            evidence=pb.Evidence(rule="same phone given in chat", asserted_by="agent-17", source="support-call"),
        )
    ).party
    assert {i.identifier.type for i in merged.identifiers} >= {
        types.IDENTIFIER_TYPE_PHONE,
        types.IDENTIFIER_TYPE_CHAT_ID,
    }
    stub.MergeParties(
        pb.MergePartiesRequest(
            target_party_id=jane, source_party_id=x_party, evidence=pb.Evidence(rule="x profile names her blog")
        )
    )
    after_merges = {name: resolve(identity, ids[name]) for name in ids}
    assert after_merges == dict.fromkeys(ids, jane)
    assert stub.ResolveParty(pb.ResolvePartyRequest(party_id=x_party)).party_id == jane
    assert list(stub.ResolveParty(pb.ResolvePartyRequest(party_id=chat_party)).merge_path) == [chat_party, jane]
    jane_now = stub.GetParty(pb.GetPartyRequest(party_id=jane)).party
    assert len(jane_now.identifiers) == 5
    assert set(jane_now.merged_party_ids) == {chat_party, x_party}
    assert stub.GetParty(pb.GetPartyRequest(party_id=x_party)).party.merged_into_party_id == jane
    assert set(jane_now.community_party_ids) == {bakers, panel}
    assert list(stub.GetParty(pb.GetPartyRequest(party_id=bakers)).party.member_party_ids) == [jane]

    # The x account turns out to be another Jane Smith: unmerge gives it back exactly its tweet and blog.
    unmerged = stub.UnmergeParty(pb.UnmergePartyRequest(party_id=x_party, evidence=pb.Evidence(rule="wrong Jane")))
    assert unmerged.party.merged_into_party_id == ""
    assert {i.identifier.type for i in unmerged.party.identifiers} == {
        types.IDENTIFIER_TYPE_X,
        types.IDENTIFIER_TYPE_BLOG_URL,
    }
    assert {i.identifier.type for i in unmerged.former_target.identifiers} == {
        types.IDENTIFIER_TYPE_PHONE,
        types.IDENTIFIER_TYPE_CHAT_ID,
        types.IDENTIFIER_TYPE_FORUM_USER,
    }
    assert list(unmerged.party.community_party_ids) == [bakers]
    assert list(unmerged.former_target.community_party_ids) == [panel]
    assert list(stub.GetParty(pb.GetPartyRequest(party_id=bakers)).party.member_party_ids) == [x_party]
    assert list(stub.GetParty(pb.GetPartyRequest(party_id=panel)).party.member_party_ids) == [jane]
    final = {name: resolve(identity, ids[name]) for name in ids}
    assert final == {"phone": jane, "chat": jane, "forum": jane, "x": x_party, "blog": x_party}
    assert stub.ResolveParty(pb.ResolvePartyRequest(party_id=x_party)).party_id == x_party
    assert stub.ResolveParty(pb.ResolvePartyRequest(party_id=chat_party)).party_id == jane

    # Normalisation: other spellings of the same handles find the same parties.
    assert resolve(identity, types.Identifier(type=types.IDENTIFIER_TYPE_X, value=ids["x"].value.upper())) == x_party

    # Leaving a community is recorded on both sides.
    left = stub.RemoveCommunityMember(
        pb.RemoveCommunityMemberRequest(community_party_id=bakers, member_party_id=x_party)
    )
    assert list(left.community.member_party_ids) == []
    assert list(stub.GetParty(pb.GetPartyRequest(party_id=x_party)).party.community_party_ids) == []


def test_a_fresh_projection_rebuilt_from_the_stream_gives_the_same_answers(
    identity: IdentityHarness, tmp_path: Path
) -> None:
    stub = identity.stub
    first = stub.RegisterParty(
        pb.RegisterPartyRequest(
            kind=types.PARTY_KIND_PERSON,
            display_name="Replay Me",
            identifiers=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="replay@example.org")],
        )
    ).party.party_id
    second = stub.ResolveIdentifier(
        pb.ResolveIdentifierRequest(
            identifier=types.Identifier(type=types.IDENTIFIER_TYPE_X, value="replayme"), create_if_missing=True
        )
    ).party_id
    stub.MergeParties(
        pb.MergePartiesRequest(target_party_id=first, source_party_id=second, evidence=pb.Evidence(rule="same person"))
    )
    stub.UnlinkIdentifier(
        pb.UnlinkIdentifierRequest(
            party_id=first, identifier=types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="replay@example.org")
        )
    )

    live = identity.projection.view
    fresh_view = ResolutionView(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    fresh = resolution_runner(identity.app, fresh_view, batch_size=7).start()
    try:
        fresh.catch_up(timeout=60)
        assert list(iter_pages(fresh_view)) == list(iter_pages(live))
        assert fresh_view.counts() == live.counts()
        assert fresh_view.counts()["parties"] >= 2
        parties = [row["party_id"] for row in live.query("SELECT party_id FROM identity_party ORDER BY position")]
        for party_id in parties:
            assert fresh_view.merge_path(party_id) == live.merge_path(party_id)
        assert fresh_view.merge_path(second) == [second, first]
        assert fresh_view.owner_of(identity.app.normalise({"type": "email", "value": "replay@example.org"}).key) is None
    finally:
        fresh.stop()
        fresh_view.close()


def test_the_resolution_view_is_built_without_opening_personal_data(
    identity: IdentityHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its tables hold ids and kinds only: its reader leaves sealed fields sealed (no key read, nothing opened)."""
    from services.common.projections import reader

    party = identity.stub.RegisterParty(
        pb.RegisterPartyRequest(
            kind=types.PARTY_KIND_PERSON,
            display_name="Sealed Sam",
            identifiers=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="sealed.sam@example.org")],
        )
    ).party.party_id

    def refuse(_messages: object, _keyring: object = None) -> None:
        raise AssertionError("the resolution view opened personal data")

    monkeypatch.setattr(reader, "open_sealed_many", refuse)
    fresh_view = ResolutionView(f"sqlite:///{tmp_path / 'sealed.db'}")
    fresh = resolution_runner(identity.app, fresh_view)
    try:
        fresh.run_to_end()
        assert fresh.quarantined_events == 0
        assert (
            fresh_view.owner_of(identity.app.normalise({"type": "email", "value": "sealed.sam@example.org"}).key)
            == party
        )
    finally:
        fresh_view.close()


def test_the_projection_rebuilds_the_same_answers_on_postgresql(identity: IdentityHarness) -> None:
    schema = f"identity_{uuid.uuid4().hex[:10]}"
    identity.stub.ResolveIdentifier(
        pb.ResolveIdentifierRequest(
            identifier=types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="pg@example.org"),
            create_if_missing=True,
        )
    )
    view = ResolutionView(POSTGRES_URL, pg_schema=schema)
    projection = resolution_runner(identity.app, view, batch_size=5).start()
    try:
        projection.catch_up(timeout=60)
        live = identity.projection.view
        assert list(iter_pages(view)) == list(iter_pages(live))
        assert view.counts() == live.counts()
        for row in live.query("SELECT party_id FROM identity_party"):
            assert view.merge_path(row["party_id"]) == live.merge_path(row["party_id"])
        assert [r["party_id"] for r in view.live_parties(0, 1000)] == [
            r["party_id"] for r in live.live_parties(0, 1000)
        ]
    finally:
        projection.stop()
        view.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_parties_are_listed_page_by_page_without_merged_ones(identity: IdentityHarness) -> None:
    stub = identity.stub
    made = [
        stub.RegisterParty(
            pb.RegisterPartyRequest(kind=types.PARTY_KIND_ORGANISATION, display_name=f"Org {n}")
        ).party.party_id
        for n in range(5)
    ]
    stub.MergeParties(
        pb.MergePartiesRequest(
            target_party_id=made[0], source_party_id=made[3], evidence=pb.Evidence(rule="same person")
        )
    )
    seen: list[str] = []
    token = ""
    for _page in itertools.count():
        page = stub.ListParties(
            pb.ListPartiesRequest(kind=types.PARTY_KIND_ORGANISATION, page_size=2, page_token=token)
        )
        assert len(page.parties) <= 2
        seen += [p.party_id for p in page.parties]
        token = page.next_page_token
        if not token:
            break
    assert seen == [made[0], made[1], made[2], made[4]]
    everyone = stub.ListParties(pb.ListPartiesRequest(page_size=500))
    assert set(seen) <= {p.party_id for p in everyone.parties}
    assert made[3] not in {p.party_id for p in everyone.parties}

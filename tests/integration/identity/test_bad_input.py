"""What bad input gets: the right status code and a google.rpc detail naming the field or the rule.

Each refused command leaves nothing behind (nothing is half-applied).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest
from google.rpc import error_details_pb2

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as pb
from services.common.grpc_runtime import status_details

if TYPE_CHECKING:
    from tests.integration.identity.conftest import IdentityHarness

MISSING = "00000000-0000-4000-8000-000000000000"


def email(value: str) -> types.Identifier:
    return types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value=value)


def refused(call, request):
    with pytest.raises(grpc.RpcError) as caught:
        call(request)
    return status_details(caught.value)


def register(identity: IdentityHarness, name: str = "Jane Smith", *identifiers: types.Identifier) -> str:
    return identity.stub.RegisterParty(
        pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name=name, identifiers=identifiers)
    ).party.party_id


def test_a_name_composed_or_decomposed_resolves_to_one_party(identity: IdentityHarness) -> None:
    def forum_user(name: str) -> types.Identifier:
        return types.Identifier(type=types.IDENTIFIER_TYPE_FORUM_USER, value=name, namespace="forum.example")

    composed = identity.stub.ResolveIdentifier(
        pb.ResolveIdentifierRequest(identifier=forum_user("Jos\u00e9 Garc\u00eda"), create_if_missing=True)
    )
    decomposed = identity.stub.ResolveIdentifier(
        pb.ResolveIdentifierRequest(identifier=forum_user("JOSE\u0301 GARCI\u0301A"), create_if_missing=True)
    )
    assert not decomposed.created
    assert decomposed.party_id == composed.party_id


@pytest.mark.parametrize(
    ("identifier", "field"),
    [
        (types.Identifier(type=99, value="x"), "identifier.type"),
        (types.Identifier(value="jane@example.com"), "identifier.type"),
        (email("jane.example.com"), "identifier.value"),
        (email("jane@@example.com"), "identifier.value"),
        (types.Identifier(type=types.IDENTIFIER_TYPE_PHONE, value="call me maybe"), "identifier.value"),
        (types.Identifier(type=types.IDENTIFIER_TYPE_PHONE, value="+44 12"), "identifier.value"),
        (types.Identifier(type=types.IDENTIFIER_TYPE_FORUM_USER, value="jane"), "identifier.namespace"),
        (email(""), "identifier.value"),
        (
            types.Identifier(type=types.IDENTIFIER_TYPE_FORUM_USER, value="jane\x00\x07", namespace="forum.example"),
            "identifier.value",
        ),
        (
            types.Identifier(type=types.IDENTIFIER_TYPE_CHAT_ID, value="visitor\x00", namespace="livechat"),
            "identifier.value",
        ),
    ],
    ids=[
        "unknown-type",
        "no-type",
        "email-without-at",
        "email-two-ats",
        "phone-words",
        "phone-short",
        "forum-without-namespace",
        "empty-value",
        "forum-user-with-control-characters",
        "chat-id-with-nul",
    ],
)
def test_a_bad_identifier_is_invalid_argument_naming_the_field(
    identity: IdentityHarness, identifier: types.Identifier, field: str
) -> None:
    details = refused(identity.stub.ResolveIdentifier, pb.ResolveIdentifierRequest(identifier=identifier))
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in details.fields


def test_an_empty_name_is_invalid_argument_on_display_name(identity: IdentityHarness) -> None:
    for name in ("", "   "):
        details = refused(
            identity.stub.RegisterParty, pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name=name)
        )
        assert details.code == grpc.StatusCode.INVALID_ARGUMENT
        assert details.fields == ["display_name"]


def test_a_party_cannot_be_merged_into_itself(identity: IdentityHarness) -> None:
    jane = register(identity)
    details = refused(
        identity.stub.MergeParties,
        pb.MergePartiesRequest(target_party_id=jane, source_party_id=jane, evidence=pb.Evidence(rule="r")),
    )
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.fields == ["source_party_id"]


def test_linking_an_identifier_held_elsewhere_needs_force(identity: IdentityHarness) -> None:
    jane = register(identity, "Jane", email("held@example.org"))
    other = register(identity, "Other Jane")
    details = refused(
        identity.stub.LinkIdentifier, pb.LinkIdentifierRequest(party_id=other, identifier=email("HELD@example.org"))
    )
    assert details.code == grpc.StatusCode.ALREADY_EXISTS
    info = details.detail(error_details_pb2.ResourceInfo)
    assert info is not None and info.resource_type == "identifier" and jane in info.description

    moved = identity.stub.LinkIdentifier(
        pb.LinkIdentifierRequest(party_id=other, identifier=email("held@example.org"), force=True)
    )
    assert moved.previous_party_id == jane
    assert identity.stub.GetParty(pb.GetPartyRequest(party_id=jane)).party.identifiers == []
    answer = identity.stub.ResolveIdentifier(pb.ResolveIdentifierRequest(identifier=email("held@example.org")))
    assert answer.party_id == other


def test_a_merge_must_name_the_rule_that_justified_it(identity: IdentityHarness) -> None:
    first, second = register(identity, "First"), register(identity, "Second")
    details = refused(
        identity.stub.MergeParties,
        pb.MergePartiesRequest(target_party_id=first, source_party_id=second, evidence=pb.Evidence(source="agent")),
    )
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.fields == ["evidence.rule"]
    assert identity.stub.ResolveParty(pb.ResolvePartyRequest(party_id=second)).party_id == second


def test_unmerging_a_party_never_merged_names_the_rule(identity: IdentityHarness) -> None:
    jane = register(identity)
    details = refused(identity.stub.UnmergeParty, pb.UnmergePartyRequest(party_id=jane))
    assert details.code == grpc.StatusCode.FAILED_PRECONDITION
    assert details.precondition_types == ["NOT_MERGED"]


def test_a_page_token_from_another_query_is_refused(identity: IdentityHarness) -> None:
    for n in range(3):
        register(identity, f"Paged {n}")
    page = identity.stub.ListParties(pb.ListPartiesRequest(page_size=1))
    assert page.next_page_token
    details = refused(
        identity.stub.ListParties,
        pb.ListPartiesRequest(page_size=1, page_token=page.next_page_token, kind=types.PARTY_KIND_COMMUNITY),
    )
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.fields == ["page_token"]
    garbage = refused(identity.stub.ListParties, pb.ListPartiesRequest(page_token="not-a-token"))
    assert garbage.fields == ["page_token"]


def test_blocked_values_never_link(identity: IdentityHarness) -> None:
    jane = register(identity)
    for value in ("test@example.com", "noreply@shop.example"):
        details = refused(
            identity.stub.LinkIdentifier, pb.LinkIdentifierRequest(party_id=jane, identifier=email(value))
        )
        assert details.code == grpc.StatusCode.FAILED_PRECONDITION
        assert details.precondition_types == ["BLOCKED_IDENTIFIER"]
    anonymous = types.Identifier(type=types.IDENTIFIER_TYPE_X, value="@Anonymous")
    details = refused(
        identity.stub.ResolveIdentifier, pb.ResolveIdentifierRequest(identifier=anonymous, create_if_missing=True)
    )
    assert details.precondition_types == ["BLOCKED_IDENTIFIER"]


def test_a_merge_over_the_identifier_cap_is_refused_and_changes_nothing(identity: IdentityHarness) -> None:
    crm = types.IDENTIFIER_TYPE_CRM_ID
    first = register(identity, "Jane", types.Identifier(type=crm, value="CUST-1", namespace="crm"))
    second = register(identity, "J. Smith", types.Identifier(type=crm, value="CUST-2", namespace="crm"))
    before = [identity.stub.GetParty(pb.GetPartyRequest(party_id=p)).party for p in (first, second)]
    details = refused(
        identity.stub.MergeParties,
        pb.MergePartiesRequest(target_party_id=first, source_party_id=second, evidence=pb.Evidence(rule="name")),
    )
    assert details.code == grpc.StatusCode.FAILED_PRECONDITION
    assert details.precondition_types == ["IDENTIFIER_CAP"]
    assert "crm_id" in details.message
    after = [identity.stub.GetParty(pb.GetPartyRequest(party_id=p)).party for p in (first, second)]
    assert after == before


def test_merging_a_merged_away_party_names_the_rule(identity: IdentityHarness) -> None:
    a, b, c = register(identity, "A"), register(identity, "B"), register(identity, "C")
    identity.stub.MergeParties(
        pb.MergePartiesRequest(target_party_id=a, source_party_id=b, evidence=pb.Evidence(rule="same person"))
    )
    details = refused(
        identity.stub.MergeParties,
        pb.MergePartiesRequest(target_party_id=c, source_party_id=b, evidence=pb.Evidence(rule="same person")),
    )
    assert details.precondition_types == ["PARTY_MERGED"]
    org = identity.stub.RegisterParty(
        pb.RegisterPartyRequest(kind=types.PARTY_KIND_ORGANISATION, display_name="Bakery Ltd")
    ).party.party_id
    details = refused(
        identity.stub.MergeParties,
        pb.MergePartiesRequest(target_party_id=a, source_party_id=org, evidence=pb.Evidence(rule="same person")),
    )
    assert details.precondition_types == ["KIND_MISMATCH"]


def test_unknown_parties_and_identifiers_are_not_found(identity: IdentityHarness) -> None:
    details = refused(identity.stub.GetParty, pb.GetPartyRequest(party_id=MISSING))
    assert details.code == grpc.StatusCode.NOT_FOUND
    assert details.detail(error_details_pb2.ResourceInfo).resource_type == "party"
    details = refused(
        identity.stub.ResolveIdentifier, pb.ResolveIdentifierRequest(identifier=email("nobody@example.org"))
    )
    assert details.code == grpc.StatusCode.NOT_FOUND
    details = refused(identity.stub.GetParty, pb.GetPartyRequest(party_id="not-a-uuid"))
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.fields == ["party_id"]


def test_a_registration_with_a_taken_identifier_registers_nothing(identity: IdentityHarness) -> None:
    register(identity, "Owner", email("taken@example.org"))
    before = identity.projection.view.counts()
    details = refused(
        identity.stub.RegisterParty,
        pb.RegisterPartyRequest(
            kind=types.PARTY_KIND_PERSON,
            display_name="Latecomer",
            identifiers=[email("fresh@example.org"), email("taken@example.org")],
        ),
    )
    assert details.code == grpc.StatusCode.ALREADY_EXISTS
    assert identity.projection.view.counts() == before
    missing = refused(
        identity.stub.ResolveIdentifier, pb.ResolveIdentifierRequest(identifier=email("fresh@example.org"))
    )
    assert missing.code == grpc.StatusCode.NOT_FOUND


def test_consent_answers_may_we_contact_this_party_now(identity: IdentityHarness) -> None:
    from google.protobuf.timestamp_pb2 import Timestamp

    def at(seconds: int) -> Timestamp:
        return Timestamp(seconds=1_800_000_000 + seconds)

    def may(party: str, channel: int, when: int) -> pb.CheckContactPermissionResponse:
        return identity.stub.CheckContactPermission(
            pb.CheckContactPermissionRequest(party_id=party, channel=channel, time=at(when))
        )

    jane = register(identity, "Consenting Jane")
    assert may(jane, types.CHANNEL_EMAIL, 0).reason == "NO_CONSENT"
    identity.stub.RecordConsent(
        pb.RecordConsentRequest(
            party_id=jane, channel=types.CHANNEL_EMAIL, status=types.CONSENT_STATUS_GRANTED, time=at(100), source="web"
        )
    )
    identity.stub.RecordConsent(
        pb.RecordConsentRequest(
            party_id=jane, channel=types.CHANNEL_EMAIL, status=types.CONSENT_STATUS_REVOKED, time=at(200), source="call"
        )
    )
    identity.stub.SetPreferredChannels(
        pb.SetPreferredChannelsRequest(party_id=jane, channels=[types.CHANNEL_CHAT, types.CHANNEL_EMAIL])
    )
    assert (may(jane, types.CHANNEL_EMAIL, 50).allowed, may(jane, types.CHANNEL_EMAIL, 50).reason) == (
        False,
        "NO_CONSENT",
    )
    granted = may(jane, types.CHANNEL_EMAIL, 150)
    assert (granted.allowed, granted.reason, granted.preferred) == (True, "CONSENT_GRANTED", True)
    assert may(jane, types.CHANNEL_EMAIL, 250).reason == "CONSENT_REVOKED"
    assert may(jane, types.CHANNEL_SMS, 150).preferred is False

    # A party merged into Jane brings its do-not-contact along: the most restrictive answer wins.
    other = register(identity, "Jane, quiet")
    identity.stub.SetDoNotContact(pb.SetDoNotContactRequest(party_id=other, do_not_contact=True, time=at(120)))
    identity.stub.MergeParties(
        pb.MergePartiesRequest(target_party_id=jane, source_party_id=other, evidence=pb.Evidence(rule="same person"))
    )
    assert may(jane, types.CHANNEL_EMAIL, 150).reason == "DO_NOT_CONTACT"
    assert may(other, types.CHANNEL_EMAIL, 110).party_id == jane
    assert may(jane, types.CHANNEL_EMAIL, 110).allowed
    details = refused(
        identity.stub.RecordConsent,
        pb.RecordConsentRequest(party_id=jane, channel=types.CHANNEL_EMAIL),
    )
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.fields == ["status"]


def test_a_merge_larger_than_one_atomic_commit_is_refused_whole(identity: IdentityHarness) -> None:
    from services.identity.domain import Party, add_member

    app = identity.app
    big = Party.register("community", "Very large community")
    for _batch in range(2):  # 2 x 300 members, each save within one atomic commit
        changed = [big]
        for n in range(300):
            member = Party.register("person", f"Member {n}")
            changed += [a for a in add_member(big, member) if a is not big]
        app.save(*changed)
    small = identity.stub.RegisterParty(
        pb.RegisterPartyRequest(kind=types.PARTY_KIND_COMMUNITY, display_name="Small community")
    ).party.party_id
    details = refused(
        identity.stub.MergeParties,
        pb.MergePartiesRequest(target_party_id=small, source_party_id=str(big.id), evidence=pb.Evidence(rule="same")),
    )
    assert details.code == grpc.StatusCode.FAILED_PRECONDITION
    assert details.precondition_types == ["COMMAND_TOO_LARGE"]
    assert len(identity.stub.GetParty(pb.GetPartyRequest(party_id=str(big.id))).party.member_party_ids) == 600
    assert identity.stub.GetParty(pb.GetPartyRequest(party_id=small)).party.member_party_ids == []


def test_the_survivor_of_a_merge_shows_the_effective_contact_state_and_whose_it_is(identity: IdentityHarness) -> None:
    jane = register(identity, "Reachable Jane")
    quiet = register(identity, "Jane, do not call")
    identity.stub.RecordConsent(
        pb.RecordConsentRequest(
            party_id=jane, channel=types.CHANNEL_EMAIL, status=types.CONSENT_STATUS_GRANTED, source="web"
        )
    )
    identity.stub.RecordConsent(
        pb.RecordConsentRequest(
            party_id=quiet, channel=types.CHANNEL_SMS, status=types.CONSENT_STATUS_DENIED, source="call"
        )
    )
    identity.stub.SetDoNotContact(pb.SetDoNotContactRequest(party_id=quiet, do_not_contact=True, source="call"))
    identity.stub.MergeParties(
        pb.MergePartiesRequest(target_party_id=jane, source_party_id=quiet, evidence=pb.Evidence(rule="same person"))
    )

    survivor = identity.stub.GetParty(pb.GetPartyRequest(party_id=jane)).party
    permission = identity.stub.CheckContactPermission(
        pb.CheckContactPermissionRequest(party_id=jane, channel=types.CHANNEL_EMAIL)
    )
    assert permission.reason == "DO_NOT_CONTACT"
    assert survivor.do_not_contact is True
    assert list(survivor.do_not_contact_party_ids) == [quiet]
    assert sorted((c.channel, c.status, c.party_id) for c in survivor.consents) == sorted(
        [
            (types.CHANNEL_EMAIL, types.CONSENT_STATUS_GRANTED, jane),
            (types.CHANNEL_SMS, types.CONSENT_STATUS_DENIED, quiet),
        ]
    )

    identity.stub.UnmergeParty(pb.UnmergePartyRequest(party_id=quiet, evidence=pb.Evidence(rule="two people")))
    alone = identity.stub.GetParty(pb.GetPartyRequest(party_id=jane)).party
    assert alone.do_not_contact is False
    assert [(c.channel, c.party_id) for c in alone.consents] == [(types.CHANNEL_EMAIL, jane)]
    assert (
        identity.stub.CheckContactPermission(
            pb.CheckContactPermissionRequest(party_id=jane, channel=types.CHANNEL_EMAIL)
        ).reason
        == "CONSENT_GRANTED"
    )


OUT_OF_RANGE = [
    pytest.param({"seconds": 2**62}, id="seconds-2**62"),
    pytest.param({"seconds": 253_402_300_800}, id="year-10000"),
    pytest.param({"seconds": -62_135_596_801}, id="year-0"),
    pytest.param({"seconds": 1_800_000_000, "nanos": -1}, id="negative-nanos"),
    pytest.param({"seconds": 1_800_000_000, "nanos": 1_000_000_000}, id="nanos-1e9"),
]


@pytest.mark.parametrize("stamp", OUT_OF_RANGE)
def test_a_time_outside_the_timestamp_range_is_invalid_argument_on_that_field(
    identity: IdentityHarness, stamp: dict[str, int]
) -> None:
    from google.protobuf.timestamp_pb2 import Timestamp

    jane = register(identity, "Jane of all times")
    calls = [
        (
            identity.stub.RecordConsent,
            pb.RecordConsentRequest(
                party_id=jane, channel=types.CHANNEL_EMAIL, status=types.CONSENT_STATUS_GRANTED, time=Timestamp(**stamp)
            ),
        ),
        (
            identity.stub.SetDoNotContact,
            pb.SetDoNotContactRequest(party_id=jane, do_not_contact=True, time=Timestamp(**stamp)),
        ),
        (
            identity.stub.CheckContactPermission,
            pb.CheckContactPermissionRequest(party_id=jane, channel=types.CHANNEL_EMAIL, time=Timestamp(**stamp)),
        ),
    ]
    for call, request in calls:
        details = refused(call, request)
        assert (details.code, details.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["time"])
    party = identity.stub.GetParty(pb.GetPartyRequest(party_id=jane)).party
    assert not party.do_not_contact


def test_a_forged_page_token_is_invalid_argument_even_with_a_huge_cursor(identity: IdentityHarness) -> None:
    import base64
    import hashlib
    import json

    from services.common.pagination import query_fingerprint

    payload = json.dumps([1, query_fingerprint(method="ListParties", kind=""), 0, 2**63]).encode()
    forged = base64.urlsafe_b64encode(payload + hashlib.sha256(payload).digest()[:4]).decode().rstrip("=")

    details = refused(identity.stub.ListParties, pb.ListPartiesRequest(page_token=forged))

    assert (details.code, details.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_token"])

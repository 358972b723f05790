"""Concurrent conflicting writes: ABORTED for the loser, and a client retry succeeds; nothing is half-applied."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import grpc

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as pb
from chorus.identity.v1 import identity_service_pb2_grpc as pb_grpc
from services.common.grpc_runtime import status_details

if TYPE_CHECKING:
    from tests.integration.identity.conftest import IdentityHarness

T = TypeVar("T")


def with_retries(call: Callable[[], T], outcomes: Counter[str], attempts: int = 20) -> T:
    """What a client does: retry ABORTED (a concurrent write won), give up on anything else."""
    for _ in range(attempts):
        try:
            return call()
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.ABORTED:
                raise
            outcomes["aborted"] += 1
    raise AssertionError("still ABORTED after retries")


def test_a_stale_expected_version_is_aborted_and_a_fresh_retry_succeeds(identity: IdentityHarness) -> None:
    stub = identity.stub
    party = stub.RegisterParty(pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name="Versioned"))
    version = party.party.version
    first = stub.SetDoNotContact(
        pb.SetDoNotContactRequest(party_id=party.party.party_id, do_not_contact=True, expected_version=version)
    )
    assert first.party.version == version + 1
    try:
        stub.SetDoNotContact(
            pb.SetDoNotContactRequest(party_id=party.party.party_id, do_not_contact=False, expected_version=version)
        )
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.ABORTED
        assert status_details(error).message
    else:
        raise AssertionError("a write at a stale version was accepted")
    fresh = stub.GetParty(pb.GetPartyRequest(party_id=party.party.party_id)).party
    retried = stub.SetDoNotContact(
        pb.SetDoNotContactRequest(party_id=fresh.party_id, do_not_contact=False, expected_version=fresh.version)
    )
    assert retried.party.do_not_contact is False


def test_concurrent_links_to_one_party_all_land_after_retries(identity: IdentityHarness) -> None:
    stub = identity.stub
    party_id = stub.RegisterParty(
        pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name="Busy Jane")
    ).party.party_id
    outcomes: Counter[str] = Counter()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def link(n: int) -> None:
        identifier = types.Identifier(type=types.IDENTIFIER_TYPE_DEVICE_ID, value=f"device-{n}")
        barrier.wait()
        try:
            with_retries(
                lambda: stub.LinkIdentifier(pb.LinkIdentifierRequest(party_id=party_id, identifier=identifier)),
                outcomes,
            )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=link, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    party = stub.GetParty(pb.GetPartyRequest(party_id=party_id)).party
    assert sorted(i.identifier.value for i in party.identifiers) == [f"device-{n}" for n in range(8)]
    assert party.version == 1 + 8  # registered + one event per link: no lost or doubled write
    for n in range(8):
        answer = stub.ResolveIdentifier(
            pb.ResolveIdentifierRequest(
                identifier=types.Identifier(type=types.IDENTIFIER_TYPE_DEVICE_ID, value=f"device-{n}")
            )
        )
        assert answer.party_id == party_id


def test_two_parties_racing_for_one_identifier_have_one_winner(identity: IdentityHarness) -> None:
    stub = identity.stub
    racers = [
        stub.RegisterParty(
            pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name=f"Racer {n}")
        ).party.party_id
        for n in range(4)
    ]
    contested = types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="contested@example.org")
    barrier = threading.Barrier(len(racers))
    results: dict[str, str] = {}
    outcomes: Counter[str] = Counter()

    def race(party_id: str) -> None:
        barrier.wait()
        try:
            with_retries(
                lambda: stub.LinkIdentifier(pb.LinkIdentifierRequest(party_id=party_id, identifier=contested)),
                outcomes,
            )
            results[party_id] = "linked"
        except grpc.RpcError as error:
            results[party_id] = error.code().name

    threads = [threading.Thread(target=race, args=(p,)) for p in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [p for p, outcome in results.items() if outcome == "linked"]
    assert len(winners) == 1
    assert sorted(o for o in results.values() if o != "linked") == ["ALREADY_EXISTS"] * (len(racers) - 1)
    owner = stub.ResolveIdentifier(pb.ResolveIdentifierRequest(identifier=contested)).party_id
    assert owner == winners[0]
    holders = [p for p in racers if stub.GetParty(pb.GetPartyRequest(party_id=p)).party.identifiers]
    assert holders == winners


def test_concurrent_resolves_of_a_stranger_create_one_party(identity: IdentityHarness) -> None:
    stub = identity.stub
    stranger = types.Identifier(type=types.IDENTIFIER_TYPE_X, value="@StrangerDanger")
    barrier = threading.Barrier(6)
    answers: list[pb.ResolveIdentifierResponse] = []
    outcomes: Counter[str] = Counter()

    def resolve() -> None:
        barrier.wait()
        answers.append(
            with_retries(
                lambda: stub.ResolveIdentifier(
                    pb.ResolveIdentifierRequest(identifier=stranger, create_if_missing=True)
                ),
                outcomes,
            )
        )

    threads = [threading.Thread(target=resolve) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 6
    assert len({a.party_id for a in answers}) == 1
    assert sum(a.created for a in answers) == 1


def _community(stub: pb_grpc.IdentityServiceStub, name: str, members: list[str]) -> str:
    community = stub.RegisterParty(pb.RegisterPartyRequest(kind=types.PARTY_KIND_COMMUNITY, display_name=name))
    for member in members:
        stub.AddCommunityMember(
            pb.AddCommunityMemberRequest(community_party_id=community.party.party_id, member_party_id=member)
        )
    return community.party.party_id


def test_concurrent_membership_changes_and_merges_answer_aborted_never_internal(identity: IdentityHarness) -> None:
    """Adds, removes and merges racing on the same parties: each call lands, is ABORTED and retried, or is refused
    by a rule (NOT_FOUND, FAILED_PRECONDITION); none is INTERNAL, and every membership ends up two-sided."""
    stub = identity.stub
    people = [
        stub.RegisterParty(
            pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name=f"Member {n}")
        ).party.party_id
        for n in range(6)
    ]
    communities = [_community(stub, f"Club {n}", people) for n in range(3)]
    outcomes: Counter[str] = Counter()
    unexpected: list[str] = []
    calls: list[Callable[[], object]] = []
    for community in communities:
        for person in people:
            remove = pb.RemoveCommunityMemberRequest(community_party_id=community, member_party_id=person)
            add = pb.AddCommunityMemberRequest(community_party_id=community, member_party_id=person)
            calls += [
                lambda r=remove: stub.RemoveCommunityMember(r),
                lambda r=remove: stub.RemoveCommunityMember(r),
                lambda a=add: stub.AddCommunityMember(a),
            ]
    for target, source in (
        (communities[0], communities[1]),
        (communities[2], communities[1]),
        (communities[0], communities[2]),
    ):
        merge = pb.MergePartiesRequest(
            target_party_id=target, source_party_id=source, evidence=pb.Evidence(rule="same_club", source="test")
        )
        calls.append(lambda m=merge: stub.MergeParties(m))
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            with_retries(call, outcomes)
            outcomes["ok"] += 1
        except grpc.RpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION):
                outcomes[error.code().name] += 1
            else:
                unexpected.append(f"{error.code().name}: {error.details()}")
        except AssertionError as error:
            unexpected.append(str(error))

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert unexpected == []
    assert outcomes["ok"] > 0
    parties = {p: stub.GetParty(pb.GetPartyRequest(party_id=p)).party for p in [*people, *communities]}
    for community_id in communities:
        for member_id in parties[community_id].member_party_ids:
            assert community_id in parties[member_id].community_party_ids
    for person_id in people:
        for community_id in parties[person_id].community_party_ids:
            assert person_id in parties[community_id].member_party_ids

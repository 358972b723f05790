"""ForgetParty: the party's and its identifiers' keys destroyed, a receipt recorded, the log unreadable for them."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as pb
from services.common.identifiers import normalise
from services.common.privacy.keyring import installed

from .conftest import IdentityHarness

REQUEST = {"requested_by": "case-4711", "legal_basis": "GDPR Art. 17(1)(a)"}


def email(tag: str) -> types.Identifier:
    return types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value=f"{tag}-{uuid.uuid4().hex[:8]}@example.com")


def register(identity: IdentityHarness, name: str, *identifiers: types.Identifier) -> str:
    return identity.stub.RegisterParty(
        pb.RegisterPartyRequest(
            kind=types.PARTY_KIND_PERSON,
            display_name=name,
            identifiers=identifiers,
            evidence=pb.Evidence(note=f"{name} said so on the phone"),
        )
    ).party.party_id


def key_of(identifier: types.Identifier) -> str:
    return normalise("email", "", identifier.value).key


def test_a_forgotten_party_reads_erased_and_its_receipt_names_every_key(identity: IdentityHarness) -> None:
    own, merged = email("ada"), email("ada-old")
    ada = register(identity, "Ada Lovelace", own)
    old = register(identity, "A. Lovelace", merged)
    identity.stub.MergeParties(
        pb.MergePartiesRequest(target_party_id=ada, source_party_id=old, evidence=pb.Evidence(rule="same person"))
    )

    answer = identity.stub.ForgetParty(pb.ForgetPartyRequest(party_id=ada, **REQUEST))

    receipt = answer.receipt
    assert answer.receipt_id == receipt.receipt_id
    assert set(receipt.key_ids) == {key_of(own), key_of(merged), ada, old}
    assert list(receipt.party_ids) == [old]
    assert receipt.requested_by == "case-4711" and receipt.legal_basis == "GDPR Art. 17(1)(a)"
    assert "names" in receipt.categories and receipt.erased_at.seconds > 0
    keyring = installed()
    assert keyring is not None and all(keyring.vault.get(key) is None for key in receipt.key_ids)
    party = identity.stub.GetParty(pb.GetPartyRequest(party_id=ada)).party
    assert party.display_name == "[erased]"
    assert list(party.identifiers) == []
    exported = identity.stub.ExportParty(pb.ExportPartyRequest(party_id=ada)).json
    assert "Lovelace" not in exported and own.value not in exported and merged.value not in exported
    assert "[erased]" in exported


def test_a_forgotten_identifier_belongs_to_nobody_and_starts_a_new_party(identity: IdentityHarness) -> None:
    own = email("grace")
    grace = register(identity, "Grace Hopper", own)
    identity.stub.ForgetParty(pb.ForgetPartyRequest(party_id=grace, **REQUEST))
    again = identity.stub.ResolveIdentifier(pb.ResolveIdentifierRequest(identifier=own, create_if_missing=True))
    assert again.created and again.party_id != grace


def test_forgetting_twice_is_refused_with_the_first_receipt(identity: IdentityHarness) -> None:
    party = register(identity, "Mary Somerville", email("mary"))
    first = identity.stub.ForgetParty(pb.ForgetPartyRequest(party_id=party, **REQUEST)).receipt
    with pytest.raises(grpc.RpcError) as refused:
        identity.stub.ForgetParty(pb.ForgetPartyRequest(party_id=party, **REQUEST))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert first.receipt_id in (refused.value.details() or "")
    status = rpc_status.from_call(refused.value)
    failure = error_details_pb2.PreconditionFailure()
    assert status is not None and status.details[0].Unpack(failure)
    assert failure.violations[0].type == "PARTY_FORGOTTEN" and first.receipt_id in failure.violations[0].description


def test_forgetting_an_unknown_party_is_not_found(identity: IdentityHarness) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        identity.stub.ForgetParty(pb.ForgetPartyRequest(party_id=str(uuid.uuid4()), **REQUEST))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_forget_request_without_a_legal_basis_is_refused_naming_the_field(identity: IdentityHarness) -> None:
    party = register(identity, "Emmy Noether", email("emmy"))
    with pytest.raises(grpc.RpcError) as refused:
        identity.stub.ForgetParty(pb.ForgetPartyRequest(party_id=party, requested_by="case-1"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "legal_basis" in (refused.value.details() or "")


def test_a_forgotten_party_takes_no_new_identifiers(identity: IdentityHarness) -> None:
    party = register(identity, "Sophie Germain", email("sophie"))
    identity.stub.ForgetParty(pb.ForgetPartyRequest(party_id=party, **REQUEST))
    with pytest.raises(grpc.RpcError) as refused:
        identity.stub.LinkIdentifier(pb.LinkIdentifierRequest(party_id=party, identifier=email("sophie-new")))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_an_export_holds_the_party_decrypted_with_its_history(identity: IdentityHarness) -> None:
    own = email("hedy")
    party = register(identity, "Hedy Lamarr", own)
    document = json.loads(identity.stub.ExportParty(pb.ExportPartyRequest(party_id=party)).json)
    assert document["party"]["display_name"] == "Hedy Lamarr"
    assert [i["value"] for i in document["party"]["identifiers"]] == [own.value]
    history = document["events"][party]
    assert history[0]["type"] == "Party.Registered" and history[0]["display_name"] == "Hedy Lamarr"
    assert any(
        e["type"] == "Party.IdentifierLinked"
        and e["identifier"]["evidence"]["note"] == "Hedy Lamarr said so on the phone"
        for e in history
    )
    assert document["forgotten"] is None


def test_an_export_of_an_unknown_party_is_not_found(identity: IdentityHarness) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        identity.stub.ExportParty(pb.ExportPartyRequest(party_id=str(uuid.uuid4())))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND

"""ImportParties: a CRM's parties streamed in, each all or nothing, idempotent by source system and external id.

Every item is answered once, in stream order; a bad item is rejected alone (naming its field and the rule) while
its neighbours are imported; nothing of a rejected item is stored.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pytest
from rich.console import Console

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as pb
from chorus.identity.v1 import identity_service_pb2_grpc as pb_grpc
from services.client.party_import import FRAME_PARTIES, FileFormat, import_file
from services.common.testing import eventually, running_server
from services.identity.application import IdentityApplication
from services.identity.domain import imported_party_id
from services.identity.grpc_api import SERVICE_NAME, IdentityServicer
from services.identity.projection import ResolutionView, resolution_runner

if TYPE_CHECKING:
    from tests.integration.identity.conftest import IdentityHarness

IMPORTED = pb.IMPORT_OUTCOME_IMPORTED
ALREADY = pb.IMPORT_OUTCOME_ALREADY_IMPORTED
REJECTED = pb.IMPORT_OUTCOME_REJECTED


def email(value: str) -> types.Identifier:
    return types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value=value)


def phone(value: str) -> types.Identifier:
    return types.Identifier(type=types.IDENTIFIER_TYPE_PHONE, value=value)


def handle(value: str) -> types.Identifier:
    return types.Identifier(type=types.IDENTIFIER_TYPE_X, value=value)


class Crm:
    """Distinct customers of one made-up CRM, per test."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:10]
        self.system = f"crm-{self.tag}"

    def party(self, n: int, *identifiers: types.Identifier, **fields: object) -> pb.ImportedParty:
        given = identifiers or (
            email(f"c{n}.{self.tag}@example.org"),
            handle(f"c{n}{self.tag}"),
            types.Identifier(type=types.IDENTIFIER_TYPE_DEVICE_ID, value=f"d-{self.tag}-{n}"),
        )
        item = {
            "source_system": self.system,
            "external_id": f"C-{n}",
            "kind": types.PARTY_KIND_PERSON,
            "display_name": f"Customer {n}",
            "identifiers": given,
            **fields,
        }
        return pb.ImportedParty(**item)  # type: ignore[arg-type]


def import_all(stub: pb_grpc.IdentityServiceStub, *parties: pb.ImportedParty) -> list[pb.ImportResult]:
    answers = stub.ImportParties(iter([pb.ImportPartiesRequest(party=p) for p in parties]))
    results = [result for answer in answers for result in answer.results]
    assert [r.index for r in results] == list(range(len(parties)))
    return results


def resolves_to(identity: IdentityHarness, identifier: types.Identifier) -> str | None:
    try:
        return identity.stub.ResolveIdentifier(pb.ResolveIdentifierRequest(identifier=identifier)).party_id
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND
        return None


def test_an_imported_party_holds_its_identifiers_consents_and_preferred_channels(identity: IdentityHarness) -> None:
    crm = Crm()
    item = crm.party(
        1,
        consents=[pb.ImportedConsent(channel=types.CHANNEL_EMAIL, status=types.CONSENT_STATUS_GRANTED)],
        preferred_channels=[types.CHANNEL_EMAIL, types.CHANNEL_PHONE],
        roles=[types.PARTY_ROLE_CUSTOMER],
    )
    [result] = import_all(identity.stub, item)
    assert result.outcome == IMPORTED
    identity.projection.catch_up()
    party = identity.stub.GetParty(pb.GetPartyRequest(party_id=result.party_id)).party
    assert party.display_name == "Customer 1"
    assert len(party.identifiers) == 3
    assert [c.channel for c in party.consents] == [types.CHANNEL_EMAIL]
    assert party.consents[0].source == crm.system
    assert list(party.preferred_channels) == [types.CHANNEL_EMAIL, types.CHANNEL_PHONE]
    assert {link.evidence.rule for link in party.identifiers} == {"import"}
    for identifier in item.identifiers:
        assert resolves_to(identity, identifier) == result.party_id


def test_the_same_external_id_imported_twice_is_the_same_party_and_changes_nothing(
    identity: IdentityHarness,
) -> None:
    crm = Crm()
    first = import_all(identity.stub, crm.party(1), crm.party(2))
    assert [r.outcome for r in first] == [IMPORTED, IMPORTED]
    stored = identity.app.recorder.max_notification_id()
    again = import_all(identity.stub, crm.party(2), crm.party(1), crm.party(3))
    assert [r.outcome for r in again] == [ALREADY, ALREADY, IMPORTED]
    assert [r.party_id for r in again[:2]] == [first[1].party_id, first[0].party_id]
    version = identity.stub.GetParty(pb.GetPartyRequest(party_id=first[0].party_id)).party.version
    assert version == 4  # registered + three links, nothing from the second import
    assert identity.app.recorder.max_notification_id() > stored  # only party 3 was written
    twice_in_one_stream = import_all(identity.stub, crm.party(4), crm.party(4))
    assert [r.outcome for r in twice_in_one_stream] == [IMPORTED, ALREADY]
    assert twice_in_one_stream[0].party_id == twice_in_one_stream[1].party_id


def test_the_source_system_is_compared_case_insensitively(identity: IdentityHarness) -> None:
    crm = Crm()
    [first] = import_all(identity.stub, crm.party(1))
    shouted = crm.party(1)
    shouted.source_system = crm.system.upper()
    [second] = import_all(identity.stub, shouted)
    assert (second.outcome, second.party_id) == (ALREADY, first.party_id)


def test_an_identifier_held_by_another_party_rejects_its_item_alone(identity: IdentityHarness) -> None:
    crm = Crm()
    holder = identity.stub.RegisterParty(
        pb.RegisterPartyRequest(
            kind=types.PARTY_KIND_PERSON,
            display_name="Holder",
            identifiers=[email(f"held.{crm.tag}@example.org")],
        )
    ).party.party_id
    clashing = crm.party(2, handle(f"free{crm.tag}"), email(f"held.{crm.tag}@example.org"))
    results = import_all(identity.stub, crm.party(1), clashing, crm.party(3))
    assert [r.outcome for r in results] == [IMPORTED, REJECTED, IMPORTED]
    [violation] = results[1].violations
    assert (violation.field, violation.rule) == ("identifiers[1]", "IDENTIFIER_LINKED_ELSEWHERE")
    assert results[1].conflicting_party_id == holder
    assert "held." not in violation.description  # never the value
    identity.projection.catch_up()
    assert resolves_to(identity, handle(f"free{crm.tag}")) is None  # nothing of the item was stored
    assert resolves_to(identity, email(f"held.{crm.tag}@example.org")) == holder


def test_two_items_of_one_stream_claiming_one_identifier_the_second_is_rejected(identity: IdentityHarness) -> None:
    crm = Crm()
    shared = email(f"shared.{crm.tag}@example.org")
    results = import_all(identity.stub, crm.party(1, shared), crm.party(2, handle(f"h{crm.tag}"), shared))
    assert [r.outcome for r in results] == [IMPORTED, REJECTED]
    assert results[1].conflicting_party_id == results[0].party_id
    assert results[1].violations[0].field == "identifiers[1]"


def test_a_blocked_value_rejects_its_item_alone(identity: IdentityHarness) -> None:
    crm = Crm()
    blocked = crm.party(2, handle(f"ok{crm.tag}"), email("noreply@example.org"))
    results = import_all(identity.stub, crm.party(1), blocked, crm.party(3))
    assert [r.outcome for r in results] == [IMPORTED, REJECTED, IMPORTED]
    [violation] = results[1].violations
    assert (violation.field, violation.rule) == ("identifiers[1]", "BLOCKED_IDENTIFIER")
    identity.projection.catch_up()
    assert resolves_to(identity, handle(f"ok{crm.tag}")) is None


def test_an_item_over_a_cap_is_rejected_whole(identity: IdentityHarness) -> None:
    crm = Crm()
    emails = [email(f"e{k}.{crm.tag}@example.org") for k in range(6)]  # the cap is 5
    results = import_all(identity.stub, crm.party(1), crm.party(2, *emails))
    assert [r.outcome for r in results] == [IMPORTED, REJECTED]
    [violation] = results[1].violations
    assert (violation.field, violation.rule) == ("identifiers", "IDENTIFIER_CAP")
    identity.projection.catch_up()
    assert all(resolves_to(identity, e) is None for e in emails)
    with pytest.raises(grpc.RpcError) as caught:
        identity.stub.GetParty(pb.GetPartyRequest(party_id=str(imported_party_id(crm.system, "C-2"))))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"external_id": ""}, ["external_id"]),
        ({"external_id": "   "}, ["external_id"]),
        ({"source_system": ""}, ["source_system"]),
        ({"kind": 99}, ["kind"]),
        ({"kind": types.PARTY_KIND_UNSPECIFIED}, ["kind"]),
        ({"display_name": "x" * 201}, ["display_name"]),
        ({"display_name": "   "}, ["display_name"]),
        ({"identifiers": [email("not-an-email"), phone("call me")]}, ["identifiers[0].value", "identifiers[1].value"]),
        (
            {"identifiers": [types.Identifier(type=types.IDENTIFIER_TYPE_FORUM_USER, value="jo")]},
            ["identifiers[0].namespace"],
        ),
        ({"consents": [pb.ImportedConsent(channel=types.CHANNEL_EMAIL, status=77)]}, ["consents[0].status"]),
        ({"preferred_channels": [types.CHANNEL_UNSPECIFIED]}, ["preferred_channels"]),
        ({"evidence": pb.Evidence(confidence=2.0)}, ["evidence.confidence"]),
    ],
    ids=[
        "no-external-id",
        "blank-external-id",
        "no-source",
        "unknown-kind",
        "no-kind",
        "long-name",
        "blank-name",
        "bad-identifiers",
        "forum-user-without-namespace",
        "unknown-consent-status",
        "unspecified-channel",
        "confidence-above-one",
    ],
)
def test_an_invalid_item_is_rejected_alone_naming_its_fields(
    identity: IdentityHarness, fields: dict[str, object], named: list[str]
) -> None:
    crm = Crm()
    bad = crm.party(2)
    for name, value in fields.items():
        if isinstance(value, list):
            bad.ClearField(name)  # type: ignore[arg-type]
            getattr(bad, name).extend(value)
        elif isinstance(value, pb.Evidence):
            bad.evidence.CopyFrom(value)
        else:
            setattr(bad, name, value)
    results = import_all(identity.stub, crm.party(1), bad, crm.party(3))
    assert [r.outcome for r in results] == [IMPORTED, REJECTED, IMPORTED]
    assert [v.field for v in results[1].violations] == named
    assert not results[1].party_id


def test_an_empty_message_is_rejected_alone(identity: IdentityHarness) -> None:
    crm = Crm()
    requests = [pb.ImportPartiesRequest(), pb.ImportPartiesRequest(party=crm.party(1))]
    answers = identity.stub.ImportParties(iter(requests))
    results = [r for answer in answers for r in answer.results]
    assert [r.outcome for r in results] == [REJECTED, IMPORTED]
    assert {"source_system", "external_id", "kind", "display_name"} <= {v.field for v in results[0].violations}


def test_undecodable_bytes_are_rejected_alone_and_the_stream_reads_on(identity: IdentityHarness) -> None:
    crm = Crm()
    call = identity.channel.stream_stream(
        f"/{SERVICE_NAME}/ImportParties",
        request_serializer=lambda raw: raw,
        response_deserializer=pb.ImportPartiesResponse.FromString,
    )
    frames = [
        pb.ImportPartiesRequest(party=crm.party(1)).SerializeToString(),
        b"\xff\xff\xff\xff",
        pb.ImportPartiesRequest(party=crm.party(3)).SerializeToString(),
    ]
    results = [r for answer in call(iter(frames)) for r in answer.results]
    assert [(r.index, r.outcome) for r in results] == [(0, IMPORTED), (1, REJECTED), (2, IMPORTED)]
    assert "do not decode" in results[1].violations[0].description


def test_many_parties_to_a_frame_are_items_of_their_own_indexed_across_frames(identity: IdentityHarness) -> None:
    """A frame's ``party`` then its ``parties`` are items in stream order, each answered, rejected or imported
    alone, as if each had a frame of its own."""
    crm = Crm()
    bad = crm.party(3)
    bad.display_name = ""
    frames = [
        pb.ImportPartiesRequest(parties=[crm.party(0), crm.party(1)]),
        pb.ImportPartiesRequest(party=crm.party(2), parties=[bad, crm.party(4)]),
        pb.ImportPartiesRequest(party=crm.party(5)),
        pb.ImportPartiesRequest(parties=[crm.party(n) for n in range(6, 406)]),  # more than a micro-batch
    ]
    results = [r for answer in identity.stub.ImportParties(iter(frames)) for r in answer.results]
    assert [r.index for r in results] == list(range(406))
    assert [r.outcome for r in results[:6]] == [IMPORTED, IMPORTED, IMPORTED, REJECTED, IMPORTED, IMPORTED]
    assert [v.field for v in results[3].violations] == ["display_name"]
    assert {r.outcome for r in results[6:]} == {IMPORTED}
    assert [r.party_id for r in results[:3]] == [str(imported_party_id(crm.system, f"C-{n}")) for n in range(3)]
    identity.projection.catch_up()
    assert resolves_to(identity, crm.party(405).identifiers[0]) == results[405].party_id


def test_a_long_stream_is_answered_once_per_item_in_order_per_micro_batch(identity: IdentityHarness) -> None:
    crm = Crm()
    parties = [crm.party(n) for n in range(700)]
    answers = list(identity.stub.ImportParties(iter([pb.ImportPartiesRequest(party=p) for p in parties])))
    results = [r for answer in answers for r in answer.results]
    assert [r.index for r in results] == list(range(700))
    assert {r.outcome for r in results} == {IMPORTED}
    assert len(answers) >= 3  # at most 250 items per micro-batch
    identity.projection.catch_up()
    assert resolves_to(identity, parties[699].identifiers[0]) == results[699].party_id


def test_a_view_that_knows_nothing_yet_still_gives_the_store_s_answers(
    identity: IdentityHarness, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The store, not the view, has the last word: parties and claims the view has not applied are found when
    the save is refused, and the items are answered as if the view had known them."""
    crm = Crm()
    [before] = import_all(identity.stub, crm.party(1))
    holder = identity.stub.RegisterParty(
        pb.RegisterPartyRequest(
            kind=types.PARTY_KIND_PERSON,
            display_name="Holder",
            identifiers=[email(f"h.{crm.tag}@example.org")],
        )
    ).party.party_id
    env = identity.settings.eventstore_env(identity.identity.app_name)
    app = IdentityApplication(env=env, name=identity.identity.app_name, policy=identity.identity.policy)
    blind = ResolutionView(f"sqlite:///{tmp_path_factory.mktemp('blind') / 'views.db'}")
    app.attach_projection(resolution_runner(app, blind))  # never started: its view stays empty
    try:
        with running_server([(pb_grpc.add_IdentityServiceServicer_to_server, IdentityServicer(app), SERVICE_NAME)]) as (
            channel,
            _port,
        ):
            stub = pb_grpc.IdentityServiceStub(channel)
            results = import_all(stub, crm.party(1), crm.party(2, email(f"h.{crm.tag}@example.org")), crm.party(3))
    finally:
        app.close()
    assert [r.outcome for r in results] == [ALREADY, REJECTED, IMPORTED]
    assert results[0].party_id == before.party_id
    assert results[1].conflicting_party_id == holder
    assert identity.stub.GetParty(pb.GetPartyRequest(party_id=results[2].party_id)).party.display_name == "Customer 3"


def test_micro_batches_committed_at_once_never_import_a_party_or_an_identifier_twice(
    identity: IdentityHarness,
) -> None:
    """With micro-batches of one or two items, the stream's repeats land in batches committed side by side."""
    crm = Crm()
    shared = email(f"twice.{crm.tag}@example.org")
    parties = [crm.party(n) for n in range(12)]
    repeats = [crm.party(n) for n in range(12)]  # the same external ids again
    claimants = [crm.party(100 + n, handle(f"t{n}{crm.tag}"), shared) for n in range(6)]
    servicer = IdentityServicer(identity.app, import_batch=2)
    with running_server([(pb_grpc.add_IdentityServiceServicer_to_server, servicer, SERVICE_NAME)]) as (channel, _):
        stub = pb_grpc.IdentityServiceStub(channel)
        results = import_all(stub, *[p for pair in zip(parties, repeats, strict=True) for p in pair], *claimants)
    assert [r.outcome for r in results[:24]] == [IMPORTED, ALREADY] * 12  # the stream's first mention wins
    assert [results[2 * n].party_id for n in range(12)] == [results[2 * n + 1].party_id for n in range(12)]
    assert len({r.party_id for r in results[:24]}) == 12
    assert [r.outcome for r in results[24:]] == [IMPORTED] + [REJECTED] * 5
    claimed = results[24:25]
    assert {r.conflicting_party_id for r in results[25:]} == {claimed[0].party_id}
    identity.projection.catch_up()
    assert resolves_to(identity, shared) == claimed[0].party_id


def test_the_resolution_view_takes_the_import_from_memory_not_from_the_stream(
    identity: IdentityHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the service stores is handed over to its view: applying an import reads nothing back from NATS."""
    crm = Crm()
    reader = identity.projection.readers[identity.app.name]
    reads: list[int] = []
    original = reader.read

    def counted(*args: object, **kwargs: object) -> object:
        reads.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reader, "read", counted)
    parties = [crm.party(n) for n in range(300)]
    results = import_all(identity.stub, *parties)
    assert {r.outcome for r in results} == {IMPORTED}
    last = parties[-1].identifiers[0]
    key = identity.app.normalise({"type": "email", "value": last.value}).key

    def applied() -> None:
        assert identity.projection.view.owner_of(key) == results[-1].party_id

    eventually(applied)
    assert reads == []


def test_the_import_hands_its_view_the_messages_it_stored_without_decoding_them_again(
    identity: IdentityHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hand-over of an import is the events as the view's reader reads them from the stream, field for field
    (sealed values included), and none of them is parsed from its stored bytes on the way."""
    from dataclasses import replace

    from services.common.projections import UpstreamEvent
    from services.common.projections import reader as reader_module

    def no_decoding(*_args: object) -> object:
        raise AssertionError("an imported event was decoded from its bytes to be handed over")

    monkeypatch.setattr(reader_module, "_event", no_decoding)
    fed: list[UpstreamEvent] = []
    feed = identity.projection.feed

    def kept(upstream: str, events: list[UpstreamEvent]) -> None:
        fed.extend(events)
        feed(upstream, events)

    monkeypatch.setattr(identity.projection, "feed", kept)
    start = identity.app.recorder.max_notification_id() or 0
    crm = Crm()
    results = import_all(identity.stub, *(crm.party(n) for n in range(5)))
    assert {r.outcome for r in results} == {IMPORTED}
    monkeypatch.undo()
    reader = identity.projection.readers[identity.app.name]
    read = reader.read(start, 100, topics=identity.projection.projection.topics())
    in_order = sorted(fed, key=lambda event: event.sequence)  # two commits may hand over out of order
    assert in_order == [replace(event, stored_at="") for event in read]
    assert len(fed) == 5 * 7  # each party's registration and three links, and its three identifiers' claims


def test_a_file_of_rows_too_long_to_import_is_answered_row_by_row_by_the_import_command(
    identity: IdentityHarness, tmp_path: Path
) -> None:
    """The command packs rows into frames: rows it sends for the service to refuse (a display name far over its
    limit) never make a frame the server cannot take, which would fail the whole import."""
    crm = Crm()
    rows = [
        {"source_system": crm.system, "external_id": f"C-{n}", "display_name": "x" * 60_000}
        for n in range(FRAME_PARTIES)
    ]
    path = tmp_path / "parties.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    summary = import_file(identity.stub, path, FileFormat.jsonl, crm.system, Console(quiet=True))
    assert summary.imported == 0
    assert summary.rejected == FRAME_PARTIES
    assert {field for _line, field, _rule, _why in summary.rejects} == {"display_name"}

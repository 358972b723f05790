"""The events an import stores, planned without aggregates, are the very events the aggregates and the codec store:
same aggregates, versions, topics and bytes (with the seals' nonces and the events' times pinned)."""

from __future__ import annotations

import copy
import itertools
import os
import types
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.persistence import JSONTranscoder

from services.common.eventstore.codec import ProtobufMapper, register_events
from services.common.identifiers import normalise
from services.common.privacy import keyring as keyrings
from services.common.privacy import sealing
from services.common.privacy.keyring import Keyring
from services.common.privacy.vault import KeyVault
from services.identity import events
from services.identity.domain import (
    ConsentAnswer,
    Evidence,
    IdentifierClaim,
    LinkPolicy,
    check_import,
    import_party,
    imported_party_id,
)
from services.identity.import_events import plan_import, stored_events


class DictVault(KeyVault):
    """Data keys in a dict."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}

    def create(self, key_id: str) -> bytes:
        return self.keys.setdefault(key_id, os.urandom(32))

    def get(self, key_id: str) -> bytes | None:
        return self.keys.get(key_id)

    def destroy(self, key_id: str) -> bool:
        return self.keys.pop(key_id, None) is not None


@pytest.fixture
def keyring() -> Iterator[Keyring]:
    ring = Keyring(DictVault())
    previous = keyrings.install(ring)
    try:
        yield ring
    finally:
        keyrings.install(previous)


def pinned_nonces(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seals' nonces from a counter, from now on (so two runs seal alike)."""
    counter = itertools.count()
    monkeypatch.setattr(sealing, "os", types.SimpleNamespace(urandom=lambda n: next(counter).to_bytes(n, "big")))


@pytest.mark.parametrize("with_keyring", [True, False])
def test_planned_events_are_the_aggregates_stored_events(
    with_keyring: bool, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if with_keyring:
        request.getfixturevalue("keyring")
    register_events(events.REGISTRATIONS)
    mapper = ProtobufMapper(transcoder=JSONTranscoder())
    policy = LinkPolicy()
    now = datetime(2026, 12, 3, 14, 0, 1, 123456, tzinfo=UTC)
    party_id = imported_party_id("crm", "C-1")
    identifiers = [
        normalise("email", "", "Jane@Example.org"),
        normalise("phone", "", "+44 20 7946 0958"),
        normalise("x", "", "@jane"),
        normalise("email", "", "jane@example.org"),  # the same again: linked once
    ]
    unowned = IdentifierClaim(type="x", namespace="", value="jane", party_id="")  # held by nobody now
    unowned.collect_events()
    unowned.transfer("someone", reason="link")
    unowned.unclaim(reason="unlinked")
    unowned.collect_events()
    claims = {identifiers[2].key: unowned}
    consents = [
        ConsentAnswer("email", "granted", now - timedelta(days=3), "crm"),
        ConsentAnswer("sms", "denied", now - timedelta(days=1), "shop"),
    ]
    evidence = Evidence(source="crm", rule="import", confidence=0.75, asserted_by="ops", note="from the old CRM")
    common = (party_id, "person", " Jane   Doe ", ("customer", "prospect", "customer"), identifiers, {})

    aggregates = import_party(*common, copy.deepcopy(claims), consents, ["email", "sms", "email"], evidence, policy)
    domain_events = [event for aggregate in aggregates for event in aggregate.collect_events()]
    for event in domain_events:
        object.__setattr__(event, "timestamp", now)
    pinned_nonces(monkeypatch)
    expected = mapper.to_stored_events(domain_events)

    checked = check_import(*common, consents, ["email", "sms", "email"], policy)
    pinned_nonces(monkeypatch)
    planned = stored_events(plan_import(party_id, checked, claims, evidence, now), mapper)

    assert [(e.originator_id, e.originator_version, e.topic) for e in planned] == [
        (e.originator_id, e.originator_version, e.topic) for e in expected
    ]
    assert planned == expected
    assert len(planned) == 1 + 2 + 1 + 3 + 3  # registered, consents, channels, links; two claims made, one taken
    if with_keyring:
        assert all(b"Jane Doe" not in event.state and b"jane@" not in event.state for event in planned)


def test_a_planned_import_is_refused_as_the_aggregates_refuse_it() -> None:
    """check_import raises what import_party raises, first rule first."""
    policy = LinkPolicy()
    party_id = uuid.uuid4()
    held = normalise("email", "", "held@example.org")
    cases = [
        ("robot", "Jane", [], {}, []),
        ("person", "Jane", [normalise("email", "", "test@example.com")], {}, []),
        ("person", "Jane", [held], {held.key: str(uuid.uuid4())}, []),
        ("person", "Jane", [normalise("crm_id", "a", "1"), normalise("crm_id", "a", "2")], {}, []),
        ("person", "Jane", [held], {held.key: "other"}, [ConsentAnswer("", "granted", datetime.now(UTC), "")]),
    ]
    for kind, name, identifiers, owners, consents in cases:
        with pytest.raises(Exception) as by_aggregates:
            import_party(party_id, kind, name, (), identifiers, owners, {}, consents, (), Evidence(), policy)
        with pytest.raises(Exception) as by_plan:
            check_import(party_id, kind, name, (), identifiers, owners, consents, (), policy)
        assert type(by_plan.value) is type(by_aggregates.value)
        assert str(by_plan.value) == str(by_aggregates.value)

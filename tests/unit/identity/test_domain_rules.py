"""Identity's domain rules on the aggregates alone: no event store, no NATS, no gRPC."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.persistence import JSONTranscoder

from services.common.errors import Conflict, FailedPrecondition
from services.common.eventstore.codec import ProtobufMapper, register_events
from services.common.identifiers import normalise
from services.identity import events
from services.identity.domain import (
    RULE_BLOCKED_IDENTIFIER,
    RULE_IDENTIFIER_CAP,
    RULE_KIND_MISMATCH,
    RULE_PARTY_MERGED,
    ConsentAnswer,
    Evidence,
    IdentifierClaim,
    IdentifierLinkedElsewhere,
    InvalidIdentityInput,
    LinkPolicy,
    MembershipNotFound,
    Party,
    ReadAtDifferentMoments,
    RuleViolation,
    add_member,
    contact_state,
    import_party,
    imported_party_id,
    link_identifier,
    merge_parties,
    remove_member,
    unlink_identifier,
    unmerge_party,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
EVIDENCE = Evidence(source="test", rule="same person")
POLICY = LinkPolicy(caps={"email": 1})


def person(name: str = "Jane Smith") -> Party:
    return Party.register("person", name)


def community(name: str = "Kettle Club") -> Party:
    return Party.register("community", name)


def linked(party: Party, value: str, claim: IdentifierClaim | None = None) -> IdentifierClaim:
    changed = link_identifier(party, normalise("email", "", value), claim, None, EVIDENCE, POLICY)
    return next(a for a in changed if isinstance(a, IdentifierClaim))


# ---- refusals name domain words, never request fields


@pytest.mark.parametrize(
    ("make", "subject"),
    [
        (lambda: Party.register("robot", "R2"), "kind"),
        (lambda: Party.register("person", "  "), "display_name"),
        (lambda: Party.register("person", "Jane", roles=["boss"]), "roles"),
        (lambda: Evidence(confidence=1.5), "confidence"),
        (lambda: Evidence(confidence=float("nan")), "confidence"),
        (lambda: person().record_consent("email", "maybe", NOW, "web"), "consent_status"),
        (lambda: person().set_do_not_contact(True, NOW.replace(tzinfo=None), "web"), "effective_time"),
        (lambda: merge_parties(person(), person(), {}, {}, Evidence(), POLICY), "merge_rule"),
    ],
)
def test_input_the_domain_refuses_is_named_by_a_domain_word(make: object, subject: str) -> None:
    with pytest.raises(InvalidIdentityInput) as caught:
        make()  # type: ignore[operator]
    assert caught.value.subject == subject
    assert "." not in caught.value.subject and "[" not in caught.value.subject


# ---- links


def test_an_identifier_links_to_one_party_and_moves_only_by_force() -> None:
    jane, sam = person(), person("Sam")
    claim = linked(jane, "Jane@Example.org")
    assert claim.party_id == jane.party_id
    assert [link.identifier.value for link in jane.identifiers.values()] == ["jane@example.org"]
    with pytest.raises(IdentifierLinkedElsewhere):
        link_identifier(sam, normalise("email", "", "jane@example.org"), claim, jane, EVIDENCE, POLICY)
    changed = link_identifier(
        sam, normalise("email", "", "jane@example.org"), claim, jane, EVIDENCE, POLICY, force=True
    )
    assert {a.id for a in changed} == {sam.id, jane.id, claim.id}
    assert claim.party_id == sam.party_id and not jane.identifiers


def test_caps_and_blocked_values_protect_against_bad_links() -> None:
    jane = person()
    linked(jane, "jane@example.org")
    with pytest.raises(RuleViolation) as capped:
        linked(jane, "jane.smith@example.org")
    assert capped.value.rule_name == RULE_IDENTIFIER_CAP
    with pytest.raises(RuleViolation) as blocked:
        linked(person(), "noreply@example.org")
    assert blocked.value.rule_name == RULE_BLOCKED_IDENTIFIER


# ---- memberships and merges


def test_a_membership_is_recorded_on_both_sides_and_removed_from_both() -> None:
    club, jane = community(), person()
    add_member(club, jane)
    assert (club.members, jane.member_of) == ([jane.party_id], [club.party_id])
    assert add_member(club, jane) == []
    remove_member(club, jane)
    assert (club.members, jane.member_of) == ([], [])
    with pytest.raises(MembershipNotFound):
        remove_member(club, jane)


def test_parties_read_at_different_moments_are_a_conflict_not_a_crash() -> None:
    club, jane = community(), person()
    add_member(club, jane)
    earlier_club = copy.deepcopy(club)  # the community as another command read it, before the removal below
    remove_member(club, jane)
    pending = len(jane.pending_events)
    with pytest.raises(ReadAtDifferentMoments) as caught:
        remove_member(earlier_club, jane)
    assert isinstance(caught.value, Conflict)
    assert earlier_club.members == [jane.party_id]  # nothing changed
    assert len(jane.pending_events) == pending


def test_a_merge_moves_everything_and_an_unmerge_gives_it_back() -> None:
    jane, other, club = person(), person("J. Smith"), community()
    claim = linked(other, "j.smith@example.org")
    add_member(club, other)
    merge_parties(jane, other, {claim.key: claim}, {club.party_id: club}, EVIDENCE, LinkPolicy())
    assert other.merged_into == jane.party_id and other.merge_evidence == EVIDENCE
    assert claim.party_id == jane.party_id and claim.key in jane.identifiers
    assert club.members == [jane.party_id] and jane.member_of == [club.party_id]
    with pytest.raises(RuleViolation) as merged:
        other.record_consent("email", "granted", NOW, "web")
    assert merged.value.rule_name == RULE_PARTY_MERGED

    unmerge_party(other, jane, {claim.key: claim}, {club.party_id: club}, Evidence(rule="two people"))
    assert other.merged_into is None and claim.party_id == other.party_id and not jane.identifiers
    assert club.members == [other.party_id] and jane.member_of == [] and other.member_of == [club.party_id]


def test_only_parties_of_one_kind_merge() -> None:
    with pytest.raises(FailedPrecondition) as caught:
        merge_parties(person(), community(), {}, {}, EVIDENCE, LinkPolicy())
    assert caught.value.violations[0].type == RULE_KIND_MISMATCH


# ---- contact permission


def test_do_not_contact_on_any_merged_party_forbids_contact_and_says_whose_it_is() -> None:
    jane, quiet = person(), person("Jane, quiet")
    jane.record_consent("email", "granted", NOW - timedelta(days=2), "web")
    quiet.set_do_not_contact(True, NOW - timedelta(days=1), "call")
    merge_parties(jane, quiet, {}, {}, EVIDENCE, LinkPolicy())
    state = contact_state(jane, [quiet], NOW)
    assert state.do_not_contact
    assert [record.party_id for record in state.do_not_contact_records] == [quiet.party_id]
    assert state.permission("email").reason == "DO_NOT_CONTACT"
    before = contact_state(jane, [quiet], NOW - timedelta(days=1, hours=1))
    assert (before.permission("email").allowed, before.permission("email").reason) == (True, "CONSENT_GRANTED")


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ((), "NO_CONSENT"),
        (("granted",), "CONSENT_GRANTED"),
        (("granted", "revoked"), "CONSENT_REVOKED"),
        (("revoked", "denied", "granted"), "CONSENT_DENIED"),
    ],
)
def test_the_most_restrictive_consent_of_the_merged_parties_wins(answers: tuple[str, ...], reason: str) -> None:
    parties = [person(f"Jane {n}") for n in range(max(len(answers), 1))]
    for party, status in zip(parties, answers, strict=False):
        party.record_consent("email", status, NOW - timedelta(hours=1), "web")
    permission = contact_state(parties[0], parties[1:], NOW).permission("email")
    assert permission.reason == reason
    assert permission.allowed == (reason == "CONSENT_GRANTED")


def test_a_later_answer_of_one_party_replaces_its_earlier_one() -> None:
    jane = person()
    jane.record_consent("sms", "denied", NOW - timedelta(days=2), "call")
    jane.record_consent("sms", "granted", NOW - timedelta(days=1), "web")
    assert contact_state(jane, [], NOW).permission("sms").reason == "CONSENT_GRANTED"
    assert contact_state(jane, [], NOW - timedelta(days=1, hours=1)).permission("sms").reason == "CONSENT_DENIED"


def test_history_stored_before_the_domain_became_a_package_still_rebuilds_its_parties() -> None:
    party_id = uuid.uuid4()
    registered = Party.Registered(
        originator_id=party_id,
        originator_version=1,
        timestamp=Party.Registered.create_timestamp(),
        originator_topic="services.identity.domain:Party",  # the aggregate's topic when domain was one module
        kind="person",
        roles=("customer",),
        display_name="Jane Smith",
        anonymous=False,
    )
    register_events(events.REGISTRATIONS)  # as the composition root does
    mapper = ProtobufMapper(transcoder=JSONTranscoder())
    rebuilt = mapper.to_domain_event(mapper.to_stored_event(registered)).mutate(None)
    assert isinstance(rebuilt, Party)
    assert (rebuilt.id, rebuilt.display_name, rebuilt.roles) == (party_id, "Jane Smith", ("customer",))


def _unowned_claim(value: str) -> IdentifierClaim:
    """A claim whose identifier was linked once and unlinked since: it exists and belongs to nobody."""
    owner = Party.register("person", "Former")
    identifier = normalise("email", "", value)
    [_, claim] = link_identifier(owner, identifier, None, None, EVIDENCE, LinkPolicy())[:2]
    assert isinstance(claim, IdentifierClaim)
    unlink_identifier(owner, claim, identifier.key, "left")
    claim.collect_events()
    return claim


def test_an_imported_party_is_all_or_nothing_and_touches_no_claim_it_cannot_take() -> None:
    free = normalise("email", "", "free@example.org")
    claim = _unowned_claim("free@example.org")
    blocked = normalise("email", "", "noreply@example.org")
    party_id = imported_party_id("crm", "C-1")
    with pytest.raises(RuleViolation) as refused:
        import_party(
            party_id, "person", "Jane", (), [free, blocked], {}, {free.key: claim}, (), (), EVIDENCE, LinkPolicy()
        )
    assert refused.value.rule_name == RULE_BLOCKED_IDENTIFIER
    assert claim.pending_events == [] and claim.party_id == ""  # the free identifier's claim was left alone

    with pytest.raises(IdentifierLinkedElsewhere):
        import_party(
            party_id, "person", "Jane", (), [free], {free.key: "someone-else"}, {}, (), (), EVIDENCE, LinkPolicy()
        )
    two = [normalise("email", "", f"j{k}@example.org") for k in range(2)]
    with pytest.raises(RuleViolation) as capped:
        import_party(party_id, "person", "Jane", (), two, {}, {}, (), (), EVIDENCE, POLICY)
    assert capped.value.rule_name == RULE_IDENTIFIER_CAP

    answer = ConsentAnswer(channel="email", status="granted", at=NOW, source="crm")
    changed = import_party(
        party_id,
        "person",
        "Jane",
        ("customer",),
        [free, free],
        {},
        {free.key: claim},
        (answer,),
        ("email",),
        EVIDENCE,
        LinkPolicy(),
    )
    party = changed[0]
    assert isinstance(party, Party) and party.id == party_id == imported_party_id("crm", "C-1")
    assert changed[1] is claim and claim.party_id == party.party_id  # the unowned claim is taken, not recreated
    assert list(party.identifiers) == [free.key]
    assert party.preferred_channels == ("email",) and party.consent_at("email", NOW).status == "granted"

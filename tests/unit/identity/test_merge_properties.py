"""Properties of links, merges and unmerges, on the application with in-memory (POPO) persistence.

Any sequence of links, unlinks, memberships, merges and unmerges leaves every identifier resolving to exactly
one live party that holds it, and an unmerge right after a merge restores the prior partition exactly.
"""

from __future__ import annotations

from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, rule

from services.common.errors import ChorusError
from services.identity.application import IdentityApplication
from services.identity.domain import LinkPolicy

IDENTIFIERS = (
    [{"type": "email", "value": f"person{n}@example.org"} for n in range(4)]
    + [{"type": "x", "value": f"handle{n}"} for n in range(3)]
    + [{"type": "crm_id", "value": f"CRM-{n}"} for n in range(2)]
)

POLICY = LinkPolicy(caps={"email": 3, "x": 2, "crm_id": 1})


class LinkMergeUnmerge(RuleBasedStateMachine):
    """Random commands; refusals are fine, broken invariants are not."""

    people = Bundle("people")

    def __init__(self) -> None:
        super().__init__()
        self.app = IdentityApplication(name="identity_props", policy=POLICY)
        self.party_ids: list[str] = []
        self.community = self.app.register_party("community", "Regulars")["party_id"]

    # ---- commands

    @initialize(target=people)
    def two_people(self) -> object:
        first = self.app.register_party("person", "Jane Smith")["party_id"]
        second = self.app.register_party("person", "Jane S.")["party_id"]
        self.party_ids += [first, second]
        return multiple(first, second)

    @rule(target=people, name=st.sampled_from(["Jane", "J. Smith", "Sam"]))
    def register(self, name: str) -> str:
        party_id = self.app.register_party("person", name)["party_id"]
        self.party_ids.append(party_id)
        return party_id

    @rule(party=people, identifier=st.sampled_from(IDENTIFIERS), force=st.booleans())
    def link(self, party: str, identifier: dict[str, str], force: bool) -> None:
        self._attempt(self.app.link_identifier, party, identifier, {"source": "test"}, force=force)

    @rule(party=people, identifier=st.sampled_from(IDENTIFIERS))
    def unlink(self, party: str, identifier: dict[str, str]) -> None:
        self._attempt(self.app.unlink_identifier, party, identifier)

    @rule(party=people)
    def join_community(self, party: str) -> None:
        self._attempt(self.app.add_community_member, self.community, party)

    @rule(survivor=people, merged=people)
    def merge(self, survivor: str, merged: str) -> None:
        self._attempt(self.app.merge_parties, survivor, merged, {"rule": "test"})

    @rule(party=people)
    def unmerge(self, party: str) -> None:
        self._attempt(self.app.unmerge_party, party)

    @rule(survivor=people, merged=people)
    def merge_then_unmerge_restores_the_partition(self, survivor: str, merged: str) -> None:
        before = self.partition()
        merged_held_something = self._holds_anything(merged)
        try:
            self.app.merge_parties(survivor, merged, {"rule": "test"})
        except ChorusError:
            return
        assert not self._holds_anything(merged)  # a merged-away party keeps nothing
        if merged_held_something:
            assert self.partition() != before  # what it held moved to the survivor
        self.app.unmerge_party(merged)
        assert self.partition() == before
        event("merge then unmerge restored the partition")

    @rule(pairs=st.lists(st.tuples(people, people), min_size=1, max_size=4))
    def merges_unwound_in_reverse_order_restore_the_partition(self, pairs: list[tuple[str, str]]) -> None:
        before = self.partition()
        merged: list[str] = []
        for survivor, source in pairs:
            try:
                self.app.merge_parties(survivor, source, {"rule": "test"})
            except ChorusError:
                continue
            merged.append(source)
        for source in reversed(merged):
            self.app.unmerge_party(source)
        assert self.partition() == before
        if len(merged) > 1:
            event("a chain of merges unwound")

    def _attempt(self, command: Any, *args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except ChorusError as refused:
            event(f"{command.__name__} refused: {type(refused).__name__}")
        else:
            event(f"{command.__name__} applied")

    # ---- observations

    def _holds_anything(self, party_id: str) -> bool:
        party = self.app.get_party(party_id)
        return bool(party["identifiers"] or party["community_party_ids"])

    def partition(self) -> dict[str, Any]:
        parties = {pid: self.app.get_party(pid) for pid in [self.community, *self.party_ids]}
        return {
            pid: (
                frozenset(link["identifier_id"] for link in p["identifiers"]),
                frozenset(p["community_party_ids"]),
                frozenset(p["member_party_ids"]),
                p["merged_into_party_id"],
            )
            for pid, p in parties.items()
        }

    @invariant()
    def every_identifier_resolves_to_exactly_one_live_party_that_holds_it(self) -> None:
        holders: dict[str, list[str]] = {}
        for pid in self.party_ids:
            party = self.app.get_party(pid)
            if party["merged_into_party_id"]:
                assert party["identifiers"] == [], "a merged-away party holds no identifiers"
            for link in party["identifiers"]:
                holders.setdefault(link["identifier_id"], []).append(pid)
        for identifier in IDENTIFIERS:
            key = self.app.normalise(identifier).key
            try:
                owner = self.app.resolve(identifier)["party_id"]
            except ChorusError:
                owner = None
            assert holders.get(key, []) == ([owner] if owner else [])
            if owner:
                assert self.app.resolve_party(owner) == [owner], "resolves to a live party"

    @invariant()
    def memberships_are_recorded_on_both_sides(self) -> None:
        community = self.app.get_party(self.community)
        members = set(community["member_party_ids"])
        assert len(members) == len(community["member_party_ids"])
        for pid in self.party_ids:
            party = self.app.get_party(pid)
            assert (self.community in party["community_party_ids"]) == (pid in members)
            if party["merged_into_party_id"]:
                assert pid not in members


LinkMergeUnmerge.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestLinkMergeUnmerge = LinkMergeUnmerge.TestCase

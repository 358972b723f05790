"""Whether the company may contact a party: the effective contact state of a live party and the precedence rule.

A live party speaks for itself and for every party merged into it (and not unmerged): a person who asked not to
be contacted under one record is still that person after the records are merged. So the effective state joins
the answers of all of them, each kept with the party it was recorded on:

1. do-not-contact in effect on any of them forbids contact on every channel (``DO_NOT_CONTACT``);
2. otherwise, for the channel asked about, each party's latest consent answer in effect counts, and the most
   restrictive wins: a denial (``CONSENT_DENIED``) over a revocation (``CONSENT_REVOKED``) over a grant
   (``CONSENT_GRANTED``, the only answer that allows contact);
3. without any answer, contact is not allowed (opt-in: ``NO_CONSENT``).

Preferred channels are the live party's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.identity.domain.party import Party
from services.identity.domain.values import ConsentRecord, DoNotContactRecord

#: Consent statuses from the most restrictive to the least, and the reason each gives.
_PRECEDENCE = (
    ("denied", "CONSENT_DENIED", False),
    ("revoked", "CONSENT_REVOKED", False),
    ("granted", "CONSENT_GRANTED", True),
)


@dataclass(frozen=True)
class ContactPermission:
    """The answer for one channel: allowed or not, and the reason (one of the rule's words above)."""

    allowed: bool
    reason: str
    preferred: bool


@dataclass(frozen=True)
class ContactState:
    """The effective contact state of a live party at one moment, with where each part came from."""

    party_id: str
    at: datetime
    do_not_contact_records: tuple[DoNotContactRecord, ...]
    """The do-not-contact records in effect, one per party that has one (the live party or one merged into it)."""
    consents: tuple[ConsentRecord, ...]
    """Every consent answer of the live party and the parties merged into it, each naming its party."""
    preferred_channels: tuple[str, ...]

    @property
    def do_not_contact(self) -> bool:
        return bool(self.do_not_contact_records)

    def permission(self, channel: str) -> ContactPermission:
        """May the company contact the party on ``channel``? (The rule in the module docstring.)"""
        preferred = channel in self.preferred_channels
        if self.do_not_contact:
            return ContactPermission(allowed=False, reason="DO_NOT_CONTACT", preferred=preferred)
        statuses = {record.status for record in self._answers_in_effect(channel)}
        for status, reason, allowed in _PRECEDENCE:
            if status in statuses:
                return ContactPermission(allowed=allowed, reason=reason, preferred=preferred)
        return ContactPermission(allowed=False, reason="NO_CONSENT", preferred=preferred)

    def _answers_in_effect(self, channel: str) -> Iterable[ConsentRecord]:
        latest: dict[str, ConsentRecord] = {}
        for record in self.consents:
            if record.channel != channel or record.at > self.at:
                continue
            known = latest.get(record.party_id)
            if known is None or record.at >= known.at:
                latest[record.party_id] = record
        return latest.values()


def contact_state(live: Party, merged: Iterable[Party], at: datetime) -> ContactState:
    """The effective contact state of ``live`` at ``at``; ``merged`` are the parties merged into it (at any
    depth) and not unmerged."""
    parties = [live, *merged]
    return ContactState(
        party_id=live.party_id,
        at=at,
        do_not_contact_records=tuple(record for party in parties if (record := party.do_not_contact_at(at))),
        consents=tuple(
            sorted(
                (record for party in parties for record in party.consents),
                key=lambda record: (record.channel, record.at),
            )
        ),
        preferred_channels=live.preferred_channels,
    )

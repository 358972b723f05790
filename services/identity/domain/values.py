"""Value objects of the identity domain: evidence, a linked identifier, consent and do-not-contact records, and
what a merge moved.

Events store these as plain fields (the contract in ``protos/chorus/identity/events/v1``); each value object
says how it is written into an event (``as_event``) and read back from one (``from_event``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common.identifiers import Identifier
from services.identity.domain.errors import InvalidIdentityInput

CONSENT_STATUSES = ("granted", "denied", "revoked")


@dataclass(frozen=True)
class Evidence:
    """Why a link, merge or unmerge was made: where it came from, how sure, who or what asserted it, by which
    rule. ``confidence`` is from 0 to 1."""

    source: str = ""
    confidence: float = 1.0
    asserted_by: str = ""
    rule: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        confidence = float(self.confidence)
        if math.isnan(confidence) or not 0.0 <= confidence <= 1.0:
            raise InvalidIdentityInput("confidence", "must be between 0 and 1")
        object.__setattr__(self, "confidence", confidence)

    def as_event(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "confidence": self.confidence,
            "asserted_by": self.asserted_by,
            "rule": self.rule,
            "note": self.note,
        }

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(
            source=data.get("source", ""),
            confidence=float(data.get("confidence", 1.0)),
            asserted_by=data.get("asserted_by", ""),
            rule=data.get("rule", ""),
            note=data.get("note", ""),
        )


@dataclass(frozen=True)
class LinkedIdentifier:
    """An identifier (in its normal form) linked to a party, and the evidence that linked it."""

    identifier: Identifier
    evidence: Evidence

    @property
    def identifier_id(self) -> str:
        return self.identifier.key

    @property
    def type(self) -> str:
        return self.identifier.type

    def as_event(self) -> dict[str, Any]:
        return {
            "identifier_id": self.identifier_id,
            "type": self.identifier.type,
            "namespace": self.identifier.namespace,
            "value": self.identifier.value,
            "evidence": self.evidence.as_event(),
        }

    @classmethod
    def from_event(cls, data: Mapping[str, Any]) -> LinkedIdentifier:
        identifier = Identifier(type=data["type"], namespace=data.get("namespace", ""), value=data["value"])
        return cls(identifier=identifier, evidence=Evidence.from_event(data.get("evidence") or {}))


@dataclass(frozen=True)
class ConsentRecord:
    """A party's answer about contact on one channel, effective from ``at``; ``party_id`` is the party it was
    recorded on (the survivor of a merge shows the records of the parties merged into it too)."""

    channel: str
    status: str
    at: datetime
    source: str
    party_id: str


@dataclass(frozen=True)
class ConsentAnswer:
    """A consent answer to record: the channel, the answer, when it takes effect and where it was given."""

    channel: str
    status: str
    at: datetime
    source: str


@dataclass(frozen=True)
class DoNotContactRecord:
    """A party asked (or stopped asking) not to be contacted at all, effective from ``at``."""

    do_not_contact: bool
    at: datetime
    source: str
    party_id: str


@dataclass(frozen=True)
class MergeRecord:
    """What the merge of one party moved into the survivor, and which of it was new to the survivor: what an
    unmerge gives back and takes away again."""

    identifier_ids: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    members_added: tuple[str, ...] = ()
    memberships: tuple[str, ...] = ()
    memberships_added: tuple[str, ...] = ()

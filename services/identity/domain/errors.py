"""The identity domain's errors: each is one of the kernel's boundary kinds, and none names an API field.

A refusal of input names the domain word it is about (``InvalidIdentityInput.subject``: ``confidence``,
``merge_rule``, ``display_name``…); the gRPC servicer turns that word into the field path of its request.
"""

from __future__ import annotations

from services.common.errors import (
    AlreadyExists,
    ChorusError,
    Conflict,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
)


class IdentityError(ChorusError):
    """Root of the identity domain's errors; each also derives from one boundary kind."""


class InvalidIdentityInput(IdentityError, InvalidArgument):
    """Input the domain refuses without looking at any state: ``subject`` is the domain word it is about."""

    def __init__(self, subject: str, description: str) -> None:
        super().__init__(f"{subject}: {description}", [FieldViolation(subject, description)])
        self.subject = subject
        self.description = description


class PartyNotFound(IdentityError, NotFound):
    def __init__(self, party_id: object) -> None:
        super().__init__("party", str(party_id))


class IdentifierNotLinked(IdentityError, NotFound):
    def __init__(self, identifier: str) -> None:
        super().__init__("identifier", identifier, f"identifier {identifier} is not linked")


class MembershipNotFound(IdentityError, NotFound):
    def __init__(self, community_id: object, member_id: object) -> None:
        super().__init__("membership", f"{community_id}/{member_id}")


class IdentifierLinkedElsewhere(IdentityError, AlreadyExists):
    """The identifier belongs to another party; link with ``force`` to move it."""

    def __init__(self, identifier: str, owner: object) -> None:
        super().__init__(
            "identifier",
            identifier,
            f"identifier {identifier} is already linked to party {owner}; link with force to move it",
        )
        self.owner = str(owner)


class RuleViolation(IdentityError, FailedPrecondition):
    """A rule of the identity domain refuses the command: ``violations[0].type`` names the rule."""

    def __init__(self, rule: str, subject: object, description: str) -> None:
        super().__init__(description, [PreconditionViolation(rule, str(subject), description)])
        self.rule_name = rule


class ReadAtDifferentMoments(IdentityError, Conflict):
    """Two aggregates a command loaded disagree about what they share (a membership one side has and the other
    has not): another command changed them between the two reads. Nothing is changed; retrying is safe."""

    def __init__(self, first: object, second: object) -> None:
        super().__init__(f"parties {first} and {second} changed while the command read them; retry the request")


class AlreadyForgotten(IdentityError, FailedPrecondition):
    """The party was forgotten before: ``receipt`` is the first erasure's receipt (ids only, no personal data)."""

    def __init__(self, party_id: object, receipt: dict) -> None:
        description = (
            f"party {party_id} was forgotten at {receipt.get('erased_at')}, receipt {receipt.get('receipt_id')}"
        )
        super().__init__(description, [PreconditionViolation(RULE_PARTY_FORGOTTEN, str(party_id), description)])
        self.receipt = receipt


# Names of the rules a refusal can cite (PreconditionViolation.type).
RULE_BLOCKED_IDENTIFIER = "BLOCKED_IDENTIFIER"
RULE_IDENTIFIER_CAP = "IDENTIFIER_CAP"
RULE_PARTY_MERGED = "PARTY_MERGED"
RULE_PARTY_FORGOTTEN = "PARTY_FORGOTTEN"
RULE_KIND_MISMATCH = "KIND_MISMATCH"
RULE_MEMBERSHIP_CONFLICT = "MEMBERSHIP_CONFLICT"
RULE_NOT_MERGED = "NOT_MERGED"
RULE_UNMERGE_ORDER = "UNMERGE_ORDER"
RULE_NOT_A_COMMUNITY = "NOT_A_COMMUNITY"
RULE_COMMAND_TOO_LARGE = "COMMAND_TOO_LARGE"

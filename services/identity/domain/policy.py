"""Merge protection: how many identifiers of a type one party may hold, and values that never link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.identity.domain.errors import RULE_BLOCKED_IDENTIFIER, RuleViolation

DEFAULT_CAPS: Mapping[str, int] = {
    "email": 5,
    "phone": 5,
    "x": 3,
    "facebook": 3,
    "instagram": 3,
    "youtube": 3,
    "forum_user": 10,
    "blog_url": 5,
    "marketplace_reviewer": 5,
    "crm_id": 1,
    "device_id": 20,
    "chat_id": 10,
    "other": 20,
}

DEFAULT_BLOCKED: frozenset[str] = frozenset(
    {
        "null",
        "none",
        "nil",
        "undefined",
        "unknown",
        "anonymous",
        "n/a",
        "na",
        "test",
        "-",
        "0",
        "test@example.com",
        "test@test.com",
        "user@example.com",
        "noreply@example.com",
        "no-reply@example.com",
        "anonymous@example.com",
    }
)


@dataclass(frozen=True)
class LinkPolicy:
    """Merge protection: how many identifiers of a type one party may hold, and values that never link.

    ``blocked`` holds normalised values; an entry ``type:value`` blocks the value for that type only, a plain
    entry blocks it for every type. A local part ``noreply``/``no-reply``/``donotreply`` is blocked for email.
    """

    caps: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPS))
    blocked: frozenset[str] = DEFAULT_BLOCKED

    def cap(self, identifier_type: str) -> int | None:
        return self.caps.get(identifier_type)

    def is_blocked(self, identifier_type: str, value: str) -> bool:
        if value in self.blocked or f"{identifier_type}:{value}" in self.blocked:
            return True
        if identifier_type == "email":
            local = value.split("@", 1)[0]
            return local in {"noreply", "no-reply", "donotreply", "do-not-reply"} or local in self.blocked
        return False

    def check_not_blocked(self, identifier_type: str, value: str, key: str) -> None:
        if self.is_blocked(identifier_type, value):
            raise RuleViolation(
                RULE_BLOCKED_IDENTIFIER, key, f"{identifier_type} identifier is a blocked value and never links"
            )

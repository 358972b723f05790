"""A touchpoint draft for the model enrichment's tests: an inbound private chat from one person, now."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from services.common.identifiers import Identifier
from services.touchpoints.domain import TouchpointDraft


def inbound_chat(text: str, **changes: object) -> TouchpointDraft:
    """An inbound chat with ``text`` and a fresh external id; ``changes`` replace any field."""
    base = TouchpointDraft(
        kind="touchpoint",
        channel="chat",
        direction="inbound",
        visibility="private",
        occurred_at=datetime.now(UTC).replace(microsecond=0),
        actors=(Identifier("email", "", "jane@example.org"),),
        source_system="intercom",
        external_id=f"m-{uuid.uuid4()}",
        text=text,
    )
    return replace(base, **changes)  # type: ignore[arg-type]

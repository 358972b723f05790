"""Where an application's events live: its stream's declared configuration, its subjects, and their tokens."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

_TOKEN_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def subject_token(name: str) -> str:
    """A lower-case subject/stream-safe token for an application name."""
    token = _TOKEN_UNSAFE.sub("_", name.lower()).strip("_")
    return token or "app"


def originator_token(originator_id: UUID | str) -> str:
    """UUIDs as their canonical text; other ids base64url-encoded behind ``s-`` (any string is subject-safe)."""
    if isinstance(originator_id, UUID):
        return str(originator_id)
    encoded = base64.urlsafe_b64encode(originator_id.encode()).decode().rstrip("=")
    return f"s-{encoded}"


def originator_from_token(token: str) -> UUID | str:
    """The inverse of :func:`originator_token`."""
    if token.startswith("s-"):
        body = token[2:]
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    return UUID(token)


def originator_of_subject(subject: str) -> UUID | str:
    """The aggregate id an event, snapshot or tracking subject names (its last token)."""
    return originator_from_token(subject.rsplit(".", 1)[-1])


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def originator_text_of_subject(subject: str) -> str:
    """``str(originator_of_subject(subject))``, without making a UUID of a token that is a UUID's canonical text."""
    token = subject.rsplit(".", 1)[-1]
    return token if _CANONICAL_UUID.fullmatch(token) else str(originator_from_token(token))


@dataclass(frozen=True)
class StreamSpec:
    """The declared configuration of one application's stream; checked against the server at start-up."""

    name: str
    subjects: tuple[str, ...]
    replicas: int = 1
    duplicate_window_seconds: float = 120.0

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.NEW,
            num_replicas=self.replicas,
            duplicate_window=self.duplicate_window_seconds,
            allow_atomic=True,
            allow_direct=True,
            deny_delete=True,
            deny_purge=True,
        )

    def differences(self, actual: StreamConfig) -> list[str]:
        """Human-readable ``field: declared X, found Y`` for each setting that matters to the event store."""
        declared = self.config()
        checks: list[tuple[str, Any, Any]] = [
            ("subjects", sorted(declared.subjects or []), sorted(actual.subjects or [])),
            ("storage", declared.storage, actual.storage),
            ("retention", declared.retention, actual.retention),
            ("num_replicas", declared.num_replicas, actual.num_replicas),
            ("duplicate_window", float(declared.duplicate_window or 0), float(actual.duplicate_window or 0)),
            ("allow_atomic", True, bool(actual.allow_atomic)),
            ("allow_direct", True, bool(actual.allow_direct)),
            ("deny_delete", True, bool(actual.deny_delete)),
            ("deny_purge", True, bool(actual.deny_purge)),
            ("max_msgs", -1, actual.max_msgs if actual.max_msgs is not None else -1),
            ("max_age", 0.0, float(actual.max_age or 0)),
        ]
        return [f"{name}: declared {want}, found {got}" for name, want, got in checks if want != got]


class StreamLayout:
    """Subjects and stream name of one application's event stream, within a namespace (default ``chorus``)."""

    def __init__(
        self, app_name: str, replicas: int = 1, duplicate_window: float = 120.0, namespace: str = "chorus"
    ) -> None:
        self.app = subject_token(app_name)
        space = subject_token(namespace)
        self.prefix = f"{space}.{self.app}"
        self.spec = StreamSpec(
            name=f"{space.upper()}_{self.app.upper()}",
            subjects=(f"{self.prefix}.>",),
            replicas=replicas,
            duplicate_window_seconds=duplicate_window,
        )
        self.events_prefix = f"{self.prefix}.e."
        self.events_filter = f"{self.prefix}.e.>"

    @property
    def stream(self) -> str:
        return self.spec.name

    def event_subject(self, originator_id: UUID | str) -> str:
        return f"{self.prefix}.e.{originator_token(originator_id)}"

    def snapshot_subject(self, originator_id: UUID | str) -> str:
        return f"{self.prefix}.s.{originator_token(originator_id)}"

    def tracking_subject(self, application_name: str) -> str:
        return f"{self.prefix}.t.{originator_token(application_name)}"

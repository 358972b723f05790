"""The eventsourcing ``Application`` every Chorus service's application is: one its deployment may name.

A service's application is named after its class (``identity``, ``touchpoints``) unless the composition root
gives it another name (a second deployment on the same NATS, a test's own stream): the name is its stream's and
its eventsourcing settings' prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from eventsourcing.application import Application


class ServiceApplication(Application[UUID]):
    """An eventsourcing application with the name its deployment chose (``name``), or its class's."""

    def __init__(self, env: Mapping[str, str] | None = None, *, name: str | None = None) -> None:
        if name:
            self.name = name
        super().__init__(env=dict(env) if env is not None else None)

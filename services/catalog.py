"""The services Chorus is made of: what ``chorus up`` starts and ``chorus serve`` runs, in start order.

Each entry names the module whose ``SERVICE`` (a :class:`services.common.chassis.ServiceDescription`) describes
the service, the variable that sets its gRPC port and that port's default. Modules are imported only when a
service is run, so listing them costs nothing.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    module: str
    port_variable: str
    default_port: int

    def description(self) -> Any:
        """The service's :class:`~services.common.chassis.ServiceDescription` (imports its module)."""
        return importlib.import_module(self.module).SERVICE


SERVICES: tuple[CatalogEntry, ...] = (
    CatalogEntry("identity", "services.identity.main", "CHORUS_IDENTITY_PORT", 50051),
    CatalogEntry("touchpoints", "services.touchpoints.main", "CHORUS_TOUCHPOINTS_PORT", 50052),
    CatalogEntry("experience", "services.experience.main", "CHORUS_EXPERIENCE_PORT", 50053),
)
BY_NAME = {entry.name: entry for entry in SERVICES}

"""What every touchpoints test starts from: the touchpoint events declared to the event codec, as the
composition root (``services.touchpoints.main``) declares them."""

from __future__ import annotations

import pytest

from services.common.eventstore.codec import register_events
from services.touchpoints import events


@pytest.fixture(autouse=True, scope="session")
def _touchpoint_events_registered() -> None:
    register_events(events.REGISTRATIONS)

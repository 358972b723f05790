"""The read side every Chorus service shares: read-only upstream readers, projections, one runner, views.

- :mod:`.reader`: :class:`StreamReader` reads an application's stream and decodes each event with the contracts
  (``Chorus-Topic`` -> protobuf message), without domain classes and without writing anything.
- :mod:`.projection`: :class:`Projection`, one handler per event type (:func:`handles`), writing one view.
- :mod:`.runner`: :class:`ProjectionRunner` applies upstream events to a projection's view in batches, exactly
  once, with an optional in-process hand-over, quarantine, lag, read-your-writes waits and "as of" bounds.
- Views (:class:`services.common.views.View`) hold the tables and the tracked upstream positions.
"""

from services.common.projections.projection import Projection, handles
from services.common.projections.reader import (
    StreamReader,
    UpstreamEvent,
    handed_over,
    handed_over_messages,
    load_event_contracts,
)
from services.common.projections.runner import ProjectionRunner

__all__ = [
    "Projection",
    "ProjectionRunner",
    "StreamReader",
    "UpstreamEvent",
    "handed_over",
    "handed_over_messages",
    "handles",
    "load_event_contracts",
]

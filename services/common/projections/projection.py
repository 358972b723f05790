"""A projection: one handler per upstream event type, writing one view, nothing else.

Subclass :class:`Projection` and mark one method per protobuf event message it cares about with :func:`handles`
(the runner is given a reader per upstream it reads); events of other types change nothing (their position is still
recorded). Handlers run inside the view transaction that records the upstream position, so their SQL commits
with it or not at all::

    class PartyNames(Projection[NamesView]):
        @handles(identity_events.PartyRegistered)
        def registered(self, cur: ViewCursor, event: UpstreamEvent) -> None:
            cur.execute("INSERT INTO names VALUES (?, ?)", (event.aggregate_id, event.message.display_name))

A handler may also collect rows and write them together in :meth:`Projection.before_commit` (at the end of the
same transaction), where many similar events are cheaper written at once than one by one.

A handler must depend only on the event and on what the view already holds, never on the clock or on which
upstream was applied first: the upstreams have no common order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from google.protobuf.message import Message

from services.common.projections.reader import UpstreamEvent
from services.common.views import View, ViewCursor

V = TypeVar("V", bound=View)
Handler = Callable[[Any, ViewCursor, UpstreamEvent], None]

_HANDLES = "_chorus_handles"


def handles(*messages: type[Message]) -> Callable[[Handler], Handler]:
    """Mark a projection method as the handler of the stored events of these protobuf message types."""

    def mark(method: Handler) -> Handler:
        setattr(method, _HANDLES, tuple(message.DESCRIPTOR.full_name for message in messages))
        return method

    return mark


class Projection(Generic[V]):
    """Applies upstream events to ``view`` (see the module docstring)."""

    _handlers: ClassVar[dict[str, str]] = {}
    #: Marked fields (full names) of which the handlers need only the key that sealed them: the readers leave them
    #: sealed (``sealing.sealed_key_id`` reads the key id) or ``[erased]`` when that key is gone, and decrypt none.
    #: A handler takes them opened too (handed-over events, a process without a keyring).
    KEY_ONLY: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for name, member in vars(klass).items():
                for topic in getattr(member, _HANDLES, ()):
                    handlers[topic] = name
        cls._handlers = handlers

    def __init__(self, view: V) -> None:
        self.view = view

    @classmethod
    def topics(cls) -> frozenset[str]:
        """The event messages (full names) this projection has handlers for."""
        return frozenset(cls._handlers)

    def apply(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        """Run the handler of ``event``'s type, if there is one."""
        name = self._handlers.get(event.topic)
        if name is not None:
            getattr(self, name)(cur, event)

    def before_commit(self, cur: ViewCursor) -> None:
        """Called at the end of each transaction, inside it, after its last handler (default: nothing)."""

    def after_commit(self, events: Sequence[UpstreamEvent]) -> None:
        """Called after each committed transaction with the events it applied (default: nothing).

        The place for side effects that must follow the view's commit (for example recording an event the
        view now makes possible); it runs outside the transaction. A failure is logged and not repeated for
        these events but called again (with no events) on the runner's next pass, so keep what remains to do in the
        view and pick it up then.
        """

"""Components that run between ``start()`` and ``stop()``: ``with component:`` starts one for the block and stops
it again, however the block ends."""

from __future__ import annotations

import abc
from typing import Self


class Startable(abc.ABC):
    """A component with ``start()`` (which returns it) and ``stop()``, usable as a context manager."""

    @abc.abstractmethod
    def start(self) -> Self:
        """Start the component's work (a background thread, subscriptions); return the component."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop it and release what :meth:`start` took."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

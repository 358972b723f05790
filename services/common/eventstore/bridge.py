"""The thread bridge: an asyncio event loop on a daemon thread of its own, called from synchronous code.

The ``eventsourcing`` recorders are synchronous; nats-py is asyncio. A :class:`LoopThread` runs one loop in a
dedicated thread; :meth:`LoopThread.call` submits a coroutine to it (``run_coroutine_threadsafe``) and waits, so
many application threads share the loop and their requests are pipelined on it. A call made on the loop's own
thread would wait for itself for ever: it raises :class:`CalledOnLoopThreadError` instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import threading
from collections.abc import Awaitable, Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from services.common.eventstore.errors import CalledOnLoopThreadError, RequestTimeoutError

T = TypeVar("T")


class LoopThread:
    """One event loop on its own daemon thread, started by :meth:`start` and ended by :meth:`stop`.

    >>> bridge = LoopThread("demo").start()
    >>> async def answer() -> int:
    ...     return 42
    >>> bridge.call(answer(), timeout=5)
    42
    >>> bridge.stop()
    """

    _ids = itertools.count(1)

    def __init__(self, name: str = "nats-loop") -> None:
        self.name = f"{name}-{next(self._ids)}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LoopThread:
        """Start the loop thread (once); returns ``self``."""
        if self._thread is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name=self.name, daemon=True)
            self._thread.start()
        return self

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._loop

    def on_loop_thread(self) -> bool:
        """True when the caller runs on this loop's thread (coroutines may be scheduled, not waited for)."""
        return self._thread is not None and threading.current_thread() is self._thread

    def call(self, coro: Awaitable[T], timeout: float, *, what: str = "the event store") -> T:
        """Run ``coro`` on the loop and return its result; :class:`RequestTimeoutError` after ``timeout`` s."""
        if self.on_loop_thread():
            if asyncio.iscoroutine(coro):
                coro.close()
            raise CalledOnLoopThreadError(
                f"a blocking call to {what} was made on its own event-loop thread {self.name}; "
                "await the coroutine there instead"
            )
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        try:
            return future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            raise RequestTimeoutError(f"no answer from {what} within {timeout:g}s") from None

    def schedule(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` on the loop without waiting for it (safe from any thread, the loop's own included)."""
        if self.on_loop_thread():
            self.loop.create_task(coro)
        else:
            asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        """Stop the loop and join its thread (from the loop's own thread: stop without joining)."""
        if self._loop is None or self._thread is None:
            return
        if self.on_loop_thread():
            self._loop.stop()
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

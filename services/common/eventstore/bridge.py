"""The thread bridge: an asyncio event loop on a daemon thread of its own, called from synchronous code.

The ``eventsourcing`` recorders are synchronous; nats-py is asyncio. A :class:`LoopThread` runs one loop in a
dedicated thread; :meth:`LoopThread.call` hands a coroutine to it (``call_soon_threadsafe``) and waits on a lock the task's end releases, so
many application threads share the loop and their requests are pipelined on it. A call made on the loop's own
thread would wait for itself for ever: it raises :class:`CalledOnLoopThreadError` instead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, Generic, TypeVar

from services.common.eventstore.errors import CalledOnLoopThreadError, RequestTimeoutError

T = TypeVar("T")


class _Waiter(Generic[T]):
    """One synchronous caller waiting for its coroutine: a lock the loop releases when the task ends.

    Lighter than ``run_coroutine_threadsafe``'s concurrent future (no condition variable, no chained callbacks):
    this hand-over is paid by every save.
    """

    __slots__ = ("_error", "_result", "finished", "task")

    def __init__(self) -> None:
        self.finished = threading.Lock()
        self.finished.acquire()
        self.task: asyncio.Future[T] | None = None
        self._result: T | None = None
        self._error: BaseException | None = None

    def finish(self, task: asyncio.Future[T]) -> None:
        if task.cancelled():
            self._error = concurrent.futures.CancelledError()
        else:
            self._error = task.exception()
            if self._error is None:
                self._result = task.result()
        self.finished.release()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self.finished.release()

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def outcome(self) -> T:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._result  # type: ignore[return-value]


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
        waiter: _Waiter[T] = _Waiter()
        self.loop.call_soon_threadsafe(self._start, coro, waiter)
        if not waiter.finished.acquire(timeout=timeout):
            self.loop.call_soon_threadsafe(waiter.cancel)
            raise RequestTimeoutError(f"no answer from {what} within {timeout:g}s")
        return waiter.outcome()

    def _start(self, coro: Awaitable[T], waiter: _Waiter[T]) -> None:
        """On the loop: run ``coro`` as a task whose end releases the waiting caller."""
        try:
            task = asyncio.ensure_future(coro, loop=self.loop)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
            waiter.fail(exc)
            return
        waiter.task = task
        task.add_done_callback(waiter.finish)

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

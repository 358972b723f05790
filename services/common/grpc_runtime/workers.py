"""The threads gRPC runs handlers on: daemon threads, so a handler that ignores its cancellation cannot keep a
stopped service's process alive.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the interpreter exits. After a graceful stop
every call is cancelled and answered, but a handler blocked in a call that does not listen to cancellation
(waiting for a store that does not answer) would hold the process until it returns. :class:`HandlerThreads`
is the same pool on daemon threads, and says how many handlers are still running.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent import futures
from typing import Any

_STOP = object()


class HandlerThreads(futures.Executor):
    """Up to ``max_workers`` daemon threads, started as work arrives and kept for the next piece of work."""

    def __init__(self, max_workers: int, name: str = "grpc") -> None:
        self._max_workers = max_workers
        self._name = name
        self._work: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._busy = 0
        self._numbers = itertools.count(1)
        self._shut_down = False

    @property
    def busy(self) -> int:
        """How many handlers run now."""
        return self._busy

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
        future: futures.Future[Any] = futures.Future()
        with self._lock:
            if self._shut_down:
                msg = "cannot schedule new work after shutdown"
                raise RuntimeError(msg)
            self._work.put((future, fn, args, kwargs))
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                thread = threading.Thread(target=self._run, name=f"{self._name}_{next(self._numbers)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        return future

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is _STOP:
                return
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                with self._lock:
                    self._busy += 1
                try:
                    future.set_result(fn(*args, **kwargs))
                except BaseException as error:  # noqa: BLE001 - the future carries it to whoever waits
                    future.set_exception(error)
                finally:
                    with self._lock:
                        self._busy -= 1
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shut_down = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    item = self._work.get_nowait()
                except queue.Empty:
                    break
                if item is not _STOP:
                    item[0].cancel()
        for _ in threads:
            self._work.put(_STOP)
        if wait:
            for thread in threads:
                thread.join()

"""Enrichment worker processes: ``enrichment.enrich`` over a batch, run in processes beside the service's.

Enrichment is pure CPU (VADER is Python), so under load it competes for the service process's interpreter lock
with gRPC, the event store client and the index. :class:`Enricher` with ``processes > 0`` sends batches of at
least :data:`Enricher.POOL_MIN_BATCH` items to that many worker processes (``spawn``: no state is shared with the
service's threads); smaller batches (a unary record) stay in the service process, where they are quicker. The
workers start with the first large batch, or with :meth:`Enricher.start` (the service starts them with itself).

The hand-off is one message each way per batch (per worker's share of it): the items' ``Signals`` as plain
tuples in field order, pickled once, written to the worker's pipe by the thread that submits; the answers as
plain tuples, read from the pipe by the thread that asks for them. Nothing else runs per batch: no queue feeder
or result thread, no future per item. A worker answers its requests in the order they came, so the thread
that reads takes the answers in that order, each to the request it belongs to.

A worker that dies (killed, out of memory, or failed on a batch, which it leaves without a traceback) breaks its
pipe: each batch it had not answered is enriched in the service process instead, and the next large batch starts
a new worker. A worker exits as soon as its service is gone, even when the service was killed
(:func:`die_with_parent`).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import fields
from operator import attrgetter
from typing import Any

import structlog

from services.common.records import made_of
from services.touchpoints import enrichment

log = structlog.get_logger(__name__)

_SIGNAL_FIELDS = tuple(f.name for f in fields(enrichment.Signals))
_signal_row = attrgetter(*_SIGNAL_FIELDS)
_ENRICHMENT_FIELDS = tuple(f.name for f in fields(enrichment.Enrichment))
_enrichment_row = attrgetter(*_ENRICHMENT_FIELDS)


def enrich_rows(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """:func:`enrichment.enrich` over ``Signals`` given as tuples in field order; each answer an ``Enrichment``
    as a tuple in field order (what crosses a worker's pipe)."""
    names = _SIGNAL_FIELDS
    return [
        _enrichment_row(enrichment.enrich(made_of(enrichment.Signals, dict(zip(names, row, strict=True)))))
        for row in rows
    ]


def die_with_parent(parent_pid: int, interval: float = 0.5) -> None:
    """In a worker process: exit as soon as the service that started it is gone (even SIGKILLed).

    A daemon thread watches the parent's pid; when the worker is re-parented, the service died without stopping
    it, and nothing else would stop the worker.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _serve(conn: Any, parent_pid: int) -> None:
    """A worker's body: answer each request read from ``conn``, in order, until the service closes it.

    A thread of its own reads the requests, so the service's writes never wait for this process to finish
    answering (the service may send the next batch before it reads the answer to the last)."""
    die_with_parent(parent_pid)
    requests: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def read() -> None:
        try:
            while True:
                requests.put(conn.recv_bytes())
        except (EOFError, OSError):
            requests.put(None)

    threading.Thread(target=read, name="enrichment-requests", daemon=True).start()
    while True:
        request = requests.get()
        if request is None:
            return
        try:
            answer = pickle.dumps(enrich_rows(pickle.loads(request)), pickle.HIGHEST_PROTOCOL)  # noqa: S301 - the service's pipe
            conn.send_bytes(answer)
        except Exception:  # noqa: BLE001 - no traceback (it could quote a text): the service enriches the batch itself
            os._exit(1)


class WorkerGone(Exception):
    """The worker process died (or its pipe broke) before it answered."""


class _Answer:
    """One request's place in its worker's order of answers."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: bytes | None = None


class _Worker:
    """One worker process and its pipe; requests are answered in the order they were sent."""

    def __init__(self, context: Any) -> None:
        self._conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, os.getpid()), name="chorus-touchpoints-enrichment", daemon=True
        )
        self.process.start()
        child.close()  # the worker's end lives in the worker alone: its death is this end's EOF
        self.broken = False
        self._sending = threading.Lock()
        self._receiving = threading.Lock()
        self._unanswered: deque[_Answer] = deque()

    def send(self, rows: list[tuple[Any, ...]]) -> _Answer:
        payload = pickle.dumps(rows, pickle.HIGHEST_PROTOCOL)
        answer = _Answer()
        with self._sending:
            if self.broken:
                raise WorkerGone
            try:
                self._conn.send_bytes(payload)
            except OSError as error:
                self.broken = True
                raise WorkerGone from error
            self._unanswered.append(answer)
        return answer

    def receive(self, answer: _Answer) -> list[tuple[Any, ...]]:
        with self._receiving:
            while answer.value is None:
                if self.broken:
                    raise WorkerGone
                try:
                    data = self._conn.recv_bytes()
                except (EOFError, OSError) as error:
                    self.broken = True
                    raise WorkerGone from error
                self._unanswered.popleft().value = data
        value: list[tuple[Any, ...]] = pickle.loads(answer.value)  # noqa: S301 - our worker's pipe
        return value

    def stop(self, grace: float = 5.0) -> None:
        """End the process; a thread still waiting for an answer then reads the pipe's end (:class:`WorkerGone`)."""
        self.broken = True
        self.process.terminate()
        self.process.join(grace)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        with self._receiving:
            self._conn.close()


class Enriching:
    """Enrichment of one batch, under way or deferred; :meth:`result` waits for it (once)."""

    def __init__(self, compute: Callable[[], list[enrichment.Enrichment]]) -> None:
        self._compute: Callable[[], list[enrichment.Enrichment]] | None = compute
        self._values: list[enrichment.Enrichment] = []

    def result(self) -> list[enrichment.Enrichment]:
        if self._compute is not None:
            self._values = self._compute()
            self._compute = None
        return self._values


class Enricher:
    """Runs ``enrichment.enrich`` over a batch: in this process, or spread over worker processes (the module
    docstring)."""

    POOL_MIN_BATCH = 64

    def __init__(self, processes: int = 0) -> None:
        self.processes = processes
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> Enricher:
        """Start the worker processes now (a service at its start), not on the first large batch, which would
        then wait for a process to start and import enrichment."""
        if self.processes > 0:
            self._ensure_workers()
        return self

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (none until :meth:`start` or the first large batch)."""
        with self._lock:
            return [int(worker.process.pid) for worker in self._workers]

    def submit(self, signals: Sequence[enrichment.Signals]) -> Enriching:
        """Start enriching ``signals``; the result is read with ``.result()`` (in order).

        In this process the work is deferred to ``.result()``, so it runs in whichever thread asks first.
        """
        if self.processes <= 0 or len(signals) < self.POOL_MIN_BATCH:
            return Enriching(lambda: enrichment.enrich_all(signals))
        workers = self._ensure_workers()
        if not workers:  # closed
            return Enriching(lambda: enrichment.enrich_all(signals))
        size = -(-len(signals) // len(workers))
        try:
            parts = [
                (worker, worker.send([_signal_row(one) for one in signals[start : start + size]]))
                for worker, start in zip(workers, range(0, len(signals), size), strict=False)
            ]
        except WorkerGone:
            self._discard_broken()
            return Enriching(lambda: enrichment.enrich_all(signals))

        def gather() -> list[enrichment.Enrichment]:
            try:
                names = _ENRICHMENT_FIELDS
                return [
                    made_of(enrichment.Enrichment, dict(zip(names, row, strict=True)))
                    for worker, answer in parts
                    for row in worker.receive(answer)
                ]
            except WorkerGone:
                self._discard_broken()
                return enrichment.enrich_all(signals)

        return Enriching(gather)

    def _ensure_workers(self) -> list[_Worker]:
        with self._lock:
            if not self._workers and not self._closed:
                context = multiprocessing.get_context("spawn")
                self._workers = [_Worker(context) for _ in range(self.processes)]
            return list(self._workers)

    def _discard_broken(self) -> None:
        """Forget the workers whose pipe broke (the next large batch starts new ones)."""
        with self._lock:
            if not any(worker.broken for worker in self._workers):
                return
            workers, self._workers = self._workers, []  # a new set: the survivors' answers are read locally
        log.warning("touchpoints.enrichment_worker_died", processes=self.processes)
        for worker in workers:
            worker.stop(grace=0)

    def close(self) -> None:
        with self._lock:
            workers, self._workers, self._closed = self._workers, [], True
        for worker in workers:
            worker.stop()

"""Enrichment in worker processes gives exactly what enrichment in the service process gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import fields, replace
from pathlib import Path

from services.common.config import Settings
from services.common.testing import eventually
from services.touchpoints.application import Enricher
from services.touchpoints.enrichment import Enrichment, Signals, enrich
from services.touchpoints.enrichment_workers import enrich_rows
from services.touchpoints.main import TouchpointsSettings, touchpoints_service

TEXTS = [
    "@acme why is my kettle still broken?",
    "Love it, thanks!",
    "You should add a blue one",
    "Ordered two more",
    "The parcel is on the doorstep",
    "This is the worst support I have ever had",
    "",
]


def test_worker_processes_enrich_large_batches_in_order_like_this_process() -> None:
    signals = [
        Signals(
            text=TEXTS[n % len(TEXTS)] + f" #{n}",
            direction=("inbound", "outbound")[n % 2],
            visibility=("public", "private")[n % 3 == 0],
            channel="x",
            brand_handles=frozenset({"acme"}),
            thread_parties=1 + n % 5,
        )
        for n in range(Enricher.POOL_MIN_BATCH * 3)
    ]
    pooled = Enricher(processes=2)
    try:
        assert pooled.submit(signals).result() == [enrich(one) for one in signals]
        assert len(pooled.pids) == 2  # the large batch went to the workers
        assert pooled.submit(signals[:3]).result() == [enrich(one) for one in signals[:3]]
    finally:
        pooled.close()


def test_a_dead_worker_costs_nothing_but_time() -> None:
    """A worker killed from outside (as the OOM killer would) breaks its pipe: the batch is still enriched, and
    later batches go to a new worker."""
    signals = [Signals(text=f"{TEXTS[n % len(TEXTS)]} #{n}", channel="x") for n in range(Enricher.POOL_MIN_BATCH)]
    expected = [enrich(one) for one in signals]
    pooled = Enricher(processes=1)
    try:
        assert pooled.submit(signals).result() == expected
        first = pooled.pids
        assert first
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        assert pooled.submit(signals).result() == expected
        assert pooled.submit(signals).result() == expected
        assert pooled.pids and set(pooled.pids).isdisjoint(first)
    finally:
        pooled.close()


PARENT = """
import sys
from services.touchpoints.application import Enricher
from services.touchpoints.enrichment import Signals
enricher = Enricher(processes=1)
enricher.submit([Signals(text=f"text {n}", channel="x") for n in range(Enricher.POOL_MIN_BATCH)]).result()
print(*enricher.pids, flush=True)
sys.stdin.read()
"""


def test_a_worker_dies_with_its_service_when_the_service_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert workers and all(Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        parent.kill()
        parent.wait(timeout=30)

    def gone() -> None:
        alive = [
            pid
            for pid in workers
            if Path(f"/proc/{pid}").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()
        ]
        assert alive == []

    eventually(gone, timeout=30)


def test_the_pipe_carries_signals_and_answers_as_tuples_that_mean_the_same() -> None:
    signals = [
        Signals(text=text, direction=direction, visibility="public", channel="x", brand_handles=frozenset({"acme"}))
        for text in TEXTS
        for direction in ("inbound", "outbound")
    ]
    rows = enrich_rows([tuple(getattr(one, f.name) for f in fields(Signals)) for one in signals])
    assert [Enrichment(*row) for row in rows] == [enrich(one) for one in signals]


def test_batches_sent_before_any_answer_is_read_each_get_their_own_answers() -> None:
    """A stream sends its next micro-batch before it reads the last one's answers, and reads them in another
    thread: big batches (more than a pipe holds) sent ahead, read in the other order, from two threads."""
    batches = [
        [Signals(text=f"{TEXTS[(n + b) % len(TEXTS)]} {'word ' * 300}#{n}", channel="x") for n in range(200)]
        for b in range(4)
    ]
    pooled = Enricher(processes=1)
    try:
        started = [pooled.submit(batch) for batch in batches]
        got: dict[int, list[Enrichment]] = {}
        readers = [threading.Thread(target=lambda i=i: got.__setitem__(i, started[i].result())) for i in (3, 1, 2, 0)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        assert [got[i] for i in range(4)] == [[enrich(one) for one in batch] for batch in batches]
        assert len(pooled.pids) == 1
    finally:
        pooled.close()


def test_the_service_starts_its_enrichment_workers_with_itself_and_stops_them(nats_url: str, tmp_path: Path) -> None:
    """Not on the first large batch, which would wait for a process to start and import enrichment."""
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp_path / 'views.db'}")
    own = TouchpointsSettings(app_name=f"tp_enricher_{uuid.uuid4().hex[:10]}")
    own = replace(own, policy=replace(own.policy, enrichment_processes=1))
    with touchpoints_service(settings, own) as app:
        [pid] = app.enricher.pids
        assert Path(f"/proc/{pid}").exists()
    assert app.enricher.pids == []

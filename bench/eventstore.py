"""Event store benchmark: the JetStream recorder beside raw JetStream and the library's SQLite/PostgreSQL recorders.

Run: ``python bench/eventstore.py`` (``--help`` for sizes). Everything is measured in this one run, on the same
payloads (``--state-bytes`` of event state, default 300), so the ratios hold even when the machine drifts:

- raw JetStream publish (plain ``js.publish`` requests), ``--window`` in flight — the ceiling — and one at a
  time — the round trip every sequential save pays, whatever the recorder;
- our ``insert_events``: sequential and with concurrent writer threads, one event per call (the common save) and
  ``--events-per-save`` events per call (one atomic batch);
- ``eventsourcing`` SQLite (file, WAL) and PostgreSQL recorders on the same workloads;
- replay: ``select_notifications`` over the whole log vs a raw JetStream ordered consumer;
- durability: the same recorder workloads and raw one-at-a-time publishes against a second nats-server with
  ``sync_interval: always`` (fsync before every acknowledgement) beside the default one (fsync every 2 minutes),
  and the ratio between them.

The durability setting of each side is printed next to its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nats
from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment
from nats.js.api import StreamConfig

from services.common.eventstore import jetstream
from services.common.nats_server import NatsServer

SYNCED = "always"
SYNCED_RAW = f"raw JetStream, sync {SYNCED}"
SYNCED_OURS = f"chorus JetStream, sync {SYNCED}"


def events(n_saves: int, per_save: int, state: bytes) -> list[list[StoredEvent]]:
    saves = []
    for _ in range(n_saves):
        oid = uuid.uuid4()
        saves.append([StoredEvent(oid, v, "chorus.bench.v1.Benchmarked", state) for v in range(1, per_save + 1)])
    return saves


def timed_inserts(recorder: ApplicationRecorder, saves: list[list[StoredEvent]], writers: int) -> float:
    """Events per second inserting ``saves`` with ``writers`` threads (1 = sequential)."""
    started = time.perf_counter()
    if writers == 1:
        for save in saves:
            recorder.insert_events(save)
    else:
        with ThreadPoolExecutor(max_workers=writers) as pool:
            list(pool.map(recorder.insert_events, saves))
    elapsed = time.perf_counter() - started
    return sum(len(s) for s in saves) / elapsed


def raw_publish_rate(url: str, n: int, state: bytes, window: int) -> float:
    """Plain JetStream publishes, ``window`` in flight (1 = one at a time: the floor any recorder pays per save)."""

    async def run() -> float:
        nc = await nats.connect(url)
        js = nc.jetstream()
        name = f"RAW_{uuid.uuid4().hex[:8].upper()}"
        await js.add_stream(StreamConfig(name=name, subjects=[f"raw.{name}.>"]))
        started = time.perf_counter()
        for offset in range(0, n, window):
            await asyncio.gather(
                *(js.publish(f"raw.{name}.{i}", state) for i in range(offset, min(offset + window, n)))
            )
        elapsed = time.perf_counter() - started
        await js.delete_stream(name)
        await nc.close()
        return n / elapsed

    return asyncio.run(run())


def raw_consumer_rate(url: str, stream: str, subject_filter: str, expected: int) -> float:
    async def run() -> float:
        nc = await nats.connect(url)
        js = nc.jetstream()
        done = asyncio.Event()
        count = 0

        async def on_msg(msg: Any) -> None:
            nonlocal count
            # A consumer that replays into a projection needs each message's stream sequence (its tracking
            # position), so the baseline reads it too; it decodes nothing else.
            msg.metadata.sequence.stream  # noqa: B018
            count += 1
            if count >= expected:
                done.set()

        started = time.perf_counter()
        sub = await js.subscribe(subject_filter, stream=stream, ordered_consumer=True, cb=on_msg)
        await asyncio.wait_for(done.wait(), timeout=300)
        elapsed = time.perf_counter() - started
        await sub.unsubscribe()
        await nc.close()
        return count / elapsed

    return asyncio.run(run())


def replay_rate(recorder: ApplicationRecorder, expected: int, page_size: int) -> float:
    started = time.perf_counter()
    position, count = 0, 0
    while True:
        page = recorder.select_notifications(start=position, limit=page_size, inclusive_of_start=False)
        if not page:
            break
        count += len(page)
        position = page[-1].id
    elapsed = time.perf_counter() - started
    if count < expected:
        raise SystemExit(f"replay returned {count} of {expected} notifications")
    return count / elapsed


def recorder_for(env: dict[str, str], name: str) -> tuple[InfrastructureFactory[Any], ApplicationRecorder]:
    factory = InfrastructureFactory.construct(Environment(name, env))
    return factory, factory.application_recorder()


def postgres_settings() -> str:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres") as conn:
        fsync = conn.execute("SHOW fsync").fetchone()[0]
        commit = conn.execute("SHOW synchronous_commit").fetchone()[0]
    return f"fsync={fsync}, synchronous_commit={commit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=2000, help="single-event saves per workload")
    parser.add_argument("--batched-saves", type=int, default=300, help="multi-event saves per workload")
    parser.add_argument("--events-per-save", type=int, default=3)
    parser.add_argument("--writers", type=int, default=8, help="concurrent writer threads")
    parser.add_argument("--state-bytes", type=int, default=300)
    parser.add_argument("--window", type=int, default=256, help="raw publishes in flight")
    parser.add_argument("--replay-page", type=int, default=10000, help="select_notifications limit when replaying")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    state = os.urandom(args.state_bytes // 2).hex().encode()[: args.state_bytes]

    results: dict[str, dict[str, float]] = {}

    def measure(label: str, make: Callable[[], tuple[Any, ApplicationRecorder]]) -> ApplicationRecorder:
        factory, recorder = make()
        row = results.setdefault(label, {})
        row["seq 1-event"] = timed_inserts(recorder, events(args.saves, 1, state), 1)
        row[f"{args.writers}w 1-event"] = timed_inserts(recorder, events(args.saves, 1, state), args.writers)
        per = args.events_per_save
        row[f"seq {per}-event"] = timed_inserts(recorder, events(args.batched_saves, per, state), 1)
        row[f"{args.writers}w {per}-event"] = timed_inserts(recorder, events(args.batched_saves, per, state), args.writers)
        print(f"  {label}: " + ", ".join(f"{k} {v:,.0f} ev/s" for k, v in row.items()), flush=True)
        return recorder

    with tempfile.TemporaryDirectory(prefix="chorus-bench-") as tmp:
        server = NatsServer(store_dir=Path(tmp) / "nats").start()
        synced = NatsServer(store_dir=Path(tmp) / "nats-synced", sync_interval=SYNCED).start()
        try:
            durability = {
                "raw JetStream publish": "file storage, sync_interval: server default (2m)",
                "chorus JetStream": "file storage, sync_interval: server default (2m); acknowledged once in the "
                "server's store (the OS page cache), fsynced later",
                SYNCED_RAW: f"file storage, sync_interval: {SYNCED}",
                SYNCED_OURS: f"file storage, sync_interval: {SYNCED}; acknowledged after fsync",
            }
            print("measuring raw JetStream pipelined publish ...", flush=True)
            raw = raw_publish_rate(server.url, args.saves * 2, state, args.window)
            raw_one = raw_publish_rate(server.url, args.saves, state, 1)
            results["raw JetStream publish"] = {"pipelined": raw, "one at a time": raw_one}
            print(f"  raw: {raw:,.0f} msg/s pipelined, {raw_one:,.0f} msg/s one at a time", flush=True)

            name = f"bench_{uuid.uuid4().hex[:8]}"
            ours = measure(
                "chorus JetStream",
                lambda: recorder_for({"PERSISTENCE_MODULE": jetstream.__name__, "NATS_URL": server.url}, name),
            )
            total = ours.max_notification_id() or 0
            layout = ours.layout  # type: ignore[attr-defined]
            print("measuring replay ...", flush=True)
            replay_ours = replay_rate(ours, total, args.replay_page)
            replay_raw = raw_consumer_rate(server.url, layout.stream, layout.events_filter, total)

            print(f"measuring the same against a nats-server with sync_interval: {SYNCED} ...", flush=True)
            raw_one_synced = raw_publish_rate(synced.url, args.saves, state, 1)
            results[SYNCED_RAW] = {"one at a time": raw_one_synced}
            measure(
                SYNCED_OURS,
                lambda: recorder_for({"PERSISTENCE_MODULE": jetstream.__name__, "NATS_URL": synced.url}, name),
            )

            sqlite_path = Path(tmp) / "sqlite.db"
            measure(
                "eventsourcing SQLite",
                lambda: recorder_for(
                    {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(sqlite_path)}, "bench"
                ),
            )
            import sqlite3

            with sqlite3.connect(sqlite_path) as conn:
                journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
                sync = conn.execute("PRAGMA synchronous").fetchone()[0]
            durability["eventsourcing SQLite"] = f"journal_mode={journal}, synchronous={sync} (2=FULL: fsync per commit)"

            if not args.skip_postgres:
                schema = f"bench_{uuid.uuid4().hex[:8]}"
                import psycopg

                with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {schema}")
                try:
                    measure(
                        "eventsourcing PostgreSQL",
                        lambda: recorder_for(
                            {
                                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                                "POSTGRES_DBNAME": "test",
                                "POSTGRES_HOST": "127.0.0.1",
                                "POSTGRES_PORT": "5432",
                                "POSTGRES_USER": "postgres",
                                "POSTGRES_PASSWORD": "",
                                "POSTGRES_SCHEMA": schema,
                                "POSTGRES_POOL_SIZE": str(args.writers),
                            },
                            "bench",
                        ),
                    )
                    durability["eventsourcing PostgreSQL"] = postgres_settings()
                finally:
                    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as conn:
                        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        finally:
            synced.stop()
            server.stop()

    print()
    print(f"payload: {args.state_bytes} bytes of state per event; writers: {args.writers}")
    print(f"{'recorder':30} {'workload':14} {'events/s':>12}   durability")
    for label, row in results.items():
        for workload, rate in row.items():
            print(f"{label:30} {workload:14} {rate:12,.0f}   {durability.get(label, '')}")
    print(f"{'chorus select_notifications':30} {'replay':14} {replay_ours:12,.0f}   pages of {args.replay_page}")
    print(f"{'raw ordered consumer':30} {'replay':14} {replay_raw:12,.0f}")
    print()
    ours_row = results["chorus JetStream"]
    print("ratios (ours / other; same workload)")
    for other in ("eventsourcing SQLite", "eventsourcing PostgreSQL"):
        if other not in results:
            continue
        ratios = ", ".join(f"{w} {ours_row[w] / results[other][w]:.2f}x" for w in ours_row)
        print(f"  vs {other}: {ratios}")
    print(f"  vs raw JetStream publish: " + ", ".join(f"{w} {ours_row[w] / raw:.2f}x" for w in ours_row))
    print(f"  replay vs raw ordered consumer: {replay_ours / replay_raw:.2f}x (target >= 0.5x)")
    synced_row = results[SYNCED_OURS]
    print(f"durability: sync_interval {SYNCED} / server default (same workload; the price of fsync per acknowledgement)")
    print("  chorus JetStream: " + ", ".join(f"{w} {synced_row[w] / ours_row[w]:.2f}x" for w in ours_row))
    print(f"  raw publish one at a time: {raw_one_synced / raw_one:.2f}x")
    if "eventsourcing PostgreSQL" in results:  # both fsync before they answer
        pg_row = results["eventsourcing PostgreSQL"]
        print("  at equal durability, sync always / PostgreSQL: "
              + ", ".join(f"{w} {synced_row[w] / pg_row[w]:.2f}x" for w in synced_row))
    w1 = f"{args.writers}w 1-event"
    seq1 = "seq 1-event"
    sqlite_ok = ours_row[seq1] / results["eventsourcing SQLite"][seq1]
    ceiling = raw_one / results["eventsourcing SQLite"][seq1]
    print(f"target: sequential >= 2x SQLite -> {sqlite_ok:.2f}x (raw JetStream one at a time: {ceiling:.2f}x SQLite)")
    w_sqlite = ours_row[w1] / results["eventsourcing SQLite"][w1]
    print(f"        concurrent vs SQLite -> {w_sqlite:.2f}x")
    if "eventsourcing PostgreSQL" in results:
        pg = ours_row[w1] / results["eventsourcing PostgreSQL"][w1]
        print(f"target: concurrent >= 1x PostgreSQL -> {pg:.2f}x")


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()

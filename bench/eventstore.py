"""Event store benchmark: the JetStream recorder beside raw JetStream and the library's SQLite/PostgreSQL recorders.

Run: ``python bench/eventstore.py`` (``--help`` for sizes). Everything is measured in this one run, on the same
payloads (``--state-bytes`` of event state, default 300), so the ratios hold even when the machine drifts:

- raw JetStream publish (plain ``js.publish`` requests), ``--window`` in flight — the ceiling — and one at a
  time — the round trip every sequential save pays, whatever the recorder;
- our ``insert_events``: sequential and with concurrent writer threads, one event per call (the common save) and
  ``--events-per-save`` events of one aggregate per call (one commit message); once as configured by default
  (saves published from the saving thread over the blocking connections of ``blocking.py``) and
  once "loop only" (``NATS_PUBLISH_CONNECTIONS=0``: every save handed to the connection's asyncio loop), so the
  gain and cost of the blocking path show in the same run;
- the same events as one ADR-50 atomic batch of one message per event (how multi-event saves were stored
  before the commit envelope, and how saves spanning several subjects still are);
- ``eventsourcing`` SQLite (file, WAL) and PostgreSQL recorders on the same workloads;
- the same on an R3 stream of a 3-node loopback cluster (three nats-server processes with cluster routes);
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
import statistics
import subprocess
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
from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.digest import DIGEST_HEADER
from services.common.eventstore.envelope import (
    EXPECTED_LAST_SUBJECT_SEQUENCE,
    MSG_ID_HEADER,
    OutgoingMessage,
    encode_events,
)
from services.common.nats_server import NatsServer, find_binary, free_port

SYNCED = "always"
SYNCED_RAW = f"raw JetStream, sync {SYNCED}"
SYNCED_OURS = f"chorus JetStream, sync {SYNCED}"
LOOP_ONLY = "chorus JetStream, loop only"
SYNCED_LOOP = f"chorus loop only, sync {SYNCED}"
NO_BLOCKING = {"NATS_PUBLISH_CONNECTIONS": "0"}


class LoopbackCluster:
    """Three ``nats-server -js`` processes on free loopback ports, routed into one JetStream cluster."""

    def __init__(self, root: Path, size: int = 3) -> None:
        self.root = root
        self.client_ports = [free_port() for _ in range(size)]
        self.cluster_ports = [free_port() for _ in range(size)]
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return ",".join(f"nats://127.0.0.1:{port}" for port in self.client_ports)

    def start(self) -> LoopbackCluster:
        routes = ",".join(f"nats://127.0.0.1:{port}" for port in self.cluster_ports)
        for n, (port, cluster_port) in enumerate(zip(self.client_ports, self.cluster_ports, strict=True)):
            store = self.root / f"node{n}"
            store.mkdir(parents=True)
            self.processes.append(
                subprocess.Popen(
                    [
                        str(find_binary()),
                        "-a",
                        "127.0.0.1",
                        "-p",
                        str(port),
                        "-js",
                        "-sd",
                        str(store),
                        "-n",
                        f"node{n}",
                        "--cluster_name",
                        "chorus-bench",
                        "--cluster",
                        f"nats://127.0.0.1:{cluster_port}",
                        "--routes",
                        routes,
                        "-l",
                        str(store / "nats-server.log"),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        self._wait_for_jetstream()
        return self

    def _wait_for_jetstream(self, timeout: float = 60.0) -> None:
        """Until every node is ready and an R3 stream can be created (a JetStream meta leader, three peers)."""
        deadline = time.monotonic() + timeout
        logs = [self.root / f"node{n}" / "nats-server.log" for n in range(len(self.processes))]
        while not all(log.exists() and "Server is ready" in log.read_text() for log in logs):
            if time.monotonic() > deadline:
                raise SystemExit("the loopback cluster did not start")
            time.sleep(0.05)

        async def quiet(_error: Exception) -> None:
            return None

        async def probe() -> None:
            nc = await nats.connect(self.url.split(","), error_cb=quiet)
            js = nc.jetstream(timeout=2)
            try:
                while True:
                    try:
                        await js.add_stream(StreamConfig(name="PROBE", subjects=["probe.>"], num_replicas=3))
                        await js.delete_stream("PROBE")
                        return
                    except Exception:
                        if time.monotonic() > deadline:
                            raise
                        await asyncio.sleep(0.25)
            finally:
                await nc.close()

        asyncio.run(probe())

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


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


def raw_publish_rate(
    url: str, n: int, state: bytes, window: int, replicas: int = 1, headers: dict[str, str] | None = None
) -> float:
    """Plain JetStream publishes, ``window`` in flight (1 = one at a time: the floor any recorder pays per save);
    ``headers`` on each (a ``Nats-Msg-Id`` header there is made unique per message)."""

    async def run() -> float:
        nc = await nats.connect(url.split(","))
        js = nc.jetstream()
        name = f"RAW_{uuid.uuid4().hex[:8].upper()}"
        await js.add_stream(StreamConfig(name=name, subjects=[f"raw.{name}.>"], num_replicas=replicas))
        started = time.perf_counter()
        for offset in range(0, n, window):
            await asyncio.gather(
                *(
                    js.publish(f"raw.{name}.{i}", state, headers=_numbered(headers, i))
                    for i in range(offset, min(offset + window, n))
                )
            )
        elapsed = time.perf_counter() - started
        await js.delete_stream(name)
        await nc.close()
        return n / elapsed

    return asyncio.run(run())


def _numbered(headers: dict[str, str] | None, n: int) -> dict[str, str] | None:
    if headers is None or MSG_ID_HEADER not in headers:
        return headers
    return {**headers, MSG_ID_HEADER: f"{headers[MSG_ID_HEADER]}{n}"}


def commit_like(per_save: int, state: bytes) -> tuple[bytes, dict[str, str]]:
    """The payload and headers of one ``per_save``-event commit as the recorder stores it (a fresh aggregate):
    what a like-for-like raw publish sends, so that both sides make the server do the same work (size,
    concurrency check, de-duplication)."""
    save = events(1, per_save, state)[0]
    msg = encode_events("x", save, {MSG_ID_HEADER: f"{uuid.uuid4().hex}.1:", EXPECTED_LAST_SUBJECT_SEQUENCE: "0"})
    msg.headers[DIGEST_HEADER] = "0" * 64
    return msg.data, msg.headers


def atomic_batch_rate(url: str, n_saves: int, per_save: int, state: bytes, replicas: int = 1) -> float:
    """Events/s storing each save as one ADR-50 atomic batch of ``per_save`` messages on a fresh subject, with the
    same concurrency header as a commit (how multi-event saves were stored before the commit envelope)."""
    connection = JetStreamConnection.open(url)
    name = f"BATCH_{uuid.uuid4().hex[:8].upper()}"

    async def create() -> None:
        js = connection.client.jetstream()
        await js.add_stream(
            StreamConfig(name=name, subjects=[f"batch.{name}.>"], num_replicas=replicas, allow_atomic=True)
        )

    async def delete() -> None:
        await connection.client.jetstream().delete_stream(name)

    connection.call(create)
    try:
        started = time.perf_counter()
        for n in range(n_saves):
            subject = f"batch.{name}.{n}"
            messages = [OutgoingMessage(subject, state, {"Nats-Msg-Id": f"{n}:{i}"}) for i in range(per_save)]
            messages[0].headers[EXPECTED_LAST_SUBJECT_SEQUENCE] = "0"
            connection.call(lambda m=messages: connection.publish_atomic(m))
        elapsed = time.perf_counter() - started
        connection.call(delete)
    finally:
        connection.close()
    return n_saves * per_save / elapsed


def bridged_publish_rate(
    url: str, n: int, state: bytes, replicas: int = 1, headers: dict[str, str] | None = None
) -> float:
    """One plain publish at a time through the event store's own synchronous bridge (``JetStreamConnection.call``):
    the floor any synchronous caller pays per save, thread hand-over included."""
    connection = JetStreamConnection.open(url)
    name = f"BRIDGED_{uuid.uuid4().hex[:8].upper()}"

    async def create() -> None:
        await connection.client.jetstream().add_stream(
            StreamConfig(name=name, subjects=[f"bridged.{name}.>"], num_replicas=replicas)
        )

    async def delete() -> None:
        await connection.client.jetstream().delete_stream(name)

    connection.call(create)
    try:
        messages = [
            [
                OutgoingMessage(
                    f"bridged.{name}.{i}", state, _numbered(headers, i) or {EXPECTED_LAST_SUBJECT_SEQUENCE: "0"}
                )
            ]
            for i in range(n)
        ]
        started = time.perf_counter()
        for message in messages:
            connection.call(lambda m=message: connection.publish_atomic(m))
        elapsed = time.perf_counter() - started
        connection.call(delete)
    finally:
        connection.close()
    return n / elapsed


def interleaved(rounds: int, sides: dict[str, Callable[[], float]]) -> dict[str, float]:
    """The median rate of each side, measured turn by turn so that a drifting machine moves all sides alike."""
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, measure in sides.items():
            rates[name].append(measure())
    return {name: statistics.median(values) for name, values in rates.items()}


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
    parser.add_argument("--skip-cluster", action="store_true", help="leave out the R3 stream on a 3-node cluster")
    parser.add_argument("--rounds", type=int, default=5, help="turns of the interleaved save-vs-publish comparison")
    args = parser.parse_args()
    state = os.urandom(args.state_bytes // 2).hex().encode()[: args.state_bytes]

    results: dict[str, dict[str, float]] = {}
    turns: dict[str, dict[str, float]] = {}  # R1/R3 -> median rates of the interleaved sides

    def save_against_publish(
        label: str, url: str, recorder: ApplicationRecorder, replicas: int, loop_only: ApplicationRecorder
    ) -> None:
        per, n = args.events_per_save, args.batched_saves
        commit, headers = commit_like(per, state)
        turns[label] = interleaved(
            args.rounds,
            {
                "raw": lambda: raw_publish_rate(url, n, state, 1, replicas=replicas),
                "raw commit": lambda: raw_publish_rate(url, n, commit, 1, replicas=replicas, headers=headers),
                "bridged": lambda: bridged_publish_rate(url, n, state, replicas=replicas),
                "bridged commit": lambda: bridged_publish_rate(url, n, commit, replicas=replicas, headers=headers),
                "saves": lambda: timed_inserts(recorder, events(n, per, state), 1) / per,
                "saves loop only": lambda: timed_inserts(loop_only, events(n, per, state), 1) / per,
            },
        )

    def measure(label: str, make: Callable[[], tuple[Any, ApplicationRecorder]]) -> ApplicationRecorder:
        _factory, recorder = make()
        row = results.setdefault(label, {})
        row["seq 1-event"] = timed_inserts(recorder, events(args.saves, 1, state), 1)
        row[f"{args.writers}w 1-event"] = timed_inserts(recorder, events(args.saves, 1, state), args.writers)
        per = args.events_per_save
        row[f"seq {per}-event"] = timed_inserts(recorder, events(args.batched_saves, per, state), 1)
        row[f"{args.writers}w {per}-event"] = timed_inserts(
            recorder, events(args.batched_saves, per, state), args.writers
        )
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
            durability[LOOP_ONLY] = durability["chorus JetStream"]
            durability[SYNCED_LOOP] = durability[SYNCED_OURS]
            print("measuring raw JetStream pipelined publish ...", flush=True)
            raw = raw_publish_rate(server.url, args.saves * 2, state, args.window)
            raw_one = raw_publish_rate(server.url, args.saves, state, 1)
            results["raw JetStream publish"] = {"pipelined": raw, "one at a time": raw_one}
            print(f"  raw: {raw:,.0f} msg/s pipelined, {raw_one:,.0f} msg/s one at a time", flush=True)
            per = args.events_per_save
            batch_r1 = atomic_batch_rate(server.url, args.batched_saves, per, state)
            results["ADR-50 atomic batch"] = {f"seq {per}-event": batch_r1}
            print(f"  {per} messages per atomic batch: {batch_r1:,.0f} ev/s", flush=True)

            name = f"bench_{uuid.uuid4().hex[:8]}"
            ours = measure(
                "chorus JetStream",
                lambda: recorder_for({"PERSISTENCE_MODULE": jetstream.__name__, "NATS_URL": server.url}, name),
            )
            loop_only = measure(
                LOOP_ONLY,
                lambda: recorder_for(
                    {"PERSISTENCE_MODULE": jetstream.__name__, "NATS_URL": server.url, **NO_BLOCKING}, f"{name}_loop"
                ),
            )
            save_against_publish("R1", server.url, ours, 1, loop_only)
            multi_saves = (2 + args.rounds) * args.batched_saves  # measure()'s two runs and the interleaved turns
            total_events = 2 * args.saves + multi_saves * args.events_per_save
            total_messages = 2 * args.saves + multi_saves  # one message per save
            layout = ours.layout  # type: ignore[attr-defined]
            print("measuring replay ...", flush=True)
            replay_ours = replay_rate(ours, total_events, args.replay_page)
            replay_raw = raw_consumer_rate(server.url, layout.stream, layout.events_filter, total_messages)
            replay_raw *= total_events / total_messages  # events/s: the raw consumer reads each commit once

            print(f"measuring the same against a nats-server with sync_interval: {SYNCED} ...", flush=True)
            raw_one_synced = raw_publish_rate(synced.url, args.saves, state, 1)
            results[SYNCED_RAW] = {"one at a time": raw_one_synced}
            measure(
                SYNCED_OURS,
                lambda: recorder_for({"PERSISTENCE_MODULE": jetstream.__name__, "NATS_URL": synced.url}, name),
            )
            measure(
                SYNCED_LOOP,
                lambda: recorder_for(
                    {"PERSISTENCE_MODULE": jetstream.__name__, "NATS_URL": synced.url, **NO_BLOCKING}, f"{name}_loop"
                ),
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
            durability["eventsourcing SQLite"] = (
                f"journal_mode={journal}, synchronous={sync} (2=FULL: fsync per commit)"
            )

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

            if not args.skip_cluster:
                print("measuring an R3 stream on a 3-node loopback cluster ...", flush=True)
                cluster = LoopbackCluster(Path(tmp) / "cluster").start()
                try:
                    raw_r3 = raw_publish_rate(cluster.url, args.saves, state, 1, replicas=3)
                    results["raw JetStream publish R3"] = {"one at a time": raw_r3}
                    batch_r3 = atomic_batch_rate(cluster.url, args.batched_saves, per, state, replicas=3)
                    results["ADR-50 atomic batch R3"] = {f"seq {per}-event": batch_r3}
                    ours_r3 = measure(
                        "chorus JetStream R3",
                        lambda: recorder_for(
                            {
                                "PERSISTENCE_MODULE": jetstream.__name__,
                                "NATS_URL": cluster.url,
                                "NATS_STREAM_REPLICAS": "3",
                            },
                            f"bench_r3_{uuid.uuid4().hex[:8]}",
                        ),
                    )
                    r3_env = {
                        "PERSISTENCE_MODULE": jetstream.__name__,
                        "NATS_URL": cluster.url,
                        "NATS_STREAM_REPLICAS": "3",
                        **NO_BLOCKING,
                    }
                    loop_r3 = recorder_for(r3_env, f"bench_r3_loop_{uuid.uuid4().hex[:8]}")[1]
                    save_against_publish("R3", cluster.url, ours_r3, 3, loop_r3)
                    durability["raw JetStream publish R3"] = "file storage, 3 replicas (acknowledged by a quorum)"
                    durability["ADR-50 atomic batch R3"] = durability["raw JetStream publish R3"]
                    durability["chorus JetStream R3"] = durability["raw JetStream publish R3"]
                finally:
                    cluster.stop()
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
    print("  vs raw JetStream publish: " + ", ".join(f"{w} {ours_row[w] / raw:.2f}x" for w in ours_row))
    print(f"  replay vs raw ordered consumer: {replay_ours / replay_raw:.2f}x (target >= 0.5x)")
    for fast, slow in (("chorus JetStream", LOOP_ONLY), (SYNCED_OURS, SYNCED_LOOP)):
        print(
            f"  {fast} / {slow} (the blocking publish path's gain): "
            + ", ".join(f"{w} {results[fast][w] / results[slow][w]:.2f}x" for w in results[fast])
        )
    synced_row = results[SYNCED_OURS]
    print(
        f"durability: sync_interval {SYNCED} / server default (same workload; the price of fsync per acknowledgement)"
    )
    print("  chorus JetStream: " + ", ".join(f"{w} {synced_row[w] / ours_row[w]:.2f}x" for w in ours_row))
    print(f"  raw publish one at a time: {raw_one_synced / raw_one:.2f}x")
    if "eventsourcing PostgreSQL" in results:  # both fsync before they answer
        pg_row = results["eventsourcing PostgreSQL"]
        print(
            "  at equal durability, sync always / PostgreSQL: "
            + ", ".join(f"{w} {synced_row[w] / pg_row[w]:.2f}x" for w in synced_row)
        )
    per = args.events_per_save
    multi, wmulti = f"seq {per}-event", f"{args.writers}w {per}-event"
    print()
    print(
        f"one save of {per} events of one aggregate (one commit message) against one raw publish, one at a time, "
        f"{args.rounds} interleaved turns of {args.batched_saves} (medians):"
    )
    for label, rates in turns.items():
        suffix = "" if label == "R1" else f" {label}"
        batch = results[f"ADR-50 atomic batch{suffix}"][multi] / per
        saves, raw_rate, bridged = rates["saves"], rates["raw"], rates["bridged"]
        print(
            f"  {label}: {saves:,.0f} saves/s vs {raw_rate:,.0f} raw publishes/s (nats-py, asyncio caller) -> "
            f"{saves / raw_rate:.2f}x (target >= 0.8x)"
        )
        loop_saves = rates["saves loop only"]
        print(f"      loop only: {loop_saves:,.0f} saves/s -> {loop_saves / raw_rate:.2f}x raw")
        print(
            f"      vs {bridged:,.0f} publishes/s through the same synchronous bridge -> {saves / bridged:.2f}x; "
            f"as an ADR-50 batch of {per} messages: {batch:,.0f} saves/s ({batch / raw_rate:.2f}x raw)"
        )
        raw_commit, bridged_commit = rates["raw commit"], rates["bridged commit"]
        print(
            f"      like for like (each publish the commit's size and server-checked headers: message id, "
            f"expected last subject sequence): vs {raw_commit:,.0f}/s asyncio -> {saves / raw_commit:.2f}x; "
            f"vs {bridged_commit:,.0f}/s through the synchronous bridge -> {saves / bridged_commit:.2f}x"
        )
    w1 = f"{args.writers}w 1-event"
    seq1 = "seq 1-event"
    sqlite_ok = ours_row[seq1] / results["eventsourcing SQLite"][seq1]
    ceiling = raw_one / results["eventsourcing SQLite"][seq1]
    print(f"target: sequential >= 2x SQLite -> {sqlite_ok:.2f}x (raw JetStream one at a time: {ceiling:.2f}x SQLite)")
    w_sqlite = ours_row[w1] / results["eventsourcing SQLite"][w1]
    print(f"        concurrent vs SQLite -> {w_sqlite:.2f}x")
    if "eventsourcing PostgreSQL" in results:
        pg = ours_row[w1] / results["eventsourcing PostgreSQL"][w1]
        print(f"        concurrent 1-event vs PostgreSQL -> {pg:.2f}x")
        pg_multi = ours_row[wmulti] / results["eventsourcing PostgreSQL"][wmulti]
        print(f"target: {args.writers} writers of {per}-event saves >= 1x PostgreSQL -> {pg_multi:.2f}x")
        if "chorus JetStream R3" in results:
            r3 = results["chorus JetStream R3"][wmulti] / results["eventsourcing PostgreSQL"][wmulti]
            print(f"        the same on the R3 stream -> {r3:.2f}x")


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()

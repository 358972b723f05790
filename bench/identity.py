"""Identity service benchmark: resolve latency and link throughput beside a raw gRPC echo on the same machine.

    python bench/identity.py                       # 100k parties, 300k identifiers (the issue's size)
    python bench/identity.py --parties 20000       # smaller, when seeding the full size takes too long here
    python bench/identity.py --nats-url nats://127.0.0.1:4333   # an existing nats-server >= 2.12 (else embedded)

What it does and prints:

1. Seeds ``--parties`` parties with ``--identifiers-per-party`` identifiers each (email, phone, x handle, ...)
   by writing their events through the application in large atomic batches (``bench.identity.seed_parties``:
   the same aggregates and events as RegisterParty, many parties per ``save``), and prints how long it took.
2. Rebuilds the resolution projection (SQLite view) from the stream and prints how long that took.
3. Resolve latency, p50/p99/max, of random seeded identifiers: *service time* (the servicer method called in
   process: normalisation + projection lookup) and *client-observed* (a real gRPC channel on 127.0.0.1).
4. The same for ``chorus.bench.v1.EchoService/Echo`` served by the same runtime (interceptors included), and the
   ratio resolve / echo.
5. Link throughput: ``--links`` LinkIdentifier calls from ``--link-threads`` client threads (each waits until the
   projection has applied its events, as every command does), links/s and latency percentiles.
6. Bulk import (``--import-parties``, 0 skips it; ``--import-only`` runs nothing else): ImportParties streams that
   many parties with an email, a phone and an x handle each from one client over gRPC into a stream of its own
   (``--import-frame`` parties per stream frame, default 100; 1 is a frame per party), parties/s against the
   10,000/s target, beside two baselines measured in the same run on streams of their own: the same parties one
   RegisterParty at a time (one client) and ``seed_parties`` (this file) (the same aggregates saved in process, no
   checks, no gRPC). Then the resolution view: when the live view had applied the whole import
   (from the import's start; target within 2x the import's time), and a fresh view rebuilt from sequence 1.
   CPU per imported party (this process: client, service and live view; and the embedded nats-server) is steadier
   than the rate on a shared machine. The import's service settles its heap as ``chassis.run`` does (``settle_heap``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import process_cpu
from chorus.bench.v1 import echo_pb2, echo_pb2_grpc
from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as pb
from chorus.identity.v1 import identity_service_pb2_grpc as pb_grpc
from services.common.chassis import settle_heap
from services.common.config import Settings
from services.common.eventstore import message_sequence
from services.common.eventstore.codec import register_events
from services.common.grpc_runtime import create_server, stop
from services.common.logging import configure_logging
from services.common.privacy.keyring import open_keyring
from services.common.testing import nats_endpoint
from services.identity.application import IdentityApplication
from services.identity.domain import Evidence, Party, link_identifier
from services.identity.grpc_api import IdentityServicer, registration
from services.identity.main import IdentitySettings, identity_service

ECHO = "chorus.bench.v1.EchoService"


class Echo(echo_pb2_grpc.EchoServiceServicer):
    """The baseline: no state, no store."""

    def Echo(self, request: echo_pb2.EchoRequest, context: grpc.ServicerContext) -> echo_pb2.EchoResponse:
        return echo_pb2.EchoResponse(text=request.text)


def seed_parties(app: IdentityApplication, parties: Iterable[tuple[str, str, Iterable[Any]]]) -> int:
    """Bulk load for the bench: register (kind, name, identifiers) in ONE save, no projection wait.

    The rules are the same as ``register_party`` except that claims are not looked up: every identifier must be
    new. Returns the last notification id.
    """
    aggregates: list[Any] = []
    evidence = Evidence(source="seed")
    for kind, name, identifiers in parties:
        party = Party.register(kind, name)
        aggregates.append(party)
        for identifier in dict.fromkeys(app.normalise(i) for i in identifiers):
            aggregates.extend(
                a for a in link_identifier(party, identifier, None, None, evidence, app.policy) if a is not party
            )
    recordings = app.save(*aggregates)
    return recordings[-1].notification.id if recordings else 0


def stored_events(app: object) -> int:
    """How many events the application's stream holds (its notifications, read through the recorder)."""
    recorder = app.recorder  # type: ignore[attr-defined]
    count, position = 0, None
    while True:
        page = recorder.select_notifications(position, 10_000, inclusive_of_start=False)
        if not page:
            return count
        count += len(page)
        position = page[-1].id


def identifiers_of(n: int, per_party: int) -> list[dict[str, str]]:
    """Seeded party n's identifiers (deterministic, all valid and distinct)."""
    kinds = [
        {"type": "email", "value": f"person{n}@bench.example.org"},
        {"type": "phone", "value": f"+4420{70000000 + n}"},
        {"type": "x", "value": f"b{n}"},
        {"type": "device_id", "value": f"dev-{n}"},
        {"type": "crm_id", "value": f"CRM-{n}", "namespace": "bench"},
    ]
    return kinds[:per_party]


def to_proto(identifier: dict[str, str]) -> types.Identifier:
    return types.Identifier(
        type=types.IdentifierType.Value(f"IDENTIFIER_TYPE_{identifier['type'].upper()}"),
        value=identifier["value"],
        namespace=identifier.get("namespace", ""),
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cut[49] * 1000, "p99": cut[98] * 1000, "max": ordered[-1] * 1000, "n": len(ordered)}


def timed(call: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def row(label: str, stats: dict[str, float]) -> str:
    return f"  {label:<44} p50 {stats['p50']:8.3f} ms   p99 {stats['p99']:8.3f} ms   max {stats['max']:8.3f} ms   (n={int(stats['n'])})"


#: The pid of the nats-server this run embedded (None with --nats-url), for its CPU time.
_embedded_pid: list[int | None] = [None]


@contextlib.contextmanager
def nats(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with nats_endpoint() as endpoint:
        _embedded_pid[0] = endpoint.server.pid if endpoint.server is not None else None
        yield endpoint.url


def server_cpu() -> float | None:
    """CPU seconds the embedded nats-server has used so far (None when it is not ours or not readable)."""
    pid = _embedded_pid[0]
    if pid is None:
        return None
    try:
        return process_cpu(pid)
    except OSError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parties", type=int, default=100_000)
    parser.add_argument("--identifiers-per-party", type=int, default=3, choices=range(1, 6))
    parser.add_argument("--batch", type=int, default=100, help="parties per atomic save while seeding")
    parser.add_argument("--resolves", type=int, default=5000)
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--link-threads", type=int, default=8)
    parser.add_argument("--reads", type=int, default=200, help="party reads and in-process links to time")
    parser.add_argument("--nats-url", default="")
    parser.add_argument("--import-parties", type=int, default=20_000, help="parties to import (0: no import bench)")
    parser.add_argument("--import-baseline", type=int, default=500, help="parties registered one at a time")
    parser.add_argument("--import-only", action="store_true", help="run only the bulk import bench")
    parser.add_argument("--import-frame", type=int, default=100, help="parties per ImportParties stream frame")
    args = parser.parse_args()
    configure_logging("warning", "console")
    rng = random.Random(7)
    if args.import_only:
        with nats(args.nats_url) as nats_url, tempfile.TemporaryDirectory(prefix="chorus-bench-") as tmp:
            settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{Path(tmp) / 'views.db'}", data_dir=Path(tmp))
            bench_import(args, settings, Path(tmp))  # each service below opens its keyring, as a service process does
        return

    with nats(args.nats_url) as nats_url, tempfile.TemporaryDirectory(prefix="chorus-bench-") as tmp:
        settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{Path(tmp) / 'views.db'}", data_dir=Path(tmp))
        keyring = open_keyring(settings)  # identifier ids are keyed, personal data sealed: as in the services
        keyring.__enter__()
        identity = IdentitySettings(app_name=f"identity_bench_{uuid.uuid4().hex[:8]}")
        print(f"identity bench: {args.parties} parties x {args.identifiers_per_party} identifiers, nats {nats_url}")

        # 1. Seed through the application, in large atomic batches, with the projection stopped.
        seed_env = settings.eventstore_env(identity.app_name)
        from services.identity import events as identity_events
        from services.identity.application import IdentityApplication

        register_events(identity_events.REGISTRATIONS)
        seeder = IdentityApplication(env=seed_env, name=identity.app_name, policy=identity.policy)
        start = time.perf_counter()
        for first in range(0, args.parties, args.batch):
            batch = range(first, min(first + args.batch, args.parties))
            seed_parties(
                seeder, [("person", f"Bench {n}", identifiers_of(n, args.identifiers_per_party)) for n in batch]
            )
        seed_seconds = time.perf_counter() - start
        events = stored_events(seeder)
        seeder.close()
        print(
            f"seeded {args.parties} parties / {args.parties * args.identifiers_per_party} identifiers "
            f"({events} events) through bench.identity.seed_parties in batches of {args.batch} parties per "
            f"atomic save: {seed_seconds:.1f} s ({events / seed_seconds:.0f} events/s)"
        )

        with identity_service(settings, identity) as (app, projection):
            start = time.perf_counter()
            projection.catch_up(timeout=3600)
            print(
                f"resolution projection rebuilt from the stream: {time.perf_counter() - start:.1f} s, {projection.view.counts()}"
            )

            servicer = IdentityServicer(app)
            server, port = create_server(
                [registration(app), (echo_pb2_grpc.add_EchoServiceServicer_to_server, Echo(), ECHO)]
            )
            channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            try:
                grpc.channel_ready_future(channel).result(timeout=10)
                stub = pb_grpc.IdentityServiceStub(channel)
                echo = echo_pb2_grpc.EchoServiceStub(channel)

                requests = [
                    pb.ResolveIdentifierRequest(
                        identifier=to_proto(
                            rng.choice(identifiers_of(rng.randrange(args.parties), args.identifiers_per_party))
                        )
                    )
                    for _ in range(args.resolves)
                ]
                it = iter(requests * 3)
                for req in requests[:200]:  # warm up
                    stub.ResolveIdentifier(req)
                    echo.Echo(echo_pb2.EchoRequest(text="warm"))
                service = percentiles(timed(lambda: servicer.ResolveIdentifier(next(it), None), args.resolves))
                client = percentiles(timed(lambda: stub.ResolveIdentifier(next(it)), args.resolves))
                echo_text = echo_pb2.EchoRequest(text="x" * 40)
                echo_client = percentiles(timed(lambda: echo.Echo(echo_text), args.resolves))
                answer = stub.ResolveIdentifier(requests[0])
                assert answer.party_id, "resolve answered no party"

                print("resolve latency (random seeded identifiers):")
                print(row("ResolveIdentifier, service time (in process)", service))
                print(row("ResolveIdentifier, client-observed (gRPC)", client))
                print(row("Echo, client-observed (gRPC, same runtime)", echo_client))
                print(
                    f"  ratio resolve/echo client-observed: p50 {client['p50'] / echo_client['p50']:.2f}x, "
                    f"p99 {client['p99'] / echo_client['p99']:.2f}x; client-observed/service p50 "
                    f"{client['p50'] / service['p50']:.1f}x; service p99 target < 2 ms: "
                    f"{'met' if service['p99'] < 2 else 'NOT met'}"
                )

                # 5. Link throughput, after the two costs a link pays besides the save: reading the party.
                targets = [row["party_id"] for row in projection.view.live_parties(0, args.parties)]
                rng.shuffle(targets)
                sample = iter(targets[-args.reads :])
                reads = percentiles(timed(lambda: app.repository.get(uuid.UUID(next(sample))), args.reads))
                print("what a link pays besides the save:")
                print(row("Party aggregate read (event store, random party)", reads))
                linked_in_process = iter(range(args.reads))
                link_service = percentiles(
                    timed(
                        lambda: servicer.LinkIdentifier(
                            pb.LinkIdentifierRequest(
                                party_id=targets[-1 - next(linked_in_process)],
                                identifier=types.Identifier(
                                    type=types.IDENTIFIER_TYPE_DEVICE_ID, value=f"in-process-{uuid.uuid4().hex}"
                                ),
                            ),
                            None,
                        ),
                        args.reads,
                    )
                )
                print(row("LinkIdentifier, service time (in process)", link_service))
                latencies: list[float] = []
                lock = threading.Lock()
                aborted = [0]
                done: list[float] = []

                def linker(counter: Iterator[int]) -> None:
                    for k in counter:
                        request = pb.LinkIdentifierRequest(
                            party_id=targets[k % len(targets)],
                            identifier=types.Identifier(type=types.IDENTIFIER_TYPE_DEVICE_ID, value=f"linked-{k}"),
                            evidence=pb.Evidence(source="bench"),
                        )
                        begin = time.perf_counter()
                        while True:
                            try:
                                stub.LinkIdentifier(request)
                                break
                            except grpc.RpcError as error:
                                if error.code() != grpc.StatusCode.ABORTED:
                                    raise
                                with lock:
                                    aborted[0] += 1
                        with lock:
                            latencies.append(time.perf_counter() - begin)

                for threads_count in sorted({1, args.link_threads}):
                    latencies.clear()
                    aborted[0] = 0
                    counter = iter(range(len(done), len(done) + args.links))
                    threads = [threading.Thread(target=linker, args=(counter,)) for _ in range(threads_count)]
                    start = time.perf_counter()
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                    elapsed = time.perf_counter() - start
                    done.extend(latencies)
                    print(
                        f"link throughput, {threads_count} client thread(s): {len(latencies)} LinkIdentifier in "
                        f"{elapsed:.2f} s = {len(latencies) / elapsed:.0f} links/s, {aborted[0]} ABORTED retries"
                    )
                    print(row("LinkIdentifier, client-observed (incl. view wait)", percentiles(latencies)))
                echo_rate = args.resolves / sum(timed(lambda: echo.Echo(echo_text), args.resolves))
                print(f"  beside echo, one client thread: {echo_rate:.0f} calls/s")
            finally:
                channel.close()
                stop(server, grace=None)
        if args.import_parties:
            bench_import(args, settings, Path(tmp))


@contextlib.contextmanager
def served(app: object) -> Iterator[pb_grpc.IdentityServiceStub]:
    """A stub of the identity API over ``app``, served on a free port for the duration."""
    server, port = create_server([registration(app)])  # type: ignore[arg-type]
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield pb_grpc.IdentityServiceStub(channel)
    finally:
        channel.close()
        stop(server, grace=None)


def crm_party(n: int) -> pb.ImportedParty:
    """Imported party n: an email, a phone and an x handle (deterministic, valid, distinct)."""
    return pb.ImportedParty(
        source_system="bench-crm",
        external_id=f"C-{n}",
        kind=types.PARTY_KIND_PERSON,
        display_name=f"Customer {n}",
        identifiers=[to_proto(identifier) for identifier in identifiers_of(n, 3)],
    )


def bench_import(args: argparse.Namespace, settings: Settings, tmp: Path) -> None:
    """Section 6 of the module docstring."""
    from services.identity.application import IdentityApplication
    from services.identity.projection import ResolutionView, resolution_runner

    count = args.import_parties

    def own_views(name: str) -> Settings:  # each application's resolution view in a database of its own
        return dataclasses.replace(settings, views_url=f"sqlite:///{tmp / f'{name}.db'}")

    frame = max(1, args.import_frame)
    print(
        f"bulk import: {count} parties x 3 identifiers (email, phone, x) through ImportParties, one client, "
        f"{frame} parties per stream frame"
    )
    run = uuid.uuid4().hex[:8]

    # Baseline 1: one RegisterParty per party, one client, on a stream of its own.
    one_by_one = IdentitySettings(app_name=f"identity_bench_unary_{run}")
    with identity_service(own_views(one_by_one.app_name), one_by_one) as (app, _projection), served(app) as stub:
        start = time.perf_counter()
        for n in range(args.import_baseline):
            stub.RegisterParty(
                pb.RegisterPartyRequest(
                    kind=types.PARTY_KIND_PERSON,
                    display_name=f"Customer {n}",
                    identifiers=[to_proto(i) for i in identifiers_of(n, 3)],
                )
            )
        unary_rate = args.import_baseline / (time.perf_counter() - start)

    # Baseline 2: the same aggregates saved in process by seed_parties, no checks, no gRPC.
    seed = IdentitySettings(app_name=f"identity_bench_seed_{run}")
    seeded = min(count, 20_000)
    with open_keyring(settings):  # identifier ids are keyed, personal data sealed: as in the services
        seed_env = settings.eventstore_env(seed.app_name)
        seeder = IdentityApplication(env=seed_env, name=seed.app_name, policy=seed.policy)
        start = time.perf_counter()
        for first in range(0, seeded, 100):
            batch = range(first, min(first + 100, seeded))
            seed_parties(seeder, [("person", f"Customer {n}", identifiers_of(n, 3)) for n in batch])
        seed_rate = seeded / (time.perf_counter() - start)
        seeder.close()

    # The import, with the service's live resolution view running beside it.
    imported = IdentitySettings(app_name=f"identity_bench_import_{run}")
    with identity_service(own_views(imported.app_name), imported) as (app, projection), served(app) as stub:
        settle_heap()  # as chassis.run does once a service is built
        parties = [crm_party(n) for n in range(count)]
        requests = [pb.ImportPartiesRequest(parties=parties[n : n + frame]) for n in range(0, count, frame)]
        outcomes: dict[int, int] = {}
        start, cpu_start, server_start = time.perf_counter(), time.process_time(), server_cpu()
        for answer in stub.ImportParties(iter(requests)):
            for result in answer.results:
                outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        import_seconds = time.perf_counter() - start
        projection.catch_up(timeout=3600)
        view_seconds = time.perf_counter() - start
        cpu_per_party = (time.process_time() - cpu_start) / count
        server_end = server_cpu()
        server_per_party = (
            (server_end - server_start) / count if server_end is not None and server_start is not None else None
        )
        messages = message_sequence(app.recorder.max_notification_id())
        events = stored_events(app)
        counts = projection.view.counts()
    rate = count / import_seconds
    print(
        f"  outcomes {{{', '.join(f'{pb.ImportOutcome.Name(k)}: {v}' for k, v in sorted(outcomes.items()))}}}, "
        f"{events} events in {messages} stored messages, view {counts}"
    )
    print(
        f"  ImportParties: {import_seconds:.2f} s = {rate:.0f} parties/s ({rate * 3:.0f} identifiers/s); "
        f"target >= 10,000 parties/s: {'met' if rate >= 10_000 else 'NOT met'} ({rate / 10_000:.2f}x of it)"
    )
    print(
        f"  CPU per party, import and live view: this process (client + service + view) {cpu_per_party * 1e6:.0f} us"
        + (f", nats-server {server_per_party * 1e6:.0f} us" if server_per_party is not None else "")
    )
    print(
        f"  baseline, RegisterParty one at a time ({args.import_baseline} parties, one client): "
        f"{unary_rate:.0f} parties/s; import is {rate / unary_rate:.1f}x that"
    )
    print(
        f"  baseline, seed_parties in process ({seeded} parties, 100 per save, no checks, no gRPC): "
        f"{seed_rate:.0f} parties/s; import is {rate / seed_rate:.2f}x that"
    )
    print(
        f"  live resolution view had applied the whole import {view_seconds:.2f} s after its start = "
        f"{view_seconds / import_seconds:.2f}x the import's time (target <= 2x: "
        f"{'met' if view_seconds <= 2 * import_seconds else 'NOT met'})"
    )

    fresh = ResolutionView(f"sqlite:///{tmp / f'rebuild-{run}.db'}")
    with open_keyring(settings):
        reader = IdentityApplication(env=settings.eventstore_env(imported.app_name), name=imported.app_name)
        rebuild = resolution_runner(reader, fresh)
        start = time.perf_counter()
        with rebuild:
            rebuild.catch_up(timeout=3600)
        rebuild_seconds = time.perf_counter() - start
        reader.close()
    fresh.close()
    print(
        f"  a fresh resolution view rebuilt from sequence 1 of the import's stream: {rebuild_seconds:.2f} s = "
        f"{rebuild_seconds / import_seconds:.2f}x the import's time"
    )


if __name__ == "__main__":
    main()

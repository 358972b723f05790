"""Touchpoint ingest benchmark: Chorus streaming ingest beside raw gRPC streaming and raw JetStream publishing.

    python bench/ingest.py                     # 20k touchpoints per measurement (the default)
    python bench/ingest.py --count 50000       # longer runs, steadier numbers
    python bench/ingest.py --enrichment-processes 2   # enrich in two worker processes
    python bench/ingest.py --ablate            # also: streaming without enrichment, and without the index

Every measurement runs in this one process, its heap settled as ``chassis.run`` settles a service's
(``settle_heap``), against one fresh embedded nats-server (``NatsServer``, JetStream
file storage in a temporary directory, its default ``sync_interval`` of 2 minutes: acknowledged = in the
server's memory and written to its file store, fsync'ed periodically). gRPC clients run in a separate process
(``multiprocessing`` spawn) so client and server do not share a GIL; they send ready-made messages with about 300
bytes of text each.

1. raw gRPC client streaming: ``chorus.bench.v1.EchoService/EchoStream`` on the same gRPC runtime as the services
   (interceptors included): messages/s from the first send to the server's answer.
2. raw JetStream pipelined publish (nats-py ``publish``, acks awaited in windows of ``--window``) of payloads
   as big as one stored TouchpointRecorded event, into a fresh stream: messages/s until the last ack.
3. Chorus streaming ingest: ``RecordTouchpointStream`` (gRPC -> validation -> enrichment -> one atomic JetStream
   append per micro-batch -> an answer per item once durable): touchpoints/s until the last answer; every answer
   must be RECORDED and the stream must hold that many events afterwards.
   With encryption on (the service's keyring: each person's text and identifier sealed under their data key)
   it runs first on the first sight of the bench's people (their data keys are made in the key vault), then in two
   alternating turns with encryption off (no keyring: stored in clear) and on with every key known.
4. Chorus unary ``RecordTouchpoint`` (sequential, one client: latency and rate) and ``RecordTouchpointBatch``
   (batches of 500).

Each measurement also prints the CPU it used per message: the client's (``time.process_time`` in its process),
the server side's (this process and its enrichment worker processes) and nats-server's (both from ``/proc``),
and the rate the machine's CPUs would allow at that cost.

Then the service's path step by step (decode, validate, draft, check, signals, enrich, the same enrichment handed to
the worker processes when there are any, event build, encode with
sealing as a save does it, and the same encoding with encryption off beside it, publish, the hand-over to the
index, the index's write of it, answer), each step alone over the same bench touchpoints in this process: CPU per touchpoint of each; and,
during 3., the service process's CPU by thread (the index runner, gRPC's threads, the stream's reader and commit
threads, the NATS client's loop) and its enrichment worker processes'.

Target (issue 12): Chorus's CPU per streamed touchpoint (client + service + nats-server, enrichment included)
<= 2 x the raw path's CPU per message (1. + 2.: raw gRPC client stream + raw JetStream publish), in the same run.
Earlier target (issue 4): streaming ingest >= 0.5 x the lower of the two raw rates. The last lines turn it into CPU: on
N CPUs, 0.5 x the lower raw rate leaves N / that rate of CPU per touchpoint for client, service and nats-server
together, set beside what streaming used and what the raw paths plus enrichment alone cost.

Where the time goes (py-spy ``--gil`` on the service process during 3., enrichment in-process, 2 shared cores):
enrichment ~25 % (VADER ~2/3 of it; ``WindowedVader`` is ~5x faster than stock VADER with identical scores),
checks, drafts, ids and signals before enrichment ~18 %, the touchpoint index ~14 % (its own thread, same
interpreter lock), events, their protobuf mapping and the append ~20 %, gRPC's own per-message work the rest.
With enrichment in the service process the service is bound by its one interpreter lock (~1.4 of 2 CPUs busy);
the default enrichment worker process (``--enrichment-processes``, default 1 on more than one CPU) moves VADER
to the other CPU, ~25 % faster here, and then ~1.6 of 2 CPUs are busy.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chorus.bench.v1 import echo_pb2, echo_pb2_grpc
from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.v1 import touchpoint_service_pb2 as pb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as pb_grpc
from services.common.eventstore import message_sequence

ECHO = "chorus.bench.v1.EchoService"

TEXTS = (
    "I ordered the blue kettle three weeks ago and it still has not arrived. Your tracking page says delivered but "
    "nothing is here. I have emailed twice and nobody answers. This is really disappointing, please sort it out "
    "or refund me. Order number is in my account, same email as this one. Thanks in advance for any help at all!!",
    "Just wanted to say the new kettle is fantastic: boils in under two minutes, the handle stays cool and the "
    "lid finally closes properly. My partner loves the colour too. Would be great if you made a matching toaster "
    "though, you should really think about that. Five stars from us, and I will recommend you to my friends.",
    "@acme how do I descale the kettle? The manual says vinegar but the forum says citric acid, and I do not want "
    "to void the warranty. Also, is the filter dishwasher safe or should I rinse it by hand? I could not find "
    "either answer on your help pages, and the chat was closed when I tried this morning. Any advice welcome.",
)


# ---------------------------------------------------------------------------------------------------- messages


#: How many different people the bench touchpoints come from (one data key each).
PEOPLE = 5000


def touchpoint_input(n: int, run: str, *, occurred: float) -> pb.TouchpointInput:
    """One realistic inbound touchpoint with ~300 bytes of text, its own source id, no enrichment given."""
    seconds = int(occurred)
    return pb.TouchpointInput(
        kind=types.TOUCHPOINT_KIND_NON_TOUCHPOINT if n % 3 == 2 else types.TOUCHPOINT_KIND_TOUCHPOINT,
        channel=(types.CHANNEL_EMAIL, types.CHANNEL_X, types.CHANNEL_FORUM, types.CHANNEL_CHAT)[n % 4],
        direction=types.DIRECTION_INBOUND,
        visibility=types.VISIBILITY_PUBLIC if n % 2 else types.VISIBILITY_PRIVATE,
        occurred_at={"seconds": seconds, "nanos": (n % 1000) * 1000},
        source=pb.Source(system="bench", external_id=f"{run}-{n}"),
        actors=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value=f"person{n % PEOPLE}@bench.example.org")],
        content=pb.Content(text=TEXTS[n % len(TEXTS)][:300] + f" #{n}", language="en"),
        audience=pb.Audience(followers=n % 700),
        tags=["bench"],
    )


# ---------------------------------------------------------------------------------------------------- clients
# Each runs in a child process and returns (seconds, count, extra).


def _echo_stream_client(port: int, count: int) -> tuple[float, int, int]:
    text = TEXTS[0][:300]
    messages = [echo_pb2.EchoStreamRequest(text=text) for _ in range(count)]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        stub = echo_pb2_grpc.EchoServiceStub(channel)
        stub.EchoStream(iter(messages[:200]))  # warm up
        start, cpu = time.perf_counter(), time.process_time()
        answer = stub.EchoStream(iter(messages))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return seconds, int(answer.count), messages[0].ByteSize(), cpu


def _record_stream_client(port: int, count: int, run: str) -> tuple[float, int, dict[str, int]]:
    now = time.time()
    messages = [
        pb.RecordTouchpointStreamRequest(touchpoint=touchpoint_input(n, run, occurred=now)) for n in range(count)
    ]
    outcomes: dict[str, int] = {}
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        stub = pb_grpc.TouchpointServiceStub(channel)
        start, cpu = time.perf_counter(), time.process_time()
        answered = 0
        for response in stub.RecordTouchpointStream(iter(messages)):
            for result in response.results:
                name = pb.RecordOutcome.Name(result.outcome)
                outcomes[name] = outcomes.get(name, 0) + 1
                answered += 1
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    outcomes["_message_bytes"] = messages[0].ByteSize()
    return seconds, answered, outcomes, cpu


def _record_unary_client(port: int, count: int, run: str) -> tuple[float, int, list[float]]:
    now = time.time()
    requests = [pb.RecordTouchpointRequest(touchpoint=touchpoint_input(n, run, occurred=now)) for n in range(count)]
    latencies = []
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        stub = pb_grpc.TouchpointServiceStub(channel)
        start = time.perf_counter()
        for request in requests:
            begin = time.perf_counter()
            answer = stub.RecordTouchpoint(request)
            latencies.append(time.perf_counter() - begin)
            if answer.outcome != pb.RECORD_OUTCOME_RECORDED:
                raise RuntimeError(f"unary record answered {pb.RecordOutcome.Name(answer.outcome)}")
        seconds = time.perf_counter() - start
    return seconds, len(requests), latencies


def _record_batch_client(port: int, count: int, run: str, size: int) -> tuple[float, int, int]:
    now = time.time()
    items = [touchpoint_input(n, run, occurred=now) for n in range(count)]
    batches = [pb.RecordTouchpointBatchRequest(touchpoints=items[i : i + size]) for i in range(0, count, size)]
    recorded = 0
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        stub = pb_grpc.TouchpointServiceStub(channel)
        start = time.perf_counter()
        for batch in batches:
            recorded += stub.RecordTouchpointBatch(batch).recorded_count
        seconds = time.perf_counter() - start
    return seconds, recorded, size


def process_cpu(pid: int) -> float:
    """User + system CPU seconds process ``pid`` (all its threads) has used so far (Linux ``/proc``)."""
    return process_cpu_of(Path(f"/proc/{pid}/stat"))


def thread_cpu() -> dict[str, float]:
    """CPU seconds used so far by this process's threads, summed by thread name (digits dropped: one pool)."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    used: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            seconds = process_cpu_of(task / "stat")
        except OSError:  # ended meanwhile
            continue
        name = names.get(int(task.name)) or (task / "comm").read_text().strip()
        name = "".join(char for char in name if not char.isdigit()).rstrip("-_ ") or "unnamed"
        used[name] = used.get(name, 0.0) + seconds
    return used


def process_cpu_of(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds spent during a measurement by the server side (this process and its enrichment worker
    processes) and by nats-server; a client reports its own (``time.process_time`` in its process)."""

    def __init__(self, nats_pid: int | None) -> None:
        self.nats_pid = nats_pid or 0
        self.server = 0.0
        self.nats = 0.0

    def _read(self) -> dict[int, float]:
        workers = {
            child.pid for child in multiprocessing.active_children() if child.pid and "PoolWorker" not in child.name
        }  # the client's pool is not the server's
        seconds = {}
        for pid in {os.getpid(), self.nats_pid} | workers:
            try:
                seconds[pid] = process_cpu(pid)
            except OSError:  # exited meanwhile
                continue
        return seconds

    def __enter__(self) -> CpuMeter:
        self._before = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        used = {pid: seconds - self._before.get(pid, 0.0) for pid, seconds in self._read().items()}
        self.nats = used.pop(self.nats_pid, 0.0)
        self.server = sum(used.values())
        self.workers = self.server - used.get(os.getpid(), 0.0)

    def per_message(self, count: int, client_cpu: float | None) -> float:
        """CPU microseconds per message, all parties together."""
        return ((client_cpu or 0.0) + self.server + self.nats) / count * 1e6

    def report(self, count: int, client_cpu: float | None, seconds: float) -> str:
        """CPU microseconds per message of each party, and the rate this machine's CPUs allow at that cost."""
        parts = ([] if client_cpu is None else [("client", client_cpu)]) + [
            ("server" if client_cpu is not None else "publisher", self.server),
            ("nats-server", self.nats),
        ]
        total = self.per_message(count, client_cpu)
        cpus = os.cpu_count() or 1
        return (
            "   CPU per message: "
            + ", ".join(f"{name} {cpu / count * 1e6:.0f} us" for name, cpu in parts)
            + f" = {total:.0f} us; {sum(cpu for _, cpu in parts) / seconds:.2f} of {cpus} CPUs busy, "
            f"whose time allows at most {cpus / total * 1e6:.0f}/s at that cost"
        )


def _workers_share(cpu: CpuMeter, count: int) -> str:
    """The enrichment worker processes' part of a measurement's server CPU, per message."""
    return f" (of the server's, enrichment worker processes {cpu.workers / count * 1e6:.0f} us)"


def in_child(function: Any, *args: Any) -> Any:
    """Run a client in a fresh process (spawned: no gRPC state shared with this one)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(function, args)


# ---------------------------------------------------------------------------------------------------- servers


class EchoStream(echo_pb2_grpc.EchoServiceServicer):
    """The raw gRPC baseline: counts a client stream, nothing else."""

    def Echo(self, request: echo_pb2.EchoRequest, context: grpc.ServicerContext) -> echo_pb2.EchoResponse:
        return echo_pb2.EchoResponse(text=request.text, payload=request.payload)

    def EchoStream(
        self, request_iterator: Iterator[echo_pb2.EchoStreamRequest], context: grpc.ServicerContext
    ) -> echo_pb2.EchoStreamResponse:
        count = 0
        size = 0
        for message in request_iterator:
            count += 1
            size += len(message.payload)
        return echo_pb2.EchoStreamResponse(count=count, payload_bytes=size)


async def raw_jetstream(url: str, count: int, payload_size: int, window: int) -> float:
    """Seconds to publish ``count`` payloads to a fresh file-backed stream, acks awaited per window."""
    import nats
    from nats.js.api import StorageType, StreamConfig

    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        name = f"RAW_{uuid.uuid4().hex[:8]}"
        await js.add_stream(
            StreamConfig(
                name=name, subjects=[f"{name}.>"], storage=StorageType.FILE, num_replicas=1, duplicate_window=120
            )
        )
        payload = (TEXTS[0] * 4).encode()[:payload_size]
        for n in range(200):  # warm up
            await js.publish(f"{name}.warm.{n}", payload)
        start = time.perf_counter()
        for first in range(0, count, window):
            # Plain publishes awaited in windows: each acknowledged by the stream (publish_async lost
            # acknowledgements under load here, so the check below could not trust it).
            await asyncio.gather(
                *(js.publish(f"{name}.tp.{n}", payload) for n in range(first, min(first + window, count)))
            )
        seconds = time.perf_counter() - start
        info = await js.stream_info(name)
        if info.state.messages != count + 200:
            raise RuntimeError(f"raw stream holds {info.state.messages} messages, expected {count + 200}")
        return seconds
    finally:
        await connection.close()


# ---------------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000, help="touchpoints (messages) per streaming measurement")
    parser.add_argument("--unary", type=int, default=2000, help="sequential unary records")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--window", type=int, default=1000, help="raw JetStream publishes per ack window")
    parser.add_argument(
        "--ablate",
        action="store_true",
        help="also stream with enrichment switched off, and with the index stopped (where the time goes)",
    )
    parser.add_argument(
        "--enrichment-processes",
        type=int,
        default=None,
        help="worker processes for enrichment (default: the service's default)",
    )
    args = parser.parse_args()

    from services.common.chassis import settle_heap
    from services.common.config import Settings
    from services.common.grpc_runtime import create_server, stop
    from services.common.logging import configure_logging
    from services.common.nats_server import NatsServer
    from services.common.privacy.keyring import install as install_keyring
    from services.touchpoints.grpc_api import registration
    from services.touchpoints.main import TouchpointsSettings, touchpoints_service

    configure_logging("warning", "console")
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="chorus-ingest-") as tmp:
        server = NatsServer(store_dir=Path(tmp) / "nats").start()
        try:
            settings = Settings(
                nats_url=server.url, views_url=f"sqlite:///{Path(tmp) / 'views.db'}", data_dir=Path(tmp)
            )  # the KEK and pseudonym key are generated there
            touchpoints = TouchpointsSettings.from_env({"CHORUS_TOUCHPOINTS_APP_NAME": f"tp_bench_{run}"})
            if args.enrichment_processes is not None:
                touchpoints = replace(
                    touchpoints, policy=replace(touchpoints.policy, enrichment_processes=args.enrichment_processes)
                )
            print(
                f"ingest bench: {args.count} messages per streaming run, nats-server {server.url} "
                f"(file store, default sync_interval), gRPC clients in a separate process, "
                f"enrichment processes {touchpoints.policy.enrichment_processes}, {os.cpu_count()} CPUs"
            )

            with touchpoints_service(settings, touchpoints) as app:
                settle_heap()  # as chassis.run does once a service is built
                grpc_server, port = create_server(
                    [registration(app), (echo_pb2_grpc.add_EchoServiceServicer_to_server, EchoStream(), ECHO)]
                )
                try:
                    # 1. raw gRPC client streaming
                    with CpuMeter(server.pid) as cpu:
                        seconds, echoed, echo_bytes, client_cpu = in_child(_echo_stream_client, port, args.count)
                    assert echoed == args.count, f"echo counted {echoed}"
                    grpc_rate = args.count / seconds
                    print(
                        f"1. raw gRPC client streaming (EchoStream, {echo_bytes} B/message): "
                        f"{grpc_rate:10.0f} msg/s  ({seconds:.2f} s)"
                    )
                    print(cpu.report(echoed, client_cpu, seconds))
                    grpc_cpu = cpu.per_message(echoed, client_cpu)

                    # 2. raw JetStream pipelined publish, payload as big as a stored TouchpointRecorded event
                    probe = touchpoint_input(1, "probe", occurred=time.time())
                    event_size = _stored_event_size(app, probe)
                    with CpuMeter(server.pid) as cpu:
                        seconds = asyncio.run(raw_jetstream(server.url, args.count, event_size, args.window))
                    js_rate = args.count / seconds
                    print(
                        f"2. raw JetStream publish, acks per {args.window} ({event_size} B/message): "
                        f"{js_rate:10.0f} msg/s  ({seconds:.2f} s)"
                    )
                    print(cpu.report(args.count, None, seconds))
                    js_cpu = cpu.per_message(args.count, None)
                    storing_cpu = cpu.nats / args.count * 1e6  # nats-server's own work per stored message

                    # 3. Chorus streaming ingest
                    before = message_sequence(app.recorder.max_notification_id() or 0)
                    threads_before = thread_cpu()
                    with CpuMeter(server.pid) as cpu:
                        seconds, answered, outcomes, client_cpu = in_child(
                            _record_stream_client, port, args.count, f"{run}-s"
                        )
                    stream_rate = answered / seconds
                    size = outcomes.pop("_message_bytes")
                    print(
                        f"3. Chorus RecordTouchpointStream ({size} B/message): {stream_rate:10.0f} touchpoints/s "
                        f"({seconds:.2f} s) outcomes {outcomes}"
                    )
                    print(cpu.report(answered, client_cpu, seconds))
                    by_thread = {
                        name: seconds - threads_before.get(name, 0.0) for name, seconds in thread_cpu().items()
                    }
                    ended = cpu.server - cpu.workers - sum(by_thread.values())
                    print(
                        "   server CPU per message by thread: "
                        + ", ".join(
                            f"{name} {used / answered * 1e6:.0f} us"
                            for name, used in sorted(by_thread.items(), key=lambda pair: -pair[1])
                            if used / answered >= 0.5e-6
                        )
                        + f"; threads that ended (the stream's reader and commit threads) {ended / answered * 1e6:.0f} us"
                        f"; enrichment worker processes {cpu.workers / answered * 1e6:.0f} us"
                    )
                    stream_cpu = cpu.per_message(answered, client_cpu)
                    if outcomes.get("RECORD_OUTCOME_RECORDED") != args.count:
                        raise SystemExit("streaming ingest did not record every touchpoint")
                    stored = message_sequence(app.recorder.max_notification_id() or 0) - before
                    print(f"   stream sequence advanced by {stored}: one TouchpointRecorded event per touchpoint")
                    if stored != args.count:
                        raise SystemExit(f"expected {args.count} new events in the stream, found {stored}")

                    # 3b/3c. the same streaming ingest with encryption off (no keyring: marked fields stored in
                    # clear) and on with every person's data key made already, in alternating turns
                    turns: dict[str, float] = {"off": 0.0, "on": 0.0}
                    turn_cpu: dict[str, float] = {"off": 0.0, "on": 0.0}  # CPU microseconds per touchpoint, summed
                    for turn in range(2):
                        previous = install_keyring(None)
                        try:
                            with CpuMeter(server.pid) as cpu:
                                seconds, answered, _, client_cpu = in_child(
                                    _record_stream_client, port, args.count, f"{run}-c{turn}"
                                )
                        finally:
                            install_keyring(previous)
                        turns["off"] += seconds
                        turn_cpu["off"] += cpu.per_message(answered, client_cpu)
                        print(
                            f"3b. Chorus RecordTouchpointStream, encryption off: {answered / seconds:10.0f} "
                            f"touchpoints/s ({seconds:.2f} s)"
                        )
                        print(cpu.report(answered, client_cpu, seconds) + _workers_share(cpu, answered))
                        with CpuMeter(server.pid) as cpu:
                            seconds, answered, _, client_cpu = in_child(
                                _record_stream_client, port, args.count, f"{run}-k{turn}"
                            )
                        turns["on"] += seconds
                        turn_cpu["on"] += cpu.per_message(answered, client_cpu)
                        print(
                            f"3c. Chorus RecordTouchpointStream, encryption on, keys known: {answered / seconds:10.0f} "
                            f"touchpoints/s ({seconds:.2f} s)"
                        )
                        print(cpu.report(answered, client_cpu, seconds) + _workers_share(cpu, answered))
                    clear_rate, known_rate = 2 * args.count / turns["off"], 2 * args.count / turns["on"]

                    # 4. unary and batch
                    seconds, done, latencies = in_child(_record_unary_client, port, args.unary, f"{run}-u")
                    cut = statistics.quantiles(sorted(latencies), n=100, method="inclusive")
                    unary_rate = done / seconds
                    print(
                        f"4. Chorus RecordTouchpoint, sequential: {unary_rate:10.0f} touchpoints/s, latency "
                        f"p50 {cut[49] * 1000:.2f} ms p99 {cut[98] * 1000:.2f} ms (waits for the index)"
                    )
                    seconds, recorded, size = in_child(
                        _record_batch_client, port, args.count, f"{run}-b", args.batch_size
                    )
                    batch_rate = recorded / seconds
                    print(
                        f"5. Chorus RecordTouchpointBatch of {size}: {batch_rate:10.0f} touchpoints/s "
                        f"({seconds:.2f} s, {recorded} recorded)"
                    )

                    ablations = _ablations(app, port, args.count, run) if args.ablate else {}

                    lower = min(grpc_rate, js_rate)
                    print("ratios:")
                    print(f"   streaming / raw gRPC        {stream_rate / grpc_rate:6.2f}x")
                    print(f"   streaming / raw JetStream   {stream_rate / js_rate:6.2f}x")
                    print(
                        f"   streaming / lower raw rate  {stream_rate / lower:6.2f}x   (target >= 0.5x: "
                        f"{'met' if stream_rate >= 0.5 * lower else 'NOT met'})"
                    )
                    print(f"   batch / streaming           {batch_rate / stream_rate:6.2f}x")
                    print(f"   unary / streaming           {unary_rate / stream_rate:6.2f}x")
                    print(
                        f"   encryption on / off         {stream_rate / clear_rate:6.2f}x   (run 3, making "
                        f"{PEOPLE} people's data keys, against 3b)"
                    )
                    print(
                        f"   encryption on, keys known / off {known_rate / clear_rate:6.2f}x   (3c against 3b, both turns)"
                    )
                    for label, rate in ablations.items():
                        print(
                            f"   streaming {label:<34} {rate:8.0f} touchpoints/s = {rate / lower:4.2f}x the lower raw rate"
                        )

                    print(
                        f"CPU per touchpoint of each step of the service's path, alone, in one thread "
                        f"({min(args.count, 5000)} touchpoints, no gRPC; nats-server's share not included):"
                    )
                    steps = step_breakdown(app, min(args.count, 5000), f"{run}-p")
                    for name, micros in steps:
                        print(f"   {name:<37} {micros:6.1f} us")
                    together = sum(m for name, m in steps if not name.startswith(" "))
                    print(f"   {'together (encryption on)':<37} {together:6.1f} us")
                    raw_cpu = grpc_cpu + js_cpu
                    print(
                        f"CPU per touchpoint against the raw path's (gRPC stream {grpc_cpu:.0f} us + JetStream "
                        f"publish {js_cpu:.0f} us = {raw_cpu:.0f} us per message), target <= 2x:"
                    )
                    for label, used in (
                        ("encryption off (3b, both turns)", turn_cpu["off"] / 2),
                        ("encryption on, keys known (3c, both turns)", turn_cpu["on"] / 2),
                        ("encryption on, first sight (3)", stream_cpu),
                    ):
                        print(
                            f"   Chorus streaming, {label:<42} {used:5.0f} us = {used / raw_cpu:5.2f}x  "
                            f"({'met' if used <= 2 * raw_cpu else 'NOT met'})"
                        )

                    cpus = os.cpu_count() or 1
                    enrich_cpu = enrichment_cost(args.count)
                    floor = grpc_cpu + storing_cpu + enrich_cpu
                    print(
                        f"CPU budget of the target ({cpus} CPUs): 0.5 x {lower:.0f}/s = {0.5 * lower:.0f} touchpoints/s "
                        f"leaves {cpus / (0.5 * lower) * 1e6:.0f} us of CPU per touchpoint for client, service and "
                        f"nats-server together; streaming used {stream_cpu:.0f} us"
                    )
                    print(
                        f"   the least of it: raw gRPC streaming (client + server) {grpc_cpu:.0f} us + nats-server "
                        f"storing a message (raw publish) {storing_cpu:.0f} us + enrichment alone (VADER and rules) "
                        f"{enrich_cpu:.0f} us = {floor:.0f} us, before validation, ids, events, publishing, the "
                        f"index and the answers"
                    )
                finally:
                    stop(grpc_server, grace=None)
        finally:
            server.stop()


def _ablations(app: Any, port: int, count: int, run: str) -> dict[str, float]:
    """Streaming rates with parts of the path switched off: what each part costs (not a supported mode)."""
    from services.touchpoints import enrichment

    rates: dict[str, float] = {}
    real = app.enricher.submit
    blank = enrichment.Enrichment("", None, "", "", "", frozenset())
    app.enricher.submit = lambda signals: type(real(()))(lambda: [blank] * len(signals))
    try:
        seconds, answered, _, _ = in_child(_record_stream_client, port, count, f"{run}-a1")
        rates["without enrichment"] = answered / seconds
        runner, app.index_runner = app.index_runner, None
        runner.stop()
        seconds, answered, _, _ = in_child(_record_stream_client, port, count, f"{run}-a2")
        rates["without enrichment and index"] = answered / seconds
    finally:
        app.enricher.submit = real
    return rates


HAND_OFF_BATCH = 100
"""Items per batch the step breakdown hands to the enrichment worker processes (a stream's micro-batch)."""


def step_breakdown(app: Any, count: int, run: str) -> list[tuple[str, float]]:
    """CPU microseconds per touchpoint of each step of the service's streamed path, each step run on its own
    over ``count`` bench touchpoints in this process (one thread, no gRPC; the thread's own CPU, except for the
    publish, which the NATS client's loop thread shares): where a touchpoint's CPU goes. Stops the index runner."""
    from eventsourcing.persistence import Notification, Tracking

    from services.common.privacy.keyring import install as install_keyring
    from services.common.projections import handed_over
    from services.common.validation import violations
    from services.touchpoints import enrichment
    from services.touchpoints.application import ItemOutcome
    from services.touchpoints.domain import Touchpoint
    from services.touchpoints.grpc_api import add_results, draft_of
    from services.touchpoints.projection import TouchpointIndex, TouchpointProjection

    runner, app.index_runner = app.index_runner, None
    if runner is not None:
        runner.stop()  # it would index what the publish step appends, in this process, during the other steps
    now = time.time()
    wire = [
        pb.RecordTouchpointStreamRequest(touchpoint=touchpoint_input(n, run, occurred=now)).SerializeToString()
        for n in range(count)
    ]
    steps: list[tuple[str, float]] = []

    def step(name: str, work: Any, items: list[Any]) -> list[Any]:
        start = time.thread_time()
        out = [work(item) for item in items]
        steps.append((name, (time.thread_time() - start) / count * 1e6))
        return out

    requests = step("decode (protobuf)", pb.RecordTouchpointStreamRequest.FromString, wire)
    items = [request.touchpoint for request in requests]
    step("validate (.proto rules)", violations, items)
    drafts = step("draft (protobuf -> domain)", draft_of, items)
    moment = datetime.now(UTC)
    policy = app.policy
    step(
        "check (domain rules, id)",
        lambda d: (d.check(moment, policy.max_future_skew, policy.max_content_bytes), d.resolved_id()),
        drafts,
    )
    signals = step("signals", lambda d: app._signals(d, {}), drafts)
    start = time.thread_time()
    values = enrichment.enrich_all(signals)
    steps.append(("enrich (VADER, rules)", (time.thread_time() - start) / count * 1e6))
    pids = app.enricher.pids
    if pids:  # the same through the worker processes, in micro-batches of HAND_OFF_BATCH
        workers_before = sum(process_cpu(pid) for pid in pids)
        start = time.process_time()
        for first in range(0, count, HAND_OFF_BATCH):
            app.enricher.submit(signals[first : first + HAND_OFF_BATCH]).result()
        used = time.process_time() - start + sum(process_cpu(pid) for pid in pids) - workers_before
        steps.append((f"   of it in the worker (service + worker, {HAND_OFF_BATCH} a time)", used / count * 1e6))
    built = step(
        "event build",
        lambda pair: Touchpoint.recorded_event(
            pair[0],
            intent=pair[1].intent,
            sentiment_label=pair[1].sentiment_label,
            sentiment_score=pair[1].sentiment_score,
            sociability_degree=pair[1].sociability_degree,
            business_sociability_degree=pair[1].business_sociability_degree,
            inferred=tuple(sorted(pair[1].inferred)),
        ),
        list(zip(drafts, values, strict=True)),
    )
    batches = [built[i : i + 500] for i in range(0, count, 500)]
    previous = install_keyring(None)
    try:
        start = time.thread_time()
        for batch in batches:
            app.mapper.to_stored_events(batch)
        clear = (time.thread_time() - start) / count * 1e6
    finally:
        install_keyring(previous)
    chunks = step("encode (event -> stored, sealed)", app.mapper.to_stored_events, batches)
    steps.append(("   of it with encryption off", clear))  # beside, not in the sum: see ``together``
    stored = [event for chunk in chunks for event in chunk]
    start = time.process_time()  # this thread's and the NATS client's loop thread's (nothing else runs now)
    for chunk in chunks:
        app.recorder.insert_events(chunk)
    steps.append(("publish (atomic append, acks)", (time.process_time() - start) / count * 1e6))
    recordings = [
        SimpleNamespace(
            notification=Notification(
                id=n + 1,
                originator_id=event.originator_id,
                originator_version=event.originator_version,
                topic=event.topic,
                state=event.state,
            )
        )
        for n, event in enumerate(stored)
    ]
    handed = step(
        "hand-over to the index (decode)",
        lambda chunk: handed_over(app.name, chunk, keep_sealed=True),  # sealed, as the service hands over
        [recordings[i : i + 500] for i in range(0, count, 500)],
    )
    with tempfile.TemporaryDirectory(prefix="chorus-ingest-index-") as tmp:
        index = TouchpointIndex(f"sqlite:///{Path(tmp) / 'index.db'}")
        try:
            projection = TouchpointProjection(index)

            def index_write(events: list[Any]) -> None:
                with index.transaction(Tracking(app.name, events[-1].sequence)) as cur:
                    for event in events:
                        projection.recorded(cur, event)
                    projection.before_commit(cur)

            step("index write (document, JSON, SQLite)", index_write, handed)
        finally:
            index.close()
    outcomes = [
        ItemOutcome(n, "recorded", event.originator_id, (), tuple(sorted(v.inferred)), n)
        for n, (event, v) in enumerate(zip(built, values, strict=True))
    ]

    def answer(chunk: list[ItemOutcome]) -> bytes:
        response = pb.RecordTouchpointStreamResponse()
        add_results(response.results, chunk)
        return response.SerializeToString()

    step("answer (result, encoding)", answer, [outcomes[i : i + 500] for i in range(0, count, 500)])
    return steps


def enrichment_cost(count: int) -> float:
    """CPU microseconds ``enrichment.enrich`` takes per bench touchpoint, in this process."""
    from services.touchpoints import enrichment
    from services.touchpoints.grpc_api import draft_of

    now = time.time()
    signals = []
    for n in range(min(count, 5000)):
        draft = draft_of(touchpoint_input(n, "cost", occurred=now))
        signals.append(
            enrichment.Signals(
                text=draft.text,
                language=draft.language,
                kind=draft.kind,
                direction=draft.direction,
                visibility=draft.visibility,
                channel=draft.channel,
            )
        )
    start = time.process_time()
    enrichment.enrich_all(signals)
    return (time.process_time() - start) / len(signals) * 1e6


def _stored_event_size(app: Any, item: pb.TouchpointInput) -> int:
    """Bytes of one TouchpointRecorded event as the application's mapper stores it."""
    from services.touchpoints.domain import Touchpoint
    from services.touchpoints.grpc_api import draft_of

    touchpoint = Touchpoint.record(
        draft_of(item),
        intent="question",
        sentiment_label="neutral",
        sentiment_score=0.0,
        sociability_degree="monologue",
        business_sociability_degree="",
        inferred=("intent", "sentiment", "sociability_degree"),
    )
    stored = app.mapper.to_stored_event(touchpoint.collect_events()[0])
    return len(stored.state)


if __name__ == "__main__":
    main()

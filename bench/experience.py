"""Experience service benchmark: rebuild, GetExperience latency, freshness and memory, each beside a baseline.

    python bench/experience.py                     # 100k parties, 1M touchpoints (the issue's sizes)
    python bench/experience.py --quick             # a smoke run: 2k parties, 20k touchpoints, short phases
    python bench/experience.py --parties 20000 --touchpoints 200000 --freshness-seconds 20

Everything runs against one fresh embedded nats-server (file storage in a temporary directory). The experience
service runs in a process of its own (``multiprocessing`` spawn), composed as ``chorus serve experience``
composes it (``experience_service``: its runner, its SQLite views) with the raw ``chorus.bench.v1.EchoService``
on the same gRPC server, so its memory and its interpreter lock are its own.

1. **Seed.** ``--parties`` parties with ``--identifiers-per-party`` identifiers each, through
   ``bench.identity.seed_parties`` (the events RegisterParty + LinkIdentifier store, many parties per atomic
   save), and ``--touchpoints`` touchpoints through ``TouchpointsApplication.record_batch`` in batches of 500
   (the events RecordTouchpointBatch stores; intent, sentiment and sociability are given, so nothing is
   inferred), with the touchpoints service's index following in process. Actors are the parties' identifiers
   in other spellings (upper-case e-mail, spaced phone, ``@Handle``), spread uniformly over the parties. The
   streams are written in exactly the stored format the services write, because the services' own
   applications write them.
2. **Rebuild.** A raw JetStream ordered consumer (nats-py) reads both streams end to end, counting messages and
   their stream sequences; then the experience service starts on empty views and builds them from sequence 1
   (service start -> both upstreams applied to their ends). Both as events/s (the raw consumer reads a commit
   of several events as one message: its rate is scaled by events per message). Target >= 0.3x. Beside the
   rates, the CPU time per event of each (the bench process for the raw consumer; for the rebuild, the service's
   whole process and the processes its runner started to read the upstreams), which a machine shared with other
   work disturbs less than it disturbs the rates.
3. **GetExperience** of random parties by party id: service time (the servicer method called in the service's
   process: the view queries, the aggregation and the protobuf answer), client-observed latency over gRPC on
   127.0.0.1, and Echo's client-observed latency on the same server; p50/p99/max. Target: service time p99 < 5 ms.
4. **Freshness.** A steady ``--rate`` touchpoints/s for ``--freshness-seconds``, recorded two ways (``--load``):
   through ``TouchpointsApplication.record_batch`` in this process, the touchpoints due every 10 ms as one
   batch (acknowledged = the event store acknowledged it), and through a touchpoints service in its own process
   on one ``RecordTouchpointStream`` (acknowledged = the item's RECORDED answer reached the client). Every
   ``--probe-every``-th touchpoint is a probe for a party the steady load does not touch otherwise; from its
   acknowledgement a prober reads GetExperience of that party until its last interaction is the probe's:
   acknowledged -> visible in GetExperience, p50/p99/max. By default (``--probe wait``) the read carries the
   probe's acknowledged position as ``min_positions``, so it answers once the views have applied it, as a client
   reading its own write asks; ``--probe poll`` reads every millisecond instead (the readers' own load then
   competes with the apply). The touchpoints are made before the load is paced, so the loop does no more per
   touchpoint than a client with its touchpoints in hand. Each load prints the rate it reached (on a machine too
   busy for ``--rate`` it is lower, and the freshness is measured under that) and the CPU time per touchpoint of
   each process taking part (this one, the services, nats-server). Target: p99 < 250 ms.
5. **Peak RSS** of the experience service's process (``VmHWM``), beside its RSS when it had caught up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import multiprocessing
import queue
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc

from services.common.eventstore.codec import register_events

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.identity import ECHO, Echo, identifiers_of, seed_parties, timed
from bench.ingest import process_cpu
from chorus.bench.v1 import echo_pb2, echo_pb2_grpc
from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as xpb
from chorus.experience.v1 import experience_service_pb2_grpc as xpb_grpc
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as tpb_grpc

DAY = 86_400
TEXTS = (
    "My kettle arrived with a cracked lid and the chat closed before anyone answered. Please send a new one.",
    "Love the new kettle, boils fast and the handle stays cool. Would buy a matching toaster if you made one.",
    "How do I descale the kettle without voiding the warranty? The manual and the forum say different things.",
    "Thanks for the quick reply yesterday, the replacement filter fits perfectly and the tea tastes better.",
    "Third time asking: where is my refund? Order placed a month ago, tracking says returned, still no money.",
)
CHANNELS = (
    types.CHANNEL_EMAIL,
    types.CHANNEL_X,
    types.CHANNEL_FORUM,
    types.CHANNEL_CHAT,
    types.CHANNEL_PHONE,
    types.CHANNEL_MARKETPLACE,
    types.CHANNEL_BLOG,
)
INTENTS = (
    types.INTENT_QUESTION,
    types.INTENT_COMPLAINT,
    types.INTENT_PRAISE,
    types.INTENT_SUGGESTION,
    types.INTENT_OTHER,
)
DEGREES = (
    types.SOCIABILITY_DEGREE_MONOLOGUE,
    types.SOCIABILITY_DEGREE_VENTING,
    types.SOCIABILITY_DEGREE_SKEWED,
    types.SOCIABILITY_DEGREE_SOCIAL_PRESSURE,
    types.SOCIABILITY_DEGREE_OBJECTIVE,
)


# ---------------------------------------------------------------------------------------------------- data


def actor_of(n: int, which: int) -> types.Identifier:
    """One of party n's identifiers as a touchpoint names it: another spelling of what identity holds."""
    if which == 0:
        return types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value=f"Person{n}@Bench.Example.ORG")
    if which == 1:
        digits = f"{70000000 + n}"
        return types.Identifier(type=types.IDENTIFIER_TYPE_PHONE, value=f"+44 20 {digits[:4]} {digits[4:]}")
    if which == 2:
        return types.Identifier(type=types.IDENTIFIER_TYPE_X, value=f"@B{n}")
    if which == 3:
        return types.Identifier(type=types.IDENTIFIER_TYPE_DEVICE_ID, value=f"dev-{n}")
    return types.Identifier(type=types.IDENTIFIER_TYPE_CRM_ID, value=f"CRM-{n}", namespace="bench")


def touchpoint_input(k: int, party: int, per_party: int, occurred_us: int, run: str) -> tpb.TouchpointInput:
    """Touchpoint k of party ``party``: inbound mostly, with intent, sentiment and sociability given."""
    rnd = random.Random(k)
    outbound = k % 5 == 4
    channel = CHANNELS[k % len(CHANNELS)]
    score = round(rnd.uniform(-1, 1), 3)
    label = (
        tpb.SENTIMENT_LABEL_POSITIVE
        if score > 0.05
        else (tpb.SENTIMENT_LABEL_NEGATIVE if score < -0.05 else tpb.SENTIMENT_LABEL_NEUTRAL)
    )
    item = tpb.TouchpointInput(
        kind=types.TOUCHPOINT_KIND_NON_TOUCHPOINT
        if channel in (types.CHANNEL_BLOG, types.CHANNEL_MARKETPLACE)
        else types.TOUCHPOINT_KIND_TOUCHPOINT,
        channel=channel,
        direction=types.DIRECTION_OUTBOUND if outbound else types.DIRECTION_INBOUND,
        visibility=types.VISIBILITY_PUBLIC
        if channel in (types.CHANNEL_X, types.CHANNEL_FORUM, types.CHANNEL_BLOG, types.CHANNEL_MARKETPLACE)
        else types.VISIBILITY_PRIVATE,
        occurred_at={"seconds": occurred_us // 1_000_000, "nanos": occurred_us % 1_000_000 * 1000},
        source=tpb.Source(system="bench", external_id=f"{run}-{k}"),
        actors=[actor_of(party, k % per_party)],
        content=tpb.Content(text=TEXTS[k % len(TEXTS)], language="en"),
        audience=tpb.Audience(followers=rnd.randrange(2000)),
        sentiment=tpb.Sentiment(score=score, label=label),
        thread_id=f"thread-{k % 50_000}" if k % 7 == 0 else "",
    )
    if outbound:
        item.business_sociability_degree = types.BUSINESS_SOCIABILITY_DEGREE_BROADCAST
    else:
        item.intent = INTENTS[k % len(INTENTS)]
        item.sociability_degree = DEGREES[k % len(DEGREES)]
    return item


# ---------------------------------------------------------------------------------------------------- numbers


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 / p99 / max in milliseconds of samples in seconds."""
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else [ordered[0]] * 99
    return {"p50": cut[49] * 1000, "p99": cut[98] * 1000, "max": ordered[-1] * 1000, "n": len(ordered)}


def row(label: str, stats: dict[str, float]) -> str:
    return (
        f"  {label:<52} p50 {stats['p50']:8.2f} ms   p99 {stats['p99']:8.2f} ms   max {stats['max']:8.2f} ms"
        f"   (n={int(stats['n'])})"
    )


def memory_of(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in MiB (Linux ``/proc``)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


# ---------------------------------------------------------------------------------------------------- services
# Each runs in a spawned child process and talks to the bench through a Pipe.


def serve_experience(nats_url: str, views_url: str, apps: dict[str, str], data_dir: str, pipe: Connection) -> None:
    """The experience service as ``chorus serve experience`` composes it, plus Echo; commands over ``pipe``."""
    from services.common.config import Settings
    from services.common.grpc_runtime import create_server, stop
    from services.common.logging import configure_logging
    from services.experience.application import ExperienceSettings
    from services.experience.grpc_api import registration
    from services.experience.main import experience_service, readiness

    configure_logging("warning", "console")
    settings = Settings(nats_url=nats_url, views_url=views_url, data_dir=Path(data_dir))  # the deployment's keys
    start, start_cpu = time.perf_counter(), cpu_with_children()
    with experience_service(settings, ExperienceSettings(upstream_apps=apps)) as app:
        experience = registration(app)
        server, port = create_server(
            [experience, (echo_pb2_grpc.add_EchoServiceServicer_to_server, Echo(), ECHO)],
            readiness=lambda: readiness(app),
        )
        try:
            app.catch_up(timeout=24 * 3600)
            seconds, cpu_seconds = time.perf_counter() - start, cpu_with_children() - start_cpu
            pipe.send(
                {
                    "port": port,
                    "seconds": seconds,
                    "cpu_seconds": cpu_seconds,
                    "events": app.runner.applied_events,
                    "positions": app.applied(),
                    "memory": memory_of(),
                }
            )
            servicer = experience[1]
            while True:
                command, payload = pipe.recv()
                if command == "service_time":
                    requests = [xpb.GetExperienceRequest.FromString(data) for data in payload]
                    wall, cpu = [], []
                    for request in requests:
                        begin, begin_cpu = time.perf_counter(), time.thread_time()
                        servicer.GetExperience(request, None)
                        wall.append(time.perf_counter() - begin)
                        cpu.append(time.thread_time() - begin_cpu)
                    pipe.send((wall, cpu))
                elif command == "memory":
                    pipe.send(memory_of())
                else:
                    break
        finally:
            stop(server, grace=None)
    pipe.send("stopped")


def serve_touchpoints(nats_url: str, views_url: str, app_name: str, data_dir: str, pipe: Connection) -> None:
    """The touchpoints service as ``chorus serve touchpoints`` composes it; answers its port once its index has
    caught up with what is stored; stops when ``pipe`` says so."""
    from services.common.config import Settings
    from services.common.grpc_runtime import create_server, stop
    from services.common.logging import configure_logging
    from services.touchpoints.grpc_api import registration
    from services.touchpoints.main import TouchpointsSettings, touchpoints_service

    configure_logging("warning", "console")
    settings = Settings(nats_url=nats_url, views_url=views_url, data_dir=Path(data_dir))  # the deployment's keys
    touchpoints = TouchpointsSettings.from_env({"CHORUS_TOUCHPOINTS_APP_NAME": app_name})
    with touchpoints_service(settings, touchpoints) as app:
        start = time.perf_counter()
        app.index_runner.catch_up(timeout=24 * 3600)
        server, port = create_server([registration(app)])
        try:
            pipe.send({"port": port, "index_seconds": time.perf_counter() - start})
            pipe.recv()
        finally:
            stop(server, grace=None)


@contextlib.contextmanager
def child(target: Callable[..., None], *args: Any) -> Iterator[tuple[multiprocessing.Process, Connection]]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=target, args=(*args, theirs))  # not a daemon: services start workers
    process.start()
    try:
        yield process, ours
    finally:
        with contextlib.suppress(OSError, BrokenPipeError):
            ours.send(("stop", None))
        process.join(timeout=60)
        if process.is_alive():
            process.kill()


def answer(pipe: Connection, process: multiprocessing.Process, timeout: float) -> Any:
    """The child's next message; exits when the child died first."""
    deadline = time.monotonic() + timeout
    while not pipe.poll(1.0):
        if not process.is_alive():
            raise SystemExit(f"{process.name} exited with code {process.exitcode}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{process.name} did not answer in {timeout:.0f} s")
    return pipe.recv()


# ---------------------------------------------------------------------------------------------------- phases


@dataclass
class Seeded:
    identity_app: str
    touchpoints_app: str
    touchpoints_views: str
    parties: int
    per_party: int
    touchpoints_of: list[int]  #: how many touchpoints each party got


def seed(nats_url: str, tmp: Path, args: argparse.Namespace, rng: random.Random) -> Seeded:
    from services.common.config import Settings
    from services.identity import events as identity_events
    from services.identity.application import IdentityApplication
    from services.identity.main import IdentitySettings
    from services.touchpoints import events as touchpoint_events
    from services.touchpoints.application import TouchpointsApplication
    from services.touchpoints.events import MAPPER_TOPIC
    from services.touchpoints.grpc_api import draft_of
    from services.touchpoints.main import TouchpointsSettings, touchpoints_service

    run = uuid.uuid4().hex[:8]
    identity = IdentitySettings(app_name=f"identity_{run}")
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp / 'touchpoints.db'}", data_dir=tmp)
    register_events(identity_events.REGISTRATIONS)
    register_events(touchpoint_events.REGISTRATIONS)
    seeder = IdentityApplication(
        env=settings.eventstore_env(identity.app_name), name=identity.app_name, policy=identity.policy
    )
    start = time.perf_counter()
    for first in range(0, args.parties, 100):
        batch = range(first, min(first + 100, args.parties))
        seed_parties(seeder, [("person", f"Bench {n}", identifiers_of(n, args.identifiers_per_party)) for n in batch])
    seeder.close()
    print(
        f"seeded {args.parties} parties x {args.identifiers_per_party} identifiers through "
        f"bench.identity.seed_parties (100 parties per atomic save): {time.perf_counter() - start:.1f} s",
        flush=True,
    )

    # The probe parties (the last ones) are left out of the steady load later, but seeded like every other.
    touchpoints = TouchpointsSettings.from_env(
        {"CHORUS_TOUCHPOINTS_APP_NAME": f"touchpoints_{run}", "CHORUS_TOUCHPOINTS_ENRICHMENT_PROCESSES": "0"}
    )
    counts = [0] * args.parties
    now_us = int(time.time() * 1e6)

    def draft(k: int) -> Any:
        party = rng.randrange(args.parties)
        counts[party] += 1
        occurred = now_us - rng.randrange(365 * DAY * 1_000_000) - 60_000_000
        return draft_of(touchpoint_input(k, party, args.identifiers_per_party, occurred, run))

    start = time.perf_counter()
    with contextlib.ExitStack() as running:
        if args.load == "application":  # no touchpoints service later: the application alone, without its index
            app = TouchpointsApplication(
                env={**settings.eventstore_env(touchpoints.app_name), "MAPPER_TOPIC": MAPPER_TOPIC},
                name=touchpoints.app_name,
                policy=touchpoints.policy,
            )
            running.callback(app.close)
        else:
            app = running.enter_context(touchpoints_service(settings, touchpoints))
        # The first batch through the application itself (it also creates the stream), the rest as the same
        # messages published directly.
        first = min(500, args.touchpoints)
        report = app.record_batch([draft(k) for k in range(first)], wait=False)
        if report.counts.get("recorded", 0) != first:
            raise SystemExit(f"seeding touchpoints: {report.counts}")
        asyncio.run(publish_recorded(nats_url, app, (draft(k) for k in range(first, args.touchpoints))))
        if args.load != "application":  # the touchpoints service's own index, for the service load
            app.index_runner.catch_up(timeout=24 * 3600)
    seconds = time.perf_counter() - start
    print(
        f"seeded {args.touchpoints} touchpoints: {first} through TouchpointsApplication.record_batch, the rest "
        f"as the messages it stores (TouchpointRecorded by the application's mapper, one message per touchpoint "
        f"with its Nats-Msg-Id and expected subject sequence 0) published directly: {seconds:.1f} s "
        f"({args.touchpoints / seconds:.0f}/s)",
        flush=True,
    )
    seeded = Seeded(
        identity.app_name, touchpoints.app_name, settings.views_url, args.parties, args.identifiers_per_party, counts
    )
    (tmp / SEEDED).write_text(json.dumps({"sizes": sizes_of(args), **dataclasses.asdict(seeded)}))
    return seeded


async def publish_recorded(url: str, app: Any, drafts: Iterator[Any], window: int = 200) -> None:
    """Store each draft's ``TouchpointRecorded`` as the recorder stores a save of one new touchpoint: the
    application's mapper makes the stored event, ``encode_events`` the message, on the aggregate's subject, with
    a message id and ``Nats-Expected-Last-Subject-Sequence: 0``; acknowledgements awaited per ``window``."""
    import nats

    from services.common.eventstore import StreamLayout
    from services.common.eventstore.envelope import (
        EXPECTED_LAST_SUBJECT_SEQUENCE,
        MSG_ID_HEADER,
        encode_events,
    )
    from services.touchpoints.domain import Touchpoint

    layout = StreamLayout(app.name)
    nc = await nats.connect(url)
    js = nc.jetstream()
    call = uuid.uuid4().hex
    try:
        pending = []
        for n, draft in enumerate(drafts):
            event = Touchpoint.recorded_event(
                draft,
                intent=draft.intent,
                sentiment_label=draft.sentiment_label,
                sentiment_score=draft.sentiment_score,
                sociability_degree=draft.sociability_degree,
                business_sociability_degree=draft.business_sociability_degree,
            )
            stored = app.mapper.to_stored_event(event)
            message = encode_events(
                layout.event_subject(stored.originator_id),
                [stored],
                {MSG_ID_HEADER: f"{call}:{n}", EXPECTED_LAST_SUBJECT_SEQUENCE: "0"},
            )
            pending.append(
                js.publish(message.subject, message.data, headers=message.headers, stream=layout.stream, timeout=60)
            )
            if len(pending) >= window:
                await asyncio.gather(*pending)
                pending = []
            if n and n % 100_000 == 0:
                print(f"  {n} touchpoints", flush=True)
        await asyncio.gather(*pending)
    finally:
        await nc.close()


SEEDED = "seeded.json"


def sizes_of(args: argparse.Namespace) -> list[int]:
    return [args.parties, args.touchpoints, args.identifiers_per_party]


def reseeded(tmp: Path, args: argparse.Namespace) -> Seeded | None:
    """What an earlier run of the same sizes seeded into ``tmp`` (its streams are still there), if it did."""
    path = tmp / SEEDED
    if not path.exists():
        return None
    found = json.loads(path.read_text())
    if found.pop("sizes") != sizes_of(args):
        raise SystemExit(f"{tmp} holds streams of other sizes: use another --data-dir")
    print(f"reusing the streams seeded in {tmp} (the steady load of earlier runs is in them too)", flush=True)
    return Seeded(**found)


def cpu_with_children() -> float:
    """CPU seconds of this process and of the child processes it has waited for (the runner's reading processes)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def raw_read(url: str, streams: list[str]) -> tuple[int, float, float]:
    """(messages, seconds, CPU seconds of this process) for a raw ordered consumer per stream reading each stream
    to its end, one after another."""
    import nats

    async def run() -> tuple[int, float, float]:
        nc = await nats.connect(url)
        js = nc.jetstream()
        total = 0
        started, started_cpu = time.perf_counter(), time.process_time()
        for stream in streams:
            last = (await js.stream_info(stream)).state.last_seq
            done = asyncio.Event()
            seen = 0

            async def on_msg(msg: Any, last: int = last, done: asyncio.Event = done) -> None:
                nonlocal seen
                seen += 1
                # A projection needs each message's stream sequence (its position); the baseline reads it too.
                if msg.metadata.sequence.stream >= last:
                    done.set()

            sub = await js.subscribe(">", stream=stream, ordered_consumer=True, cb=on_msg)
            await asyncio.wait_for(done.wait(), timeout=3600)
            await sub.unsubscribe()
            total += seen
        elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        await nc.close()
        return total, elapsed, cpu

    return asyncio.run(run())


def stream_messages(url: str, streams: list[str]) -> int:
    import nats

    async def run() -> int:
        nc = await nats.connect(url)
        try:
            return sum([(await nc.jetstream().stream_info(s)).state.messages for s in streams])
        finally:
            await nc.close()

    return asyncio.run(run())


class Probes:
    """The steady load's touchpoints and its probes: which party each goes to, and when probes became visible.

    Every ``probe_every``-th touchpoint goes to a party of its own (the last seeded parties, which the steady load
    never touches otherwise), so that party's last interaction is the probe's once the views have applied it.
    The touchpoints are made before the load starts (:meth:`plan`), so the paced loop does no more per
    touchpoint than a client that has its touchpoints in hand.
    """

    PROBERS = 8  #: probes waited for at once (a waiting read blocks a prober, not the CPU)

    def __init__(
        self,
        stub: xpb_grpc.ExperienceServiceStub,
        seeded: Seeded,
        probes: list[tuple[int, str]],
        steady_parties: int,
        args: argparse.Namespace,
        rng: random.Random,
    ) -> None:
        self.stub, self.seeded, self.args, self.rng = stub, seeded, args, rng
        self.run = uuid.uuid4().hex[:8]
        self.probes = iter(probes)  #: (party number, party id), each used once
        self.steady_parties = steady_parties
        self.acked: queue.Queue[tuple[str, int, float, int] | None] = queue.Queue()
        self.visible: list[float] = []
        self.answers: list[float] = []
        self.polls: list[int] = []  #: GetExperience calls each probe took
        self.pids: dict[str, int] = {}  #: the processes whose CPU time the load is measured by, beside this one
        #: (time.perf_counter(), CPU seconds of this process, of each of pids)
        self.began: tuple[float, float, dict[str, float]] = (0.0, 0.0, {})
        self.lock = threading.Lock()
        self.probers = [threading.Thread(target=self._prober, daemon=True) for _ in range(self.PROBERS)]
        for thread in self.probers:
            thread.start()

    def plan(self, total: int, rate: float, make: Callable[[tpb.TouchpointInput], Any]) -> list[tuple[Any, Any]]:
        """The steady load's ``total`` touchpoints, each as ``make`` makes it of its ``TouchpointInput``, with, for
        a probe, (party id, occurred us): the k-th occurs at ``k / rate`` seconds after now (before it is sent,
        since the pacing starts once they are made)."""
        now_us = int(time.time() * 1e6)
        planned = []
        for k in range(total):
            item, probe = self._item(k)
            occurred = now_us + int(k * 1e6 / rate)
            item.occurred_at.seconds, item.occurred_at.nanos = occurred // 1_000_000, occurred % 1_000_000 * 1000
            planned.append((make(item), None if probe is None else (probe[0], occurred)))
        return planned

    def begin(self) -> float:
        """The load starts now: note the time and the CPU times; return the time."""
        self.began = (
            time.perf_counter(),
            time.process_time(),
            {name: process_cpu(pid) for name, pid in self.pids.items()},
        )
        return self.began[0]

    def _item(self, k: int) -> tuple[tpb.TouchpointInput, tuple[str, int] | None]:
        probe = None
        if k % self.args.probe_every == self.args.probe_every - 1 and (found := next(self.probes, None)):
            party, party_id = found
            probe = (party_id, 0)
        else:
            party = self.rng.randrange(self.steady_parties)
        item = touchpoint_input(10**9 + k, party, self.seeded.per_party, 0, self.run)
        item.direction = types.DIRECTION_INBOUND
        item.intent, item.sociability_degree = types.INTENT_QUESTION, types.SOCIABILITY_DEGREE_MONOLOGUE
        item.ClearField("business_sociability_degree")
        return item, probe

    def acknowledged(self, probe: tuple[str, int] | None, sent: float, at: float, position: int) -> None:
        """A touchpoint's record was acknowledged at ``at`` (``time.perf_counter``), stored at ``position``."""
        with self.lock:
            self.answers.append(at - sent)
        if probe is not None:
            self.acked.put((*probe, at, position))

    def _prober(self) -> None:
        """Read each acknowledged probe's party until the probe is its last interaction: with ``--probe wait``
        one GetExperience whose ``min_positions`` is the probe's position (it answers once the views have applied
        it, as a client reading its own write asks), with ``--probe poll`` GetExperience every millisecond."""
        waiting = self.args.probe == "wait"
        while (job := self.acked.get()) is not None:
            party_id, occurred_us, acked_at, position = job
            request = xpb.GetExperienceRequest(party=xpb.PartySelector(party_id=party_id))
            if waiting:
                request.min_positions.add(upstream="touchpoints", sequence=position)
            polls = 0
            while True:
                polls += 1
                seen = self.stub.GetExperience(request, timeout=60).experience.last_interaction
                if seen.seconds * 1_000_000 + seen.nanos // 1000 >= occurred_us:
                    break
                if time.perf_counter() - acked_at > 60:
                    raise SystemExit("a probe touchpoint was not visible in GetExperience after 60 s")
                time.sleep(0.001)
            with self.lock:
                self.visible.append(time.perf_counter() - acked_at)
                self.polls.append(polls)

    def finish(self) -> None:
        for _ in self.probers:
            self.acked.put(None)
        for thread in self.probers:
            thread.join()


def paced(start: float, rate: float, total: int) -> Iterator[int]:
    """0 .. total-1, the k-th yielded at start + k / rate (``time.perf_counter``)."""
    for k in range(total):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield k


def load_through_service(port: int, probes: Probes, total: int, rate: float) -> int:
    """The steady load on one RecordTouchpointStream; acknowledged = the item's RECORDED answer arrived."""
    planned = probes.plan(total, rate, lambda item: tpb.RecordTouchpointStreamRequest(touchpoint=item))
    sent_at = [0.0] * total
    start = probes.begin()

    def requests() -> Iterator[tpb.RecordTouchpointStreamRequest]:
        for k in paced(start, rate, total):
            sent_at[k] = time.perf_counter()
            yield planned[k][0]

    recorded = 0
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        for response in tpb_grpc.TouchpointServiceStub(channel).RecordTouchpointStream(requests()):
            now = time.perf_counter()
            for result in response.results:
                if result.outcome != tpb.RECORD_OUTCOME_RECORDED:
                    raise SystemExit(f"steady load: item {result.index} {tpb.RecordOutcome.Name(result.outcome)}")
                probes.acknowledged(planned[result.index][1], sent_at[result.index], now, result.position)
                recorded += 1
    return recorded


def load_through_application(nats_url: str, app_name: str, probes: Probes, total: int, rate: float) -> int:
    """The steady load through ``TouchpointsApplication.record_batch`` in this process (no gRPC, no index): every
    10 ms the touchpoints due by then, as a stream's micro-batch would be, from ``--writers`` threads;
    acknowledged = ``record_batch`` returned, i.e. the event store acknowledged the batch's events."""
    from services.common.config import Settings
    from services.touchpoints import events as touchpoint_events
    from services.touchpoints.application import TouchpointsApplication
    from services.touchpoints.events import MAPPER_TOPIC
    from services.touchpoints.grpc_api import draft_of

    register_events(
        touchpoint_events.REGISTRATIONS
    )  # as the service's composition root does (seeding may have been skipped)
    env = {**Settings(nats_url=nats_url).eventstore_env(app_name), "MAPPER_TOPIC": MAPPER_TOPIC}  # keys: main()'s
    app = TouchpointsApplication(env=env, name=app_name)
    due: queue.Queue[list[tuple[Any, float, tuple[str, int] | None]] | None] = queue.Queue()
    recorded = [0]

    def writer() -> None:
        while (batch := due.get()) is not None:
            report = app.record_batch([draft for draft, _, _ in batch], wait=False)
            now = time.perf_counter()
            for (_, sent, probe), outcome in zip(batch, report.outcomes, strict=True):
                probes.acknowledged(probe, sent, now, outcome.position)
            with probes.lock:
                recorded[0] += report.counts["recorded"]

    writers = [threading.Thread(target=writer, daemon=True) for _ in range(probes.args.writers)]
    for thread in writers:
        thread.start()
    per_batch = max(1, int(rate / 100))
    drafts = probes.plan(total, rate, draft_of)
    start = probes.begin()
    try:
        batch: list[tuple[Any, float, tuple[str, int] | None]] = []
        for k in paced(start, rate, total):
            draft, probe = drafts[k]
            batch.append((draft, time.perf_counter(), probe))
            if len(batch) >= per_batch or k == total - 1:
                due.put(batch)
                batch = []
    finally:
        for _ in writers:
            due.put(None)
        for thread in writers:
            thread.join()
        app.close()
    return recorded[0]


def freshness(
    label: str,
    load: Callable[[Probes, int, float], int],
    stub: xpb_grpc.ExperienceServiceStub,
    seeded: Seeded,
    probe_ids: list[tuple[int, str]],
    args: argparse.Namespace,
    rng: random.Random,
    pids: dict[str, int],
) -> float:
    """Run one steady load and print its rate, the CPU time per touchpoint of the processes taking part (``pids``
    and this one) and the freshness; return the freshness p99 in ms."""
    total = int(args.rate * args.freshness_seconds)
    probes = Probes(stub, seeded, probe_ids, seeded.parties - 2 * len(probe_ids), args, rng)
    probes.pids = pids
    recorded = load(probes, total, args.rate)
    start, start_cpu, start_cpus = probes.began
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    cpus = {name: process_cpu(pid) - start_cpus[name] for name, pid in pids.items()}
    probes.finish()
    print(
        f"  {label}: recorded {recorded} touchpoints in {seconds:.1f} s = {recorded / seconds:.0f}/s "
        f"(asked for {args.rate:.0f}/s)"
    )
    per_item = ", ".join(f"{name} {used / recorded * 1e6:.0f} us" for name, used in {"bench": cpu, **cpus}.items())
    print(f"  CPU time per touchpoint while loading (the load's processes): {per_item}")
    print(row("sent -> acknowledged", percentiles(probes.answers)))
    visible = percentiles(probes.visible)
    print(row("freshness: acknowledged -> visible in GetExperience", visible))
    print(
        f"  probes read with --probe {args.probe}: {statistics.mean(probes.polls):.2f} GetExperience calls per probe "
        f"on average, at most {max(probes.polls)}",
        flush=True,
    )
    return visible["p99"]


# ---------------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parties", type=int, default=100_000)
    parser.add_argument("--touchpoints", type=int, default=1_000_000)
    parser.add_argument("--identifiers-per-party", type=int, default=3, choices=range(1, 6))
    parser.add_argument("--reads", type=int, default=3000, help="GetExperience calls per latency measurement")
    parser.add_argument("--rate", type=float, default=2000.0, help="steady touchpoints/s while measuring freshness")
    parser.add_argument("--freshness-seconds", type=float, default=30.0)
    parser.add_argument("--probe-every", type=int, default=40, help="every n-th steady touchpoint is a probe")
    parser.add_argument(
        "--load",
        choices=("application", "service", "both"),
        default="both",
        help="who records the steady load (see the module docstring)",
    )
    parser.add_argument(
        "--probe",
        choices=("wait", "poll"),
        default="wait",
        help="how a probe is read: GetExperience with the probe's position as min_positions, or every 1 ms",
    )
    parser.add_argument("--writers", type=int, default=2, help="recording threads of the application load")
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes, short phases")
    parser.add_argument(
        "--data-dir",
        default="",
        help="keep the seeded streams here and reuse them on the next "
        "run of the same sizes (default: a temporary directory)",
    )
    args = parser.parse_args()
    if args.quick:
        args.parties, args.touchpoints, args.reads = min(args.parties, 2000), min(args.touchpoints, 20_000), 300
        args.freshness_seconds = min(args.freshness_seconds, 5.0)
    from services.common.config import Settings
    from services.common.logging import configure_logging
    from services.common.nats_server import NatsServer
    from services.common.privacy.keyring import open_keyring

    configure_logging("warning", "console")
    rng = random.Random(7)
    n_probes = int(args.rate * args.freshness_seconds) // args.probe_every + 1
    if n_probes * 4 > args.parties:
        raise SystemExit("too few parties for the freshness probes: raise --parties or --probe-every")

    with contextlib.ExitStack() as cleanup:
        tmp = (
            Path(args.data_dir)
            if args.data_dir
            else Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="chorus-bench-experience-")))
        )
        tmp.mkdir(parents=True, exist_ok=True)
        for stale in tmp.glob("experience.db*"):  # the experience views are built afresh by every run
            stale.unlink()
        server = NatsServer(store_dir=tmp / "nats").start()
        try:
            print(
                f"experience bench: {args.parties} parties, {args.touchpoints} touchpoints, nats {server.url}",
                flush=True,
            )
            # This process writes as identity and touchpoints do: with the deployment's keys (made in ``tmp``).
            cleanup.enter_context(open_keyring(Settings(nats_url=server.url, data_dir=tmp)))
            seeded = reseeded(tmp, args) or seed(server.url, tmp, args, rng)
            apps = {"identity": seeded.identity_app, "touchpoints": seeded.touchpoints_app}
            streams = [f"CHORUS_{app.upper()}" for app in apps.values()]
            messages = stream_messages(server.url, streams)

            # 2. Rebuild: the raw ordered consumer, then the service from empty views.
            raw_messages, raw_seconds, raw_cpu = raw_read(server.url, streams)
            if raw_messages < messages:
                raise SystemExit(f"the raw consumer read {raw_messages} of {messages} messages")
            with child(serve_experience, server.url, f"sqlite:///{tmp / 'experience.db'}", apps, str(tmp)) as (
                process,
                pipe,
            ):
                built = answer(pipe, process, 24 * 3600)
                events = built["events"]
                rebuild_rate = events / built["seconds"]
                raw_rate = raw_messages / raw_seconds * events / messages
                print(
                    f"rebuild from sequence 1: {events} events in {messages} messages "
                    f"({events / messages:.2f} events per message)"
                )
                print(
                    f"  raw JetStream ordered consumer, both streams: {raw_messages / raw_seconds:10.0f} msg/s "
                    f"= {raw_rate:10.0f} events/s ({raw_seconds:.1f} s)"
                )
                print(
                    f"  experience service, start on empty views -> caught up: {rebuild_rate:10.0f} events/s "
                    f"({built['seconds']:.1f} s), positions {built['positions']}"
                )
                raw_cpu_us, rebuild_cpu_us = (
                    raw_cpu / raw_messages * messages / events * 1e6,
                    (built["cpu_seconds"] / events * 1e6),
                )
                print(
                    f"  CPU time per event (steadier than rates on a shared machine): raw consumer "
                    f"{raw_cpu_us:.1f} us, experience service {rebuild_cpu_us:.1f} us (its whole process and the "
                    f"processes reading for it, start included); raw / rebuild {raw_cpu_us / rebuild_cpu_us:.2f}x"
                )
                print(
                    f"  rebuild / raw: {rebuild_rate / raw_rate:.2f}x (target >= 0.3x: "
                    f"{'met' if rebuild_rate >= 0.3 * raw_rate else 'NOT met'})",
                    flush=True,
                )

                # 3. GetExperience latency.
                channel = grpc.insecure_channel(f"127.0.0.1:{built['port']}")
                grpc.channel_ready_future(channel).result(timeout=30)
                stub = xpb_grpc.ExperienceServiceStub(channel)
                echo = echo_pb2_grpc.EchoServiceStub(channel)
                steady = seeded.parties - 2 * n_probes
                sample = rng.sample(range(steady), min(args.reads, steady))
                party_ids = []
                for n in sample:  # find the party ids by an identifier (also warms up)
                    selector = xpb.PartySelector(identifier=actor_of(n, 0))
                    party_ids.append(stub.GetExperience(xpb.GetExperienceRequest(party=selector)).experience.party_id)
                    echo.Echo(echo_pb2.EchoRequest(text="warm"))
                requests = [xpb.GetExperienceRequest(party=xpb.PartySelector(party_id=p)) for p in party_ids]
                pipe.send(("service_time", [r.SerializeToString() for r in requests]))
                wall, cpu = answer(pipe, process, 3600)
                service, service_cpu = percentiles(wall), percentiles(cpu)
                it = iter(requests)
                client = percentiles(timed(lambda: stub.GetExperience(next(it)), len(requests)))
                echo_request = echo_pb2.EchoRequest(text="x" * 40)
                echo_client = percentiles(timed(lambda: echo.Echo(echo_request), len(requests)))
                sizes = [seeded.touchpoints_of[n] for n in sample]
                print(
                    f"GetExperience of {len(requests)} random parties by id ({statistics.mean(sizes):.1f} "
                    f"interactions each on average, at most {max(sizes)}):"
                )
                print(row("GetExperience, service time (in the service process)", service))
                print(row("GetExperience, its CPU time (the calling thread's)", service_cpu))
                print(row("GetExperience, client-observed (gRPC)", client))
                print(row("Echo, client-observed (gRPC, same server)", echo_client))
                print(
                    f"  client-observed minus echo: p50 {client['p50'] - echo_client['p50']:.2f} ms, p99 "
                    f"{client['p99'] - echo_client['p99']:.2f} ms; service time p99 target < 5 ms: "
                    f"{'met' if service['p99'] < 5 else 'NOT met'}",
                    flush=True,
                )

                # 4. Freshness under a steady load: through the application in process, then a touchpoints service.
                probe_ids = []  # the last 2 * n_probes parties: n_probes for each load
                for n in range(steady, seeded.parties):
                    selector = xpb.PartySelector(identifier=actor_of(n, 0))
                    found = stub.GetExperience(xpb.GetExperienceRequest(party=selector)).experience.party_id
                    probe_ids.append((n, found))
                print(
                    f"freshness: steady {args.rate:.0f} touchpoints/s for {args.freshness_seconds:.0f} s, one "
                    f"probe every {args.probe_every}",
                    flush=True,
                )
                p99s = {}
                if args.load in ("application", "both"):
                    p99s["application"] = freshness(
                        "TouchpointsApplication.record_batch every 10 ms in the bench process",
                        lambda probes, total, rate: load_through_application(
                            server.url, seeded.touchpoints_app, probes, total, rate
                        ),
                        stub,
                        seeded,
                        probe_ids[:n_probes],
                        args,
                        rng,
                        {"experience": process.pid or 0, "nats-server": server.pid or 0},
                    )
                if args.load in ("service", "both"):
                    with child(
                        serve_touchpoints, server.url, seeded.touchpoints_views, seeded.touchpoints_app, str(tmp)
                    ) as (tp_process, tp_pipe):
                        started = answer(tp_pipe, tp_process, 24 * 3600)
                        print(f"  touchpoints service up (its index caught up in {started['index_seconds']:.1f} s)")
                        p99s["service"] = freshness(
                            "RecordTouchpointStream to a touchpoints service (its own process)",
                            lambda probes, total, rate: load_through_service(started["port"], probes, total, rate),
                            stub,
                            seeded,
                            probe_ids[-n_probes:],
                            args,
                            rng,
                            {
                                "experience": process.pid or 0,
                                "touchpoints": tp_process.pid or 0,
                                "nats-server": server.pid or 0,
                            },
                        )
                for load, p99 in p99s.items():
                    print(f"  freshness p99 ({load} load) target < 250 ms: {'met' if p99 < 250 else 'NOT met'}")

                # 5. Memory.
                pipe.send(("memory", None))
                memory = answer(pipe, process, 60)
                print(
                    f"experience service memory: peak RSS {memory['VmHWM']} MiB (RSS {built['memory']['VmRSS']} "
                    f"MiB when caught up, {memory['VmRSS']} MiB now)"
                )
                channel.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()

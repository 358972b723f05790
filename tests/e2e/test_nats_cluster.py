"""A real 3-node JetStream cluster under the services: nodes die during a streaming ingest, nothing acknowledged is lost.

Three nats-server processes on loopback with cluster routes, identity's and touchpoints' streams at R3, the three
services as in-process gRPC servers. The stream leader is killed (SIGKILL) while touchpoints stream in; the services report
NOT_SERVING or stay SERVING and come back by themselves; the client re-sends what was not answered, as the API
allows. The killed node is restarted and catches up, then another node is killed. Every touchpoint that was
acknowledged is there at the end, exactly once, and the experience has read both streams to their end.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import nats
from google.protobuf import timestamp_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as experience_pb
from chorus.experience.v1 import experience_service_pb2_grpc as experience_grpc
from chorus.identity.v1 import identity_service_pb2 as identity_pb
from chorus.identity.v1 import identity_service_pb2_grpc as identity_grpc
from chorus.touchpoints.v1 import touchpoint_service_pb2 as pb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as pb_grpc
from services.common.config import Settings
from services.common.nats_server import NatsServer
from services.common.testing import cluster_url, eventually, nats_cluster, running_server
from services.experience import grpc_api as experience_api
from services.experience.application import ExperienceSettings
from services.experience.main import experience_service
from services.experience.main import readiness as experience_readiness
from services.identity import grpc_api as identity_api
from services.identity.main import IdentitySettings, identity_service
from services.identity.main import readiness as identity_readiness
from services.touchpoints import grpc_api as touchpoints_api
from services.touchpoints.main import TouchpointsSettings, touchpoints_service
from services.touchpoints.main import readiness as touchpoints_readiness

RUN = uuid.uuid4().hex[:8]
NOW = timestamp_pb2.Timestamp()
NOW.FromDatetime(datetime.now(UTC).replace(microsecond=0))
ACKNOWLEDGED = {pb.RECORD_OUTCOME_RECORDED, pb.RECORD_OUTCOME_ALREADY_RECORDED}
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
FAILOVER_SECONDS = 90.0  # an upper bound on waits: each returns as soon as its condition holds
RETRY_SECONDS = 0.2
PHASE = 600  # touchpoints streamed around each node failure


def touchpoint(index: int) -> pb.TouchpointInput:
    return pb.TouchpointInput(
        kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
        channel=types.CHANNEL_CHAT,
        direction=types.DIRECTION_INBOUND,
        visibility=types.VISIBILITY_PRIVATE,
        occurred_at=NOW,
        source=pb.Source(system="livechat", external_id=f"{RUN}-{index}"),
        actors=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value=f"customer{index % 50}@example.org")],
        content=pb.Content(text="The parcel is late again, can you check where it is?", language="en"),
    )


class StreamingIngest(threading.Thread):
    """Streams touchpoints as far as :meth:`allow` lets it; after a broken stream, re-sends what was not answered."""

    def __init__(self, stub: pb_grpc.TouchpointServiceStub) -> None:
        super().__init__(name="cluster-ingest", daemon=True)
        self.stub = stub
        self.answers: dict[int, pb.RecordResult] = {}
        self.generated = 0
        self.allowed = 0
        self.broken_streams: list[grpc.StatusCode] = []
        self.stopping = threading.Event()
        self._attempt = 0
        self._more = threading.Condition()

    def allow(self, count: int) -> None:
        """Let the ingest send touchpoints up to number ``count``."""
        with self._more:
            self.allowed = count
            self._more.notify_all()

    def stop(self) -> None:
        self.stopping.set()
        with self._more:
            self._more.notify_all()

    def acknowledged(self) -> dict[int, pb.RecordResult]:
        return {index: result for index, result in list(self.answers.items()) if result.outcome in ACKNOWLEDGED}

    def _next(self, attempt: int) -> int | None:
        """The next new item's number, once allowed; None when the ingest stops or this stream was given up."""
        with self._more:
            self._more.wait_for(
                lambda: self.stopping.is_set() or self._attempt != attempt or self.generated < self.allowed
            )
            if self.stopping.is_set() or self._attempt != attempt:
                return None
            self.generated += 1
            return self.generated - 1

    def run(self) -> None:
        while True:
            with self._more:
                self._attempt += 1  # a generator of a broken stream takes no more items
                attempt = self._attempt
                self._more.notify_all()
                acknowledged = self.acknowledged()
                unanswered = [index for index in range(self.generated) if index not in acknowledged]
            if not unanswered and self.stopping.is_set():
                return
            sent: list[int] = []

            def requests(
                resend: list[int] = unanswered, sent: list[int] = sent, attempt: int = attempt
            ) -> Iterator[Any]:
                for index in resend:
                    sent.append(index)
                    yield pb.RecordTouchpointStreamRequest(touchpoint=touchpoint(index))
                while (index := self._next(attempt)) is not None:
                    sent.append(index)
                    yield pb.RecordTouchpointStreamRequest(touchpoint=touchpoint(index))

            try:
                for response in self.stub.RecordTouchpointStream(requests(), timeout=FAILOVER_SECONDS * 4):
                    for result in response.results:
                        self.answers[sent[result.index]] = result
            except grpc.RpcError as error:
                self.broken_streams.append(error.code())
                self.stopping.wait(RETRY_SECONDS)  # a client's back-off before it re-sends


class HealthWatch(threading.Thread):
    """Every status a service's gRPC health reports, in order, until stopped."""

    def __init__(self, channel: grpc.Channel, service: str) -> None:
        super().__init__(name=f"health-{service}", daemon=True)
        self.stub = health_pb2_grpc.HealthStub(channel)
        self.service = service
        self.seen: list[int] = []
        self.stopping = threading.Event()

    def current(self) -> int:
        return self.stub.Check(health_pb2.HealthCheckRequest(service=self.service), timeout=5).status

    def run(self) -> None:
        while not self.stopping.wait(0.1):
            try:
                status = self.current()
            except grpc.RpcError as error:  # the health server itself failing: recorded, and the test fails
                status = -error.code().value[0]
            if not self.seen or self.seen[-1] != status:
                self.seen.append(status)


def stream_cluster(nodes: list[NatsServer], stream: str) -> Any:
    """The stream's cluster info (leader and replicas) as a live node reports it."""

    async def ask() -> Any:
        client = await nats.connect(
            servers=[node.url for node in nodes if node.running], connect_timeout=2, allow_reconnect=False
        )
        try:
            return (await client.jetstream(timeout=2).stream_info(stream)).cluster
        finally:
            await client.close()

    try:
        return asyncio.run(ask())
    except Exception as error:  # noqa: BLE001 - no answer yet, during an election: the caller waits
        raise AssertionError(f"{stream}: {type(error).__name__}") from None


def leader_of(nodes: list[NatsServer], stream: str) -> NatsServer:
    cluster = stream_cluster(nodes, stream)
    leader = [node for node in nodes if node.running and f"chorus-{node.port}" == cluster.leader]
    assert leader, f"{stream} has no leader among the live nodes yet"
    return leader[0]


def fully_replicated(nodes: list[NatsServer], stream: str) -> None:
    cluster = stream_cluster(nodes, stream)
    assert cluster.leader, f"{stream} has no leader"
    replicas = cluster.replicas or []
    assert len(replicas) == 2 and all(peer.current and not peer.offline for peer in replicas), replicas


def jetstream_ready(nodes: list[NatsServer]) -> None:
    async def ask() -> None:
        client = await nats.connect(servers=[node.url for node in nodes], connect_timeout=2, allow_reconnect=False)
        try:
            await client.jetstream(timeout=2).account_info()
        finally:
            await client.close()

    try:
        asyncio.run(ask())
    except Exception as error:  # noqa: BLE001 - the meta leader is not elected yet
        raise AssertionError(type(error).__name__) from None


def test_a_three_node_cluster_keeps_every_acknowledged_touchpoint_while_nodes_die(tmp_path: Path) -> None:
    with nats_cluster(tmp_path / "nats") as nodes:
        eventually(lambda: jetstream_ready(nodes), timeout=FAILOVER_SECONDS)
        settings = Settings(
            nats_url=cluster_url(nodes), stream_replicas=3, views_url=f"sqlite:///{tmp_path / 'views.db'}"
        )
        identity = IdentitySettings(app_name=f"identity_cluster_{RUN}")
        touchpoints = TouchpointsSettings(app_name=f"tp_cluster_{RUN}")
        with (
            identity_service(settings, identity) as (identity_app, _projection),
            running_server(
                [identity_api.registration(identity_app)], readiness=lambda: identity_readiness(identity_app)
            ) as (identity_channel, _),
            touchpoints_service(settings, touchpoints) as touchpoints_app,
            running_server(
                [touchpoints_api.registration(touchpoints_app)],
                readiness=lambda: touchpoints_readiness(touchpoints_app),
            ) as (touchpoints_channel, _),
            experience_service(
                settings,
                ExperienceSettings(
                    upstream_apps={"identity": identity.app_name, "touchpoints": touchpoints.app_name},
                    poll_interval=0.2,
                ),
            ) as experience_app,
            running_server(
                [experience_api.registration(experience_app)], readiness=lambda: experience_readiness(experience_app)
            ) as (experience_channel, _),
            contextlib.ExitStack() as background,  # threads stop before the channels close, also on failure
        ):
            streams = [identity_app.recorder.layout.stream, touchpoints_app.recorder.layout.stream]
            for stream in streams:
                eventually(lambda stream=stream: fully_replicated(nodes, stream), timeout=FAILOVER_SECONDS)
            parties = identity_grpc.IdentityServiceStub(identity_channel)
            watches = [
                HealthWatch(identity_channel, identity_api.SERVICE_NAME),
                HealthWatch(touchpoints_channel, touchpoints_api.SERVICE_NAME),
                HealthWatch(experience_channel, experience_api.SERVICE_NAME),
            ]

            def all_serving() -> None:
                assert all(watch.current() == SERVING for watch in watches)

            def all_recovered() -> None:
                """Every status change seen so far ends in SERVING (a failure may not have been noticed yet
                when :func:`all_serving` first holds, so the final check looks at what the watches saw)."""
                assert all(watch.seen[-1:] == [SERVING] for watch in watches), [watch.seen for watch in watches]

            def register(name: str) -> str:
                def attempt() -> str:
                    try:
                        reply = parties.RegisterParty(
                            identity_pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name=name),
                            timeout=10,
                        )
                    except grpc.RpcError as error:
                        assert error.code() == grpc.StatusCode.UNAVAILABLE, error.code()
                        raise AssertionError("identity unavailable") from None
                    return reply.party.party_id

                return eventually(attempt, timeout=FAILOVER_SECONDS)

            eventually(all_serving, timeout=FAILOVER_SECONDS)
            for watch in watches:
                watch.start()
                background.callback(watch.stopping.set)
            registered = [register("before any failure")]
            ingest = StreamingIngest(pb_grpc.TouchpointServiceStub(touchpoints_channel))
            ingest.start()
            background.callback(ingest.stop)

            def acknowledged_at_least(count: int) -> None:
                assert ingest.is_alive(), "the ingest ended early"
                assert len(ingest.acknowledged()) >= count

            ingest.allow(PHASE)
            eventually(lambda: acknowledged_at_least(PHASE // 3), timeout=FAILOVER_SECONDS)
            first = leader_of(nodes, touchpoints_app.recorder.layout.stream)
            first.kill()  # mid-stream: two thirds of the phase are still to be sent or answered
            eventually(lambda: acknowledged_at_least(PHASE), timeout=FAILOVER_SECONDS)
            eventually(all_serving, timeout=FAILOVER_SECONDS)
            registered.append(register("after the first node died"))

            first.restart()
            for stream in streams:
                eventually(lambda stream=stream: fully_replicated(nodes, stream), timeout=FAILOVER_SECONDS)
            live_leader = leader_of(nodes, touchpoints_app.recorder.layout.stream)
            second = live_leader if live_leader is not first else next(n for n in nodes if n is not first)
            ingest.allow(2 * PHASE)
            eventually(lambda: acknowledged_at_least(PHASE + PHASE // 3), timeout=FAILOVER_SECONDS)
            second.kill()
            eventually(lambda: acknowledged_at_least(2 * PHASE), timeout=FAILOVER_SECONDS)
            eventually(all_serving, timeout=FAILOVER_SECONDS)
            registered.append(register("after the second node died"))

            ingest.stop()
            ingest.join(timeout=FAILOVER_SECONDS * 4)
            eventually(all_recovered, timeout=FAILOVER_SECONDS)
            for watch in watches:
                watch.stopping.set()
                watch.join(timeout=10)
            assert not ingest.is_alive()

            acknowledged = ingest.acknowledged()
            assert len(acknowledged) == ingest.generated == 2 * PHASE  # everything sent was answered
            rejected = [r for r in ingest.answers.values() if r.outcome == pb.RECORD_OUTCOME_REJECTED]
            assert rejected == []
            stub = pb_grpc.TouchpointServiceStub(touchpoints_channel)
            for index, result in acknowledged.items():
                stored = stub.GetTouchpoint(pb.GetTouchpointRequest(touchpoint_id=result.touchpoint_id), timeout=10)
                assert stored.touchpoint.source.external_id == f"{RUN}-{index}"
                events = list(touchpoints_app.recorder.select_events(uuid.UUID(result.touchpoint_id)))
                assert [event.originator_version for event in events][:1] == [1]
                assert len({event.originator_version for event in events}) == len(events)  # nothing stored twice
            for party_id in registered:
                assert parties.GetParty(identity_pb.GetPartyRequest(party_id=party_id), timeout=10).party.party_id
            for watch in watches:
                assert set(watch.seen) <= {SERVING, NOT_SERVING}, watch.seen  # health always answered

            experience = experience_grpc.ExperienceServiceStub(experience_channel)
            last = {
                "identity": identity_app.recorder.max_notification_id(),
                "touchpoints": touchpoints_app.recorder.max_notification_id(),
            }

            def caught_up() -> None:
                status = experience.GetViewsStatus(experience_pb.GetViewsStatusRequest(), timeout=10)
                assert status.healthy
                applied = {upstream.upstream: upstream.applied for upstream in status.upstreams}
                assert applied == last, (applied, last)

            eventually(caught_up, timeout=FAILOVER_SECONDS)  # the experience read both streams to their end

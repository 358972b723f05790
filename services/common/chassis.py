"""The service chassis: one description of a Chorus service, and one way to run it.

A service's ``main.py`` describes itself — its own settings, how it builds and starts its application and
projections, what it serves, when it is ready — as a :class:`ServiceDescription`, and ends with
``run(SERVICE)``. :func:`run` does the rest the same way for every service: common settings from ``CHORUS_*``,
logging, the page-token key, the gRPC server with health and reflection (readiness checked every half second),
TLS and callers' roles as configured (a server without credentials configured says ``security.open`` at
start-up), one ``<name>.started`` line, and a graceful stop on SIGTERM. A service that owns a stream names its
event store (``stream``), and :func:`run` signs checkpoints of that stream while it serves
(``services.common.audit``). Once the service is built, :func:`settle_heap` tunes the garbage collector for a
process that makes many short-lived objects per request.

The list of services that ``chorus up`` and ``chorus serve`` know lives in :mod:`services.catalog`.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog
from eventsourcing.persistence import InfrastructureFactory

from services.common import pagination
from services.common.audit import signing_checkpoints
from services.common.config import Settings
from services.common.grpc_runtime import Registration, ServerSecurity, create_server, serve
from services.common.logging import configure_logging
from services.common.privacy.keyring import vault_has_room

log = structlog.get_logger(__name__)

S = TypeVar("S")  # the service's own settings
R = TypeVar("R")  # what its running context yields (the application, and what it needs beside it)


@dataclass(frozen=True)
class ServiceDescription(Generic[S, R]):
    """What :func:`run` needs to know about a service."""

    name: str  #: ``identity``: the word in log lines and in ``chorus serve``
    port: Callable[[Settings], int]  #: its gRPC port among the common settings
    own_settings: Callable[[Mapping[str, str]], S]  #: its own ``CHORUS_<NAME>_*`` settings from the environment
    running: Callable[[Settings, S], AbstractContextManager[R]]  #: builds and starts it; stops it on exit
    registrations: Callable[[R], Sequence[Registration]]  #: the gRPC services it serves
    readiness: Callable[[R], bool]  #: whether it can do its job now (health SERVING)
    started: Callable[[S], Mapping[str, Any]] = field(default=lambda _own: {})  #: fields of the started line
    announce: Callable[[S], None] = field(default=lambda _own: None)  #: start-up remarks (missing settings...)
    #: the event store of the stream it owns, whose checkpoints it signs (``services.common.audit``); None: no stream
    stream: Callable[[R], InfrastructureFactory[Any]] | None = None


def run(service: ServiceDescription[Any, Any], environ: Mapping[str, str] | None = None) -> None:
    """Run ``service`` in the foreground until SIGTERM or SIGINT (see the module docstring)."""
    env = os.environ if environ is None else environ
    settings = Settings.from_env(env)
    configure_logging(settings.log_level, settings.log_format)
    pagination.use_secret(settings.page_token_secret)
    security = ServerSecurity.from_settings(settings)
    if security.open:
        log.warning(
            "security.open",
            tls=settings.tls,
            remark="every caller may call every method: no token public key configured and client "
            "certificates not required; open mode is for tests and chorus up --insecure only",
        )
    own = service.own_settings(env)
    service.announce(own)
    with contextlib.ExitStack() as stack:
        running = stack.enter_context(service.running(settings, own))
        if service.stream is not None:
            stack.enter_context(signing_checkpoints(service.stream(running), settings.data_dir, env))
        settle_heap()
        server, port = create_server(
            service.registrations(running),
            settings.grpc_address(service.port(settings)),
            readiness=lambda: service.readiness(running),
            security=security,
        )
        log.info(f"{service.name}.started", port=port, **service.started(own))
        serve(server, grace=settings.shutdown_grace_seconds)


GC_YOUNG_OBJECTS = 10_000
"""Objects the collector lets the young generation hold before it collects (CPython's default: 700)."""


def settle_heap() -> None:
    """Once start-up is over: what it made (modules, contracts, caches) is moved out of the collector's sight
    (``gc.freeze``), so a full collection visits only what the service made since, and the young generation may
    hold :data:`GC_YOUNG_OBJECTS` objects before a collection (a bulk request makes hundreds per item)."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG_OBJECTS, *gc.get_threshold()[1:])


def store_accepts_writes(connection: Any) -> bool:
    """What every writing service's readiness starts with: connected to NATS, and neither the event store nor the
    key vault refused its last write for want of storage (each turns back once a write finds room)."""
    return bool(connection.is_connected and not connection.out_of_space and vault_has_room())

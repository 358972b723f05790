"""The one service harness of the tests (``testing.serving``): a service started from its chassis description."""

from __future__ import annotations

import contextlib
import threading

from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.chassis import ServiceDescription
from services.common.config import Settings
from services.common.testing import eventually, serving


def _status(channel: object) -> int:
    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return reply.status


def test_a_served_description_is_started_answers_health_by_its_readiness_and_is_stopped_after() -> None:
    ready = threading.Event()
    stopped = threading.Event()

    @contextlib.contextmanager
    def running(_settings: Settings, own: str) -> object:
        try:
            yield f"{own} running"
        finally:
            stopped.set()

    description: ServiceDescription[str, str] = ServiceDescription(
        name="probe",
        port=lambda _settings: 0,
        own_settings=lambda _env: "probe",
        running=running,  # type: ignore[arg-type]
        registrations=lambda _running: [],
        readiness=lambda _running: ready.is_set(),
    )
    with serving(description, Settings(), "probe") as service:
        assert service.running == "probe running"
        assert service.address == f"127.0.0.1:{service.port}"
        assert _status(service.channel) == health_pb2.HealthCheckResponse.NOT_SERVING
        ready.set()
        eventually(lambda: _assert_serving(service.channel))
        assert not stopped.is_set()
    assert stopped.is_set()


def _assert_serving(channel: object) -> None:
    assert _status(channel) == health_pb2.HealthCheckResponse.SERVING

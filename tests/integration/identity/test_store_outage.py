"""When the event store goes away: UNAVAILABLE and NOT_SERVING, no half-applied command; back when it returns."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as pb
from chorus.identity.v1 import identity_service_pb2_grpc as pb_grpc
from services.common.config import Settings
from services.common.nats_server import NatsServer
from services.common.testing import eventually, running_server
from services.identity.grpc_api import SERVICE_NAME, registration
from services.identity.main import IdentitySettings, identity_service, readiness

T = TypeVar("T")


def answered(call: Callable[[], T]) -> T:
    """The answer of ``call`` once it stops failing (within 20 s)."""

    def check() -> T:
        try:
            return call()
        except grpc.RpcError as error:
            raise AssertionError(f"still failing: {error.code()}") from None

    return eventually(check, timeout=20)


def reaches(serving: Callable[[], int], status: int) -> None:
    """Wait until the health check answers ``status`` (within 20 s)."""

    def check() -> None:
        assert serving() == status

    eventually(check, timeout=20)


@contextlib.contextmanager
def _identity_on(
    server: NatsServer, tmp_path: Path, **store: str
) -> Iterator[tuple[pb_grpc.IdentityServiceStub, Callable[[], int]]]:
    """The identity service on ``server`` (``store`` overrides event store settings): its stub and its health."""
    settings = Settings(nats_url=server.url, views_url=f"sqlite:///{tmp_path / 'views.db'}")
    identity = IdentitySettings(app_name=f"identity_outage_{uuid.uuid4().hex[:8]}")
    env = {**settings.eventstore_env(identity.app_name), **store}
    with (
        identity_service(settings, identity, env=env) as (app, _projection),
        running_server([registration(app)], readiness=lambda: readiness(app)) as (channel, _port),
    ):
        health = health_pb2_grpc.HealthStub(channel)

        def serving() -> int:
            return health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME)).status

        yield pb_grpc.IdentityServiceStub(channel), serving


def test_an_outage_of_the_event_store_is_unavailable_and_the_service_recovers(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "nats").start()
    try:
        with _identity_on(server, tmp_path, NATS_REQUEST_TIMEOUT="1") as (stub, serving):
            jane = stub.RegisterParty(
                pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name="Jane")
            ).party.party_id
            reaches(serving, health_pb2.HealthCheckResponse.SERVING)

            server.kill()
            reaches(serving, health_pb2.HealthCheckResponse.NOT_SERVING)
            phone = types.Identifier(type=types.IDENTIFIER_TYPE_PHONE, value="+44 20 7946 0321")
            try:
                stub.LinkIdentifier(pb.LinkIdentifierRequest(party_id=jane, identifier=phone), timeout=30)
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE
            else:
                raise AssertionError("a command succeeded without an event store")

            server.restart()
            reaches(serving, health_pb2.HealthCheckResponse.SERVING)
            answered(lambda: stub.LinkIdentifier(pb.LinkIdentifierRequest(party_id=jane, identifier=phone), timeout=30))
            assert stub.ResolveIdentifier(pb.ResolveIdentifierRequest(identifier=phone)).party_id == jane
            party = stub.GetParty(pb.GetPartyRequest(party_id=jane)).party
            assert party.version == 2  # registered + linked once: nothing half-applied, nothing doubled
    finally:
        server.stop()


def test_health_follows_the_connection_and_a_command_in_an_outage_answers_at_once(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "nats").start()
    try:
        # A patient store: without the connection's own callbacks, health and commands would wait this long.
        with _identity_on(server, tmp_path, NATS_REQUEST_TIMEOUT="60") as (stub, serving):
            jane = stub.RegisterParty(pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name="Jane")).party
            reaches(serving, health_pb2.HealthCheckResponse.SERVING)

            server.kill()

            reaches(serving, health_pb2.HealthCheckResponse.NOT_SERVING)
            phone = types.Identifier(type=types.IDENTIFIER_TYPE_PHONE, value="+44 20 7946 0322")
            request = pb.LinkIdentifierRequest(party_id=jane.party_id, identifier=phone, expected_version=jane.version)
            try:
                stub.LinkIdentifier(request, timeout=20)
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE  # not DEADLINE_EXCEEDED: it did not wait
            else:
                raise AssertionError("a command succeeded without an event store")
    finally:
        server.stop()


def test_a_full_store_is_unavailable_saying_so_and_not_serving_until_a_write_succeeds(tmp_path: Path) -> None:
    store = tmp_path / "nats"
    server = NatsServer(store_dir=store, config={"jetstream": {"max_file_store": 64 * 1024}}).start()
    try:
        with _identity_on(server, tmp_path) as (stub, serving):

            def register() -> pb.RegisterPartyResponse:
                return stub.RegisterParty(
                    pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name="J" * 190), timeout=20
                )

            reaches(serving, health_pb2.HealthCheckResponse.SERVING)
            refused: grpc.RpcError | None = None
            for _ in range(2000):
                try:
                    register()
                except grpc.RpcError as error:
                    refused = error
                    break
            assert refused is not None, "the store never filled up"
            assert refused.code() == grpc.StatusCode.UNAVAILABLE
            assert "out of space" in refused.details()
            reaches(serving, health_pb2.HealthCheckResponse.NOT_SERVING)

            server.config = {}  # room again (as when the disk is cleaned up)
            server.restart()
            answered(register)
            reaches(serving, health_pb2.HealthCheckResponse.SERVING)
    finally:
        server.stop()

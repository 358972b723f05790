"""What the event store does when NATS is killed, misconfigured, too old or absent."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from eventsourcing.persistence import PersistenceError
from nats.js.api import StreamConfig

from services.common.eventstore import notification_id
from services.common.eventstore.errors import (
    NatsUnreachableError,
    ServerTooOldError,
    StreamConfigMismatchError,
)
from services.common.nats_server import NatsServer, free_port
from services.common.testing import eventually
from tests.support.eventstore import Account, new_app


@pytest.mark.slow
def test_acknowledged_saves_survive_sigkill_and_in_flight_saves_are_all_or_nothing(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "nats").start()
    try:
        app = new_app(server.url, NATS_REQUEST_TIMEOUT="1")
        acknowledged: list[uuid.UUID] = []
        attempted: list[uuid.UUID] = []
        failures: list[str] = []
        stop = threading.Event()

        def write() -> None:
            while not stop.is_set():
                account = Account(kind="person", roles=("customer",), display_name="Jane", anonymous=False)
                account.add_member("a")
                account.add_member("b")  # three events: one atomic commit
                attempted.append(account.id)
                try:
                    app.save(account)
                except PersistenceError as exc:
                    failures.append(type(exc).__name__)
                    stop.wait(0.05)  # pace the retries through the outage (orders nothing); ends at once on stop
                else:
                    acknowledged.append(account.id)

        writer = threading.Thread(target=write)
        writer.start()
        eventually(lambda: _at_least(acknowledged, 20), timeout=30)  # saves are flowing
        server.kill()  # SIGKILL while saves are in flight
        acked_before_kill = len(acknowledged)
        eventually(lambda: _at_least(failures, 1), timeout=30)  # the writer met the outage
        server.restart()
        eventually(lambda: _at_least(acknowledged, acked_before_kill + 20), timeout=60)  # and writes again
        stop.set()
        writer.join(timeout=30)
        app.close()

        reader = new_app(server.url, name=app.name)
        counts = {aid: len(reader.recorder.select_events(aid)) for aid in attempted}
        reader.close()

        assert acked_before_kill > 0
        assert len(acknowledged) > acked_before_kill, "writes resume after the restart"
        assert all(counts[aid] == 3 for aid in acknowledged), "an acknowledged save lost events"
        assert set(counts.values()) <= {0, 3}, f"half a commit was stored: {counts}"
    finally:
        server.stop()


def test_a_stream_with_another_configuration_is_refused_in_one_line(nats_url: str) -> None:
    app_name = f"mismatch_{uuid.uuid4().hex[:8]}"

    async def create_foreign_stream() -> None:
        nc = await nats.connect(nats_url)
        await nc.jetstream().add_stream(
            StreamConfig(name=f"CHORUS_{app_name.upper()}", subjects=[f"chorus.{app_name}.>"], duplicate_window=60)
        )
        await nc.close()

    asyncio.run(create_foreign_stream())
    from eventsourcing.application import Application

    from tests.support.eventstore import app_env

    class Mismatch(Application[uuid.UUID]):
        name = app_name

    with pytest.raises(StreamConfigMismatchError) as caught:
        Mismatch(env=app_env(nats_url))
    message = str(caught.value)
    assert "\n" not in message
    assert "duplicate_window: declared 120.0, found 60.0" in message
    assert "allow_atomic: declared True, found False" in message


@pytest.fixture
def pre_2_12_server() -> Iterator[str]:
    """A peer that greets like nats-server 2.10 (no atomic batches) and answers PING; nothing more."""
    port = free_port()
    listener = socket.create_server(("127.0.0.1", port))
    info = {
        "server_id": "OLD",
        "version": "2.10.22",
        "proto": 1,
        "jetstream": True,
        "headers": True,
        "max_payload": 1048576,
    }
    done = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed at teardown
                return
            conn.sendall(f"INFO {json.dumps(info)}\r\n".encode())
            conn.settimeout(2)
            try:
                while not done.is_set():
                    data = conn.recv(4096)
                    if not data:
                        break
                    if b"PING" in data:
                        conn.sendall(b"PONG\r\n")
            except OSError:
                pass
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"nats://127.0.0.1:{port}"
    done.set()
    listener.close()


def test_a_server_older_than_2_12_is_refused_with_its_version(pre_2_12_server: str) -> None:
    with pytest.raises(ServerTooOldError, match=r"version 2\.10\.22; the Chorus event store needs 2\.12 or newer"):
        new_app(pre_2_12_server)


def test_an_unreachable_nats_url_is_one_clear_error() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    with pytest.raises(NatsUnreachableError, match=f"cannot reach NATS at {url}"):
        new_app(url, NATS_CONNECT_TIMEOUT="1")


@pytest.mark.slow
def test_a_subscription_carries_on_after_the_server_restarts(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "nats").start()
    try:
        app = new_app(server.url, NATS_REQUEST_TIMEOUT="2")
        before = Account(kind="person", roles=(), display_name="before", anonymous=False)
        app.save(before)
        received: list[int] = []
        subscription = app.recorder.subscribe(gt=0)

        def consume() -> None:
            for notification in subscription:
                received.append(notification.id)

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        eventually(lambda: _equal(received, [notification_id(1)]), timeout=10)
        server.kill()
        server.restart()

        def save_after() -> None:  # the client reconnects by itself; saving works once it has (until then it fails
            after = Account(kind="person", roles=(), display_name="after", anonymous=False)  # at once; a failed save
            try:  # used up its pending events, so each attempt saves a new one)
                app.save(after)
            except PersistenceError as error:
                raise AssertionError("could not save after the restart") from error

        eventually(save_after, timeout=20, interval=0.2)
        # Promptly: the subscription re-creates its consumer on reconnect rather than waiting for the
        # client library to notice missed heartbeats (about 20 s here).
        eventually(lambda: _equal(received, [notification_id(1), notification_id(2)]), timeout=8)
        subscription.stop()
        consumer.join(timeout=5)
        app.close()
        assert received == [notification_id(1), notification_id(2)]  # one message each
    finally:
        server.stop()


def _equal(items: list[int], expected: list[int]) -> None:
    assert items == expected


def _at_least(items: list[object], count: int) -> None:
    assert len(items) >= count, f"{len(items)} of {count}"

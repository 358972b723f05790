"""The blocking publish path of the event store (``blocking.py``) against real nats-servers: a save of one
aggregate is published from the saving thread, over TLS too; refusals, conflicts, lost connections and restarts
end in the same errors as through the loop, and never in a lost acknowledged write or a duplicate."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import structlog.testing
from eventsourcing.persistence import (
    DataError,
    InfrastructureFactory,
    IntegrityError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.utils import Environment

from services.common.errors import Unavailable
from services.common.eventstore import jetstream
from services.common.eventstore.blocking import BlockingPublisher
from services.common.eventstore.connection import JetStreamConnection, redacted
from services.common.eventstore.envelope import EXPECTED_LAST_SUBJECT_SEQUENCE, MSG_ID_HEADER, OutgoingMessage
from services.common.eventstore.errors import (
    MessageTooLargeError,
    RequestTimeoutError,
    WrongLastSequenceError,
    store_errors,
)
from services.common.eventstore.layout import StreamLayout
from services.common.eventstore.recorders import JetStreamAggregateRecorder, JetStreamApplicationRecorder
from services.common.nats_server import NatsServer
from services.common.security.local_ca import ensure_local_credentials
from services.common.testing import eventually

T = TypeVar("T")


def _save(oid: uuid.UUID, count: int = 3) -> list[StoredEvent]:
    return [StoredEvent(oid, v, "chorus.test.v1.Happened", b"state-%d" % v) for v in range(1, count + 1)]


@pytest.fixture
def connection(nats_url: str) -> Iterator[JetStreamConnection]:
    conn = JetStreamConnection.open(nats_url, request_timeout=2)
    try:
        yield conn
    finally:
        conn.close()


OwnServer = tuple[NatsServer, JetStreamConnection, JetStreamApplicationRecorder]


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[OwnServer]:
    """A nats-server of the test's own, a connection to it and a recorder that has saved once (a pooled link)."""
    server = NatsServer(store_dir=tmp_path / "nats").start()
    conn = JetStreamConnection.open(server.url, request_timeout=1)
    try:
        recorder = _recorder(conn)
        recorder.insert_events(_save(uuid.uuid4()))
        yield server, conn, recorder
    finally:
        conn.close()
        server.stop()


def _recorder(conn: JetStreamConnection, name: str = "") -> JetStreamApplicationRecorder:
    return JetStreamApplicationRecorder(conn, StreamLayout(name or f"blocking_{uuid.uuid4().hex[:8]}"))


def _publisher(conn: JetStreamConnection) -> BlockingPublisher:
    publisher = conn._publisher  # the tests look at the pool behind the connection
    assert publisher is not None
    return publisher


def test_a_save_of_one_aggregate_is_published_on_a_pooled_connection_of_the_saving_thread(
    connection: JetStreamConnection,
) -> None:
    recorder = _recorder(connection)
    oid = uuid.uuid4()
    ids = recorder.insert_events(_save(oid))
    assert _publisher(connection).open_connections == 1
    recorder.insert_events(_save(uuid.uuid4()))
    assert _publisher(connection).open_connections == 1, "the idle connection is used again"
    assert [e.originator_version for e in recorder.select_events(oid)] == [1, 2, 3]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_a_save_of_many_aggregates_is_one_atomic_batch_on_a_pooled_connection_of_the_saving_thread(
    connection: JetStreamConnection,
) -> None:
    recorder = _recorder(connection)
    oids = [uuid.uuid4() for _ in range(5)]
    ids = recorder.insert_events([event for oid in oids for event in _save(oid)])
    assert _publisher(connection).open_connections == 1, "published from the saving thread, not the loop"
    assert ids == sorted(ids) and len(set(ids)) == 15
    assert all([e.originator_version for e in recorder.select_events(oid)] == [1, 2, 3] for oid in oids)
    stale = JetStreamApplicationRecorder(connection, recorder.layout)  # knows no positions: expects new subjects
    with pytest.raises(IntegrityError):
        stale.insert_events([*_save(uuid.uuid4()), StoredEvent(oids[-1], 2, "chorus.test.v1.Happened", b"again")])
    assert _publisher(connection).open_connections == 1, "a refused batch keeps the connection"
    assert len(recorder.select_notifications(start=None, limit=100)) == 15, "the refused batch stored nothing"


def test_a_refusal_by_jetstream_raises_its_typed_error_and_keeps_the_connection(
    connection: JetStreamConnection,
) -> None:
    recorder = _recorder(connection)
    publisher = _publisher(connection)
    subject = recorder.layout.event_subject(uuid.uuid4())
    with pytest.raises(WrongLastSequenceError):
        publisher.publish(subject, b"x", {EXPECTED_LAST_SUBJECT_SEQUENCE: "7", MSG_ID_HEADER: uuid.uuid4().hex})
    assert publisher.open_connections == 1
    assert publisher.publish(subject, b"x", {EXPECTED_LAST_SUBJECT_SEQUENCE: "0"})["seq"] >= 1  # type: ignore[index]


def test_a_line_break_in_a_header_value_adds_no_header_on_the_blocking_path(connection: JetStreamConnection) -> None:
    recorder = _recorder(connection)
    subject = recorder.layout.event_subject(uuid.uuid4())
    _publisher(connection).publish_batch(
        [(subject, b"x", {"Chorus-Note": "a\r\nChorus-Forged: 1", MSG_ID_HEADER: uuid.uuid4().hex})]
    )
    stored = connection.call(lambda: connection.last_message(recorder.layout.stream, subject))
    assert stored is not None and "Chorus-Forged" not in stored.headers
    assert stored.headers["Chorus-Note"] == "a  Chorus-Forged: 1"


def test_a_subject_no_stream_holds_is_a_timeout_at_once(connection: JetStreamConnection) -> None:
    with pytest.raises(RequestTimeoutError, match="no responders"):
        _publisher(connection).publish(f"nowhere.{uuid.uuid4().hex}", b"x", {})


def test_many_threads_saving_the_same_versions_store_each_once_and_the_rest_conflict(
    connection: JetStreamConnection,
) -> None:
    layout = StreamLayout(f"blocking_{uuid.uuid4().hex[:8]}")
    recorders = [JetStreamAggregateRecorder(connection, layout) for _ in range(12)]  # each its own position cache
    oid = uuid.uuid4()
    start = threading.Barrier(len(recorders))
    outcomes: list[str] = []

    def write(recorder: JetStreamAggregateRecorder) -> None:
        start.wait()
        try:
            recorder.insert_events(_save(oid))
        except IntegrityError:
            outcomes.append("conflict")
        else:
            outcomes.append("stored")

    threads = [threading.Thread(target=write, args=(r,)) for r in recorders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict"] * (len(recorders) - 1) + ["stored"]
    assert [e.originator_version for e in recorders[0].select_events(oid)] == [1, 2, 3]
    assert 1 <= _publisher(connection).open_connections <= _publisher(connection).max_connections


def test_threads_beyond_the_pools_cap_publish_through_the_loop(nats_url: str) -> None:
    conn = JetStreamConnection.open(nats_url, publish_connections=2)
    try:
        recorder = _recorder(conn)
        saves = [_save(uuid.uuid4()) for _ in range(40)]
        threads = [threading.Thread(target=recorder.insert_events, args=(save,)) for save in saves]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert _publisher(conn).open_connections <= 2
        stored = {n.originator_id for n in recorder.select_notifications(start=None, limit=1000)}
        assert stored == {save[0].originator_id for save in saves}
    finally:
        conn.close()


class _FakeServer:
    """A NATS server stand-in on a port of its own: each client connection is served by ``_serve`` on a thread."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.clients: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.clients.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.listener.close()
        for client in self.clients:
            client.close()


class _Proxy(_FakeServer):
    """A TCP proxy to a nats-server. ``new_connections``: ``"pass"`` forwards the connections accepted from now on,
    ``"hold"`` keeps them open and never answers (a black hole), ``"close"`` hangs up at once; ``advertise``: the
    ``connect_urls`` it adds to the server's INFO, as a cluster would."""

    def __init__(self, upstream_port: int, *, advertise: tuple[str, ...] = ()) -> None:
        self.upstream_port = upstream_port
        self.advertise = advertise
        self.new_connections = "pass"
        super().__init__()

    def _serve(self, client: socket.socket) -> None:
        if self.new_connections == "close":
            client.close()
        if self.new_connections != "pass":
            return
        server = socket.create_connection(("127.0.0.1", self.upstream_port))
        published = threading.Event()
        threading.Thread(target=self._pump, args=(client, server, published, False), daemon=True).start()
        self._pump(server, client, published, True)

    def _pump(self, source: socket.socket, sink: socket.socket, published: threading.Event, replies: bool) -> None:
        first = replies
        try:
            while chunk := source.recv(65536):
                if first and self.advertise:
                    line, _, rest = chunk.partition(b"\r\n")
                    info = json.loads(line.partition(b" ")[2]) | {"connect_urls": list(self.advertise)}
                    chunk = b"INFO %s\r\n%s" % (json.dumps(info).encode(), rest)
                first = False
                if not replies and b"HPUB " in chunk:
                    published.set()
                if replies and published.is_set() and b"MSG _INBOX." in chunk:
                    verdict = self._reply()
                    if verdict == "swallow":
                        continue
                    if verdict == "hang up":
                        break
                sink.sendall(chunk)
        except OSError:
            pass
        for sock in (source, sink):
            sock.close()

    def _reply(self) -> str:
        """What becomes of a reply to a connection that published with headers: pass, swallow or hang up."""
        return "pass"


class _DropFirstAck(_Proxy):
    """A proxy that loses the first reply the server sends on a connection that published with headers: the write
    is stored, its ack lost. ``swallow``: the connection stays open and the ack never comes; else the proxy closes
    the connection instead of passing the ack on. ``then``: what becomes of the connections accepted after."""

    def __init__(self, upstream_port: int, *, swallow: bool = False, then: str = "pass") -> None:
        self.swallow = swallow
        self.then = then
        self.dropped = threading.Event()
        super().__init__(upstream_port)

    def _reply(self) -> str:
        if self.dropped.is_set():
            return "pass"
        self.new_connections = self.then
        self.dropped.set()
        return "swallow" if self.swallow else "hang up"


class _Silent(_FakeServer):
    """Accepts connections and never answers."""

    def _serve(self, client: socket.socket) -> None:
        pass


def _in_time(save: Callable[[], T]) -> T:
    """``save()`` on a thread, which must end long before the connect timeout of an hour the tests set."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(save())
        except BaseException as exc:  # noqa: BLE001 - the caller sees it
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the save waited for the connect timeout"
    if failure:
        raise failure[0]
    return outcome[0]


def test_a_black_hole_listed_first_delays_a_save_by_its_share_of_the_request_timeout_not_the_connect_timeout(
    nats_url: str,
) -> None:
    upstream = int(nats_url.rsplit(":", 1)[1])
    proxy = _Proxy(upstream)  # forwards while nats-py connects, to it or to the server itself
    conn = JetStreamConnection.open(
        f"nats://127.0.0.1:{proxy.port},{nats_url}", request_timeout=0.5, connect_timeout=3600
    )
    try:
        recorder = _recorder(conn)
        proxy.new_connections = "hold"
        oid = uuid.uuid4()
        ids = _in_time(lambda: recorder.insert_events(_save(oid)))
        assert [n.id for n in recorder.select_notifications(start=None, limit=100)] == list(ids or [])
    finally:
        conn.close()
        proxy.close()


def test_a_publisher_whose_servers_never_answer_gives_up_opening_by_the_request_timeout() -> None:
    holes = [_Silent() for _ in range(3)]
    publisher = BlockingPublisher(
        [f"nats://127.0.0.1:{hole.port}" for hole in holes], request_timeout=0.5, connect_timeout=3600
    )
    try:
        assert _in_time(lambda: publisher.publish("chorus.test.e.x", b"x", {})) is None, "the caller uses the loop"
        assert publisher.open_connections == 0
    finally:
        publisher.close()
        for hole in holes:
            hole.close()


def test_a_save_goes_through_the_loop_while_no_blocking_connection_can_be_opened(nats_url: str) -> None:
    proxy = _Proxy(int(nats_url.rsplit(":", 1)[1]))
    conn = JetStreamConnection.open(f"nats://127.0.0.1:{proxy.port}", request_timeout=0.5)
    try:
        recorder = _recorder(conn)
        _publisher(conn).retry_open_after = 3600
        proxy.new_connections = "close"  # nats-py keeps the connection it has
        first, second = uuid.uuid4(), uuid.uuid4()
        recorder.insert_events(_save(first))
        tried = len(proxy.clients)
        recorder.insert_events(_save(second))
        assert len(proxy.clients) == tried, "the second save did not try to open a connection again"
        assert _publisher(conn).open_connections == 0
        assert len(recorder.select_events(first)) == len(recorder.select_events(second)) == 3
    finally:
        conn.close()
        proxy.close()


class _SwallowsAcks(_Proxy):
    """A proxy that, once ``swallowing`` is set, passes no reply on to a connection that published with headers."""

    swallowing = False

    def _reply(self) -> str:
        return "swallow" if self.swallowing else "pass"


def test_a_save_whose_every_attempt_fails_tries_to_open_a_blocking_connection_once(nats_url: str) -> None:
    proxy = _SwallowsAcks(int(nats_url.rsplit(":", 1)[1]))
    conn = JetStreamConnection.open(f"nats://127.0.0.1:{proxy.port}", request_timeout=0.5, connect_timeout=3600)
    try:
        recorder = _recorder(conn)
        proxy.new_connections = "hold"
        proxy.swallowing = True  # nats-py's connection stays but its publishes are not acknowledged either
        tried = len(proxy.clients)
        with pytest.raises(OperationalError):
            _in_time(lambda: recorder.insert_events(_save(uuid.uuid4())))
        assert len(proxy.clients) == tried + 1, "the retries went through the loop at once"
    finally:
        conn.close()
        proxy.close()


def test_a_save_whose_ack_was_lost_is_retried_through_the_loop_when_no_new_connection_opens_and_stored_once(
    nats_url: str,
) -> None:
    proxy = _DropFirstAck(int(nats_url.rsplit(":", 1)[1]), swallow=True, then="hold")
    conn = JetStreamConnection.open(f"nats://127.0.0.1:{proxy.port}", request_timeout=0.5, connect_timeout=3600)
    try:
        recorder = _recorder(conn)
        with structlog.testing.capture_logs() as logs:
            ids = _in_time(lambda: recorder.insert_events(_save(uuid.uuid4())))
        assert proxy.dropped.is_set()
        assert [entry["event"] for entry in logs].count("eventstore.publish_retry") == 1
        assert [n.id for n in recorder.select_notifications(start=None, limit=100)] == list(ids or [])
    finally:
        conn.close()
        proxy.close()


def test_a_server_the_cluster_advertised_takes_the_blocking_connections_when_the_configured_one_refuses(
    nats_url: str,
) -> None:
    upstream = int(nats_url.rsplit(":", 1)[1])
    proxy = _Proxy(upstream, advertise=(f"127.0.0.1:{upstream}",))
    conn = JetStreamConnection.open(f"nats://127.0.0.1:{proxy.port}", request_timeout=2)
    try:
        assert conn.client.discovered_servers, "nats-py learned the advertised server"
        recorder = _recorder(conn)
        proxy.new_connections = "close"
        oid = uuid.uuid4()
        recorder.insert_events(_save(oid))
        assert _publisher(conn).open_connections == 1, "published on a blocking connection to the advertised server"
        assert len(recorder.select_events(oid)) == 3
    finally:
        conn.close()
        proxy.close()


def test_a_connection_lost_before_the_ack_is_retried_on_a_new_one_and_stored_once(nats_url: str) -> None:
    upstream = int(nats_url.rsplit(":", 1)[1])
    proxy = _DropFirstAck(upstream)
    conn = JetStreamConnection.open(f"nats://127.0.0.1:{proxy.port}", request_timeout=2)
    try:
        recorder = _recorder(conn)
        oid = uuid.uuid4()
        ids = recorder.insert_events(_save(oid))
        assert proxy.dropped.is_set(), "the first acknowledgement was lost on the way"
        assert [e.originator_version for e in recorder.select_events(oid)] == [1, 2, 3]
        stored = recorder.select_notifications(start=None, limit=100)
        assert [n.id for n in stored] == list(ids or []), "stored once, with the ids the save returned"
    finally:
        conn.close()
        proxy.close()


def test_an_ack_that_never_comes_is_a_timeout_and_the_retry_is_stored_once(nats_url: str) -> None:
    proxy = _DropFirstAck(int(nats_url.rsplit(":", 1)[1]), swallow=True)
    conn = JetStreamConnection.open(f"nats://127.0.0.1:{proxy.port}", request_timeout=0.5)
    try:
        recorder = _recorder(conn)
        oid = uuid.uuid4()
        with structlog.testing.capture_logs() as logs:
            ids = recorder.insert_events(_save(oid))
        assert proxy.dropped.is_set()
        assert [entry["event"] for entry in logs].count("eventstore.publish_retry") == 1
        assert [n.id for n in recorder.select_notifications(start=None, limit=100)] == list(ids or [])
        assert _publisher(conn).open_connections == 1, "the connection that timed out was dropped"
    finally:
        conn.close()
        proxy.close()


def test_saves_from_many_threads_across_a_server_restart_are_stored_whole_once_or_fail_unavailable(
    tmp_path: Path,
) -> None:
    server = NatsServer(store_dir=tmp_path / "nats").start()
    try:
        conn = JetStreamConnection.open(server.url, request_timeout=1)
        recorder = _recorder(conn, "restart")
        acknowledged: list[uuid.UUID] = []
        attempted: list[uuid.UUID] = []
        unavailable: list[str] = []
        stop = threading.Event()

        def write() -> None:
            while not stop.is_set():
                oid = uuid.uuid4()
                attempted.append(oid)
                try:
                    with store_errors():
                        recorder.insert_events(_save(oid))
                except Unavailable as exc:
                    unavailable.append(str(exc))
                    stop.wait(0.05)  # pace the retries through the outage (orders nothing); ends at once on stop
                else:
                    acknowledged.append(oid)

        writers = [threading.Thread(target=write) for _ in range(6)]
        for writer in writers:
            writer.start()
        eventually(lambda: _at_least(acknowledged, 30), timeout=30)
        server.kill()  # mid-save: every writer is in a publish or about to be
        before = len(acknowledged)
        eventually(lambda: _at_least(unavailable, 1), timeout=30)
        server.restart()
        eventually(lambda: _at_least(acknowledged, before + 30), timeout=60)
        stop.set()
        for writer in writers:
            writer.join(timeout=30)

        by_subject: dict[str, int] = {}
        for notification in recorder.select_notifications(start=None, limit=100_000):
            by_subject[notification.originator_id] = by_subject.get(notification.originator_id, 0) + 1
        conn.close()
        assert all(by_subject.get(oid) == 3 for oid in acknowledged), "an acknowledged save lost events"
        assert set(by_subject.values()) <= {3}, "a save was stored twice or in part"
        assert set(by_subject) <= set(attempted)
    finally:
        server.stop()


def test_a_save_to_a_stopped_server_fails_as_unavailable(own_server: OwnServer) -> None:
    server, _, recorder = own_server
    server.stop()
    with pytest.raises(OperationalError):
        recorder.insert_events(_save(uuid.uuid4()))
    with pytest.raises(Unavailable), store_errors():
        recorder.insert_events(_save(uuid.uuid4()))


def test_a_tls_server_is_published_to_over_tls_on_the_blocking_path(tmp_path: Path) -> None:
    credentials = ensure_local_credentials(tmp_path / "credentials", ["nats"])
    tls = {"cert_file": str(credentials.cert("nats")), "key_file": str(credentials.key("nats"))}
    server = NatsServer(store_dir=tmp_path / "nats", config={"tls": tls}).start()
    context = ssl.create_default_context(cafile=str(credentials.ca))
    try:
        url = f"tls://127.0.0.1:{server.port}"
        conn = JetStreamConnection.open(url, tls=context)
        try:
            recorder = _recorder(conn)
            oid = uuid.uuid4()
            recorder.insert_events(_save(oid))
            assert _publisher(conn).open_connections == 1
            assert [e.originator_version for e in recorder.select_events(oid)] == [1, 2, 3]
        finally:
            conn.close()
        untrusted = BlockingPublisher([url], request_timeout=2, tls=ssl.create_default_context)
        with structlog.testing.capture_logs() as logs:
            assert untrusted.publish(recorder.layout.event_subject(uuid.uuid4()), b"x", {}) is None
        assert [entry["reason"] for entry in logs] == ["SSLCertVerificationError"]
    finally:
        server.stop()


def _at_least(items: list[object], count: int) -> None:
    assert len(items) >= count


def test_an_idle_connection_the_server_dropped_is_replaced_before_a_save_uses_it(own_server: OwnServer) -> None:
    server, conn, recorder = own_server
    server.restart()  # the pooled connection now reads end-of-stream
    eventually(lambda: _connected(conn), timeout=30)
    with structlog.testing.capture_logs() as logs:
        recorder.insert_events(_save(uuid.uuid4()))
    assert [entry["event"] for entry in logs if entry["event"] == "eventstore.publish_retry"] == []
    assert _publisher(conn).open_connections == 1


def test_no_publish_connections_sends_every_save_through_the_loop(nats_url: str) -> None:
    env = Environment("noblocking", {"PERSISTENCE_MODULE": jetstream.__name__, "NATS_URL": nats_url})
    env["NATS_PUBLISH_CONNECTIONS"] = "0"
    factory = InfrastructureFactory.construct(env)
    try:
        recorder = factory.application_recorder()
        oid = uuid.uuid4()
        recorder.insert_events(_save(oid))
        assert factory.connection._publisher is None  # type: ignore[attr-defined]
        assert len(recorder.select_events(oid)) == 3
    finally:
        factory.close()


def _connected(conn: JetStreamConnection) -> None:
    assert conn.is_connected


def test_a_message_its_headers_take_over_the_servers_limit_is_too_large_and_the_connection_is_kept(
    connection: JetStreamConnection,
) -> None:
    publisher = _publisher(connection)
    subject = _recorder(connection).layout.event_subject(uuid.uuid4())
    limit = connection.max_payload
    with pytest.raises(MessageTooLargeError):
        publisher.publish(subject, b"x" * (limit - 8), {MSG_ID_HEADER: uuid.uuid4().hex})
    assert publisher.open_connections == 1, "nothing was sent: the connection stays"
    assert publisher.publish(subject, b"x", {})["seq"] >= 1  # type: ignore[index]


def test_a_token_in_the_url_authenticates_the_blocking_path_and_shows_in_no_error_text(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "nats", config={"authorization": {"token": "s3cret-token"}}).start()
    try:
        conn = JetStreamConnection.open(f"nats://s3cret-token@127.0.0.1:{server.port}", request_timeout=2)
        try:
            recorder = _recorder(conn)
            recorder.insert_events(_save(uuid.uuid4()))
            assert _publisher(conn).open_connections == 1
            assert "s3cret-token" not in conn.url
        finally:
            conn.close()
        wrong = BlockingPublisher(
            [f"nats://wrong-token@127.0.0.1:{server.port}"],
            request_timeout=2,
            describe=f"NATS at {redacted(f'nats://wrong-token@127.0.0.1:{server.port}')}",
        )
        with structlog.testing.capture_logs() as logs:
            assert wrong.publish(recorder.layout.event_subject(uuid.uuid4()), b"x", {}) is None, "the loop's turn"
        assert ["Authorization Violation" in entry["reason"] for entry in logs] == [True]
        assert "wrong-token" not in repr(logs)
    finally:
        server.stop()


def test_a_publish_through_the_loop_that_is_not_acknowledged_names_no_subject(nats_url: str) -> None:
    proxy = _DropFirstAck(int(nats_url.rsplit(":", 1)[1]), swallow=True)
    conn = JetStreamConnection.open(f"nats://127.0.0.1:{proxy.port}", request_timeout=0.5, publish_connections=0)
    try:
        subject = _recorder(conn).layout.event_subject(uuid.uuid4())
        with pytest.raises(RequestTimeoutError) as lost:
            conn.publish([OutgoingMessage(subject, b"x", {MSG_ID_HEADER: uuid.uuid4().hex})])
        assert proxy.dropped.is_set()
        assert subject.rsplit(".", 1)[-1] not in str(lost.value)
    finally:
        conn.close()
        proxy.close()


def test_a_password_with_a_percent_sign_authenticates_the_blocking_path_as_it_does_the_loop(tmp_path: Path) -> None:
    users = {"users": [{"user": "chorus", "password": "pa%41ss"}]}  # nats-py sends the URL's userinfo as written
    server = NatsServer(store_dir=tmp_path / "nats", config={"authorization": users}).start()
    try:
        conn = JetStreamConnection.open(f"nats://chorus:pa%41ss@127.0.0.1:{server.port}", request_timeout=2)
        try:
            recorder = _recorder(conn)
            oid = uuid.uuid4()
            recorder.insert_events(_save(oid))
            assert _publisher(conn).open_connections == 1
            assert len(recorder.select_events(oid)) == 3
        finally:
            conn.close()
    finally:
        server.stop()


class _StopsReading(_FakeServer):
    """Connects a client (INFO with a large ``max_payload``, PONG) and then reads nothing more: a large publish
    fills the socket buffers and its send blocks."""

    def _serve(self, client: socket.socket) -> None:
        client.sendall(b'INFO {"max_payload": 67108864, "headers": true}\r\n')
        received = b""
        with contextlib.suppress(OSError):
            while b"PING\r\n" not in received:
                received += client.recv(65536)
            client.sendall(b"PONG\r\n")


def test_a_publish_whose_send_blocks_ends_by_the_request_timeout_not_the_connect_timeout() -> None:
    server = _StopsReading()
    publisher = BlockingPublisher([f"nats://127.0.0.1:{server.port}"], request_timeout=0.5, connect_timeout=3600)
    outcome: list[BaseException] = []

    def publish() -> None:
        try:
            publisher.publish("chorus.test.e.x", b"x" * 48_000_000, {})
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            outcome.append(exc)

    thread = threading.Thread(target=publish, daemon=True)
    try:
        thread.start()
        thread.join(timeout=60)  # the connect timeout is an hour: only the request timeout ends the send
        assert not thread.is_alive(), "the send waited for the connect timeout"
        assert [type(exc) for exc in outcome] == [RequestTimeoutError]
        assert publisher.open_connections == 0
    finally:
        server.close()
        publisher.close()


def test_a_message_its_headers_take_over_the_limit_is_too_large_through_the_loop_too(nats_url: str) -> None:
    conn = JetStreamConnection.open(nats_url, request_timeout=1, publish_connections=0)
    try:
        subject = _recorder(conn).layout.event_subject(uuid.uuid4())
        message = OutgoingMessage(subject, b"x" * (conn.max_payload - 8), {MSG_ID_HEADER: uuid.uuid4().hex})
        with pytest.raises(MessageTooLargeError):
            conn.publish([message])
        assert conn.publish([OutgoingMessage(subject, b"x", {})])[0] >= 1
    finally:
        conn.close()


def test_the_loop_counts_a_messages_headers_in_utf_8_bytes_to_the_limit_exactly(nats_url: str) -> None:
    conn = JetStreamConnection.open(nats_url, request_timeout=5, publish_connections=0)
    try:
        subject = _recorder(conn).layout.event_subject(uuid.uuid4())
        headers = {MSG_ID_HEADER: "é€" * 20}  # 100 bytes in UTF-8, 40 characters
        framing = len(b"NATS/1.0\r\n\r\n") + len(f"{MSG_ID_HEADER}: \r\n") + 100
        at_limit = OutgoingMessage(subject, b"x" * (conn.max_payload - framing), headers)
        assert conn.publish([at_limit])[0] >= 1
        over = OutgoingMessage(subject, b"x" * (conn.max_payload - framing + 1), {MSG_ID_HEADER: "é€" * 20 + "1"})
        with pytest.raises(MessageTooLargeError):
            conn.publish([over])
    finally:
        conn.close()


def test_a_save_of_two_aggregates_with_one_event_over_the_limit_is_a_data_error_and_nothing_is_stored(
    connection: JetStreamConnection,
) -> None:
    recorder = _recorder(connection)
    small, large = uuid.uuid4(), uuid.uuid4()
    events = [*_save(small, 1), StoredEvent(large, 1, "chorus.test.v1.Happened", b"x" * connection.max_payload)]
    with pytest.raises(DataError):
        recorder.insert_events(events)
    assert recorder.select_events(small) == []
    assert len(recorder.insert_events(_save(small, 1)) or []) == 1


class _GarblesWhileIdle(_FakeServer):
    """Acknowledges the first publish and then sends a line no NATS server sends."""

    def __init__(self) -> None:
        self.garbled = threading.Event()
        super().__init__()

    def _serve(self, client: socket.socket) -> None:
        client.sendall(b'INFO {"max_payload": 1048576, "headers": true}\r\n')
        received = b""
        try:
            while chunk := client.recv(65536):
                received += chunk
                if b"PING\r\n" in received:
                    received = received.replace(b"PING\r\n", b"", 1)
                    client.sendall(b"PONG\r\n")
                if b"HPUB " in received and received.endswith(b"\r\n\r\nx\r\n"):
                    reply = received.split(b"HPUB ", 1)[1].split(b" ")[1]
                    ack = b'{"stream": "S", "seq": 1}'
                    client.sendall(b"MSG %s 1 %d\r\n%s\r\nMSG %s 1 garbled\r\n" % (reply, len(ack), ack, reply))
                    self.garbled.set()
                    received = b""
        except OSError:
            pass


def test_an_idle_connection_that_reads_garbage_is_dropped_and_replaced_not_leaked() -> None:
    server = _GarblesWhileIdle()
    publisher = BlockingPublisher([f"nats://127.0.0.1:{server.port}"], request_timeout=2, max_connections=1)
    try:
        assert publisher.publish("chorus.test.e.x", b"x", {}) == {"stream": "S", "seq": 1}
        assert server.garbled.wait(timeout=10)
        assert publisher.publish("chorus.test.e.x", b"x", {}) == {"stream": "S", "seq": 1}
        assert len(server.clients) == 2, "the garbled connection was replaced by a new one"
        assert publisher.open_connections == 1
    finally:
        server.close()
        publisher.close()


def test_an_idle_connection_on_a_descriptor_above_1023_is_checked_and_used_again(nats_url: str) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1100:
        if hard != resource.RLIM_INFINITY and hard < 1100:
            pytest.skip("the process may not open 1100 files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (1100, hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1030)]  # a busy server's descriptors
    publisher = BlockingPublisher([nats_url], request_timeout=2)
    try:
        conn = JetStreamConnection.open(nats_url, publish_connections=0)
        try:
            subject = _recorder(conn).layout.event_subject(uuid.uuid4())
        finally:
            conn.close()
        publisher.publish(subject, b"x", {})
        assert publisher.publish(subject, b"x", {})["seq"] == 2  # type: ignore[index]
        assert publisher.open_connections == 1
    finally:
        publisher.close()
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_batches_in_flight_at_once_through_the_loop_and_the_blocking_links_stay_within_the_bound(
    nats_url: str,
) -> None:
    """JetStream refuses a stream's batches beyond its in-flight limit: the loop's slots and the blocking links
    that may carry a batch share the connection's bound rather than each having it."""
    conn = JetStreamConnection.open(nats_url, publish_connections=16)
    try:
        assert conn._batch_slots is not None
        loop_slots = conn._batch_slots._value  # the tests look at the bound behind the connection
        blocking_slots = conn._blocking_batch_slots._value
        assert loop_slots + blocking_slots <= conn._max_inflight_batches
        assert loop_slots >= 1 and blocking_slots >= 1
    finally:
        conn.close()

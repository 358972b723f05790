"""A long catch-up read and decoded by a process of its own: the same events, each once, and a failure read here."""

from __future__ import annotations

import os
import signal
import ssl
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from services.common.config import Settings
from services.common.eventstore import StreamLayout
from services.common.eventstore.connection import JetStreamConnection
from services.common.identifiers import Identifier
from services.common.projections import ProjectionRunner, StreamReader
from services.common.projections import runner as runner_module
from services.common.projections.read_process import ProcessReadError, start_process_read
from services.common.projections.runner import INFRASTRUCTURE_ERRORS
from services.common.testing import eventually
from services.touchpoints.main import TouchpointsSettings, touchpoints_service
from tests.integration.common.test_projection_runner import Members, MembersView, _account, consumers_of
from tests.integration.touchpoints.test_touchpoint_index import draft
from tests.support.eventstore import new_app


def _received(connection: JetStreamConnection) -> int:
    """Messages this connection's client has received so far."""
    return int(connection.client.stats["in_msgs"])


def _exited(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_long_catch_up_is_read_by_another_process_and_applies_every_event_once(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    accounts = [_account(app, f"a{n}", f"b{n}") for n in range(300)]  # three events in one message each
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    before = _received(connection)
    # Pages of 100 events end inside messages: the next page goes on inside the message.
    runner = ProjectionRunner(
        Members(view), [StreamReader(connection, app.name)], batch_size=10, catch_up_page=100, process_read_from=10
    )
    runner.run_to_end()
    assert {row["account_id"]: row["members"] for row in view.dump()} == {str(a): 2 for a in accounts}
    assert runner.applied_events == 900
    # The 300 messages came through the other process: this client received only the answers to its requests.
    assert _received(connection) - before < 300
    assert consumers_of(connection, StreamLayout(app.name).stream) == 0
    app.close()


def test_what_is_stored_after_the_process_s_end_is_read_here_in_the_same_page(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    for _ in range(50):
        _account(app)
    reader = StreamReader(connection, app.name)
    read = start_process_read(reader, 0, reader.last_sequence(), topics=None, key_only=())
    assert read is not None
    try:
        assert len(read.take(30)) == 30
        assert len(read.take(30)) == 20  # its end
        assert read.ended and read.take(30) == []
    finally:
        read.close()
    assert read.pid is not None
    eventually(lambda: _exited(read.pid))  # type: ignore[arg-type]

    stored_meanwhile: list[int] = []

    class StoringMembers(Members):
        """Has 50 more accounts stored after the first transaction: beyond the end the process was given."""

        def before_commit(self, cur: object) -> None:
            if not stored_meanwhile:
                stored_meanwhile.extend(1 for _ in range(50) if _account(app))

    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    runner = ProjectionRunner(StoringMembers(view), [reader], batch_size=10, catch_up_page=40, process_read_from=10)
    runner.run_to_end()
    assert len(stored_meanwhile) == 50
    assert len(view.dump()) == 100  # none of those stored after the process's end skipped
    app.close()


def test_a_short_catch_up_is_read_here(nats_url: str, connection: JetStreamConnection, tmp_path: Path) -> None:
    app = new_app(nats_url)
    for _ in range(20):
        _account(app)
    before = _received(connection)
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    reader = StreamReader(connection, app.name)
    ProjectionRunner(Members(view), [reader], batch_size=2, catch_up_page=5, process_read_from=1000).run_to_end()
    assert len(view.dump()) == 20
    assert _received(connection) - before >= 20  # read by this process's client
    app.close()


def test_a_connection_with_a_tls_context_given_in_code_is_not_opened_again_elsewhere(nats_url: str) -> None:
    with_context = JetStreamConnection(nats_url, tls=ssl.create_default_context())
    assert with_context.reopenable_url is None
    assert JetStreamConnection(nats_url).reopenable_url == nats_url


def test_a_process_read_of_sealed_touchpoints_hands_over_the_events_a_read_here_makes_opened_here(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp_path / 'views.db'}", data_dir=tmp_path)
    own = TouchpointsSettings(app_name=f"tp_read_{uuid.uuid4().hex[:10]}")
    with touchpoints_service(settings, own) as app:  # its keyring is the process's
        for n in range(30):
            app.record(replace(draft(f"read-{n}"), actors=(Identifier("email", "", f"person{n}@example.org"),)))
        reader = StreamReader(connection, own.app_name)
        read = start_process_read(reader, 0, reader.last_sequence(), topics=None, key_only=())
        assert read is not None
        try:
            there = read.take(1000)
        finally:
            read.close()
        recorded = [event.message for event in there if event.topic.endswith(".TouchpointRecorded")]
        assert [message.text for message in recorded] == ["Is my order on its way?"] * 30  # type: ignore[union-attr]
        assert there == reader.read(0, 1000)


def test_a_process_read_whose_process_died_raises_and_the_runner_reads_on_here(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    accounts = [_account(app) for _ in range(100)]
    reader = StreamReader(connection, app.name)
    read = start_process_read(reader, 0, reader.last_sequence(), topics=None, key_only=())
    assert read is not None and read.pid is not None
    os.kill(read.pid, signal.SIGKILL)
    with pytest.raises(ProcessReadError, match="ended"):
        read.take(1000)
    read.close()
    assert issubclass(ProcessReadError, INFRASTRUCTURE_ERRORS)

    killed: list[int] = []
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")

    class KillingMembers(Members):
        """Kills the reading process once, after the first events it handed over."""

        def before_commit(self, cur: object) -> None:
            process = runner._process_reads.get(app.name)
            if process is not None and not killed and process.pid is not None:
                os.kill(process.pid, signal.SIGKILL)
                killed.append(process.pid)

    runner = ProjectionRunner(KillingMembers(view), [reader], batch_size=10, catch_up_page=20, process_read_from=10)
    runner.run_to_end()
    assert killed
    assert {row["account_id"] for row in view.dump()} == {str(a) for a in accounts}
    assert runner.applied_events == 100
    app.close()


def test_a_reading_process_that_cannot_start_leaves_the_catch_up_to_this_process(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = new_app(nats_url)
    accounts = [_account(app) for _ in range(40)]

    def cannot_start(*_: object, **__: object) -> None:
        raise OSError("no more processes")

    monkeypatch.setattr(runner_module, "start_process_read", cannot_start)
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    runner = ProjectionRunner(
        Members(view), [StreamReader(connection, app.name)], batch_size=5, catch_up_page=10, process_read_from=10
    )
    runner.run_to_end()
    assert {row["account_id"] for row in view.dump()} == {str(a) for a in accounts}
    assert runner.process_read_from is None  # read here from then on
    app.close()

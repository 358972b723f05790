from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from functools import singledispatchmethod
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, OperationalError, ProgrammingError, Tracking, TrackingRecorder
from eventsourcing.projection import BaseProjectionRunner, Projection
from eventsourcing.tests.persistence import TrackingRecorderTestCase

from services.common.testing import postgres_url
from services.common.views import View, qmark_to_pyformat

POSTGRES_URL = postgres_url()


class Mentions(View):
    """A small read model: mentions of a brand per channel, and a counter of applied events."""

    name = "mentions"
    TABLES = ("mentions", "mention_totals")
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS mentions ("
        " touchpoint_id TEXT PRIMARY KEY, channel TEXT NOT NULL, position BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS mention_totals (channel TEXT PRIMARY KEY, total BIGINT NOT NULL)",
    )

    def record(self, touchpoint_id: str, channel: str, tracking: Tracking) -> None:
        with self.transaction(tracking) as cur:
            cur.execute(
                "INSERT INTO mentions (touchpoint_id, channel, position) VALUES (?, ?, ?)",
                (touchpoint_id, channel, tracking.notification_id),
            )
            cur.execute(
                "INSERT INTO mention_totals (channel, total) VALUES (?, 1) "
                "ON CONFLICT (channel) DO UPDATE SET total = mention_totals.total + 1",
                (channel,),
            )

    def totals(self) -> dict[str, int]:
        return {row["channel"]: int(row["total"]) for row in self.query("SELECT channel, total FROM mention_totals")}


class Replies(Mentions):
    name = "replies"
    TABLES = ("replies",)
    SCHEMA = ("CREATE TABLE IF NOT EXISTS replies (touchpoint_id TEXT PRIMARY KEY)",)


def _drop_schema(schema: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", "sqlite-memory", "postgresql"])
def open_view(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Open views on one database per test (a file, memory, or a PostgreSQL schema of its own), cleaned up after."""
    opened: list[View] = []
    schema = f"chorus_test_{uuid.uuid4().hex[:12]}"

    def open_(cls: type[View] = Mentions) -> Any:
        if request.param == "sqlite":
            view = cls(f"sqlite:///{tmp_path / 'views.db'}")
        elif request.param == "sqlite-memory":
            view = cls("sqlite://:memory:")
        else:
            view = cls(POSTGRES_URL, pg_schema=schema)
        opened.append(view)
        return view

    open_.backend = request.param  # type: ignore[attr-defined]
    yield open_
    for view in opened:
        view.close()
    if request.param == "postgresql":
        _drop_schema(schema)


def test_a_view_change_and_its_tracking_position_commit_together(open_view: Callable[..., Any]) -> None:
    view = open_view()

    view.record("t-1", "email", Tracking("touchpoints", 1))
    view.record("t-2", "x", Tracking("touchpoints", 2))
    view.record("t-3", "email", Tracking("touchpoints", 5))

    assert view.totals() == {"email": 2, "x": 1}
    assert view.max_tracking_id("touchpoints") == 5
    assert view.max_tracking_id("identity") is None


def test_an_already_applied_position_is_refused_and_changes_nothing(open_view: Callable[..., Any]) -> None:
    view = open_view()
    view.record("t-1", "email", Tracking("touchpoints", 3))

    for position in (3, 2):
        with pytest.raises(IntegrityError):
            view.record(f"t-again-{position}", "email", Tracking("touchpoints", position))

    assert view.totals() == {"email": 1}
    assert [row["touchpoint_id"] for row in view.query("SELECT touchpoint_id FROM mentions")] == ["t-1"]
    assert view.max_tracking_id("touchpoints") == 3


def test_a_failing_view_change_rolls_back_the_tracking_position(open_view: Callable[..., Any]) -> None:
    view = open_view()
    view.record("t-1", "email", Tracking("touchpoints", 1))

    with pytest.raises(IntegrityError):  # duplicate primary key raised by the database, inside the transaction
        view.record("t-1", "chat", Tracking("touchpoints", 2))
    with pytest.raises(ZeroDivisionError), view.transaction(Tracking("touchpoints", 3)) as cur:
        cur.execute("UPDATE mention_totals SET total = 100")
        _ = 1 / 0

    assert view.max_tracking_id("touchpoints") == 1
    assert view.totals() == {"email": 1}
    view.record("t-2", "chat", Tracking("touchpoints", 2))
    assert view.max_tracking_id("touchpoints") == 2


def test_positions_are_kept_per_upstream_application_and_per_view(open_view: Callable[..., Any]) -> None:
    mentions = open_view(Mentions)
    replies = open_view(Replies)

    mentions.record("t-1", "email", Tracking("touchpoints", 7))
    mentions.insert_tracking(Tracking("identity", 2))
    replies.insert_tracking(Tracking("touchpoints", 1))

    assert mentions.max_tracking_id("touchpoints") == 7
    assert mentions.max_tracking_id("identity") == 2
    assert replies.max_tracking_id("touchpoints") == 1
    assert replies.max_tracking_id("identity") is None


def test_reset_empties_the_tables_and_forgets_the_positions(open_view: Callable[..., Any]) -> None:
    view = open_view()
    view.record("t-1", "email", Tracking("touchpoints", 1))
    view.record("t-2", "email", Tracking("touchpoints", 2))

    view.reset()

    assert view.totals() == {}
    assert view.max_tracking_id("touchpoints") is None
    view.record("t-1", "email", Tracking("touchpoints", 1))
    assert view.totals() == {"email": 1}


def test_sql_is_written_once_with_question_marks_and_literal_percent(open_view: Callable[..., Any]) -> None:
    view = open_view()
    view.record("tp-100%", "email", Tracking("touchpoints", 1))
    view.record("tp-200", "chat", Tracking("touchpoints", 2))

    rows = view.query(
        "SELECT touchpoint_id FROM mentions WHERE touchpoint_id LIKE '%\\%%' ESCAPE '\\' AND channel = ?", ("email",)
    )

    assert rows == [{"touchpoint_id": "tp-100%"}]


def test_a_query_inside_a_transaction_does_not_block(open_view: Callable[..., Any]) -> None:
    view = open_view()
    with view.transaction(Tracking("touchpoints", 1)) as cur:
        cur.execute("INSERT INTO mention_totals (channel, total) VALUES (?, ?)", ("email", 4))
        view.query("SELECT COUNT(*) AS n FROM mentions")
        assert cur.execute("SELECT total FROM mention_totals").fetchone() == {"total": 4}
    assert view.totals() == {"email": 4}


def test_a_reopened_view_resumes_from_its_position(open_view: Callable[..., Any]) -> None:
    first = open_view()
    first.record("t-1", "email", Tracking("touchpoints", 9))
    first.close()

    second = open_view()

    if open_view.backend == "sqlite-memory":  # type: ignore[attr-defined]
        assert second.max_tracking_id("touchpoints") is None, "an in-memory database ends with its connection"
        assert second.totals() == {}
    else:
        assert second.max_tracking_id("touchpoints") == 9
        assert second.totals() == {"email": 1}


def test_concurrent_writers_apply_each_position_at_most_once(open_view: Callable[..., Any]) -> None:
    view = open_view()
    applied: list[int] = []
    refused: list[int] = []
    lock = threading.Lock()

    def apply(worker: int) -> None:
        for position in range(1, 31):
            try:
                with view.transaction(Tracking("touchpoints", position)) as cur:
                    cur.execute(
                        "INSERT INTO mention_totals (channel, total) VALUES ('all', 1) "
                        "ON CONFLICT (channel) DO UPDATE SET total = mention_totals.total + 1"
                    )
                    cur.execute(
                        "INSERT INTO mentions (touchpoint_id, channel, position) VALUES (?, 'x', ?)",
                        (f"w{worker}-{position}", position),
                    )
            except IntegrityError:
                with lock:
                    refused.append(position)
            else:
                with lock:
                    applied.append(position)

    threads = [threading.Thread(target=apply, args=(worker,)) for worker in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(applied) + len(refused) == 90
    assert len(set(applied)) == len(applied), "a position was applied twice"
    assert view.totals() == {"all": len(applied)}
    positions = [row["position"] for row in view.query("SELECT position FROM mentions ORDER BY position")]
    assert positions == sorted(applied)
    assert view.max_tracking_id("touchpoints") == 30


def test_an_unknown_url_scheme_is_refused() -> None:
    with pytest.raises(ProgrammingError, match="mysql"):
        Mentions("mysql://db/views")


def test_a_table_name_must_be_a_plain_identifier(tmp_path: Path) -> None:
    class Bad(View):
        TABLES = ("mentions; DROP TABLE x",)

    view = Bad(f"sqlite:///{tmp_path / 'bad.db'}")
    with pytest.raises(ProgrammingError):
        view.reset()
    view.close()


@pytest.mark.parametrize(
    ("qmark", "pyformat"),
    [
        ("SELECT ? , ?", "SELECT %s , %s"),
        ("SELECT '?', \"a?\", ?", "SELECT '?', \"a?\", %s"),
        ("SELECT 'it''s ?' WHERE a LIKE '5%' AND b = ?", "SELECT 'it''s ?' WHERE a LIKE '5%%' AND b = %s"),
        ("SELECT 1 -- why? 100%\n, ?", "SELECT 1 -- why? 100%%\n, %s"),
    ],
)
def test_question_marks_become_pyformat_outside_quotes_and_comments(qmark: str, pyformat: str) -> None:
    assert qmark_to_pyformat(qmark) == pyformat


# The library's own contract for tracking recorders, once per backend.


class _Tracked(View):
    name = "library_contract"


class TestSQLiteFileViewIsATrackingRecorder(TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        path = Path(self._tmp) / f"{uuid.uuid4().hex}.db"
        view = _Tracked(f"sqlite:///{path}")
        self.addCleanup(view.close)
        return view

    def setUp(self) -> None:
        import tempfile

        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self._tmp = directory.name


class TestSQLiteMemoryViewIsATrackingRecorder(TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        view = _Tracked("sqlite://:memory:")
        self.addCleanup(view.close)
        return view


class TestPostgresViewIsATrackingRecorder(TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        schema = f"chorus_test_{uuid.uuid4().hex[:12]}"
        view = _Tracked(POSTGRES_URL, pg_schema=schema)

        def drop() -> None:
            view.close()
            _drop_schema(schema)

        self.addCleanup(drop)
        return view


# A view driven by the library's projection runner, as the experience service will drive its views.


class Dog(Aggregate):
    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name


class Kennel(Application[UUID]):
    def register(self, name: str) -> None:
        self.save(Dog(name))


class Registrations(View):
    name = "registrations"
    TABLES = ("registrations",)
    SCHEMA = ("CREATE TABLE IF NOT EXISTS registrations (kind TEXT PRIMARY KEY, total BIGINT NOT NULL)",)


class RegistrationCount(Projection[Registrations]):
    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        with self.view.transaction(tracking) as cur:
            cur.execute(
                "INSERT INTO registrations VALUES (?, 1) "
                "ON CONFLICT (kind) DO UPDATE SET total = registrations.total + 1",
                (type(domain_event).__qualname__,),
            )


def test_a_library_projection_runner_resumes_after_the_view_position(open_view: Callable[..., Any]) -> None:
    view = open_view(Registrations)
    view.insert_tracking(Tracking("Kennel", 1))  # as if notification 1 was applied before a restart

    runner = BaseProjectionRunner(
        projection=RegistrationCount(view), application_class=Kennel, tracking_recorder=view, topics=(), env={}
    )
    with runner:
        for name in ("Fido", "Rex", "Bo"):
            runner.app.register(name)
        runner.wait(runner.app.recorder.max_notification_id(), timeout=5)

    assert view.query("SELECT kind, total FROM registrations") == [{"kind": "Dog.Registered", "total": 2}]
    assert view.max_tracking_id("Kennel") == 3


class Notes(View):
    """A view holding free text, as the experience views hold what a person said."""

    name = "notes"
    TABLES = ("notes",)
    SCHEMA = ("CREATE TABLE IF NOT EXISTS notes (note_id TEXT PRIMARY KEY, text TEXT NOT NULL)",)


def test_a_purged_text_is_in_neither_the_sqlite_file_nor_its_wal_after_scrub(tmp_path: Path) -> None:
    secret = "My boiler stopped heating"
    view = Notes(f"sqlite:///{tmp_path / 'notes.db'}")
    with view.transaction(None) as cur:
        cur.executemany("INSERT INTO notes VALUES (?, ?)", [(str(i), f"{secret} #{i}") for i in range(50)])
    view.query("SELECT COUNT(*) AS n FROM notes")  # a reader connection is open, as in a service
    with view.transaction(None) as cur:
        cur.execute("UPDATE notes SET text = '[erased]' WHERE note_id < '3'")
        cur.execute("DELETE FROM notes WHERE note_id >= '3'")
    view.scrub()
    found = b"".join(p.read_bytes() for p in sorted(tmp_path.iterdir()) if p.is_file())
    view.close()
    assert secret.encode() not in found


def file_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


def test_a_purge_asking_for_a_scrub_leaves_no_copy_in_a_file_shared_with_other_views_once_it_returns(
    tmp_path: Path,
) -> None:
    """Several services' views in one SQLite file (``chorus up``'s default): when the purging transaction
    returns (and a runner moves its position), neither the file nor its WAL holds the purged text."""
    secret = "My boiler stopped heating"
    url = f"sqlite:///{tmp_path / 'views.db'}"
    notes, mentions = Notes(url), Mentions(url)  # two services' views: two writers, their own readers
    with notes.transaction(None) as cur:
        cur.executemany("INSERT INTO notes VALUES (?, ?)", [(str(i), f"{secret} #{i}") for i in range(50)])
    for n in range(1, 20):
        mentions.record(f"t{n}", "x", Tracking("touchpoints", n))
    reads = threading.Thread(target=lambda: (notes.query("SELECT * FROM notes"), mentions.totals()))
    reads.start()
    reads.join()
    assert secret.encode() in file_bytes(tmp_path)

    with notes.transaction(None) as cur:
        cur.execute("UPDATE notes SET text = '[erased]' WHERE note_id < '3'")
        cur.execute("DELETE FROM notes WHERE note_id >= '3'")
        notes.scrub_after_commit()

    assert secret.encode() not in file_bytes(tmp_path)
    assert not notes.scrub_due
    mentions.record("t20", "x", Tracking("touchpoints", 20))  # the other view goes on writing
    assert secret.encode() not in file_bytes(tmp_path)
    notes.close()
    mentions.close()


HOLDING_READER = """
import sqlite3, sys
reader = sqlite3.connect(sys.argv[1], isolation_level=None)
reader.execute("BEGIN")
reader.execute("SELECT COUNT(*) FROM notes").fetchone()
print("holding", flush=True)
sys.stdin.readline()
reader.execute("COMMIT")
"""


@contextlib.contextmanager
def reader_holding_a_snapshot(path: Path, where: str) -> Iterator[None]:
    """A connection (of this process or of another one) in a read transaction, as a long query would be."""
    if where == "this process":
        reader = sqlite3.connect(path, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM notes").fetchone()
        yield
        reader.execute("COMMIT")
        reader.close()
        return
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDING_READER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        assert process.stdout.readline().strip() == "holding"
        yield
    finally:
        process.stdin.write("\n")
        process.stdin.close()
        assert process.wait(10) == 0


@pytest.mark.parametrize("where", ["this process", "another process"])
def test_a_scrub_held_up_by_a_reader_stays_due_and_is_done_by_the_next_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A reader in a read transaction keeps the WAL's frames; the purge still commits, the scrub stays due."""
    monkeypatch.setattr(View, "SCRUB_WAIT_SECONDS", 0.05)
    secret = "My boiler stopped heating"
    path = tmp_path / "views.db"
    notes = Notes(f"sqlite:///{path}")
    with notes.transaction(None) as cur:
        cur.executemany("INSERT INTO notes VALUES (?, ?)", [(str(i), f"{secret} #{i}") for i in range(50)])
    with reader_holding_a_snapshot(path, where):
        with notes.transaction(None) as cur:
            cur.execute("DELETE FROM notes")
            notes.scrub_after_commit()

        assert notes.query("SELECT COUNT(*) AS n FROM notes") == [{"n": 0}]
        assert notes.scrub_due
        assert secret.encode() in file_bytes(tmp_path)  # the old frames the reader may still read
        with pytest.raises(OperationalError):
            notes.scrub()
    with notes.transaction(None) as cur:  # the next commit of the view does what was due
        cur.execute("INSERT INTO notes VALUES ('x', 'something else')")
    assert not notes.scrub_due
    assert secret.encode() not in file_bytes(tmp_path)
    notes.close()


class IndexedMentions(Mentions):
    """Mentions with a secondary index (on channel): one :meth:`View.defer_indexes` may leave out."""

    name = "indexed_mentions"
    SCHEMA = (*Mentions.SCHEMA, "CREATE INDEX IF NOT EXISTS mentions_channel ON mentions (channel)")
    DEFERRABLE_INDEXES = ("mentions_channel",)


def _index_names(view: View) -> set[str]:
    """The indexes of ``mentions`` that exist, read from the engine's catalog."""
    if view.dialect == "postgresql":
        rows = view.query(
            "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'mentions'"
        )
    else:
        rows = view.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'mentions'")
    return {row["name"] for row in rows if not row["name"].startswith(("sqlite_autoindex", "mentions_pkey"))}


def test_an_empty_view_defers_its_secondary_indexes_until_they_are_built(open_view: Callable[..., Any]) -> None:
    view = open_view(IndexedMentions)
    assert _index_names(view) == {"mentions_channel"}

    assert view.defer_indexes()
    assert view.indexes_deferred
    assert _index_names(view) == set()
    view.record("t-1", "email", Tracking("touchpoints", 1))  # writes and reads go on without it
    assert view.query("SELECT touchpoint_id FROM mentions WHERE channel = ?", ("email",)) == [{"touchpoint_id": "t-1"}]

    view.build_indexes()
    assert not view.indexes_deferred
    assert _index_names(view) == {"mentions_channel"}
    assert view.query("SELECT touchpoint_id FROM mentions WHERE channel = ?", ("email",)) == [{"touchpoint_id": "t-1"}]


class ReadThroughMentions(IndexedMentions):
    """Its handlers read through the index on channel: it may not be left for later."""

    name = "read_through_mentions"
    DEFERRABLE_INDEXES = ()


def test_an_index_not_declared_deferrable_is_kept(open_view: Callable[..., Any]) -> None:
    view = open_view(ReadThroughMentions)

    assert not view.defer_indexes()
    assert not view.indexes_deferred
    assert _index_names(view) == {"mentions_channel"}


def test_a_view_that_holds_a_position_keeps_its_indexes(open_view: Callable[..., Any]) -> None:
    view = open_view(IndexedMentions)
    view.record("t-1", "email", Tracking("touchpoints", 1))

    assert not view.defer_indexes()
    assert not view.indexes_deferred
    assert _index_names(view) == {"mentions_channel"}


def test_indexes_built_inside_a_transaction_that_rolls_back_are_built_again(open_view: Callable[..., Any]) -> None:
    view = open_view(IndexedMentions)
    assert view.defer_indexes()
    with contextlib.suppress(RuntimeError), view.transaction(None) as cur:
        view.build_indexes(cur)
        raise RuntimeError
    assert view.indexes_deferred  # the caller's transaction may roll back: only building on its own ends it

    view.build_indexes()
    assert _index_names(view) == {"mentions_channel"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])  # a database that outlives its connections
def test_a_view_reopened_in_the_middle_of_a_build_has_its_indexes_again(backend: str, tmp_path: Path) -> None:
    schema = f"chorus_test_{uuid.uuid4().hex[:12]}"

    def open_() -> IndexedMentions:
        if backend == "sqlite":
            return IndexedMentions(f"sqlite:///{tmp_path / 'views.db'}")
        return IndexedMentions(POSTGRES_URL, pg_schema=schema)

    try:
        first = open_()
        assert first.defer_indexes()
        first.record("t-1", "email", Tracking("touchpoints", 1))
        first.close()  # as a process killed before its build ended

        again = open_()

        assert not again.indexes_deferred
        assert _index_names(again) == {"mentions_channel"}  # its schema makes them over the rows applied so far
        assert not again.defer_indexes()  # it holds a position: the rest is applied with the indexes kept
        again.close()
    finally:
        if backend == "postgresql":
            _drop_schema(schema)

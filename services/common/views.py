"""Read models of projections: tables and the stream position they reflect, changed in ONE transaction.

A projection keeps its view in SQLite (a laptop, tests) or PostgreSQL (production), chosen by URL:
``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``sqlite://:memory:`` or
``postgresql://user@host:5432/db``. A :class:`View` is an ``eventsourcing`` ``TrackingRecorder``, so the library's
projection runners can resume from :meth:`View.max_tracking_id` and ``wait()`` for a position::

    class PartyTimeline(View):
        name = "party_timeline"
        TABLES = ("timeline",)
        SCHEMA = (
            "CREATE TABLE IF NOT EXISTS timeline ("
            " party_id TEXT NOT NULL, position BIGINT NOT NULL, kind TEXT NOT NULL,"
            " PRIMARY KEY (party_id, position))",
        )

        def add(self, party_id: str, kind: str, tracking: Tracking) -> None:
            with self.transaction(tracking) as cur:
                cur.execute("INSERT INTO timeline VALUES (?, ?, ?)", (party_id, tracking.notification_id, kind))

Drive a view with the library's runner, constructing the view yourself (its database comes from
``CHORUS_VIEWS_URL``, not from the event store's persistence module, so ``ProjectionRunner``'s factory does not
fit)::

    view = PartyTimeline(settings.views_url)
    runner = BaseProjectionRunner(projection=TimelineProjection(view), application_class=Touchpoints,
                                  tracking_recorder=view, topics=TimelineProjection.topics, env=env)

The runner resumes after ``view.max_tracking_id(app.name)``. Several events may be applied in one transaction by
recording the last one's tracking position.

Exactly-once effect: :meth:`View.transaction` records the tracking position first, which raises
``eventsourcing.persistence.IntegrityError`` when that upstream position was already applied (or a later one
was), then runs the caller's SQL; both commit, or, if anything raises, neither does.

A view built from sequence 1 may leave the indexes its handlers never read through (``DEFERRABLE_INDEXES``) for
later (:meth:`View.defer_indexes`, :meth:`View.build_indexes`): the projection runner does so for a long catch-up.

SQL is written once, with ``?`` placeholders (positional only); on PostgreSQL they become ``%s`` (and a
literal ``%`` becomes ``%%``) outside quoted strings. Write DDL both engines accept: ``TEXT``, ``BIGINT``,
``INTEGER``, ``DOUBLE PRECISION``, ``PRIMARY KEY``, ``INSERT ... ON CONFLICT ... DO UPDATE``; store times as
ISO-8601 text or integer microseconds and booleans as ``INTEGER`` 0/1. Override :meth:`View.schema` when one
engine needs a different statement. Rows come back as ``dict``.

SQLite runs in WAL mode: writes go through one connection guarded by a lock, reads use one connection per
thread so they run while a projection writes (``:memory:`` databases share the writer connection). Measured on
2 cores with 4 reader threads doing table scans, the projection's writes kept 4,400 tx/s with per-thread readers
against 2,500 tx/s with one shared connection; point reads cost about 12% more. Views favour the writer.
PostgreSQL uses a ``psycopg_pool.ConnectionPool``; ``pg_schema=`` puts the tables in their own schema.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import structlog
from eventsourcing import persistence
from eventsourcing.persistence import Tracking, TrackingRecorder

from services.common.errors import Unavailable

log = structlog.get_logger(__name__)

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
TRACKING_TABLE = "chorus_view_tracking"
QUARANTINE_TABLE = "chorus_view_quarantine"

BUSY_TIMEOUT_MS = 5000  #: how long a SQLite connection waits for another one's lock
#: The page cache of a SQLite view's writing connection: an index larger than the cache (SQLite's default is
#: 2 MiB) makes each insert at a random key read its pages back from the file.
WRITER_CACHE_KIB = 131_072

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def qmark_to_pyformat(statement: str) -> str:
    """Translate ``?`` placeholders to psycopg's ``%s`` outside quotes and comments; escape literal ``%``.

    >>> qmark_to_pyformat("SELECT * FROM t WHERE a = ? AND b LIKE 'x%?' AND c = ?")
    "SELECT * FROM t WHERE a = %s AND b LIKE 'x%%?' AND c = %s"
    """
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(statement):
        char = statement[i]
        if quote:
            if char == quote:
                quote = ""
        elif char in ("'", '"'):
            quote = char
        elif statement.startswith("--", i):
            end = statement.find("\n", i)
            end = len(statement) if end < 0 else end
            out.append(statement[i:end].replace("%", "%%"))
            i = end
            continue
        elif char == "?":
            out.append("%s")
            i += 1
            continue
        out.append("%%" if char == "%" else char)
        i += 1
    return "".join(out)


class ViewCursor:
    """The cursor a view's SQL runs on: ``?`` placeholders on both engines, rows as ``dict``."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cursor = cursor
        self._dialect = dialect

    def _sql(self, statement: str) -> str:
        return qmark_to_pyformat(statement) if self._dialect == POSTGRESQL else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> ViewCursor:
        with _translated_errors():
            self._cursor.execute(self._sql(statement), tuple(params))
        return self

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> ViewCursor:
        with _translated_errors():
            self._cursor.executemany(self._sql(statement), [tuple(row) for row in rows])
        return self

    def fetchone(self) -> dict[str, Any] | None:
        row = self._cursor.fetchone()
        return None if row is None else self._as_dict(row)

    def fetchall(self) -> list[dict[str, Any]]:
        return [self._as_dict(row) for row in self._cursor.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    def _as_dict(self, row: Any) -> dict[str, Any]:
        if isinstance(row, dict):
            return row
        return dict(zip([column[0] for column in self._cursor.description], row, strict=True))


class View(TrackingRecorder):
    """A projection's read model and the upstream positions it reflects (see the module docstring).

    Subclasses set ``name`` (unique per database: tracking rows are keyed by it), ``SCHEMA`` (``CREATE ... IF
    NOT EXISTS`` statements, run at construction) and ``TABLES`` (dropped by :meth:`reset`, in this order).
    """

    name: ClassVar[str] = ""
    SCHEMA: ClassVar[Sequence[str]] = ()
    TABLES: ClassVar[Sequence[str]] = ()
    #: Indexes of ``SCHEMA`` (``CREATE INDEX IF NOT EXISTS`` names) that no handler reads through while applying:
    #: those a build from sequence 1 may leave for later (:meth:`defer_indexes`).
    DEFERRABLE_INDEXES: ClassVar[Sequence[str]] = ()
    #: How long :meth:`scrub` waits for other connections to finish reading the SQLite write-ahead log.
    SCRUB_WAIT_SECONDS: ClassVar[float] = 5.0

    def __init__(self, url: str, *, pg_schema: str | None = None, pool_size: int = 8) -> None:
        self.view_name = self.name or type(self).__name__
        self._scrub_due = False
        self._indexes_deferred = False
        if url.startswith("sqlite://"):
            self.dialect = SQLITE
            self._backend: _Backend = _SQLiteBackend(url.removeprefix("sqlite://"))
        elif url.startswith(("postgresql://", "postgres://")):
            self.dialect = POSTGRESQL
            self._backend = _PostgresBackend(url, pg_schema, pool_size)
        else:
            msg = f"unsupported views URL scheme: {url.split('://', maxsplit=1)[0]!r} (use sqlite:// or postgresql://)"
            raise persistence.ProgrammingError(msg)
        self._create()

    def schema(self, dialect: str) -> Sequence[str]:
        """The statements that create this view's tables on ``dialect`` (``sqlite`` or ``postgresql``)."""
        return self.SCHEMA

    @contextlib.contextmanager
    def transaction(self, tracking: Tracking | None) -> Iterator[ViewCursor]:
        """Record ``tracking`` and run the caller's SQL in one transaction: both commit or neither does.

        Raises ``eventsourcing.persistence.IntegrityError`` before the caller's SQL runs when ``tracking`` is
        not greater than the position already recorded for its upstream application. Read what the
        transaction needs through ``cur``: :meth:`query` may not see its uncommitted changes.
        """
        with self._backend.transaction() as raw:
            cur = ViewCursor(raw, self.dialect)
            if tracking is not None:
                self._record(cur, tracking)
            yield cur
        if self._scrub_due:
            self._scrub_or_defer()

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.transaction(tracking):
            pass

    def max_tracking_id(self, application_name: str) -> int | None:
        rows = self.query(
            f"SELECT notification_id FROM {TRACKING_TABLE} WHERE view_name = ? AND application_name = ?",
            (self.view_name, application_name),
        )
        return int(rows[0]["notification_id"]) if rows else None

    def quarantine(self, cur: ViewCursor, event: Any, reason: str) -> None:
        """Set ``event`` (an upstream event the projection cannot apply) aside, inside the caller's transaction.

        Only where it is and why are kept (upstream, sequence, topic, reason), never its payload.
        """
        cur.execute(
            f"INSERT INTO {QUARANTINE_TABLE} (view_name, application_name, notification_id, topic, reason)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (self.view_name, event.upstream, event.sequence, event.topic, reason),
        )

    def quarantined(self, after: tuple[str, int] = ("", 0), limit: int = 100) -> list[dict[str, Any]]:
        """Quarantined events in (upstream, sequence) order after ``after``: upstream, sequence, topic, reason."""
        return self.query(
            "SELECT application_name AS upstream, notification_id AS sequence, topic, reason"
            f" FROM {QUARANTINE_TABLE} WHERE view_name = ? AND (application_name > ?"
            " OR (application_name = ? AND notification_id > ?))"
            " ORDER BY application_name, notification_id LIMIT ?",
            (self.view_name, after[0], after[0], after[1], limit),
        )

    def quarantine_count(self) -> int:
        rows = self.query(f"SELECT COUNT(*) AS n FROM {QUARANTINE_TABLE} WHERE view_name = ?", (self.view_name,))
        return int(rows[0]["n"])

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a read-only statement and return its rows."""
        with self._backend.reader() as raw:
            return ViewCursor(raw, self.dialect).execute(statement, params).fetchall()

    def reset(self) -> None:
        """Drop this view's tables and tracking positions and create them again: a rebuild from sequence 1."""
        with self.transaction(None) as cur:
            for table in self.TABLES:
                cur.execute(f"DROP TABLE IF EXISTS {_identifier(table)}")
            cur.execute(f"DELETE FROM {TRACKING_TABLE} WHERE view_name = ?", (self.view_name,))
            cur.execute(f"DELETE FROM {QUARANTINE_TABLE} WHERE view_name = ?", (self.view_name,))
            for statement in self.schema(self.dialect):
                cur.execute(statement)
        self._indexes_deferred = False

    def deferrable_indexes(self) -> list[tuple[str, str]]:
        """(name, statement) of each index of :meth:`schema` named in :attr:`DEFERRABLE_INDEXES`."""
        made = created_indexes(self.schema(self.dialect))
        return [(name, statement) for name, statement in made.items() if name in self.DEFERRABLE_INDEXES]

    def defer_indexes(self) -> bool:
        """Drop the :attr:`DEFERRABLE_INDEXES` of a view that holds no upstream position yet, for a build from
        sequence 1: an index built once over every row costs far less than one kept up to date row by row at
        random keys. Queries still answer meanwhile (by scanning); :meth:`build_indexes` makes them again. Returns
        whether it dropped any (not when the view holds a position)."""
        deferrable = self.deferrable_indexes()
        if not deferrable:
            return False
        with self.transaction(None) as cur:
            held = cur.execute(f"SELECT 1 FROM {TRACKING_TABLE} WHERE view_name = ?", (self.view_name,)).fetchone()
            if held is not None:
                return False
            for name, _ in deferrable:
                cur.execute(f"DROP INDEX IF EXISTS {name}")
        self._indexes_deferred = True
        return True

    @property
    def indexes_deferred(self) -> bool:
        """Whether :meth:`defer_indexes` left indexes out that :meth:`build_indexes` has not built yet."""
        return self._indexes_deferred

    def build_indexes(self, cur: ViewCursor | None = None) -> None:
        """Build the indexes :meth:`defer_indexes` left out; in ``cur``'s transaction when given (a handler whose
        statements need them), after which they count as deferred still, as that transaction may roll back."""
        if not self._indexes_deferred:
            return
        if cur is None:
            with self.transaction(None) as own:
                self.build_indexes(own)
            self._indexes_deferred = False
            return
        for _, statement in self.deferrable_indexes():
            cur.execute(statement)

    def scrub_after_commit(self) -> None:
        """Have the open transaction :meth:`scrub` the files once it has committed, before it returns (a purge
        calls this inside its transaction, so whoever sees the purge applied finds the files scrubbed too).

        When readers hold the write-ahead log for longer than ``SCRUB_WAIT_SECONDS`` the commit still returns,
        the scrub stays due (:attr:`scrub_due`, logged as ``view.scrub_deferred``), and the view's next commit
        or :meth:`scrub` does it.
        """
        self._scrub_due = True

    @property
    def scrub_due(self) -> bool:
        """Whether a purge's scrub is still to be done (see :meth:`scrub_after_commit`)."""
        return self._scrub_due

    def scrub(self) -> None:
        """After a purge: leave no copy of the purged content in the view's files.

        On SQLite every connection runs with ``secure_delete`` (deleted and replaced content is overwritten with
        zeros in the database's pages), and this checkpoints the write-ahead log into the database and truncates
        it, so the WAL's old frames (the pages as they were before the purge) go too. The file is shared by every
        view on it: the checkpoint waits up to ``SCRUB_WAIT_SECONDS`` for other connections (of this process or
        others) to finish reading the old frames, then raises ``OperationalError`` and the scrub stays due. On
        PostgreSQL it does nothing: the old row versions stay in the table's pages until they are reused.
        """
        self._scrub_due = False  # before: a purge committing while this runs asks again
        try:
            self._backend.scrub(self.SCRUB_WAIT_SECONDS)
        except BaseException:
            self._scrub_due = True
            raise

    def _scrub_or_defer(self) -> None:
        try:
            self.scrub()
        except persistence.OperationalError:
            log.warning("view.scrub_deferred", view=self.view_name, waited_seconds=self.SCRUB_WAIT_SECONDS)

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> View:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _create(self) -> None:
        with self.transaction(None) as cur:
            if self.dialect == POSTGRESQL:  # concurrent CREATE IF NOT EXISTS can still collide on PostgreSQL
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (TRACKING_TABLE,))
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} (view_name TEXT NOT NULL, "
                "application_name TEXT NOT NULL, notification_id BIGINT NOT NULL, "
                "PRIMARY KEY (view_name, application_name))"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (view_name TEXT NOT NULL, "
                "application_name TEXT NOT NULL, notification_id BIGINT NOT NULL, topic TEXT NOT NULL, "
                "reason TEXT NOT NULL, PRIMARY KEY (view_name, application_name, notification_id))"
            )
            for statement in self.schema(self.dialect):
                cur.execute(statement)

    def _record(self, cur: ViewCursor, tracking: Tracking) -> None:
        cur.execute(
            f"INSERT INTO {TRACKING_TABLE} (view_name, application_name, notification_id) VALUES (?, ?, ?) "
            "ON CONFLICT (view_name, application_name) DO UPDATE SET notification_id = excluded.notification_id "
            f"WHERE {TRACKING_TABLE}.notification_id < excluded.notification_id RETURNING notification_id",
            (self.view_name, tracking.application_name, tracking.notification_id),
        )
        if cur.fetchone() is None:
            msg = (
                f"view {self.view_name} has already applied {tracking.application_name} "
                f"notification {tracking.notification_id} or a later one"
            )
            raise persistence.IntegrityError(msg)


class AppliedPosition:
    """How far a projection has applied its upstream log, and a way to wait for it to get somewhere.

    The applier calls :meth:`advance` after each committed transaction; request handlers call :meth:`wait` to
    read their own writes. ``describe`` names the view in the ``Unavailable`` raised when waiting times out.

    >>> applied = AppliedPosition("the resolution view", start=3)
    >>> applied.advance(5); applied.value
    5
    >>> applied.wait(4)  # already there: returns at once
    """

    def __init__(self, describe: str, start: int = 0) -> None:
        self.describe = describe
        self._value = start
        self._changed = threading.Condition()

    @property
    def value(self) -> int:
        return self._value

    def advance(self, position: int) -> None:
        """Record that everything up to ``position`` is applied (never moves backwards); wake the waiters."""
        with self._changed:
            self._value = max(self._value, position)
            self._changed.notify_all()

    def notify(self) -> None:
        """Wake the waiters without moving (for instance so they can report a failure)."""
        with self._changed:
            self._changed.notify_all()

    def wait(
        self,
        notification_id: int | None,
        timeout: float = 10.0,
        *,
        failure: Callable[[], BaseException | None] | None = None,
        poke: Callable[[], None] | None = None,
        poll: float | None = None,
    ) -> None:
        """Block until ``notification_id`` is applied; raise ``Unavailable`` after ``timeout`` seconds.

        ``poke`` is called before each wait (to nudge the applier); ``poll`` bounds each wait in seconds;
        ``failure`` returns the applier's last error, read when the wait times out (not when it began), and named
        in the message.
        """
        if notification_id is None or self._value >= notification_id:
            return
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._value < notification_id:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    error = failure() if failure is not None else None
                    cause = f" ({type(error).__name__})" if error is not None else ""
                    raise Unavailable(f"{self.describe} has not reached notification {notification_id} yet{cause}")
                if poke is not None:
                    poke()
                self._changed.wait(min(remaining, poll) if poll else remaining)


def created_indexes(statements: Sequence[str]) -> dict[str, str]:
    """The statement of each index ``statements`` make (``CREATE INDEX IF NOT EXISTS <name> ...``), by name."""
    found = {}
    for statement in statements:
        words = statement.split(maxsplit=6)
        if words[:5] == ["CREATE", "INDEX", "IF", "NOT", "EXISTS"]:
            found[_identifier(words[5])] = statement
    return found


def _identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        msg = f"not a plain SQL identifier: {name!r}"
        raise persistence.ProgrammingError(msg)
    return name


@contextlib.contextmanager
def _translated_errors() -> Iterator[None]:
    """Database driver errors become the ``eventsourcing.persistence`` errors of the same PEP 249 name."""
    try:
        yield
    except persistence.PersistenceError:
        raise
    except Exception as error:
        for name in (
            "IntegrityError",
            "DataError",
            "ProgrammingError",
            "OperationalError",
            "NotSupportedError",
            "InternalError",
            "InterfaceError",
            "DatabaseError",
        ):
            if any(base.__name__ == name and base.__module__ in _DRIVER_MODULES for base in type(error).__mro__):
                raise getattr(persistence, name)(str(error)) from error
        raise


_DRIVER_MODULES = frozenset({"sqlite3", "psycopg", "psycopg.errors", "psycopg_pool"})


class _Backend:
    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        raise NotImplementedError

    def reader(self) -> contextlib.AbstractContextManager[Any]:
        raise NotImplementedError

    def scrub(self, wait: float) -> None:
        """Make purged content unreadable in the database's files (SQLite only), waiting ``wait`` s for readers."""

    def close(self) -> None:
        raise NotImplementedError


class _SQLiteBackend(_Backend):
    def __init__(self, location: str) -> None:
        self._memory = location in (":memory:", "/:memory:")
        self._path = ":memory:" if self._memory else location.removeprefix("/")
        if not self._memory:
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()  # re-entrant: a query inside a transaction on the same thread
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._writer = self._connect()
        self._writer.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        if not self._memory:
            self._writer.execute("PRAGMA journal_mode=WAL")

    def _connect(self) -> sqlite3.Connection:
        with _translated_errors():
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA secure_delete = ON")  # deleted or replaced content is overwritten
        self._connections.append(connection)
        return connection

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cursor = self._writer.cursor()
            with _translated_errors():
                cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
                with _translated_errors():
                    cursor.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    self._writer.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def reader(self) -> Iterator[sqlite3.Cursor]:
        if self._memory:
            with self._lock:
                yield self._writer.cursor()
            return
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        yield connection.cursor()

    def scrub(self, wait: float) -> None:
        if self._memory:
            return
        with self._lock, _translated_errors():
            # TRUNCATE waits (through the busy handler) until no connection reads the WAL's frames, copies them
            # into the database and truncates the WAL to zero bytes; it reports (0, 0, 0) when it did.
            self._writer.execute(f"PRAGMA busy_timeout = {max(1, int(wait * 1000))}")
            try:
                busy = self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            finally:
                self._writer.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if busy:
            msg = "the view's write-ahead log is still being read by another connection: scrub it again later"
            raise persistence.OperationalError(msg)

    def close(self) -> None:
        for connection in self._connections:
            connection.close()
        self._connections.clear()


class _PostgresBackend(_Backend):
    def __init__(self, url: str, pg_schema: str | None, pool_size: int) -> None:
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        kwargs: dict[str, Any] = {"autocommit": True, "row_factory": dict_row}
        if pg_schema is not None:
            kwargs["options"] = f"-c search_path={_identifier(pg_schema)}"
            with _translated_errors(), psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f"CREATE SCHEMA IF NOT EXISTS {pg_schema}")
        with _translated_errors():
            self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, kwargs=kwargs, open=True)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Any]:
        with _translated_errors(), self._pool.connection() as connection, connection.transaction():
            yield connection.cursor()

    @contextlib.contextmanager
    def reader(self) -> Iterator[Any]:
        with _translated_errors(), self._pool.connection() as connection:
            yield connection.cursor()

    def close(self) -> None:
        self._pool.close()

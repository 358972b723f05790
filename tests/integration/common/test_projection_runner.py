"""The kernel's read side: read-only readers, one handler per event type, exactly-once, quarantine, as-of."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from chorus.bench.events.v1 import events_pb2
from services.common.eventstore import TOPIC_HEADER, VERSION_HEADER, StreamLayout, catch_up, message_sequence
from services.common.eventstore.catch_up import CatchUpRead
from services.common.eventstore.connection import JetStreamConnection
from services.common.projections import (
    Projection,
    ProjectionRunner,
    StreamReader,
    UpstreamEvent,
    handed_over,
    handles,
)
from services.common.projections.runner import INFRASTRUCTURE_ERRORS
from services.common.testing import eventually
from services.common.views import View, ViewCursor
from tests.support.eventstore import Account, new_app


class MembersView(View):
    name = "members"
    TABLES = ("members_accounts",)
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS members_accounts ("
        " account_id TEXT PRIMARY KEY, upstream TEXT NOT NULL, members BIGINT NOT NULL, names TEXT NOT NULL)",
    )

    def dump(self) -> list[dict[str, Any]]:
        return self.query("SELECT account_id, upstream, members, names FROM members_accounts ORDER BY account_id")


class Members(Projection[MembersView]):
    """Counts members per account; refuses (raises for) a member called 'poison'."""

    @handles(events_pb2.AccountRegistered)
    def registered(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        cur.execute(
            "INSERT INTO members_accounts (account_id, upstream, members, names) VALUES (?, ?, 0, '')",
            (event.aggregate_id, event.upstream),
        )

    @handles(events_pb2.AccountMemberAdded)
    def member_added(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        assert event.message is not None
        if event.message.member_id == "poison":
            msg = "this member cannot be applied"
            raise ValueError(msg)
        cur.execute(
            "UPDATE members_accounts SET members = members + 1, names = names || ? || ',' WHERE account_id = ?",
            (event.message.member_id, event.aggregate_id),
        )


def consumers_of(connection: JetStreamConnection, stream: str) -> int:
    """How many consumers ``stream`` has now."""

    async def count() -> int:
        return int((await connection.client.jetstream().stream_info(stream)).state.consumer_count)

    return connection.call(count)


def _account(app: Any, *members: str) -> uuid.UUID:
    account = Account(kind="person", roles=(), display_name="", anonymous=False)
    for member in members:
        account.add_member(member)
    app.save(account)
    return account.id


def _runner(view: MembersView, connection: JetStreamConnection, *apps: Any, **kwargs: Any) -> ProjectionRunner:
    readers = [StreamReader(connection, app.name) for app in apps]
    return ProjectionRunner(Members(view), readers, poll_interval=0.2, **kwargs)


def test_events_of_two_upstreams_are_applied_once_each_and_a_restart_changes_nothing(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    first, second = new_app(nats_url), new_app(nats_url)
    a = _account(first, "m1", "m2")
    b = _account(second, "m3")
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    with _runner(view, connection, first, second) as runner:
        runner.catch_up(timeout=20)
        assert {row["account_id"]: row["members"] for row in view.dump()} == {str(a): 2, str(b): 1}
        applied = runner.positions
    with _runner(view, connection, first, second) as again:  # resumes after the recorded positions
        assert again.positions == applied
        _account(second, "m4")
        again.catch_up(timeout=20)
    assert sorted(row["members"] for row in view.dump()) == [1, 1, 2]
    assert {row["upstream"] for row in view.dump()} == {first.name, second.name}


def test_a_writer_can_wait_for_its_own_write(nats_url: str, connection: JetStreamConnection, tmp_path: Path) -> None:
    app = new_app(nats_url)
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    with _runner(view, connection, app) as runner:
        runner.catch_up(timeout=20)
        account = Account(kind="person", roles=(), display_name="", anonymous=False)
        recordings = app.save(account)
        runner.wait({app.name: recordings[-1].notification.id}, timeout=20)
        assert [row["account_id"] for row in view.dump()] == [str(account.id)]


def test_undecodable_and_refused_events_are_quarantined_and_their_neighbours_applied(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    before = _account(app, "m1")
    layout = StreamLayout(app.name)

    async def publish_garbage() -> None:
        js = connection.client.jetstream()
        subject = layout.event_subject(uuid.uuid4())
        unknown = {TOPIC_HEADER: "chorus.nowhere.v1.Nothing", VERSION_HEADER: "1"}
        await js.publish(subject, b"\xff\xff\xff", headers=unknown)
        subject = layout.event_subject(uuid.uuid4())
        broken = {TOPIC_HEADER: events_pb2.AccountMemberAdded.DESCRIPTOR.full_name, VERSION_HEADER: "1"}
        await js.publish(subject, b"\x0a\xff", headers=broken)

    connection.call(publish_garbage)
    poisoned = _account(app, "m2", "poison", "m3")  # one save: registered, m2, poison, m3
    after = _account(app, "m4")
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    with _runner(view, connection, app) as runner:
        runner.catch_up(timeout=20)
        assert runner.healthy
    members = {row["account_id"]: row["members"] for row in view.dump()}
    assert members == {str(before): 1, str(poisoned): 2, str(after): 1}
    reasons = [(row["topic"], row["reason"]) for row in view.quarantined()]
    assert reasons == [
        ("chorus.nowhere.v1.Nothing", "no contract declares this topic"),
        (events_pb2.AccountMemberAdded.DESCRIPTOR.full_name, "the payload is not a valid message of its topic"),
        (events_pb2.AccountMemberAdded.DESCRIPTOR.full_name, "handler failed: ValueError"),
    ]
    assert all("poison" not in str(row) for row in view.quarantined())  # never the payload


def test_a_view_as_of_a_past_position_stops_there_and_a_rebuild_matches_the_live_view(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    early = _account(app, "m1")
    cut = app.recorder.max_notification_id()
    _account(app, "m2", "m3")
    live = MembersView(f"sqlite:///{tmp_path / 'live.db'}")
    with _runner(live, connection, app) as runner:
        runner.catch_up(timeout=20)
        assert runner.lag() == {app.name: 0}
    past = MembersView("sqlite://:memory:")
    as_of = _runner(past, connection, app, stop_at={app.name: cut})
    assert as_of.run_to_end() == {app.name: cut}
    assert as_of.finished
    assert [row["account_id"] for row in past.dump()] == [str(early)]
    rebuilt = MembersView("sqlite://:memory:")
    _runner(rebuilt, connection, app).run_to_end()
    assert rebuilt.dump() == live.dump()


def test_a_stream_that_does_not_exist_yet_is_read_as_empty(connection: JetStreamConnection, tmp_path: Path) -> None:
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    reader = StreamReader(connection, f"absent_{uuid.uuid4().hex[:8]}")
    runner = ProjectionRunner(Members(view), [reader])
    assert runner.run_to_end() == {reader.upstream: 0}
    assert runner.lag() == {reader.upstream: 0}


def test_a_reader_returns_a_full_page_after_a_position_inside_or_at_the_start_of_a_message(
    nats_url: str, connection: JetStreamConnection
) -> None:
    app = new_app(nats_url)
    for _ in range(4):
        _account(app)  # one event, one message each
    _account(app, "m1", "m2")  # three events, one commit message
    reader = StreamReader(connection, app.name)
    everything = reader.read(0, 100)
    assert len(everything) == 7

    for n in range(len(everything) - 2):  # after any event, the next two come back, whatever message they are in
        assert [e.sequence for e in reader.read(everything[n].sequence, 2)] == [
            e.sequence for e in everything[n + 1 : n + 3]
        ]
    assert reader.read(everything[-1].sequence, 2) == []
    app.close()


def test_lag_counts_the_saves_not_yet_applied(nats_url: str, connection: JetStreamConnection, tmp_path: Path) -> None:
    app = new_app(nats_url)
    _account(app, "m1", "m2")  # three events in one message
    _account(app)
    runner = _runner(MembersView(f"sqlite:///{tmp_path / 'v.db'}"), connection, app)
    assert runner.lag() == {app.name: 2}
    runner.run_to_end()
    assert runner.lag() == {app.name: 0}
    app.close()


def _fed_runner(
    view: MembersView, app: Any, projection: Projection[Any] | None = None, **kwargs: Any
) -> ProjectionRunner:
    """A runner of ``app``'s own stream that takes its hand-over and reads the store only once an hour."""
    options: dict[str, Any] = {"poll_interval": 3600, **kwargs}
    return ProjectionRunner(
        projection or Members(view), [StreamReader.of_application(app)], handed_over=(app.name,), **options
    )


def test_handed_over_events_are_the_readers_events_and_are_applied_without_reading_the_store(
    nats_url: str, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    _account(app)  # the stream exists, and the runner starts after this
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    runner = _fed_runner(view, app).start(watch=False)
    try:
        runner.catch_up(timeout=20)
        account = Account(kind="person", roles=(), display_name="", anonymous=False)
        account.add_member("m1")
        account.add_member("m2")
        recordings = app.save(account)  # three events in one commit message
        handed = handed_over(app.name, recordings)
        runner.feed(app.name, handed)
        runner.wait({app.name: recordings[-1].notification.id}, timeout=20)  # no poll, no nudge: only the hand-over
        assert {row["account_id"]: row["members"] for row in view.dump()}[str(account.id)] == 2
        read = StreamReader.of_application(app).read(recordings[0].notification.id - 1, 10)
        assert handed == [replace(event, stored_at="") for event in read]
    finally:
        runner.stop()
        app.close()


def test_handed_over_events_after_a_gap_wait_for_the_store_to_fill_it(nats_url: str, tmp_path: Path) -> None:
    app = new_app(nats_url)
    _account(app)
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    runner = _fed_runner(view, app).start(watch=False)
    try:
        runner.catch_up(timeout=20)
        missed = _account(app, "m1")  # stored, never handed over
        account = Account(kind="person", roles=(), display_name="", anonymous=False)
        recordings = app.save(account)
        runner.feed(app.name, handed_over(app.name, recordings))
        runner.wait({app.name: recordings[-1].notification.id}, timeout=20)
        members = {row["account_id"]: row["members"] for row in view.dump()}
        assert members[str(missed)] == 1
        assert str(account.id) in members
    finally:
        runner.stop()
        app.close()


class FlakyFollowUp(Members):
    """Members whose step after the commit fails the first time."""

    def __init__(self, view: MembersView) -> None:
        super().__init__(view)
        self.calls: list[int] = []

    def after_commit(self, events: Sequence[UpstreamEvent]) -> None:
        self.calls.append(len(events))
        if len(self.calls) == 1:
            msg = "the follow-up's target is away"
            raise ConnectionError(msg)


def test_a_failed_step_after_the_commit_is_tried_again_on_the_next_pass(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    _account(app, "m1")
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    projection = FlakyFollowUp(view)
    with ProjectionRunner(projection, [StreamReader(connection, app.name)], poll_interval=0.05) as runner:
        runner.catch_up(timeout=20)

        def retried() -> None:
            assert projection.calls[:2] == [2, 0]  # the batch's two events, then again with none

        eventually(retried)
        assert runner.healthy
    app.close()


def test_the_stored_time_nats_prints_in_nanoseconds_reads_as_an_aware_utc_time() -> None:
    from datetime import UTC, datetime

    from services.common.projections.reader import stored_time

    event = UpstreamEvent(
        upstream="a",
        sequence=1000,
        aggregate_id="x",
        version=1,
        topic="t",
        message=None,
        stored_at="2026-12-02T05:18:04.689464624Z",
    )

    assert stored_time(event) == datetime(2026, 12, 2, 5, 18, 4, 689464, tzinfo=UTC)


class Registrations(Projection[MembersView]):
    """Handles registrations only: the members added are of no interest to it."""

    @handles(events_pb2.AccountRegistered)
    def registered(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        Members.registered(self, cur, event)  # type: ignore[arg-type]


def test_events_of_topics_without_a_handler_are_not_decoded_and_undecodable_handled_ones_still_quarantined(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    first = _account(app, "m1")
    layout = StreamLayout(app.name)

    async def publish_garbage() -> None:
        js = connection.client.jetstream()
        for topic in (events_pb2.AccountMemberAdded, events_pb2.AccountRegistered):
            headers = {TOPIC_HEADER: topic.DESCRIPTOR.full_name, VERSION_HEADER: "1"}
            await js.publish(layout.event_subject(uuid.uuid4()), b"\x0a\xff", headers=headers)

    connection.call(publish_garbage)
    last = _account(app, "m2")
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    reader = StreamReader(connection, app.name)
    runner = ProjectionRunner(Registrations(view), [reader], poll_interval=0.2)
    assert runner.run_to_end() == {app.name: reader.last_sequence()}
    assert {row["account_id"] for row in view.dump()} == {str(first), str(last)}
    assert [(row["topic"], row["reason"]) for row in view.quarantined()] == [
        (events_pb2.AccountRegistered.DESCRIPTOR.full_name, "the payload is not a valid message of its topic")
    ]
    page = reader.read(0, 100, topics=Registrations.topics())
    assert {e.topic for e in page if e.message is None and not e.undecodable} == {
        events_pb2.AccountMemberAdded.DESCRIPTOR.full_name
    }
    handed = handed_over(app.name, app.save(_registered_with_a_member()), topics=Registrations.topics())
    assert [(e.topic, e.message is None, e.undecodable) for e in handed] == [
        (events_pb2.AccountRegistered.DESCRIPTOR.full_name, False, ""),
        (events_pb2.AccountMemberAdded.DESCRIPTOR.full_name, True, ""),
    ]


def _registered_with_a_member() -> Account:
    account = Account(kind="person", roles=(), display_name="", anonymous=False)
    account.add_member("m3")
    return account


class CountedMembers(Members):
    """Members that counts its view transactions (one ``before_commit`` each)."""

    def __init__(self, view: MembersView) -> None:
        super().__init__(view)
        self.transactions = 0

    def before_commit(self, cur: ViewCursor) -> None:
        self.transactions += 1


def _api_requests(connection: JetStreamConnection, *subjects: str) -> Callable[[], int]:
    """A count of the JetStream API requests NATS has routed on ``subjects`` since this call (a core subscription
    to the JS API). The count flushes first: a request answered before it was routed to ``connection`` before its
    answer, so every such request is counted, none still on its way."""
    subscriptions: list[Any] = []

    async def subscribe() -> None:
        for subject in subjects:
            subscriptions.append(await connection.client.subscribe(subject))
        await connection.client.flush()

    async def count() -> int:
        await connection.client.flush()
        return sum(subscription.delivered for subscription in subscriptions)

    connection.call(subscribe)
    return lambda: connection.call(count)


def test_a_catch_up_over_many_pages_reads_them_through_one_consumer_and_commits_ten_batches_at_a_time(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    accounts = [_account(app) for _ in range(120)]  # one event, one message each
    watcher = JetStreamConnection.open(nats_url)
    try:
        stream = StreamLayout(app.name).stream
        created = _api_requests(watcher, f"$JS.API.CONSUMER.CREATE.{stream}", f"$JS.API.CONSUMER.CREATE.{stream}.>")
        view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
        projection = CountedMembers(view)
        runner = ProjectionRunner(projection, [StreamReader(connection, app.name)], batch_size=4, catch_up_page=40)
        runner.run_to_end()
        assert {row["account_id"] for row in view.dump()} == {str(a) for a in accounts}
        assert created() == 1  # not one per page of 40
        assert projection.transactions == 3  # a page of 40 events in one transaction of 10 batches of 4, not in 10
    finally:
        watcher.close()
        app.close()


def test_a_catch_up_over_messages_of_several_events_keeps_one_consumer_when_a_page_ends_inside_a_message(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    accounts = [_account(app, f"a{n}", f"b{n}", f"c{n}") for n in range(60)]  # four events in one message each
    watcher = JetStreamConnection.open(nats_url)
    try:
        stream = StreamLayout(app.name).stream
        created = _api_requests(watcher, f"$JS.API.CONSUMER.CREATE.{stream}", f"$JS.API.CONSUMER.CREATE.{stream}.>")
        view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
        # A page of 30 events asks for 30 messages (120 events): it hands out 30 and leaves the rest for the next.
        runner = ProjectionRunner(Members(view), [StreamReader(connection, app.name)], batch_size=3, catch_up_page=30)
        runner.run_to_end()
        assert {row["account_id"]: row["members"] for row in view.dump()} == {str(a): 3 for a in accounts}
        assert runner.applied_events == 240
        assert created() == 1  # not a new one from the message each page ended in
    finally:
        watcher.close()
        app.close()


def test_a_poison_event_in_a_catch_up_transaction_is_quarantined_alone_and_its_neighbours_applied_once(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    accounts = [_account(app, "poison" if n == 37 else f"m{n}") for n in range(60)]
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    runner = ProjectionRunner(Members(view), [StreamReader(connection, app.name)], batch_size=4, catch_up_page=50)
    runner.run_to_end()
    members = {row["account_id"]: row["members"] for row in view.dump()}
    assert members == {str(a): 0 if n == 37 else 1 for n, a in enumerate(accounts)}
    assert [row["topic"] for row in view.quarantined()] == [events_pb2.AccountMemberAdded.DESCRIPTOR.full_name]
    assert runner.positions == {app.name: StreamReader(connection, app.name).last_sequence()}
    app.close()


def test_a_runner_that_has_caught_up_holds_no_consumer_open(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    for _ in range(30):
        _account(app)
    stream = StreamLayout(app.name).stream
    view = MembersView(f"sqlite:///{tmp_path / 'v.db'}")
    runner = ProjectionRunner(
        Members(view), [StreamReader(connection, app.name)], batch_size=4, catch_up_page=10, poll_interval=0.05
    )
    with runner:
        runner.catch_up(timeout=20)

        def none_left() -> None:
            assert consumers_of(connection, stream) == 0

        eventually(none_left)
    app.close()


def test_a_catch_up_read_holds_no_more_than_its_buffer_and_hands_out_every_message_once_in_order(
    nats_url: str, connection: JetStreamConnection
) -> None:
    """A read far behind must not have the server send it the whole stream ahead of the caller (a rebuild would
    hold most of the stream in memory): at most its buffer is sent before the caller takes some."""
    app = new_app(nats_url)
    for _ in range(100):
        _account(app)  # one message each
    layout = StreamLayout(app.name)
    read = connection.call(lambda: CatchUpRead(connection, layout.stream, layout.events_filter, 1, 10).open())
    try:

        async def delivered() -> list[int]:
            js = connection.client.jetstream()
            return [info.delivered.stream_seq for info in await js.consumers_info(layout.stream)]

        def buffer_full() -> None:
            assert connection.call(delivered) == [10]

        eventually(buffer_full)  # and not one more: a push consumer had the server send all 100 by now
        seqs: list[int] = []
        last = message_sequence(StreamReader(connection, app.name).last_sequence())
        while not seqs or seqs[-1] < last:
            page = connection.call(lambda: read.page(7, last))
            seqs.extend(stored.seq for stored in page)
            assert max(connection.call(delivered), default=0) <= seqs[-1] + 10
        assert seqs == list(range(1, last + 1))
    finally:
        connection.call(read.close)
        app.close()

    assert consumers_of(connection, layout.stream) == 0  # closed: its consumer is gone


def test_a_catch_up_read_asks_again_when_its_requests_run_out_and_reads_what_is_stored_later(
    nats_url: str, connection: JetStreamConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catch_up, "PULL_EXPIRES_SECONDS", 0.05)
    app = new_app(nats_url)
    for _ in range(3):
        _account(app)
    layout = StreamLayout(app.name)
    read = connection.call(lambda: CatchUpRead(connection, layout.stream, layout.events_filter, 1, 10).open())
    try:
        first = connection.call(lambda: read.page(10, 3))
        assert [stored.seq for stored in first] == [1, 2, 3]

        def ran_out_twice() -> None:
            assert read.expired >= 2

        eventually(ran_out_twice)  # nothing more was stored: its requests expired, and it asked again
        _account(app)
        later = message_sequence(StreamReader(connection, app.name).last_sequence())
        assert [stored.seq for stored in connection.call(lambda: read.page(10, later))] == [later]
    finally:
        connection.call(read.close)
        app.close()


def test_a_catch_up_read_that_misses_a_message_the_server_sent_refuses_to_go_on(
    nats_url: str, connection: JetStreamConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message lost between the server and the read (a slow client's connection cut) would be an event the view
    never applies: the read raises a retryable error instead, and its caller reads again from its position."""
    app = new_app(nats_url)
    for _ in range(5):
        _account(app)
    layout = StreamLayout(app.name)
    arrive = CatchUpRead._on_message

    async def losing_the_second(self: CatchUpRead, msg: Any) -> None:
        if msg.data and msg.metadata.sequence.stream == 2:
            return
        await arrive(self, msg)

    monkeypatch.setattr(CatchUpRead, "_on_message", losing_the_second)
    read = connection.call(lambda: CatchUpRead(connection, layout.stream, layout.events_filter, 1, 10).open())
    try:
        with pytest.raises(catch_up.CatchUpGapError):
            connection.call(lambda: read.page(10, 5))
        assert issubclass(catch_up.CatchUpGapError, INFRASTRUCTURE_ERRORS)  # the runner retries it
    finally:
        connection.call(read.close)
        app.close()


class IndexedMembersView(MembersView):
    name = "indexed_members"
    SCHEMA = (*MembersView.SCHEMA, "CREATE INDEX IF NOT EXISTS members_upstream ON members_accounts (upstream)")
    DEFERRABLE_INDEXES = ("members_upstream",)


class IndexWatchingMembers(Members):
    """Members that notes, at each commit, whether the view's secondary index exists."""

    def __init__(self, view: MembersView) -> None:
        super().__init__(view)
        self.indexed: list[bool] = []

    def before_commit(self, cur: ViewCursor) -> None:
        found = cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'members_upstream'")
        self.indexed.append(found.fetchone() is not None)


@pytest.mark.parametrize("how", ["run_to_end", "the live loop"])
def test_a_view_built_from_sequence_1_over_a_long_catch_up_builds_its_indexes_before_its_last_page(
    how: str, nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    first, second = new_app(nats_url), new_app(nats_url)
    accounts = [_account(first) for _ in range(100)] + [_account(second) for _ in range(20)]
    view = IndexedMembersView(f"sqlite:///{tmp_path / 'v.db'}")
    projection = IndexWatchingMembers(view)
    readers = [StreamReader(connection, app.name) for app in (first, second)]
    runner = ProjectionRunner(projection, readers, batch_size=4, catch_up_page=40, defer_indexes_from=100)
    if how == "run_to_end":
        runner.run_to_end()
    else:
        with runner:
            runner.catch_up(timeout=20)
            assert not view.indexes_deferred  # a reader waiting for the positions finds the indexes there
    assert {row["account_id"] for row in view.dump()} == {str(a) for a in accounts}
    # the first upstream's three pages, then the second's one: built before the last page is applied
    assert projection.indexed == [False, False, False, True]
    assert not view.indexes_deferred
    first.close()
    second.close()


def test_a_view_with_a_position_or_a_short_way_to_go_keeps_its_indexes(
    nats_url: str, connection: JetStreamConnection, tmp_path: Path
) -> None:
    app = new_app(nats_url)
    for _ in range(60):
        _account(app)
    view = IndexedMembersView(f"sqlite:///{tmp_path / 'v.db'}")
    projection = IndexWatchingMembers(view)
    runner = ProjectionRunner(projection, [StreamReader(connection, app.name)], batch_size=4, defer_indexes_from=100)
    runner.run_to_end()  # 60 messages behind: fewer than 100
    for _ in range(120):
        _account(app)
    again = ProjectionRunner(projection, [StreamReader(connection, app.name)], batch_size=4, defer_indexes_from=100)
    again.run_to_end()  # 120 behind, but the view holds a position
    assert projection.indexed
    assert all(projection.indexed)
    app.close()

"""The JetStream event store behind a real eventsourcing Application: protobuf events, concurrency, atomicity."""

from __future__ import annotations

import threading
import uuid

import nats
import pytest
from eventsourcing.persistence import DataError, IntegrityError, StoredEvent

from chorus.bench.events.v1 import events_pb2
from services.common.context import bound
from services.common.eventstore import (
    COMMIT_TOPIC,
    CORRELATION_HEADER,
    TOPIC_HEADER,
    VERSION_HEADER,
    decode_message,
    message_sequence,
    notification_id,
)
from services.common.eventstore.bridge import LoopThread
from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.errors import CalledOnLoopThreadError
from services.common.eventstore.layout import StreamLayout
from services.common.testing import eventually, wait_out_duplicate_window
from tests.support.eventstore import Account, new_app


def test_saved_events_come_back_as_the_same_aggregate(nats_url: str) -> None:
    app = new_app(nats_url)
    account = Account(kind="person", roles=("customer", "influencer"), display_name="Jane Smith", anonymous=False)
    account.add_member(str(uuid.uuid4()))
    recordings = app.save(account)

    copy = app.repository.get(account.id)

    assert (copy.kind, copy.roles, copy.display_name, copy.members) == (
        "person",
        ("customer", "influencer"),
        "Jane Smith",
        account.members,
    )
    assert copy.created_on == account.created_on
    assert [r.notification.id for r in recordings] == [notification_id(1, 0), notification_id(1, 1)]
    app.close()


def stored_messages(app: object) -> int:
    recorder = app.recorder  # type: ignore[attr-defined]

    async def count() -> int:
        info = await recorder.connection.client.jetstream().stream_info(recorder.layout.stream)
        return int(info.state.messages)

    return int(recorder.connection.call(count))


def test_a_three_event_save_of_one_aggregate_is_one_message_read_back_as_three_events(nats_url: str) -> None:
    app = new_app(nats_url)
    account = Account(kind="person", roles=("customer",), display_name="Jane", anonymous=False)
    account.add_member("a")
    account.add_member("b")

    recordings = app.save(account)

    assert stored_messages(app) == 1
    ids = [r.notification.id for r in recordings]
    assert ids == sorted(set(ids)) and len(ids) == 3
    notifications = app.recorder.select_notifications(start=None, limit=10)
    assert [(n.id, n.originator_version) for n in notifications] == list(zip(ids, [1, 2, 3], strict=True))
    assert app.repository.get(account.id).members == ["a", "b"]
    app.close()


def test_the_commit_envelope_decodes_with_the_contracts_alone(nats_url: str) -> None:
    from chorus.eventstore.v1 import commit_pb2

    app = new_app(nats_url)
    account = Account(kind="person", roles=(), display_name="Env", anonymous=False)
    account.add_member("m")
    app.save(account)
    recorder = app.recorder
    msg = recorder.connection.call(lambda: recorder.connection.message_at(recorder.layout.stream, 1))

    assert msg.headers[TOPIC_HEADER] == COMMIT_TOPIC
    assert msg.headers[VERSION_HEADER] == "2"
    commit = commit_pb2.Commit.FromString(msg.data)
    assert [(e.topic, e.version) for e in commit.events] == [
        ("chorus.bench.events.v1.AccountRegistered", 1),
        ("chorus.bench.events.v1.AccountMemberAdded", 2),
    ]
    assert events_pb2.AccountMemberAdded.FromString(commit.events[1].state).member_id == "m"
    decoded = decode_message(msg)
    assert [(n.id, n.originator_id, n.topic) for n in decoded] == [
        (notification_id(1, 0), account.id, "chorus.bench.events.v1.AccountRegistered"),
        (notification_id(1, 1), account.id, "chorus.bench.events.v1.AccountMemberAdded"),
    ]
    app.close()


def test_events_of_one_aggregate_too_large_for_one_message_are_stored_as_several_in_one_batch(nats_url: str) -> None:
    app = new_app(nats_url)
    recorder = app.recorder
    oid = uuid.uuid4()
    chunk = recorder.connection.max_payload // 3  # type: ignore[attr-defined]
    big = [StoredEvent(oid, version, "t", bytes([version]) * chunk) for version in range(1, 5)]

    ids = recorder.insert_events(big)

    assert 1 < stored_messages(app) < 4 + 1
    assert ids == sorted(set(ids))
    assert [e.state for e in recorder.select_events(oid)] == [e.state for e in big]
    assert [n.id for n in recorder.select_notifications(None, 10)] == ids
    with pytest.raises(DataError, match="exceeds the server's limit"):
        recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "t", b"x" * (chunk * 4))])
    app.close()


def test_a_subscription_after_the_first_event_of_a_commit_starts_with_its_second(nats_url: str) -> None:
    app = new_app(nats_url)
    account = Account(kind="person", roles=(), display_name="Sub", anonymous=False)
    account.add_member("m")
    first, second = (r.notification.id for r in app.save(account))
    with app.recorder.subscribe(gt=first) as subscription:
        got = next(iter(subscription))
    assert (got.id, got.originator_version) == (second, 2)
    app.close()


def test_the_log_decodes_with_the_contract_alone(nats_url: str) -> None:
    app = new_app(nats_url)
    account = Account(kind="organisation", roles=("partner",), display_name="Pizza Shop", anonymous=False)
    with bound(correlation_id="corr-42"):
        app.save(account)
    stream = app.recorder.layout.stream  # type: ignore[attr-defined]

    async def first_message() -> nats.aio.msg.Msg:
        nc = await nats.connect(nats_url)
        try:
            msg = await nc.jetstream().get_msg(stream, seq=1, direct=True)
        finally:
            await nc.close()
        return msg

    import asyncio

    raw = asyncio.run(first_message())
    assert raw.headers[TOPIC_HEADER] == "chorus.bench.events.v1.AccountRegistered"
    assert raw.headers[CORRELATION_HEADER] == "corr-42"
    decoded = events_pb2.AccountRegistered.FromString(raw.data)
    assert decoded.display_name == "Pizza Shop"
    assert list(decoded.roles) == [3]  # PARTY_ROLE_PARTNER
    assert raw.subject.endswith(f".e.{account.id}")
    assert raw.headers[VERSION_HEADER] == "1"
    app.close()


def test_two_threads_saving_the_same_version_exactly_one_wins(nats_url: str) -> None:
    app = new_app(nats_url)
    account = Account(kind="person", roles=(), display_name="Jane", anonymous=False)
    app.save(account)
    copies = [app.repository.get(account.id) for _ in range(2)]
    for n, copy in enumerate(copies):
        copy.add_member(f"member-{n}")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def save(copy: Account) -> None:
        start.wait()
        try:
            app.save(copy)
            outcomes.append("saved")
        except IntegrityError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(c,)) for c in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["conflict", "saved"]
    assert len(app.repository.get(account.id).members) == 1
    app.close()


def test_a_save_with_a_conflicting_event_stores_none_of_its_events(nats_url: str) -> None:
    app = new_app(nats_url)
    first = Account(kind="person", roles=(), display_name="A", anonymous=False)
    app.save(first)
    stale = app.repository.get(first.id)
    # Another replica (its own recorder, knowing nothing of this one's positions) moves the aggregate on.
    other = new_app(nats_url, name=app.name)
    fresh = other.repository.get(first.id)
    fresh.add_member("x")
    other.save(fresh)
    newcomer = Account(kind="person", roles=(), display_name="B", anonymous=False)
    stale.add_member("y")
    before = app.recorder.max_notification_id()
    published = app.recorder.connection.call(lambda: app.recorder.connection.last_sequence(app.recorder.layout.stream))

    with pytest.raises(IntegrityError):
        app.save(newcomer, stale)  # one atomic batch, refused by the server: newcomer must not be stored either

    assert app.recorder.max_notification_id() == before
    assert message_sequence(before) == published
    assert app.recorder.select_events(newcomer.id) == []
    assert [e.originator_version for e in app.recorder.select_events(first.id)] == [1, 2]
    other.close()
    app.close()


def test_a_publish_whose_acknowledgement_was_lost_is_recognised_when_retried(nats_url: str) -> None:
    app = new_app(nats_url)
    recorder = app.recorder
    account = Account(kind="person", roles=(), display_name="R", anonymous=False)
    account.add_member("m")
    stored = [app.mapper.to_stored_event(e) for e in account.collect_events()]
    messages, _ = recorder._event_messages(recorder._by_subject(stored), {})  # type: ignore[attr-defined]
    # The first attempt reaches the server, but its acknowledgement never comes back to the caller ...
    connection = recorder.connection  # type: ignore[attr-defined]
    stored_at = connection.call(lambda: connection.publish_atomic(messages))

    # ... so the caller sends the very same messages again: the server refuses them (the versions are taken),
    # and the recorder recognises its own message ids rather than reporting a conflict or storing twice.
    again = recorder._commit(messages)  # type: ignore[attr-defined]

    assert again == stored_at
    assert len(recorder.select_events(account.id)) == 2


def test_waiting_out_the_duplicate_window_returns_once_the_server_forgets_earlier_message_ids(nats_url: str) -> None:
    import asyncio

    name = f"window_{uuid.uuid4().hex[:8]}"

    async def publish(client: nats.NATS) -> bool:
        ack = await client.jetstream().publish(name, b"", headers={"Nats-Msg-Id": "earlier"})
        return bool(ack.duplicate)

    async def run() -> tuple[bool, bool]:
        client = await nats.connect(nats_url)
        try:
            await client.jetstream().add_stream(name=name, subjects=[name], storage="memory", duplicate_window=1)
            await publish(client)
            remembered = await publish(client)
            await asyncio.to_thread(wait_out_duplicate_window, nats_url, 1)
            return remembered, await publish(client)
        finally:
            await client.jetstream().delete_stream(name)
            await client.close()

    remembered, still_remembered = asyncio.run(run())

    assert remembered  # within the window the server answers "duplicate"
    assert not still_remembered  # after the wait it has forgotten the id


def test_the_same_version_is_refused_by_the_server_also_after_the_duplicate_window(nats_url: str) -> None:
    app = new_app(nats_url, NATS_DUPLICATE_WINDOW="1")
    account = Account(kind="person", roles=(), display_name="Once", anonymous=False)
    app.save(account)
    stored = app.recorder.select_events(account.id)
    wait_out_duplicate_window(nats_url, 1)
    # A recorder that has never seen this aggregate, so only the server's check can refuse the write.
    other = new_app(nats_url, name=app.name, NATS_DUPLICATE_WINDOW="1")
    with pytest.raises(IntegrityError):
        other.recorder.insert_events(stored)
    assert len(app.recorder.select_events(account.id)) == 1
    other.close()
    app.close()


def test_events_of_one_save_over_the_batch_limit_are_refused_whole(nats_url: str) -> None:
    app = new_app(nats_url)
    account = Account(kind="person", roles=(), display_name="Big", anonymous=False)
    for n in range(1000):
        account.add_member(str(n))
    with pytest.raises(DataError, match="at most 1000"):
        app.save(account)
    assert app.recorder.select_events(account.id) == []
    app.close()


def test_each_application_has_its_own_connection_closed_with_it(nats_url: str) -> None:
    a = new_app(nats_url)
    b = new_app(nats_url, NATS_REQUEST_TIMEOUT="9")
    mine: JetStreamConnection = a.factory.connection  # type: ignore[attr-defined]
    assert b.factory.connection is not mine  # type: ignore[attr-defined]
    assert b.factory.connection.request_timeout == 9.0  # type: ignore[attr-defined]
    a.close()
    assert not mine.is_connected
    assert b.factory.connection.is_connected  # type: ignore[attr-defined]
    b.close()


def test_a_blocking_call_made_on_the_loop_thread_raises_instead_of_hanging(nats_url: str) -> None:
    connection = JetStreamConnection.open(nats_url)
    try:

        async def call_back_into_the_store() -> None:
            connection.ensure_stream(StreamLayout(f"loop_{uuid.uuid4().hex[:8]}").spec)

        with pytest.raises(CalledOnLoopThreadError, match="own event-loop thread"):
            connection.call(call_back_into_the_store, timeout=5)
    finally:
        connection.close()


def test_the_loop_thread_starts_when_opened_not_when_built() -> None:
    bridge = LoopThread("idle")
    assert not any(t.name == bridge.name for t in threading.enumerate())
    bridge.start()
    assert any(t.name == bridge.name for t in threading.enumerate())
    bridge.stop()


def test_enum_words_translate_both_ways_and_name_unknown_numbers() -> None:
    from chorus.common.v1 import types_pb2
    from services.common.contracts import EnumWords, enum_from_proto, enum_to_proto

    words = EnumWords(types_pb2.BusinessSociabilityDegree)
    assert words.word(types_pb2.BUSINESS_SOCIABILITY_DEGREE_BROADCAST_WITH_BAIT) == "broadcast_with_bait"
    assert words.number("fan_page") == types_pb2.BUSINESS_SOCIABILITY_DEGREE_FAN_PAGE
    assert (words.word(0), words.number("")) == ("", 0)
    assert words.word(99) == "#99"
    assert enum_to_proto(types_pb2.IdentifierType, "email") == types_pb2.IDENTIFIER_TYPE_EMAIL
    assert enum_from_proto(types_pb2.IdentifierType, types_pb2.IDENTIFIER_TYPE_BLOG_URL) == "blog_url"
    with pytest.raises(ValueError, match="not a IdentifierType"):
        enum_to_proto(types_pb2.IdentifierType, "fax")


def test_a_listener_hears_what_is_published_from_now_on_and_is_told_when_messages_were_dropped(nats_url: str) -> None:
    """``listen`` delivers nothing published before it; messages the client drops (more waiting than the
    subscription may hold) are reported, as a keyring must then assume it missed news of destroyed keys."""
    subject = f"chorus.listen.{uuid.uuid4().hex}"
    connection = JetStreamConnection.open(nats_url)
    heard: list[bytes] = []
    lost = threading.Event()
    try:

        async def publish(payloads: list[bytes]) -> None:
            for payload in payloads:
                await connection.client.publish(subject, payload)
            await connection.client.flush()

        connection.call(lambda: publish([b"before"]))
        stop = connection.call(
            lambda: connection.listen(subject, lambda msg: heard.append(msg.data), lost.set, pending_messages=1)
        )
        connection.call(lambda: publish([str(n).encode() for n in range(1000)]))  # one may wait at a time
        assert lost.wait(10)

        def first_heard() -> bytes:
            assert heard
            return heard[0]

        assert eventually(first_heard) == b"0"  # the first published after the subscription, not the one before
        connection.call(stop)
    finally:
        connection.close()

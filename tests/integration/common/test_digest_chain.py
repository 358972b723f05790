"""Every message the recorders store carries a digest chained to the previous message of its subject."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import StoredEvent, Tracking

from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.digest import DIGEST_HEADER, GENESIS, message_digest, relative_subject
from services.common.eventstore.envelope import StoredMessage
from services.common.eventstore.layout import StreamLayout
from services.common.eventstore.recorders import JetStreamProcessRecorder
from tests.support.eventstore import Account, new_app


def every_message(connection: JetStreamConnection, layout: StreamLayout) -> list[StoredMessage]:
    return connection.call(
        lambda: connection.direct_get_batch(layout.stream, start_seq=1, subject_filter=f"{layout.prefix}.>", batch=1000)
    )


def assert_chained(messages: list[StoredMessage], prefix: str) -> None:
    previous: dict[str, str] = {}
    for msg in messages:
        expected = message_digest(
            previous.get(msg.subject, GENESIS), relative_subject(msg.subject, prefix), msg.headers, msg.data
        )
        assert msg.headers.get(DIGEST_HEADER) == expected, f"message {msg.seq} on {msg.subject}"
        previous[msg.subject] = expected


def test_each_save_chains_to_the_aggregates_previous_message_also_after_a_restart(nats_url: str) -> None:
    app: Any = new_app(nats_url)
    account = Account(kind="person", roles=("customer",), display_name="Jane", anonymous=False)
    other = Account(kind="person", roles=("customer",), display_name="John", anonymous=False)
    app.save(account)
    account.add_member("m1")
    account.add_member("m2")
    app.save(account, other)  # a multi-subject save: one atomic batch
    name = app.name
    app.close()

    restarted: Any = new_app(nats_url, name=name)  # a recorder that knows no aggregate's last digest
    account = restarted.repository.get(account.id)
    account.add_member("m3")
    restarted.save(account)
    fresh = new_app(nats_url, name=name)  # nor this one: it has to read the last message to chain
    again = Account(kind="organisation", roles=(), display_name="Acme", anonymous=False)
    fresh.save(again)

    recorder = restarted.recorder
    messages = every_message(recorder.connection, recorder.layout)
    assert len(messages) == 5
    assert_chained(messages, recorder.layout.prefix)
    assert messages[0].headers[DIGEST_HEADER] != messages[4].headers[DIGEST_HEADER]
    restarted.close()
    fresh.close()


def test_a_writer_that_guessed_new_aggregate_chains_after_looking_the_last_message_up(nats_url: str) -> None:
    app: Any = new_app(nats_url)
    account = Account(kind="person", roles=("customer",), display_name="Jane", anonymous=False)
    app.save(account)
    recorder = app.recorder
    second = JetStreamProcessRecorder(recorder.connection, recorder.layout)  # knows nothing about the aggregate
    head = app.repository.get(account.id)
    head.add_member("x")
    pending = head.collect_events()
    stored = [
        StoredEvent(
            e.originator_id,
            e.originator_version,
            app.mapper.to_stored_event(e).topic,
            app.mapper.to_stored_event(e).state,
        )
        for e in pending
    ]
    second.insert_events(stored, tracking=Tracking("upstream", 5))
    second.insert_events([], tracking=Tracking("upstream", 9))

    messages = every_message(recorder.connection, recorder.layout)
    assert [m.subject.split(".")[2] for m in messages] == ["e", "e", "t", "t"]
    assert_chained(messages, recorder.layout.prefix)
    app.close()

"""The touchpoint index on the real event store, on SQLite and on PostgreSQL: rebuilt from the stream, following
other writers, moving past an event it cannot decode, and holding personal data sealed, so that a forgotten
person reads erased in it."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import Tracking

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as ipb
from chorus.identity.v1 import identity_service_pb2_grpc as ipb_grpc
from chorus.touchpoints.events.v1 import events_pb2 as touchpoint_events
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as tpb_grpc
from services.common.config import Settings
from services.common.eventstore import TOPIC_HEADER, VERSION_HEADER
from services.common.identifiers import Identifier
from services.common.privacy.keyring import open_keyring
from services.common.privacy.marks import subject_of
from services.common.privacy.sealing import PREFIX, seal
from services.common.projections import UpstreamEvent
from services.common.testing import eventually, postgres_url, running_server, serving
from services.identity.main import SERVICE as IDENTITY
from services.identity.main import IdentitySettings
from services.touchpoints.application import TouchpointsApplication
from services.touchpoints.domain import TouchpointDraft, touchpoint_id_for
from services.touchpoints.events import MAPPER_TOPIC
from services.touchpoints.main import SERVICE as TOUCHPOINTS
from services.touchpoints.main import TouchpointsSettings, touchpoints_service
from services.touchpoints.projection import (
    TouchpointIndex,
    TouchpointProjection,
    document_of,
    opened,
    touchpoint_runner,
)

RUN = uuid.uuid4().hex[:8]
NOW = datetime.now(UTC).replace(microsecond=0)
JANE = Identifier("email", "", "jane@example.org")


def draft(external_id: str, **changes: object) -> TouchpointDraft:
    base = TouchpointDraft(
        kind="touchpoint",
        channel="chat",
        direction="inbound",
        visibility="private",
        occurred_at=NOW,
        actors=(JANE,),
        source_system="intercom",
        external_id=f"{RUN}-{external_id}",
        text="Is my order on its way?",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def listed(app: TouchpointsApplication, **filters: object) -> list[str]:
    docs, _ = app.list_touchpoints(page_size=1000, **filters)  # type: ignore[arg-type]
    return [doc["touchpoint_id"] for doc in docs]


POSTGRES_URL = postgres_url()


@dataclass
class Views:
    """Where an index lives: a SQLite file, or a PostgreSQL schema of its own (dropped afterwards)."""

    url: str
    schema: str | None = None
    rebuild_url: str = ""

    def rebuilt_index(self) -> TouchpointIndex:
        """An empty index in a second place of the same kind."""
        if self.schema is None:
            return TouchpointIndex(self.rebuild_url)
        return TouchpointIndex(self.url, pg_schema=f"{self.schema}_r")


@pytest.fixture(params=["sqlite", "postgresql"])
def views(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Views]:
    if request.param == "sqlite":
        yield Views(f"sqlite:///{tmp_path / 'views.db'}", rebuild_url=f"sqlite:///{tmp_path / 'rebuilt.db'}")
        return
    schema = f"tp_{uuid.uuid4().hex[:10]}"
    yield Views(POSTGRES_URL, schema)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        for name in (schema, f"{schema}_r"):
            connection.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
def settings(nats_url: str, views: Views) -> Settings:
    return Settings(nats_url=nats_url, views_url=views.url)


def test_a_dropped_index_is_rebuilt_from_the_stream_with_its_links(settings: Settings, views: Views) -> None:
    own = TouchpointsSettings(app_name=f"tp_rebuild_{RUN}_{uuid.uuid4().hex[:4]}")
    with touchpoints_service(settings, own, pg_schema=views.schema) as app:
        app.record_batch([draft(f"r-{n}", occurred_at=NOW - timedelta(minutes=n)) for n in range(30)])
        app.record_batch(
            [
                draft(
                    "answer",
                    direction="outbound",
                    reply_to_source_system="intercom",
                    reply_to_external_id=f"{RUN}-r-3",
                    occurred_at=NOW - timedelta(minutes=1),
                )
            ]
        )
        question = touchpoint_id_for("intercom", f"{RUN}-r-3")

        def linked() -> None:
            assert app.get(question)["first_response_seconds"] == 120.0

        eventually(linked)
        before = app.list_touchpoints(actor=JANE, page_size=1000)[0]

    with open_keyring(settings):  # an application built by hand opens the deployment's keys as the root does
        rebuilt = views.rebuilt_index()
        app = TouchpointsApplication(
            env={**settings.eventstore_env(own.app_name), "MAPPER_TOPIC": MAPPER_TOPIC},
            name=own.app_name,
            index=rebuilt,
        )
        runner = touchpoint_runner(app, rebuilt)
        app.index_runner = runner
        try:
            runner.start(watch=False)
            runner.catch_up(timeout=20)
            after = app.list_touchpoints(actor=JANE, page_size=1000)[0]
            assert after == before
            assert len(after) == 31
            assert rebuilt.document(question)["first_response_seconds"] == 120.0  # type: ignore[index]
        finally:
            runner.stop()
            rebuilt.close()
            app.close()


def test_writes_of_another_process_appear_in_the_index(settings: Settings, views: Views) -> None:
    own = TouchpointsSettings(app_name=f"tp_follow_{RUN}_{uuid.uuid4().hex[:4]}")
    with touchpoints_service(settings, own, pg_schema=views.schema) as app:
        app.record(draft("mine"))
        other = TouchpointsApplication(
            env={**settings.eventstore_env(own.app_name), "MAPPER_TOPIC": MAPPER_TOPIC}, name=own.app_name
        )
        try:
            other.record_batch([draft("theirs-1"), draft("theirs-2", channel="sms")], wait=False)
        finally:
            other.close()

        def seen() -> None:
            assert set(listed(app, actor=JANE)) == {
                str(touchpoint_id_for("intercom", f"{RUN}-{name}")) for name in ("mine", "theirs-1", "theirs-2")
            }

        eventually(seen)
        assert listed(app, channel="sms") == [str(touchpoint_id_for("intercom", f"{RUN}-theirs-2"))]


def test_appends_made_while_the_index_is_behind_are_read_from_the_store(settings: Settings, views: Views) -> None:
    """The in-memory hand-over is bounded: with the applier stalled, recording does not wait for it nor pile
    events up in memory, and whatever was not handed over is read from the store (here the store poll is an
    hour away, so only the passed-over signal can bring those in)."""
    name = f"tp_behind_{RUN}_{uuid.uuid4().hex[:4]}"
    index = views.rebuilt_index()
    app = TouchpointsApplication(
        env={**settings.eventstore_env(name), "MAPPER_TOPIC": MAPPER_TOPIC}, name=name, index=index
    )
    runner = touchpoint_runner(app, index, poll_interval=3600, max_handed_over=2)
    app.index_runner = runner
    stalled, release = threading.Event(), threading.Event()
    transaction = index.transaction

    @contextlib.contextmanager
    def slow_transaction(*args: Any, **kwargs: Any) -> Iterator[Any]:
        stalled.set()
        release.wait(timeout=30)
        with transaction(*args, **kwargs) as cur:
            yield cur

    index.transaction = slow_transaction  # type: ignore[method-assign]
    try:
        runner.start(watch=False)
        app.record_batch([draft("behind-0")], wait=False)
        assert stalled.wait(timeout=10), "the applier never started applying"
        recording = threading.Thread(
            target=lambda: [app.record_batch([draft(f"behind-{n}")], wait=False) for n in range(1, 10)]
        )
        recording.start()
        recording.join(timeout=20)
        assert not recording.is_alive(), "recording waited for the stalled index"
        last = app.recorder.max_notification_id()
        release.set()
        runner.wait({name: last}, timeout=10)
        assert len(listed(app, actor=JANE)) == 10
    finally:
        release.set()
        runner.stop()
        index.close()
        app.close()


def test_an_undecodable_event_is_set_aside_and_later_touchpoints_are_still_listed(
    settings: Settings, views: Views
) -> None:
    own = TouchpointsSettings(app_name=f"tp_poison_{RUN}_{uuid.uuid4().hex[:4]}")
    with touchpoints_service(settings, own, pg_schema=views.schema) as app:
        app.record(draft("before-poison"))
        connection, layout = app.factory.connection, app.factory.layout

        async def poison() -> None:
            await connection.client.jetstream().publish(
                layout.event_subject(uuid.uuid4()),
                b"\x0a\xff\xff",
                headers={TOPIC_HEADER: touchpoint_events.TouchpointRecorded.DESCRIPTOR.full_name, VERSION_HEADER: "1"},
            )

        connection.call(poison)
        app.record(draft("after-poison"))

        def listed_after_the_poison() -> None:
            assert set(listed(app, actor=JANE)) == {
                str(touchpoint_id_for("intercom", f"{RUN}-{name}")) for name in ("before-poison", "after-poison")
            }

        eventually(listed_after_the_poison)
        assert [(row["topic"], row["reason"]) for row in app.index.quarantined()] == [  # type: ignore[union-attr]
            (
                touchpoint_events.TouchpointRecorded.DESCRIPTOR.full_name,
                "the payload is not a valid message of its topic",
            )
        ]
        assert app.index_runner is not None and app.index_runner.healthy


def test_a_forgotten_person_reads_erased_in_the_index_and_nothing_personal_is_in_its_rows_or_files(
    settings: Settings, views: Views, tmp_path: Path
) -> None:
    """Ada's touchpoints (hers and the company's answer to her) are listed, then identity forgets her: the index's
    rows and SQLite files never held her texts or identifiers (nor anyone else's) in clear, and ListTouchpoints and
    GetTouchpoint answer "[erased]" for her items, found by any spelling of her e-mail, and clear text for Bob's."""
    tag = uuid.uuid4().hex[:8]
    ada = Identifier("email", "", f"Ada.Lovelace.{tag}@Example.ORG")  # spelled her own way
    bob = Identifier("email", "", f"bob.{tag}@example.org")
    hers = {
        "question": f"My analytical engine {tag} jams on every loop",
        "complaint": f"Still jammed after three weeks {tag}",
        "answer": f"So sorry Ada, an engineer visits today {tag}",
    }
    his = f"Where is my difference engine {tag}"
    url = f"https://forum.example.net/users/ada-lovelace-{tag}/posts/1"
    own = TouchpointsSettings(app_name=f"tp_forget_{RUN}_{tag}")
    identity_settings = replace(settings, views_url=f"sqlite:///{tmp_path / 'identity.db'}")
    with (
        touchpoints_service(settings, own, pg_schema=views.schema) as app,
        running_server(TOUCHPOINTS.registrations(app)) as (channel, _port),
        serving(IDENTITY, identity_settings, IdentitySettings(app_name=f"identity_forget_{RUN}_{tag}")) as identity,
    ):
        touchpoints = tpb_grpc.TouchpointServiceStub(channel)
        identity_stub = ipb_grpc.IdentityServiceStub(identity.channel)
        party = identity_stub.RegisterParty(
            ipb.RegisterPartyRequest(
                kind=types.PARTY_KIND_PERSON,
                display_name="Ada Lovelace",
                identifiers=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value=ada.value.lower())],
            )
        ).party.party_id
        app.record_batch(
            [
                draft(f"{tag}-question", actors=(ada,), text=hers["question"], external_url=url),
                draft(f"{tag}-complaint", actors=(ada,), text=hers["complaint"], occurred_at=NOW - timedelta(hours=1)),
                draft(
                    f"{tag}-answer",
                    direction="outbound",
                    actors=(Identifier("x", "", "acme"), ada),
                    text=hers["answer"],
                    occurred_at=NOW - timedelta(minutes=30),
                ),
                draft(f"{tag}-bob", actors=(bob,), text=his),
            ]
        )
        ids = {name: str(touchpoint_id_for("intercom", f"{RUN}-{tag}-{name}")) for name in (*hers, "bob")}
        app.index_runner.catch_up(timeout=20)  # type: ignore[union-attr]

        def listed_for(identifier: Identifier) -> dict[str, tpb.Touchpoint]:
            answer = touchpoints.ListTouchpoints(
                tpb.ListTouchpointsRequest(
                    actor=types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value=identifier.value), page_size=100
                )
            )
            return {item.touchpoint_id: item for item in answer.touchpoints}

        before = listed_for(Identifier("email", "", ada.value.upper()))
        assert {before[ids[name]].content.text for name in hers} == set(hers.values())  # opened when read
        assert before[ids["question"]].source.url == url

        identity_stub.ForgetParty(
            ipb.ForgetPartyRequest(party_id=party, requested_by="case-10", legal_basis="GDPR Art. 17(1)(a)")
        )

        secrets = (*hers.values(), url, ada.value, ada.value.lower(), his, bob.value)
        stored = json.dumps(index_dump(app.index), default=str).lower()  # type: ignore[arg-type]
        assert [value for value in secrets if value.lower() in stored] == []
        assert [value for value in secrets if value.lower().encode() in sqlite_bytes(views)] == []

        after = listed_for(Identifier("email", "", ada.value.lower()))
        assert set(after) == {ids[name] for name in hers}  # found by the keyed join, without clear text
        for name in hers:
            item = after[ids[name]]
            assert item.content.text == "[erased]"
            assert "[erased]" in {actor.value for actor in item.actors}
            got = touchpoints.GetTouchpoint(tpb.GetTouchpointRequest(touchpoint_id=ids[name])).touchpoint
            assert got.content.text == "[erased]"
        assert after[ids["question"]].source.url == "[erased]"
        assert [actor.value for actor in after[ids["answer"]].actors] == ["acme", "[erased]"]
        (bobs,) = listed_for(bob).values()
        assert bobs.content.text == his and [actor.value for actor in bobs.actors] == [bob.value]
        got = touchpoints.GetTouchpoint(tpb.GetTouchpointRequest(touchpoint_id=ids["bob"])).touchpoint
        assert got.content.text == his
    assert [value for value in secrets if value.lower().encode() in sqlite_bytes(views)] == []


def test_every_marked_field_an_index_document_carries_is_sealed_in_it_and_opened_when_read(nats_url: str) -> None:
    """A new marked field of ``TouchpointRecorded`` that the document carries is opened by ``opened`` too."""
    message = touchpoint_events.TouchpointRecorded(
        actors=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value=f"eve-{RUN}@example.org")],
        direction=types.DIRECTION_INBOUND,
    )
    for field in message.DESCRIPTOR.fields:
        if subject_of(field):
            setattr(message, field.name, f"clear {field.name} {RUN}")
    with open_keyring(Settings(nats_url=nats_url)):
        stored = json.dumps(document_of("t", seal(message, "t")))
        assert RUN not in stored
        read = json.dumps(opened(json.loads(stored), {}))
    assert PREFIX not in read
    assert all(f"clear {field.name} {RUN}" in read for field in message.DESCRIPTOR.fields if subject_of(field))
    assert f"eve-{RUN}@example.org" in read


def index_dump(index: TouchpointIndex) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of ``index``."""
    return {table: index.query(f"SELECT * FROM {table}") for table in TouchpointIndex.TABLES}


def sqlite_bytes(views: Views) -> bytes:
    """The lower-cased bytes of the SQLite index's files (database, write-ahead log, shared memory); none on
    PostgreSQL."""
    if views.schema is not None:
        return b""
    database = Path(views.url.removeprefix("sqlite:///"))
    return b"".join(path.read_bytes().lower() for path in sorted(database.parent.glob(f"{database.name}*")))


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ('Ça coûte 12 €, pourquoi ?? \N{PILE OF POO} \u2028 "quoted" \\ back', -0.6474),
        ("plain", 1e-05),
        ("", 0.0),
        ("a\tb\nc \x7f \ud7ff \U0010ffff", -1.0),
    ],
)
def test_an_index_document_reads_back_as_the_projection_made_it(views: Views, text: str, score: float) -> None:
    """Whatever the encoding of the stored documents, a document reads back with the values it was made with."""
    index = TouchpointIndex(views.url, pg_schema=views.schema)
    try:
        message = touchpoint_events.TouchpointRecorded(
            kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
            channel=types.CHANNEL_FORUM,
            direction=types.DIRECTION_INBOUND,
            visibility=types.VISIBILITY_PUBLIC,
            occurred_at={"seconds": 1_700_000_000, "nanos": 123_456_000},
            timestamp={"seconds": 1_700_000_001, "nanos": 999_000},
            source_system="forum",
            external_id=f"{RUN}-ü",
            actors=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="zoë@example.org")],
            followers=2**40,
            text=text,
            sentiment_label=touchpoint_events.SENTIMENT_LABEL_NEGATIVE,
            sentiment_score=score,
            tags=["ünïcode", "b"],
            inferred=["intent", "sentiment"],
            rating=4,
        )
        touchpoint_id = str(uuid.uuid4())
        expected = document_of(touchpoint_id, message)
        projection = TouchpointProjection(index)
        event = UpstreamEvent("touchpoints", 1, touchpoint_id, 1, message.DESCRIPTOR.full_name, message)
        with index.transaction(Tracking("touchpoints", 1)) as cur:
            projection.recorded(cur, event)
            projection.before_commit(cur)
        assert index.document(uuid.UUID(touchpoint_id), sealed=True) == expected
        assert index.document(uuid.UUID(touchpoint_id)) == expected  # nothing sealed: opening changes nothing
    finally:
        index.close()

"""``chorus audit`` against streams the real services wrote, and against tampered copies of them."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from chorus.common.v1 import types_pb2 as types
from services.audit.history import Point, experience_as_of, is_empty
from services.audit.stream import messages
from services.cli import app as chorus
from services.common.audit import Checkpoint, Checkpointer, checkpoint_subject
from services.common.contracts import micros
from services.common.eventstore import StoredMessage, StreamLayout, message_sequence
from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.digest import DIGEST_HEADER, GENESIS, message_digest, relative_subject
from services.common.eventstore.envelope import OutgoingMessage
from tests.support.stack import Stack, ago, chorus_stack, ident

EMAIL, X, PHONE = types.IDENTIFIER_TYPE_EMAIL, types.IDENTIFIER_TYPE_X, types.IDENTIFIER_TYPE_PHONE


def write_keys(directory: Path) -> tuple[Ed25519PrivateKey, Path]:
    key = Ed25519PrivateKey.generate()
    public = directory / "audit.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return key, public


@dataclass
class Story:
    """Streams written by the real services, checkpointed twice, with views captured live in between."""

    stack: Stack
    connection: JetStreamConnection
    identity_app: str
    touchpoints_app: str
    public_key: Path
    key: Ed25519PrivateKey
    jane: str
    john: str
    live_dump: dict[str, Any]
    live_positions: dict[str, int]
    live_moment: datetime
    live_experience: dict[str, Any]
    later_dump: dict[str, Any]

    def cli(self, *args: str) -> Any:
        return CliRunner().invoke(chorus, ["audit", *args, "--nats-url", self.stack.settings.nats_url])

    def layout(self, app: str) -> StreamLayout:
        return StreamLayout(app)

    def stored(self, app: str) -> list[StoredMessage]:
        return list(messages(self.connection, self.layout(app)))


def record(stack: Stack, name: str, actor: Any, channel: int, text: str, intent: int = types.INTENT_QUESTION) -> str:
    return stack.inbound(name, actor, text, occurred_at=ago(days=3), channel=channel, intent=intent)


@pytest.fixture(scope="module")
def story(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    tmp = tmp_path_factory.mktemp("audit")
    key, public = write_keys(tmp)
    with chorus_stack(nats_url, f"sqlite:///{tmp / 'views.db'}") as stack:
        identity_app = stack.experience_settings.upstream_apps["identity"]
        touchpoints_app = stack.experience_settings.upstream_apps["touchpoints"]
        connection = stack.touchpoints_app.factory.connection
        signers = [
            Checkpointer(connection, StreamLayout(app), key, interval=0).start()
            for app in (identity_app, touchpoints_app)
        ]
        try:
            jane = stack.register("Jane Smith")
            stack.link(jane, ident(EMAIL, "jane@example.com"))
            stack.link(jane, ident(X, "janesmith"))
            john = stack.register("John Doe")
            stack.link(john, ident(EMAIL, "john@example.com"))
            record(stack, "jane-mail", ident(EMAIL, "jane@example.com"), types.CHANNEL_EMAIL, "Where is my kettle?")
            record(stack, "jane-x", ident(X, "janesmith"), types.CHANNEL_X, "Still no kettle", types.INTENT_COMPLAINT)
            record(stack, "john-chat", ident(EMAIL, "john@example.com"), types.CHANNEL_CHAT, "Opening hours?")
            stack.caught_up()
            for signer in signers:
                signer.checkpoint()
            live_dump = stack.experience_app.view.dump()
            live_positions = stack.experience_app.applied()
            live_moment = datetime.now(UTC)
            live_experience = stack.experience_app.experience(jane, at_us=micros(live_moment))
            stack.link(john, ident(PHONE, "+44 20 7946 0958"))
            stack.link(jane, ident(EMAIL, "jane.smith@example.com"))
            record(stack, "jane-again", ident(EMAIL, "jane.smith@example.com"), types.CHANNEL_EMAIL, "Any news?")
            stack.caught_up()
            for signer in signers:
                signer.checkpoint()
            later_dump = stack.experience_app.view.dump()
            record(stack, "john-tail", ident(EMAIL, "john@example.com"), types.CHANNEL_EMAIL, "Thanks")  # unsigned
            stack.caught_up()
            yield Story(
                stack,
                connection,
                identity_app,
                touchpoints_app,
                public,
                key,
                jane,
                john,
                live_dump,
                live_positions,
                live_moment,
                live_experience,
                later_dump,
            )
        finally:
            for signer in signers:
                signer.stop()


# ------------------------------------------------------------------------------------------------ verify


def test_verify_passes_on_the_streams_the_services_wrote_and_counts_the_unsigned_tail(story: Story) -> None:
    result = story.cli("verify", story.identity_app, story.touchpoints_app, "--public-key", str(story.public_key))

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"OK {story.layout(story.identity_app).stream}:")
    assert "2 checkpoints" in lines[0]
    assert "chained but not signed yet" in lines[1]  # john's last touchpoint came after the second checkpoint
    strict = story.cli("verify", story.touchpoints_app, "--public-key", str(story.public_key), "--require-signed")
    assert strict.exit_code == 1


def test_verify_refuses_checkpoints_signed_by_a_key_it_was_not_given(story: Story, tmp_path: Path) -> None:
    _, stranger = write_keys(tmp_path)

    result = story.cli("verify", story.identity_app, "--public-key", str(stranger))

    assert result.exit_code == 1
    assert "not one of the given public keys" in result.output


def test_verify_of_a_stream_it_cannot_read_says_so_and_exits_2(story: Story) -> None:
    result = story.cli("verify", f"nothing_{uuid.uuid4().hex[:8]}", "--public-key", str(story.public_key))

    assert result.exit_code == 2
    assert "does not exist" in result.output


def copy_stream(story: Story, app: str, rewrite: Any) -> str:
    """Republish ``app``'s stream, message by message, into a fresh namespace; ``rewrite(list)`` tampers first."""
    namespace = f"copy{uuid.uuid4().hex[:8]}"
    source, target = story.layout(app), StreamLayout(app, namespace=namespace)
    story.connection.ensure_stream(target.spec)
    originals = [
        OutgoingMessage(
            target.prefix + msg.subject[len(source.prefix) :],
            msg.data,
            {name: value for name, value in msg.headers.items() if name.startswith("Chorus-")},
        )
        for msg in story.stored(app)
    ]
    for msg in rewrite(originals):
        story.connection.call(lambda m=msg: story.connection.publish_atomic([m]))
    return namespace


def verify_copy(story: Story, app: str, namespace: str) -> Any:
    return story.cli("verify", app, "--public-key", str(story.public_key), "--namespace", namespace)


def chained_pair(msgs: list[OutgoingMessage]) -> tuple[int, int]:
    """Indexes (k, m) of two messages of one aggregate, m the next on its subject after k, no checkpoint between."""
    for k, first in enumerate(msgs):
        if first.subject.split(".")[2] != "e":
            continue
        m = next((m for m in range(k + 1, len(msgs)) if msgs[m].subject == first.subject), None)
        if m is not None and not any(msgs[i].subject.endswith(".c") for i in range(k + 1, m)):
            return k, m
    raise AssertionError("the story has no such pair")


def test_an_altered_payload_breaks_the_chain_at_that_message(story: Story) -> None:
    app = story.identity_app
    k, _ = chained_pair(copy_messages(story, app))

    def alter(msgs: list[OutgoingMessage]) -> list[OutgoingMessage]:
        msgs[k].data = msgs[k].data.replace(b"Jane", b"Joan") if b"Jane" in msgs[k].data else msgs[k].data + b"\x00"
        return msgs

    result = verify_copy(story, app, namespace := copy_stream(story, app, alter))

    assert result.exit_code == 1
    assert f"BROKEN {namespace.upper()}_{story.layout(app).app.upper()} sequence {k + 1}:" in result.output
    assert "does not match its stored bytes" in result.output


def test_a_removed_message_breaks_the_link_of_the_next_message_of_its_aggregate(story: Story) -> None:
    app = story.identity_app
    k, m = chained_pair(copy_messages(story, app))

    namespace = copy_stream(story, app, lambda msgs: msgs[:k] + msgs[k + 1 :])
    result = verify_copy(story, app, namespace)

    assert result.exit_code == 1
    stream = StreamLayout(app, namespace=namespace).stream
    assert f"BROKEN {stream} sequence {m}:" in result.output  # message m + 1 of the original is m of the copy


def test_an_aggregates_chain_recomputed_without_the_key_fails_at_the_first_checkpoint_after_the_change(
    story: Story,
) -> None:
    app = story.identity_app
    msgs = copy_messages(story, app)
    first_checkpoint = next(i for i, msg in enumerate(msgs) if msg.subject.endswith(".c"))
    k = next(i for i in range(first_checkpoint) if msgs[i].subject.split(".")[2] == "e")

    def rewrite_chain(copied: list[OutgoingMessage]) -> list[OutgoingMessage]:
        copied[k].data = copied[k].data + b"\x00"
        previous = GENESIS
        for msg in copied:
            if msg.subject == copied[k].subject:  # what someone with write access but no signing key can do
                msg.headers[DIGEST_HEADER] = message_digest(
                    previous, msg.subject.split(".", 2)[2], msg.headers, msg.data
                )
                previous = msg.headers[DIGEST_HEADER]
        return copied

    namespace = copy_stream(story, app, rewrite_chain)
    result = verify_copy(story, app, namespace)

    assert result.exit_code == 1
    assert f" sequence {first_checkpoint + 1} (the change lies in sequences 1-" in result.output
    assert "signed running digest" in result.output
    tampered = list(messages(story.connection, StreamLayout(app, namespace=namespace)))
    assert tampered[k].headers[DIGEST_HEADER] != msgs[k].headers[DIGEST_HEADER]  # the chain was rewritten


def copy_messages(story: Story, app: str) -> list[OutgoingMessage]:
    return [OutgoingMessage(msg.subject, msg.data, dict(msg.headers)) for msg in story.stored(app)]


# ------------------------------------------------------------------------------------------------ as of


def test_as_of_the_captured_sequences_reproduces_the_view_captured_live(story: Story) -> None:
    point = Point(sequences={role: message_sequence(position) for role, position in story.live_positions.items()})
    apps = {"identity": story.identity_app, "touchpoints": story.touchpoints_app}

    with experience_as_of(story.connection, point, apps=apps, default_region="GB") as replayed:
        assert replayed.view.dump() == story.live_dump
    with experience_as_of(story.connection, Point(), apps=apps, default_region="GB") as now:
        assert now.view.dump() != story.live_dump


def test_as_of_a_past_time_reproduces_the_live_view_and_the_experience_computed_then(story: Story) -> None:
    apps = {"identity": story.identity_app, "touchpoints": story.touchpoints_app}

    with experience_as_of(story.connection, Point(at=story.live_moment), apps=apps, default_region="GB") as replayed:
        assert replayed.view.dump() == story.live_dump
    result = story.cli(
        "as-of",
        story.jane,
        "--at",
        story.live_moment.isoformat(),
        "--default-region",
        "GB",
        "--identity-app",
        story.identity_app,
        "--touchpoints-app",
        story.touchpoints_app,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(story.live_experience, sort_keys=True, default=str))


def test_as_of_before_the_first_event_is_an_empty_view_stated_as_such(story: Story) -> None:
    apps = {"identity": story.identity_app, "touchpoints": story.touchpoints_app}
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)

    with experience_as_of(story.connection, Point(at=long_ago), apps=apps) as replayed:
        assert is_empty(replayed)
    result = story.cli(
        "as-of",
        story.jane,
        "--at",
        long_ago.isoformat(),
        "--identity-app",
        story.identity_app,
        "--touchpoints-app",
        story.touchpoints_app,
    )
    assert result.exit_code == 0
    assert json.loads(result.output)["empty"] is True


# ------------------------------------------------------------------------------------------------ replay, export


def test_a_partys_replay_holds_its_identity_events_and_its_touchpoints_only(story: Story) -> None:
    result = story.cli(
        "replay",
        "--party",
        story.jane,
        "--format",
        "jsonl",
        "--identity-app",
        story.identity_app,
        "--touchpoints-app",
        story.touchpoints_app,
    )

    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    texts = {row["event"]["text"] for row in rows if row["topic"].endswith("TouchpointRecorded")}
    assert texts == {"Where is my kettle?", "Still no kettle", "Any news?"}
    assert any(row["aggregate"] == story.jane and row["topic"].endswith("PartyRegistered") for row in rows)
    assert story.john not in {row["aggregate"] for row in rows}
    assert all(row["digest"] for row in rows)


def test_replay_of_a_sequence_range_as_a_table(story: Story) -> None:
    jsonl = story.cli("replay", story.touchpoints_app, "--format", "jsonl")
    by_seq = {row["seq"]: row["aggregate"] for row in map(json.loads, jsonl.stdout.splitlines())}

    result = story.cli("replay", story.touchpoints_app, "--from-seq", "2", "--to-seq", "2")

    assert result.exit_code == 0, result.output
    assert "TouchpointRecorded" in result.output
    assert by_seq[2] in result.output
    assert by_seq[1] not in result.output and by_seq[3] not in result.output


def test_export_lets_another_tool_recompute_every_digest(story: Story) -> None:
    result = story.cli("export", story.identity_app)

    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    prefix = story.layout(story.identity_app).prefix
    previous: dict[str, str] = {}
    for row in [r for r in rows if not r["subject"].endswith(".c")]:
        digest = message_digest(
            previous.get(row["subject"], GENESIS),
            relative_subject(row["subject"], prefix),
            row["headers"],
            base64.b64decode(row["data_b64"]),
        )
        assert digest == row["headers"][DIGEST_HEADER]
        previous[row["subject"]] = digest
    checkpoints = [Checkpoint.from_bytes(base64.b64decode(r["data_b64"])) for r in rows if r["subject"].endswith(".c")]
    assert len(checkpoints) == 2


def test_receipts_lists_the_party_forgotten_events_of_identity(story: Story) -> None:
    app = f"identity_{uuid.uuid4().hex[:8]}"
    layout = StreamLayout(app)
    story.connection.ensure_stream(layout.spec)
    party = str(uuid.uuid4())
    for topic in ("chorus.identity.events.v1.PartyRegistered", "chorus.identity.events.v1.PartyForgotten"):
        message = OutgoingMessage(
            layout.event_subject(uuid.UUID(party)),
            b"",
            {"Chorus-Topic": topic, "Chorus-Version": "1" if "Registered" in topic else "2"},
        )
        story.connection.call(lambda m=message: story.connection.publish_atomic([m]))

    result = story.cli("receipts", "--identity-app", app)

    assert result.exit_code == 0, result.output
    [receipt] = [json.loads(line) for line in result.output.splitlines()]
    assert (receipt["aggregate"], receipt["topic"], receipt["seq"]) == (
        party,
        "chorus.identity.events.v1.PartyForgotten",
        2,
    )


# ------------------------------------------------------------------------------------------------ checkpoints


def test_a_service_signs_a_checkpoint_on_demand_and_replicas_do_not_sign_the_same_twice(story: Story) -> None:
    app = story.touchpoints_app
    other = Checkpointer(story.connection, story.layout(app), story.key, interval=0)  # a second replica

    result = story.cli("checkpoint", app)
    assert result.exit_code == 0, result.output
    answered = json.loads(result.stdout.strip().splitlines()[-1])  # the service's own log may come first here
    again = other.checkpoint()  # it resumes from the stored checkpoint rather than conflicting with it

    assert answered["sequence"] == again.sequence  # type: ignore[union-attr]
    assert other.checkpoint(only_if_grown=True) is None
    stored = [m for m in story.stored(app) if m.subject == checkpoint_subject(story.layout(app))]
    assert Checkpoint.from_bytes(stored[-1].data).sequence == answered["sequence"]
    assert story.cli("verify", app, "--public-key", str(story.public_key), "--require-signed").exit_code == 0


def test_as_of_on_a_stream_it_cannot_read_says_so_and_exits_2(story: Story) -> None:
    result = story.cli(
        "as-of",
        story.jane,
        "--at",
        story.live_moment.isoformat(),
        "--identity-app",
        "nobody_here",
        "--touchpoints-app",
        story.touchpoints_app,
    )

    assert result.exit_code == 2
    assert "CHORUS_NOBODY_HERE" in result.output and "does not exist" in result.output

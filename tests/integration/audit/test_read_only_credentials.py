"""``chorus audit`` needs nothing but read-only NATS credentials: stream info and direct gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from services.cli import app as chorus
from services.common.audit import Checkpointer
from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.envelope import OutgoingMessage
from services.common.nats_server import NatsServer
from tests.support.eventstore import Account, new_app

AUDITOR = {
    "user": "auditor",
    "password": "audit-only",
    "permissions": {
        "publish": {"allow": ["$JS.API.STREAM.INFO.>", "$JS.API.DIRECT.GET.>"]},
        "subscribe": {"allow": ["_INBOX.>"]},
    },
}


@pytest.fixture
def secured_nats(tmp_path: Path) -> Iterator[NatsServer]:
    config = {
        "accounts": {"CHORUS": {"jetstream": "enabled", "users": [{"user": "writer", "password": "writes"}, AUDITOR]}}
    }
    server = NatsServer(store_dir=tmp_path / "nats", config=config).start()
    try:
        yield server
    finally:
        server.stop()


def test_replay_verify_and_export_work_with_credentials_that_can_only_read(
    secured_nats: NatsServer, tmp_path: Path
) -> None:
    host = f"{secured_nats.host}:{secured_nats.port}"
    app: Any = new_app(f"nats://writer:writes@{host}")
    account = Account(kind="person", roles=("customer",), display_name="Jane", anonymous=False)
    account.add_member("m1")
    app.save(account)
    key = Ed25519PrivateKey.generate()
    public = tmp_path / "audit.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    Checkpointer(app.recorder.connection, app.recorder.layout, key, interval=0).checkpoint()
    auditor = f"nats://auditor:audit-only@{host}"

    def audit(*args: str) -> Any:
        return CliRunner().invoke(chorus, ["audit", *args, "--nats-url", auditor])

    verified = audit("verify", app.name, "--public-key", str(public), "--require-signed")
    assert verified.exit_code == 0, verified.output
    replayed = audit("replay", app.name, "--format", "jsonl")
    assert [json.loads(line)["topic"] for line in replayed.stdout.splitlines()] == [
        "chorus.bench.events.v1.AccountRegistered",
        "chorus.bench.events.v1.AccountMemberAdded",
    ]
    exported = audit("export", app.name)
    assert exported.exit_code == 0 and len(exported.stdout.splitlines()) == 2  # the event message and the checkpoint

    connection = JetStreamConnection.open(auditor, request_timeout=1)  # and they really cannot write
    try:
        with pytest.raises(Exception):  # noqa: B017 - refused by the server's permissions, seen as no answer
            connection.call(
                lambda: connection.publish_atomic(
                    [OutgoingMessage(app.recorder.layout.event_subject(account.id), b"x", {})]
                )
            )
    finally:
        connection.close()
        app.close()

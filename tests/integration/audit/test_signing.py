"""The checkpoint signing key from configuration, and the checkpoints a service signs on its schedule."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import grpc
import pytest
from typer.testing import CliRunner

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as pb
from chorus.identity.v1 import identity_service_pb2_grpc as pb_grpc
from services.cli import app as chorus
from services.common.audit import AuditKeyError, AuditSettings, Checkpoint, Checkpointer, key_id, signing_key
from services.common.audit.checkpoints import checkpoint_subject
from services.common.errors import ConfigurationError
from services.common.nats_server import free_port
from services.common.testing import eventually
from tests.support.eventstore import Account, new_app

REPO = Path(__file__).resolve().parents[3]


def test_without_a_configured_key_one_is_generated_into_the_data_dir_once(tmp_path: Path) -> None:
    settings = AuditSettings.from_env(tmp_path, {})

    first, again = signing_key(settings), signing_key(settings)

    assert key_id(first.public_key()) == key_id(again.public_key())
    assert (tmp_path / "audit" / "signing-key.pem").stat().st_mode & 0o077 == 0
    assert (tmp_path / "audit" / "signing-key.pub.pem").exists()


def test_a_configured_key_file_that_is_missing_or_not_a_key_is_refused_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    with pytest.raises(AuditKeyError, match=r"nowhere\.pem"):
        signing_key(AuditSettings.from_env(tmp_path, {"CHORUS_AUDIT_SIGNING_KEY_FILE": str(missing)}))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(AuditKeyError, match=r"garbage\.pem"):
        signing_key(AuditSettings.from_env(tmp_path, {"CHORUS_AUDIT_SIGNING_KEY_FILE": str(garbage)}))
    with pytest.raises(ConfigurationError, match="CHORUS_AUDIT_CHECKPOINT_SECONDS"):
        AuditSettings.from_env(tmp_path, {"CHORUS_AUDIT_CHECKPOINT_SECONDS": "soon"})


def test_a_checkpointer_signs_on_its_schedule_once_the_stream_has_grown(nats_url: str, tmp_path: Path) -> None:
    app: Any = new_app(nats_url)
    app.save(Account(kind="person", roles=("customer",), display_name="Jane", anonymous=False))
    key = signing_key(AuditSettings.from_env(tmp_path, {}))
    recorder = app.recorder

    def checkpoints() -> list[Checkpoint]:
        stored = recorder.connection.call(
            lambda: recorder.connection.direct_get_batch(
                recorder.layout.stream, start_seq=1, subject_filter=checkpoint_subject(recorder.layout), batch=100
            )
        )
        return [Checkpoint.from_bytes(msg.data) for msg in stored]

    def at_least(count: int) -> list[Checkpoint]:
        found = checkpoints()
        assert len(found) >= count
        return found

    with Checkpointer(recorder.connection, recorder.layout, key, interval=0.1):
        [first] = eventually(lambda: at_least(1))
        app.save(Account(kind="person", roles=("customer",), display_name="John", anonymous=False))
        signed = eventually(lambda: at_least(2))

    assert first.sequence == 1
    assert signed[1].sequence == 3  # the second account's message; the first checkpoint (seq 2) is not covered
    app.close()


def test_the_identity_service_process_signs_its_stream_with_the_key_it_generated(nats_url: str, tmp_path: Path) -> None:
    port = free_port()
    app_name = f"identity_audit_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "CHORUS_NATS_URL": nats_url,
        "CHORUS_GRPC_HOST": "127.0.0.1",
        "CHORUS_IDENTITY_PORT": str(port),
        "CHORUS_DATA_DIR": str(tmp_path),
        "CHORUS_IDENTITY_APP_NAME": app_name,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "services.identity.main"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        pb_grpc.IdentityServiceStub(channel).RegisterParty(
            pb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name="Jane Smith")
        )
        channel.close()

        asked = CliRunner().invoke(chorus, ["audit", "checkpoint", app_name, "--nats-url", nats_url])
        assert asked.exit_code == 0, asked.output
        assert json.loads(asked.stdout.splitlines()[-1])["sequence"] >= 1
        public = tmp_path / "audit" / "signing-key.pub.pem"
        verified = CliRunner().invoke(
            chorus,
            ["audit", "verify", app_name, "--public-key", str(public), "--require-signed", "--nats-url", nats_url],
        )
        assert verified.exit_code == 0, verified.output
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0
        assert "audit.checkpoints" in output
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

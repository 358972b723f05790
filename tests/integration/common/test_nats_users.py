"""The NATS users ``chorus up`` configures, against a real nats-server with that configuration: each may do
what its service needs (each service with a keyring watching the key vault for destroyed keys among it), and the
server refuses the rest (writing another service's stream, purging, deleting)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import pytest

from services.common.eventstore.catch_up import CatchUpRead
from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.errors import JetStreamApiError
from services.common.eventstore.layout import StreamLayout
from services.common.nats_server import NatsServer, find_binary
from services.common.privacy.keyring import Keyring
from services.common.privacy.keys import DeploymentKeys
from services.common.privacy.vault import Kek, NatsKeyVault
from services.common.security import nats_users
from services.common.testing import eventually


@pytest.fixture(scope="module")
def secured_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NatsServer, dict[str, str]]]:
    root = tmp_path_factory.mktemp("nats")
    passwords = nats_users.ensure_users(root / "credentials")
    server = NatsServer(
        store_dir=root / "store", port=0, config={"authorization": nats_users.authorization(passwords)}
    ).start()
    try:
        for writer in nats_users.WRITERS:  # each writer creates its own stream, as its service does at start-up
            connection = JetStreamConnection.open(nats_users.user_url(server.url, writer, passwords[writer]))
            try:
                connection.ensure_stream(StreamLayout(writer).spec)
            finally:
                connection.close()
        yield server, passwords
    finally:
        server.stop()


async def _connect(server: NatsServer, passwords: dict[str, str], user: str, refused: asyncio.Event) -> nats.NATS:
    """A client of ``user`` that sets ``refused`` when the server reports a permissions violation."""

    async def on_error(error: Exception) -> None:
        if "permissions violation" in str(error).lower():
            refused.set()

    return await nats.connect(
        nats_users.user_url(server.url, user, passwords[user]), error_cb=on_error, allow_reconnect=False
    )


def _attempt(server: NatsServer, passwords: dict[str, str], user: str, subject: str, payload: bytes = b"{}") -> str:
    """``ok`` when the server answered the request; ``refused`` when it reported a permissions violation."""

    async def attempt() -> str:
        refused = asyncio.Event()
        client = await _connect(server, passwords, user, refused)
        try:
            request = asyncio.ensure_future(client.request(subject, payload, timeout=10))
            violation = asyncio.ensure_future(refused.wait())
            done, _ = await asyncio.wait({request, violation}, return_when=asyncio.FIRST_COMPLETED)
            if violation in done:
                request.cancel()
                return "refused"
            violation.cancel()
            try:
                request.result()
            except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
                return "no answer"
            return "ok"
        finally:
            await client.close()

    return asyncio.run(attempt())


def test_the_password_file_is_private_and_stable(tmp_path: Path) -> None:
    first = nats_users.ensure_users(tmp_path)
    assert nats_users.ensure_users(tmp_path) == first
    assert (tmp_path / "nats-users.json").stat().st_mode & 0o077 == 0
    assert set(first) == set(nats_users.USERS)


@pytest.mark.parametrize(("user", "other"), [("identity", "touchpoints"), ("touchpoints", "identity")])
def test_a_writer_publishes_to_its_own_stream_only(secured_nats, user: str, other: str) -> None:
    server, passwords = secured_nats
    assert _attempt(server, passwords, user, f"chorus.{user}.e.a1") == "ok"  # JetStream acknowledged it
    assert _attempt(server, passwords, user, f"chorus.{other}.e.a1") == "refused"


@pytest.mark.parametrize("user", nats_users.USERS)
def test_nobody_may_purge_or_delete_a_stream_or_a_message(secured_nats, user: str) -> None:
    server, passwords = secured_nats
    for stream in ("CHORUS_IDENTITY", "CHORUS_TOUCHPOINTS"):
        assert _attempt(server, passwords, user, f"$JS.API.STREAM.PURGE.{stream}") == "refused"
        assert _attempt(server, passwords, user, f"$JS.API.STREAM.DELETE.{stream}") == "refused"
        assert _attempt(server, passwords, user, f"$JS.API.STREAM.MSG.DELETE.{stream}", b'{"seq":1}') == "refused"


@pytest.mark.parametrize("user", nats_users.READERS)
def test_a_reader_reads_both_streams_and_publishes_to_none(secured_nats, user: str) -> None:
    server, passwords = secured_nats
    for app in nats_users.WRITERS:
        stream = StreamLayout(app).stream
        assert _attempt(server, passwords, user, f"$JS.API.STREAM.INFO.{stream}", b"") == "ok"
        assert _attempt(server, passwords, user, f"chorus.{app}.e.a1") == "refused"
        assert _attempt(server, passwords, user, f"chorus.{app}.t.projection") == "refused"
        assert _attempt(server, passwords, user, f"$JS.API.STREAM.UPDATE.{stream}") == "refused"
    assert _attempt(server, passwords, user, "$JS.API.STREAM.CREATE.CHORUS_ELSEWHERE", b"{}") == "refused"


@pytest.mark.parametrize("user", nats_users.READERS)
def test_a_reader_reads_a_stream_through_a_catch_up_consumer_and_removes_it(secured_nats, user: str) -> None:
    server, passwords = secured_nats
    app = nats_users.WRITERS[0]
    layout = StreamLayout(app)
    assert _attempt(server, passwords, app, f"chorus.{app}.e.{uuid.uuid4().hex}") == "ok"  # one message at least
    reader = JetStreamConnection.open(nats_users.user_url(server.url, user, passwords[user]))
    try:
        last = reader.call(lambda: reader.last_sequence(layout.stream))

        async def read() -> tuple[int, int]:
            catching_up = await CatchUpRead(reader, layout.stream, f"chorus.{app}.>", 1, buffer=100).open()
            try:
                page = await catching_up.page(100, last)
            finally:
                await catching_up.close()
            info = await reader.client.jetstream().stream_info(layout.stream)
            return len(page), int(info.state.consumer_count)

        read_count, consumers_left = reader.call(read)  # created, pulled from, deleted: each granted
        assert read_count >= 1
        assert consumers_left == 0
    finally:
        reader.close()


def test_a_url_with_a_password_is_never_shown_with_it(secured_nats) -> None:
    server, passwords = secured_nats
    connection = JetStreamConnection.open(nats_users.user_url(server.url, "experience", passwords["experience"]))
    try:
        assert passwords["experience"] not in connection.url and "experience:***@" in connection.url
    finally:
        connection.close()


@pytest.mark.parametrize("user", nats_users.READERS)
def test_readers_cannot_write_the_key_vault_and_the_auditor_cannot_read_it(secured_nats, user: str) -> None:
    server, passwords = secured_nats
    assert _attempt(server, passwords, user, "$KV.CHORUS_KEYS.dk.a1") == "refused"
    assert _attempt(server, passwords, user, "$JS.API.STREAM.PURGE.KV_CHORUS_KEYS") == "refused"
    if user == "auditor":
        assert (
            _attempt(server, passwords, user, "$JS.API.DIRECT.GET.KV_CHORUS_KEYS", b'{"last_by_subj":"x"}') == "refused"
        )


def test_generated_passwords_survive_the_deployment_configs_variable_references(tmp_path: Path) -> None:
    """nats-server parses a ``$VARIABLE`` value as a config value: a password that reads as a number (or starts
    with ``-``) stops the server from starting."""
    config = tmp_path / "nats-server.conf"
    config.write_text(nats_users.deployment_block())
    for bundle in range(40):
        passwords = nats_users.ensure_users(tmp_path / str(bundle))
        env = {**os.environ, **{nats_users.password_variable(user): value for user, value in passwords.items()}}
        checked = subprocess.run(
            [str(find_binary()), "-t", "-c", str(config)], capture_output=True, text=True, env=env, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("user", ["identity", "touchpoints", "experience"])
def test_each_service_with_a_keyring_hears_of_a_key_identity_destroys(secured_nats, user: str) -> None:
    """Every service holding a keyring watches the vault's bucket for destroyed keys with its own user: a key it
    has cached is evicted once identity (ForgetParty) destroys it."""
    server, passwords = secured_nats
    kek = Kek(DeploymentKeys.from_env().kek)
    with contextlib.ExitStack() as stack:
        rings = []
        for name in ("identity", user):
            vault = NatsKeyVault.open(nats_users.user_url(server.url, name, passwords[name]), kek)
            stack.callback(vault.close)
            rings.append(Keyring(vault))
            stack.callback(rings[-1].close)
        identity, watcher = rings
        key_id = str(uuid.uuid4())
        key = identity.key_for_writing(key_id)
        assert watcher.key_for_reading(key_id) == key  # cached now
        assert identity.destroy(key_id)

        def evicted() -> None:
            assert watcher.key_for_reading(key_id) is None

        eventually(evicted)


def test_the_auditor_may_not_watch_the_key_vault(secured_nats) -> None:
    server, passwords = secured_nats

    async def attempt() -> bool:
        refused = asyncio.Event()
        client = await _connect(server, passwords, "auditor", refused)
        try:
            await client.subscribe("$KV.CHORUS_KEYS.dk.>")
            await client.flush()
            await asyncio.wait_for(refused.wait(), timeout=10)
            return refused.is_set()
        finally:
            await client.close()

    assert asyncio.run(attempt())


@pytest.mark.parametrize(("user", "other"), [("identity", "touchpoints"), ("touchpoints", "identity")])
def test_a_writers_blocking_publisher_logs_in_as_it_and_is_refused_another_stream_at_once(
    secured_nats, user: str, other: str
) -> None:
    server, passwords = secured_nats
    connection = JetStreamConnection.open(nats_users.user_url(server.url, user, passwords[user]), request_timeout=30)
    publisher = connection._publisher  # the pool of blocking connections behind the recorders' saves
    assert publisher is not None
    try:
        own = StreamLayout(user).event_subject(uuid.uuid4())
        assert publisher.publish(own, b"x", {"Nats-Expected-Last-Subject-Sequence": "0"})["seq"] >= 1
        with pytest.raises(JetStreamApiError, match="Permissions Violation"):  # not a wait for the 30 s timeout
            publisher.publish(StreamLayout(other).event_subject(uuid.uuid4()), b"x", {})
    finally:
        connection.close()

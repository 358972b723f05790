"""Marked fields sealed under their subject's data key, opened in clear, "[erased]" once the key is destroyed."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from chorus.common.v1 import types_pb2 as types
from chorus.identity.events.v1 import events_pb2 as identity_events
from chorus.touchpoints.events.v1 import events_pb2 as touchpoint_events
from services.common.eventstore.codec import register_events
from services.common.eventstore.connection import JetStreamConnection
from services.common.identifiers import normalise
from services.common.nats_server import NatsServer
from services.common.privacy.keyring import Keyring
from services.common.privacy.sealing import (
    ERASED,
    PREFIX,
    OpenKeys,
    open_sealed,
    open_sealed_many,
    open_value,
    seal,
    seal_many,
    sealed_key_id,
)
from services.common.privacy.vault import Kek, NatsKeyVault

EMAIL = "jane.smith@example.com"


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keyring]:
    server = NatsServer(store_dir=tmp_path_factory.mktemp("vault"))
    server.start()
    vault = NatsKeyVault.open(server.url, Kek(os.urandom(32)))
    try:
        yield Keyring(vault)
    finally:
        vault.close()
        server.stop()


def touchpoint(text: str = "my kettle broke again") -> touchpoint_events.TouchpointRecorded:
    return touchpoint_events.TouchpointRecorded(
        text=text,
        external_url="https://x.com/janesmith/status/1",
        actors=[
            types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="Jane.Smith@Example.com"),
            types.Identifier(type=types.IDENTIFIER_TYPE_X, value="@acme"),
        ],
        sentiment_score=-0.6,
    )


def test_each_actor_is_sealed_under_its_own_identifier_and_the_text_under_the_first_actors(keyring: Keyring) -> None:
    message = seal(touchpoint(), str(uuid.uuid4()), keyring)
    jane, acme = normalise("email", "", EMAIL).key, normalise("x", "", "acme").key
    assert [sealed_key_id(a.value) for a in message.actors] == [jane, acme]
    assert sealed_key_id(message.text) == jane
    assert sealed_key_id(message.external_url) == jane
    assert message.sentiment_score == -0.6  # derived values stay in clear
    stored = message.SerializeToString()
    assert b"kettle" not in stored and b"jane" not in stored.lower() and b"acme" not in stored


def test_a_sealed_message_opens_to_what_was_written(keyring: Keyring) -> None:
    aggregate = str(uuid.uuid4())
    stored = seal(touchpoint(), aggregate, keyring).SerializeToString()
    opened = open_sealed(touchpoint_events.TouchpointRecorded.FromString(stored), aggregate, keyring)
    assert opened == touchpoint()


def test_a_party_s_name_is_sealed_under_the_party_s_key(keyring: Keyring) -> None:
    party = str(uuid.uuid4())
    message = seal(identity_events.PartyRegistered(display_name="Jane Smith"), party, keyring)
    assert message.display_name.startswith(PREFIX) and sealed_key_id(message.display_name) == party


def test_a_destroyed_key_opens_as_erased_and_other_subjects_stay_readable(keyring: Keyring) -> None:
    aggregate = str(uuid.uuid4())
    sealed = seal(touchpoint(), aggregate, keyring).SerializeToString()
    assert keyring.destroy(normalise("email", "", EMAIL).key)
    opened = open_sealed(touchpoint_events.TouchpointRecorded.FromString(sealed), aggregate, keyring)
    assert opened.text == ERASED and opened.external_url == ERASED and opened.actors[0].value == ERASED
    assert opened.actors[1].value == "@acme"


def test_key_only_fields_stay_sealed_under_a_live_key_and_read_erased_under_a_destroyed_one(keyring: Keyring) -> None:
    aggregate = str(uuid.uuid4())
    email = f"kept.{uuid.uuid4().hex[:8]}@example.com"
    message = touchpoint()
    message.actors[0].value = email
    stored = seal(message, aggregate, keyring).SerializeToString()
    assert keyring.destroy(normalise("email", "", email).key)
    value_field = types.Identifier.DESCRIPTOR.fields_by_name["value"].full_name

    opened = touchpoint_events.TouchpointRecorded.FromString(stored)
    open_sealed_many([opened], keyring, key_only={value_field})

    assert opened.actors[0].value == ERASED  # its key is gone: as if opened
    kept = opened.actors[1].value
    assert kept.startswith(PREFIX) and sealed_key_id(kept) == normalise("x", "", "acme").key  # left sealed
    assert open_value(types.Identifier.DESCRIPTOR.fields_by_name["value"], kept, keyring) == "@acme"
    assert opened.text == ERASED  # other marked fields are opened as ever (the text was the destroyed key's)


def test_a_sealed_value_moved_to_another_field_or_altered_opens_as_erased(keyring: Keyring) -> None:
    aggregate = str(uuid.uuid4())
    message = seal(touchpoint("unrelated words"), aggregate, keyring)
    message.external_url = message.text  # same key, other field
    message.text = message.text[:-4] + ("AAAA" if not message.text.endswith("AAAA") else "BBBB")
    opened = open_sealed(message, aggregate, keyring)
    assert opened.external_url == ERASED and opened.text == ERASED


def test_without_a_keyring_nothing_is_sealed_and_sealed_values_open_as_erased(keyring: Keyring) -> None:
    assert seal(touchpoint(), "x", None).text == "my kettle broke again"
    sealed = seal(touchpoint(), "x", keyring)
    assert open_sealed(sealed, "x", None).text == ERASED


def test_a_company_reply_is_sealed_under_the_key_of_the_person_it_answers(keyring: Keyring) -> None:
    reply = touchpoint_events.TouchpointRecorded(
        text="@JaneSmithTweets so sorry",
        direction=types.DIRECTION_OUTBOUND,
        actors=[
            types.Identifier(type=types.IDENTIFIER_TYPE_X, value="acme"),
            types.Identifier(type=types.IDENTIFIER_TYPE_X, value="@JaneSmithTweets"),
        ],
    )
    sealed = seal(reply, str(uuid.uuid4()), keyring)
    assert sealed_key_id(sealed.text) == normalise("x", "", "janesmithtweets").key


def test_one_sealed_value_opens_alone_and_reads_erased_once_its_key_is_destroyed(keyring: Keyring) -> None:
    text_field = touchpoint_events.TouchpointRecorded.DESCRIPTOR.fields_by_name["text"]
    url_field = touchpoint_events.TouchpointRecorded.DESCRIPTOR.fields_by_name["external_url"]
    message = touchpoint(f"the hinge squeaks {uuid.uuid4().hex}")
    message.actors[0].value = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    sealed = seal(touchpoint_events.TouchpointRecorded.FromString(message.SerializeToString()), "a", keyring)
    assert open_value(text_field, sealed.text, keyring) == message.text
    assert open_value(text_field, "written without a keyring", keyring) == "written without a keyring"
    assert open_value(url_field, sealed.text, keyring) == ERASED  # a value moved to another field
    assert keyring.destroy(sealed_key_id(sealed.text))
    looked_up: OpenKeys = {}
    assert open_value(text_field, sealed.text, keyring, keys=looked_up) == ERASED
    assert looked_up == {sealed_key_id(sealed.text): None}


class CountingVault(NatsKeyVault):
    """The real vault, counting the round trips the keyring makes to it."""

    def __init__(self, url: str) -> None:
        self._counting = JetStreamConnection.open(url)
        super().__init__(self._counting, Kek(os.urandom(32)), owns_connection=True)
        self.calls = 0

    def create(self, key_id: str) -> bytes:
        self.calls += 1
        return super().create(key_id)

    def create_many(self, key_ids: Iterable[str]) -> dict[str, bytes]:
        self.calls += 1
        return super().create_many(key_ids)

    def get(self, key_id: str) -> bytes | None:
        self.calls += 1
        return super().get(key_id)

    def get_many(self, key_ids: Iterable[str]) -> dict[str, bytes | None]:
        self.calls += 1
        return super().get_many(key_ids)


def test_the_keys_of_many_new_subjects_are_made_in_one_vault_call(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "vault")
    server.start()
    vault = CountingVault(server.url)
    try:
        ring = Keyring(vault)
        messages = [touchpoint(f"text {n}") for n in range(3)]
        for n, message in enumerate(messages):
            message.actors[1].value = f"@someone{n}"
        aggregate = str(uuid.uuid4())
        seal_many([(m, aggregate) for m in messages], ring)
        assert vault.calls == 1  # every key was made by the one call
        sealed = messages
        assert {sealed_key_id(m.actors[1].value) for m in sealed} == {
            normalise("x", "", f"someone{n}").key for n in range(3)
        }
        assert open_sealed(sealed[0], aggregate, ring).text == "text 0"
    finally:
        vault.close()
        server.stop()


def test_a_save_of_a_party_with_new_identifiers_makes_all_their_keys_in_one_vault_call(tmp_path: Path) -> None:
    from services.common.config import Settings
    from services.common.privacy.keyring import install
    from services.identity import events as identity_event_contracts
    from services.identity.application import IdentityApplication
    from services.identity.main import IdentitySettings

    server = NatsServer(store_dir=tmp_path / "nats")
    server.start()
    vault = CountingVault(server.url)
    previous = install(Keyring(vault))
    register_events(identity_event_contracts.REGISTRATIONS)
    settings, identity = Settings(nats_url=server.url, data_dir=tmp_path), IdentitySettings(app_name="identity_keys")
    app = IdentityApplication(
        env=settings.eventstore_env("identity_keys"), name="identity_keys", policy=identity.policy
    )
    try:
        party = app.register_party(
            "person",
            "Jane Smith",
            identifiers=[
                {"type": "email", "value": EMAIL},
                {"type": "phone", "value": "+442070000001"},
                {"type": "x", "value": "janesmith"},
            ],
        )
        assert vault.calls == 1  # the party's key and its three identifiers' keys, together
        assert app.get_party(party["party_id"])["display_name"] == "Jane Smith"
    finally:
        app.close()
        install(previous)
        vault.close()
        server.stop()


@pytest.mark.parametrize("text", [f"{PREFIX}", f"{PREFIX}abc:def", "pii0:", "pii0:already escaped"])
def test_a_clear_text_that_looks_sealed_is_read_back_as_written_without_a_keyring(text: str) -> None:
    stored = touchpoint_events.TouchpointRecorded.FromString(
        seal(touchpoint(text), str(uuid.uuid4())).SerializeToString()
    )
    assert open_sealed(stored, "").text == text
    batch = [(touchpoint(text), str(uuid.uuid4()))]
    seal_many(batch)
    assert open_sealed(batch[0][0], "").text == text


def test_a_page_of_events_under_many_subjects_keys_is_opened_with_one_vault_call(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "vault")
    server.start()
    vault = CountingVault(server.url)
    try:
        messages = [touchpoint(f"text {n}") for n in range(5)]
        for n, message in enumerate(messages):
            message.actors[0].value = f"person{n}@example.com"
        aggregate = str(uuid.uuid4())
        seal_many([(m, aggregate) for m in messages], Keyring(vault))
        destroyed = sealed_key_id(messages[4].text)
        vault.destroy(destroyed)
        reader, vault.calls = Keyring(vault), 0  # a reader of its own: nothing cached
        open_sealed_many(messages, reader)
        assert vault.calls == 1
        assert [m.text for m in messages] == ["text 0", "text 1", "text 2", "text 3", ERASED]
        assert [m.actors[0].value for m in messages[:4]] == [f"person{n}@example.com" for n in range(4)]
        again = touchpoint("again")
        again.actors[0].value = "person0@example.com"
        seal(again, aggregate, Keyring(vault))
        vault.calls = 0
        open_sealed_many([again], reader)  # under keys this reader has read already: no call
        assert vault.calls == 0
        assert again.text == "again"
    finally:
        vault.close()
        server.stop()

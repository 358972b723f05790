"""The key vault on its own nats-server: keys wrapped by the KEK, a wrong KEK refused, a destroyed key gone from disk."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from services.common.nats_server import NatsServer
from services.common.privacy.vault import STREAM, Kek, NatsKeyVault, WrongKekError, kek_id


def store_bytes(store: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(store.rglob("*")) if path.is_file())


def stored_wrap(vault: NatsKeyVault, key_id: str) -> bytes:
    async def get() -> bytes:
        return (await vault._kv.get(f"dk.{key_id}")).value

    return vault._connection.call(get)


def test_a_data_key_is_made_once_and_read_back(own_nats: NatsServer) -> None:
    vault = NatsKeyVault.open(own_nats.url, Kek(os.urandom(32)))
    try:
        key_id = str(uuid.uuid4())
        assert vault.get(key_id) is None
        made = vault.create(key_id)
        assert len(made) == 32
        assert vault.create(key_id) == made
        assert vault.get(key_id) == made
        assert made not in stored_wrap(vault, key_id)
    finally:
        vault.close()


def test_every_wrap_names_its_kek(own_nats: NatsServer) -> None:
    kek = os.urandom(32)
    vault = NatsKeyVault.open(own_nats.url, Kek(kek))
    try:
        key_id = str(uuid.uuid4())
        vault.create(key_id)
        assert stored_wrap(vault, key_id)[4:12] == kek_id(kek)
    finally:
        vault.close()


def test_a_wrong_kek_refuses_to_start_in_one_line(own_nats: NatsServer) -> None:
    NatsKeyVault.open(own_nats.url, Kek(os.urandom(32))).close()
    with pytest.raises(WrongKekError) as refused:
        NatsKeyVault.open(own_nats.url, Kek(os.urandom(32)))
    assert "\n" not in str(refused.value)
    assert "refusing to start" in str(refused.value)


def test_a_rotated_kek_reads_keys_of_the_former_one_and_rewraps_them(own_nats: NatsServer) -> None:
    old, new = os.urandom(32), os.urandom(32)
    key_id = str(uuid.uuid4())
    first = NatsKeyVault.open(own_nats.url, Kek(old))
    made = first.create(key_id)
    first.close()
    rotated = NatsKeyVault.open(own_nats.url, Kek(new, (old,)))
    try:
        assert rotated.get(key_id) == made
        assert stored_wrap(rotated, key_id)[4:12] == kek_id(new)
    finally:
        rotated.close()
    NatsKeyVault.open(own_nats.url, Kek(new)).close()  # the old KEK is no longer needed


def test_a_destroyed_key_is_gone_from_the_bucket_and_from_the_store_files(own_nats: NatsServer, tmp_path: Path) -> None:
    vault = NatsKeyVault.open(own_nats.url, Kek(os.urandom(32)))
    try:
        key_id, neighbour = str(uuid.uuid4()), str(uuid.uuid4())
        vault.create(key_id)
        vault.create(neighbour)
        wrap = stored_wrap(vault, key_id)
        assert wrap in store_bytes(tmp_path / "store")
        assert vault.destroy(key_id) is True
        assert vault.get(key_id) is None
        assert vault.destroy(key_id) is False
        assert vault.get(neighbour) is not None
    finally:
        vault.close()
    own_nats.stop()  # flushed and closed: what is on disk is all there is
    on_disk = store_bytes(tmp_path / "store")
    assert wrap not in on_disk


def test_many_data_keys_are_made_in_one_call_and_existing_ones_are_kept(own_nats: NatsServer) -> None:
    vault = NatsKeyVault.open(own_nats.url, Kek(os.urandom(32)))
    try:
        existing = str(uuid.uuid4())
        kept = vault.create(existing)
        key_ids = [existing, *(str(uuid.uuid4()) for _ in range(300))]
        made = vault.create_many(key_ids)
        assert set(made) == set(key_ids)
        assert made[existing] == kept
        assert all(len(key) == 32 for key in made.values())
        assert all(vault.get(key_id) == made[key_id] for key_id in key_ids)
        assert vault.create_many(key_ids) == made
        publisher = vault._connection._publisher
        assert publisher is not None and publisher.open_connections == 1, "new keys published from the calling thread"
    finally:
        vault.close()


def test_many_data_keys_are_read_in_one_call_none_where_destroyed_missing_or_impossible(own_nats: NatsServer) -> None:
    vault = NatsKeyVault.open(own_nats.url, Kek(os.urandom(32)))
    try:
        made = vault.create_many(str(uuid.uuid4()) for _ in range(1200))  # more than one request's worth
        destroyed, missing, impossible = next(iter(made)), str(uuid.uuid4()), "not a key id!"
        vault.destroy(destroyed)
        found = vault.get_many([*made, missing, impossible])
        assert found == {**made, destroyed: None, missing: None, impossible: None}
    finally:
        vault.close()


def test_reading_many_keys_of_a_rotated_kek_rewraps_them(own_nats: NatsServer) -> None:
    old, new = os.urandom(32), os.urandom(32)
    vault = NatsKeyVault.open(own_nats.url, Kek(old))
    made = vault.create_many(str(uuid.uuid4()) for _ in range(3))
    vault.close()
    rotated = NatsKeyVault.open(own_nats.url, Kek(new, (old,)))
    try:
        assert rotated.get_many(made) == made
        assert all(stored_wrap(rotated, key_id)[4:12] == kek_id(new) for key_id in made)
    finally:
        rotated.close()


def stream_allows_atomic(vault: NatsKeyVault) -> bool:
    async def info() -> bool:
        return bool((await vault._connection.client.jetstream().stream_info(STREAM)).config.allow_atomic)

    return vault._connection.call(info)


def test_new_keys_are_made_in_atomic_batches_also_in_a_bucket_made_before_batches(own_nats: NatsServer) -> None:
    """A bucket whose stream refuses atomic batches (made by an older vault) is opened up for them; a batch with a
    key made meanwhile by another vault stores nothing of its own: that key is read and the rest are made in a second
    batch."""
    old = NatsKeyVault.open(own_nats.url, Kek(os.urandom(32)))

    async def refuse_batches() -> None:
        js = old._connection.client.jetstream()
        config = (await js.stream_info(STREAM)).config
        config.allow_atomic = False
        await js.update_stream(config)

    old._connection.call(refuse_batches)
    assert not stream_allows_atomic(old)
    kek = old._kek
    old.close()
    vault = NatsKeyVault.open(own_nats.url, kek)
    other = NatsKeyVault.open(own_nats.url, kek)
    try:
        assert stream_allows_atomic(vault)
        first = [str(uuid.uuid4()) for _ in range(1000)]
        made = vault.create_many(first)
        assert other.get_many(first) == made
        raced = str(uuid.uuid4())
        theirs = other.create(raced)
        second = [*(str(uuid.uuid4()) for _ in range(10)), raced]
        again = vault.create_many(second)
        assert again[raced] == theirs
        assert other.get_many(second) == again
    finally:
        vault.close()
        other.close()


def test_a_batch_of_mostly_existing_keys_reads_them_and_makes_the_rest_in_one_batch(
    own_nats: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys another writer made first (a touchpoint's identifier, an import sent again) cost one read, not one
    bucket request each; a destroyed key among them is made anew."""
    vault = NatsKeyVault.open(own_nats.url, Kek(os.urandom(32)))
    try:
        existing = vault.create_many(str(uuid.uuid4()) for _ in range(500))
        one_by_one: list[str] = []
        original = vault._create

        async def counted(key_id: str, name: str) -> bytes:
            one_by_one.append(key_id)
            return await original(key_id, name)

        monkeypatch.setattr(vault, "_create", counted)
        new = [str(uuid.uuid4()) for _ in range(500)]
        made = vault.create_many([*existing, *new])
        assert one_by_one == []
        assert {key_id: made[key_id] for key_id in existing} == existing
        assert vault.get_many(new) == {key_id: made[key_id] for key_id in new}
        destroyed = next(iter(existing))
        vault.destroy(destroyed)
        again = vault.create_many([*existing, str(uuid.uuid4())])
        assert again[destroyed] != existing[destroyed]
        assert vault.get(destroyed) == again[destroyed]
    finally:
        vault.close()

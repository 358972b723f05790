"""The keyring's cache never keeps a data key past the eviction that follows its destruction."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.common.nats_server import NatsServer
from services.common.privacy.keyring import Keyring
from services.common.privacy.vault import Kek, KeyVault, NatsKeyVault


class MemoryVault(KeyVault):
    """Data keys in a dict; ``get`` (and ``create``) can be made to stop half-way, after reading the key."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.reads = 0
        self.read_done = threading.Event()  # set once a held read has its key
        self.release = threading.Event()  # a held read returns once this is set
        self.hold = False
        self._reconnect_listeners: list[Callable[[], None]] = []

    def _held(self, key: bytes | None) -> bytes | None:
        if self.hold:
            self.hold = False
            self.read_done.set()
            assert self.release.wait(10), "the test never released the read"
        return key

    def create(self, key_id: str) -> bytes:
        key = self.keys.setdefault(key_id, os.urandom(32))
        return self._held(key) or key

    def get(self, key_id: str) -> bytes | None:
        self.reads += 1
        return self._held(self.keys.get(key_id))

    def destroy(self, key_id: str) -> bool:
        return self.keys.pop(key_id, None) is not None

    def on_reconnect(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._reconnect_listeners.append(listener)
        return lambda: self._reconnect_listeners.remove(listener)

    def reconnected(self) -> None:
        for listener in list(self._reconnect_listeners):
            listener()


@pytest.fixture
def vault() -> Iterator[MemoryVault]:
    vault = MemoryVault()
    yield vault
    vault.release.set()


def while_the_vault_call_is_under_way(
    vault: MemoryVault, call: Callable[[], object], erase: Callable[[], object]
) -> list[object]:
    """Run ``call`` in a thread, stop its vault call once it has its key, ``erase()`` meanwhile, then let it end."""
    out: list[object] = []
    vault.hold = True
    thread = threading.Thread(target=lambda: out.append(call()))
    thread.start()
    assert vault.read_done.wait(10)
    erase()
    vault.release.set()
    thread.join()
    return out


@pytest.mark.parametrize(
    "cache_miss",
    [
        lambda ring: ring.key_for_reading("k1"),
        lambda ring: ring.key_for_writing("k1"),
        lambda ring: ring.keys_for_writing(["k1", "k2"]),  # made one by one through create: the first one stops
    ],
    ids=["read", "write", "write many"],
)
def test_a_key_the_vault_gives_while_it_is_destroyed_and_evicted_is_not_cached(
    vault: MemoryVault, cache_miss: Callable[[Keyring], object]
) -> None:
    ring = Keyring(vault)
    key = vault.create("k1")

    def destroyed_elsewhere_and_evicted() -> None:
        vault.destroy("k1")  # another process destroys the key; this one learns of it by the event...
        ring.evict(["k1"])  # ... and evicts, while its vault call is still under way

    got = while_the_vault_call_is_under_way(vault, lambda: cache_miss(ring), destroyed_elsewhere_and_evicted)

    assert got in ([key], [None])  # the call that began before the erasure was known gets what it read
    assert ring.key_for_reading("k1") is None  # but the key was not cached after its eviction


def test_a_read_overlapping_the_keyrings_own_destroy_does_not_cache_the_destroyed_key(vault: MemoryVault) -> None:
    ring = Keyring(vault)
    vault.create("k1")

    while_the_vault_call_is_under_way(vault, lambda: ring.key_for_reading("k1"), lambda: ring.destroy("k1"))

    assert ring.key_for_reading("k1") is None


def test_a_reconnection_of_the_vault_empties_the_cache(vault: MemoryVault) -> None:
    """Keys may have been destroyed while the process heard nothing: after a reconnection they are read again."""
    ring = Keyring(vault)
    vault.create("k1")
    ring.key_for_reading("k1")
    ring.key_for_reading("k1")
    assert vault.reads == 1  # cached
    vault.destroy("k1")  # while this process was cut off

    vault.reconnected()

    assert ring.key_for_reading("k1") is None


def test_the_nats_vault_reports_its_reconnections(tmp_path: Path) -> None:
    server = NatsServer(store_dir=tmp_path / "nats")
    server.start()
    vault = NatsKeyVault.open(server.url, Kek(os.urandom(32)))
    reconnected = threading.Event()
    try:
        vault.on_reconnect(reconnected.set)
        server.restart()  # same port and store
        assert reconnected.wait(30)
    finally:
        vault.close()
        server.stop()

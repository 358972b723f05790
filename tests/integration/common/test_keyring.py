"""The keyring's cache never keeps a data key past the eviction that follows its destruction, whichever process
destroyed it."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chorus.identity.events.v1 import events_pb2 as identity_events
from services.common.nats_server import NatsServer
from services.common.privacy import keyring
from services.common.privacy.keyring import Keyring
from services.common.privacy.keys import DeploymentKeys
from services.common.privacy.sealing import ERASED, open_sealed, seal
from services.common.privacy.vault import STREAM, Kek, KeyVault, NatsKeyVault
from services.common.testing import eventually

T = TypeVar("T")


class MemoryVault(KeyVault):
    """Data keys in a dict; ``get`` (and ``create``) can be made to stop half-way, after reading the key."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.reads = 0
        self.read_done = threading.Event()  # set once a held read has its key
        self.release = threading.Event()  # a held read returns once this is set
        self.hold = False
        self._reconnect_listeners: list[Callable[[], None]] = []
        self._loss_listeners: list[Callable[[], None]] = []

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

    def on_destroyed(self, listener: Callable[[list[str]], None], lost: Callable[[], None]) -> Callable[[], None]:
        self._loss_listeners.append(lost)
        return lambda: self._loss_listeners.remove(lost)

    def news_lost(self) -> None:
        for lost in list(self._loss_listeners):
            lost()

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


def test_the_cache_holds_a_bounded_number_of_keys_and_cipher_objects(
    vault: MemoryVault, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild reads the key of every subject there is: the cache must not keep them all (each cipher object
    holds kilobytes), yet a page's keys still come back whole, whatever the cache emptied meanwhile."""
    monkeypatch.setattr(keyring, "KEYS_HELD", 10)
    monkeypatch.setattr(keyring, "CIPHERS_HELD", 4)
    ring = Keyring(vault)
    ids = [f"k{n}" for n in range(25)]
    for key_id in ids:
        vault.create(key_id)

    first = ring.ciphers_for_reading(ids[:8])
    page = ring.ciphers_for_reading(ids)  # 8 cached, 17 read: the cache empties before it keeps them

    assert len(ring._cache) <= 10 and len(ring._ciphers) <= 4
    assert all(page[key_id] is not None for key_id in ids)
    nonce = os.urandom(12)
    for key_id in ids:  # each cipher is its own key's
        assert AESGCM(vault.keys[key_id]).decrypt(nonce, page[key_id].encrypt(nonce, b"x", None), None) == b"x"
    assert all(first[key_id] is not None for key_id in ids[:8])


def test_a_kept_cipher_is_not_used_for_other_bytes_of_its_key_id(vault: MemoryVault) -> None:
    """A cipher made of a key read before the key's destruction is never used for the key made after it."""
    ring = Keyring(vault)
    old = ring.cipher_for_writing("k1")
    vault.destroy("k1")
    ring._cache.pop("k1")  # evicted from the key cache alone, as a read overlapping the eviction leaves it
    new = ring.cipher_for_writing("k1")  # a new key under the same id
    nonce = os.urandom(12)
    assert new is not old
    assert AESGCM(vault.keys["k1"]).decrypt(nonce, new.encrypt(nonce, b"x", None), None) == b"x"


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


@pytest.fixture
def two_processes(nats_url: str) -> Iterator[tuple[Keyring, Keyring]]:
    """Two keyrings, each on a vault with a NATS connection of its own to one nats-server, as identity's and a
    touchpoints process's are (the session's KEK, as every process of a deployment has)."""
    kek = Kek(DeploymentKeys.from_env().kek)
    with contextlib.ExitStack() as stack:
        rings = []
        for _ in range(2):
            vault = NatsKeyVault.open(nats_url, kek)
            stack.callback(vault.close)
            ring = Keyring(vault)
            stack.callback(ring.close)
            rings.append(ring)
        yield rings[0], rings[1]


def test_a_key_another_process_destroys_is_evicted_from_this_ones_cache(two_processes: tuple[Keyring, Keyring]) -> None:
    """The touchpoints process read Jane's key before identity destroyed it: it reads her name erased soon after,
    without a restart or a reconnection (it watches the vault's bucket for destroyed keys)."""
    identity, touchpoints = two_processes
    party = str(uuid.uuid4())
    stored = seal(identity_events.PartyRegistered(display_name="Jane Smith"), party, identity).SerializeToString()

    def opened() -> str:
        return open_sealed(identity_events.PartyRegistered.FromString(stored), party, touchpoints).display_name

    assert opened() == "Jane Smith"  # her key is in the touchpoints keyring's cache now
    assert identity.destroy(party)

    assert eventually(lambda: check(opened(), ERASED)) == ERASED


def check(got: T, expected: T) -> T:
    assert got == expected, got
    return got


class HeldNatsVault(NatsKeyVault):
    """The NATS vault whose ``get_many`` can be made to stop after it read the keys (see :class:`MemoryVault`)."""

    hold = False
    read_done: threading.Event
    release: threading.Event

    def get_many(self, key_ids: Iterable[str]) -> dict[str, bytes | None]:
        found = super().get_many(key_ids)
        if self.hold:
            self.hold = False
            self.read_done.set()
            assert self.release.wait(10), "the test never released the read"
        return found


def test_a_read_under_way_when_the_destruction_is_heard_does_not_cache_the_destroyed_key(nats_url: str) -> None:
    """The touchpoints process's read of Jane's key has it, identity destroys it and the touchpoints process hears
    of that before the read ends: the read may use what it read, once, but does not cache it."""
    kek = Kek(DeploymentKeys.from_env().kek)
    identity_vault = NatsKeyVault.open(nats_url, kek)
    held = HeldNatsVault.open(nats_url, kek)
    held.read_done, held.release = threading.Event(), threading.Event()
    identity, touchpoints = Keyring(identity_vault), Keyring(held)
    try:
        key_id = str(uuid.uuid4())
        key = identity.key_for_writing(key_id)
        evictions = touchpoints._evictions  # how the test knows when the destruction is heard

        def heard() -> None:
            assert touchpoints._evictions > evictions

        got: list[bytes | None] = []
        held.hold = True
        reading = threading.Thread(target=lambda: got.append(touchpoints.key_for_reading(key_id)))
        reading.start()
        assert held.read_done.wait(10)
        identity.destroy(key_id)
        eventually(heard)
        held.release.set()
        reading.join()

        assert got == [key]  # the read that began before the destruction was heard gets what it read
        assert touchpoints.key_for_reading(key_id) is None  # but did not cache it
    finally:
        held.release.set()
        for ring in (identity, touchpoints):
            ring.close()
        held.close()
        identity_vault.close()


def test_after_a_reconnection_the_keyring_still_hears_of_keys_another_process_destroys(tmp_path: Path) -> None:
    """The watch outlives a restart of the nats-server: once both processes are back, a key the second caches
    and the first destroys is evicted from the second's cache as before."""
    server = NatsServer(store_dir=tmp_path / "nats")
    server.start()
    kek = Kek(os.urandom(32))
    vaults = [NatsKeyVault.open(server.url, kek) for _ in range(2)]
    identity, touchpoints = (Keyring(vault) for vault in vaults)
    back = [threading.Event() for _ in vaults]
    try:
        for vault, event in zip(vaults, back, strict=True):
            vault.on_reconnect(event.set)
        server.restart()  # same port and store
        assert all(event.wait(30) for event in back)
        key_id = str(uuid.uuid4())
        key = identity.key_for_writing(key_id)
        assert touchpoints.key_for_reading(key_id) == key  # cached
        assert identity.destroy(key_id)

        def evicted() -> None:
            assert touchpoints.key_for_reading(key_id) is None

        eventually(evicted)
    finally:
        for ring in (identity, touchpoints):
            ring.close()
        for vault in vaults:
            vault.close()
        server.stop()


def test_news_of_destroyed_keys_the_vault_may_have_missed_empties_the_cache(vault: MemoryVault) -> None:
    ring = Keyring(vault)
    vault.create("k1")
    ring.key_for_reading("k1")
    vault.destroy("k1")  # by another process, whose news this one's vault dropped

    vault.news_lost()

    assert ring.key_for_reading("k1") is None


def test_a_destroy_asked_again_after_it_stopped_half_way_is_heard_by_the_other_processes(
    two_processes: tuple[Keyring, Keyring],
) -> None:
    """A destroy erases the key's message, then purges its subject: when it stops between the two (NATS lost, the
    process killed), ForgetParty asked again must still purge, or no other process ever hears of it."""
    identity, touchpoints = two_processes
    key_id = str(uuid.uuid4())
    key = identity.key_for_writing(key_id)
    assert touchpoints.key_for_reading(key_id) == key  # cached
    vault = identity.vault
    assert isinstance(vault, NatsKeyVault)

    async def erase_only() -> None:  # the first half of a destroy
        entry = await vault._kv.get(f"dk.{key_id}")
        await vault._connection.client.jetstream().delete_msg(STREAM, entry.revision)

    vault._connection.call(erase_only)
    identity.destroy(key_id)  # asked again

    def evicted() -> None:
        assert touchpoints.key_for_reading(key_id) is None

    eventually(evicted)


def test_a_cached_key_has_one_cipher_that_seals_and_opens_until_the_key_is_evicted(vault: MemoryVault) -> None:
    ring = Keyring(vault)
    writing = ring.cipher_for_writing("k1")
    assert ring.cipher_for_writing("k1") is writing
    assert ring.ciphers_for_reading(["k1", "k2"]) == {"k1": writing, "k2": None}
    event = identity_events.PartyRegistered(display_name="Jane Smith")
    sealed = seal(event, "k1", ring).display_name
    assert sealed != "Jane Smith"
    assert open_sealed(identity_events.PartyRegistered(display_name=sealed), "k1", ring).display_name == "Jane Smith"

    ring.destroy("k1")

    assert ring.ciphers_for_reading(["k1"]) == {"k1": None}
    assert open_sealed(identity_events.PartyRegistered(display_name=sealed), "k1", ring).display_name == ERASED

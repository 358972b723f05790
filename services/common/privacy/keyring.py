"""The process's keyring: data keys by key id from the key vault, cached, and the process-wide installation.

A composition root opens one with :func:`open_keyring` (settings -> deployment keys -> vault); while it is open,
the event codec and the upstream readers seal and open marked fields with it (:mod:`.sealing`). Without one,
marked fields are stored and read as they are (tools and tests that build an application by hand).

The cache never outlives an erasure the process has heard of: the keyring evicts a key the vault reports
destroyed, by this process or another (``KeyVault.on_destroyed``: the NATS vault watches its bucket), a process
that learns of an erasure by an event evicts the keys too (:func:`evict_cached_keys`), and a key read from the
vault is cached only if no eviction happened while it was being read (a read that began before the erasure was
known may still use what it read, once). After the vault's connection comes back, or when the vault may have
missed news of destroyed keys, the whole cache is dropped. The cache is bounded (:data:`KEYS_HELD` keys, emptied
when full); the AES-GCM cipher objects of the keys used last are kept beside it (:data:`CIPHERS_HELD`, emptied when
full), as a cipher object costs far more memory than its key and little time to build again.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.common.config import Settings
from services.common.identifiers import use_pseudonym_key
from services.common.privacy.keys import DeploymentKeys

if TYPE_CHECKING:
    from services.common.privacy.vault import KeyVault

log = structlog.get_logger(__name__)

#: Data keys a keyring caches at most (about 200 bytes each); the cache is emptied when it is full.
KEYS_HELD = 500_000
#: AES-GCM cipher objects a keyring keeps at most (a few kilobytes each: OpenSSL contexts); emptied when full.
CIPHERS_HELD = 8192

_installed: Keyring | None = None
_install_lock = threading.Lock()


class Keyring:
    """Data keys by key id: made on first write, read on each open, destroyed for ever (see the vault)."""

    def __init__(self, vault: KeyVault, default_region: str | None = None) -> None:
        self.vault = vault
        self.default_region = default_region
        self._cache: dict[str, bytes] = {}  #: key id -> its data key
        self._ciphers: dict[str, tuple[bytes, AESGCM]] = {}  #: key id -> a data key and its cipher (used last)
        self._lock = threading.Lock()
        self._evictions = 0  #: how many evictions there have been: a vault read overlapping one caches nothing
        self._unlisten = vault.on_reconnect(self.evict_all)
        self._unwatch = vault.on_destroyed(self.evict, self.evict_all)

    def key_for_writing(self, key_id: str) -> bytes:
        found = self._cache.get(key_id)
        if found is None:
            evictions = self._evictions
            found = self.vault.create(key_id)
            self._keep({key_id: found}, evictions)
        return found

    def cipher_for_writing(self, key_id: str) -> AESGCM:
        """The AES-GCM cipher of ``key_id``'s data key (made first if it does not exist)."""
        return self._cipher(key_id, self.key_for_writing(key_id))

    def keys_for_writing(self, key_ids: Iterable[str]) -> None:
        """Have the data keys of ``key_ids`` made (or read) and cached, those not cached yet in one vault call."""
        missing = [key_id for key_id in dict.fromkeys(key_ids) if key_id not in self._cache]
        if not missing:
            return
        evictions = self._evictions
        self._keep(self.vault.create_many(missing), evictions)

    def key_for_reading(self, key_id: str) -> bytes | None:
        return self.keys_for_reading([key_id])[key_id]

    def keys_for_reading(self, key_ids: Iterable[str]) -> dict[str, bytes | None]:
        """The data key of each of ``key_ids`` (None where it is destroyed, never existed or cannot exist), those
        not cached yet read in one vault call."""
        cache = self._cache
        found = {key_id: cache.get(key_id) for key_id in dict.fromkeys(key_ids)}  # before a full cache empties
        missing = [key_id for key_id, key in found.items() if key is None]
        if missing:
            evictions = self._evictions
            read = {key_id: key for key_id, key in self.vault.get_many(missing).items() if key is not None}
            found.update((key_id, read.get(key_id)) for key_id in missing)
            self._keep(read, evictions)
        return found

    def ciphers_for_reading(self, key_ids: Iterable[str]) -> dict[str, AESGCM | None]:
        """:meth:`keys_for_reading` as each key's AES-GCM cipher (None where there is no key)."""
        return {
            key_id: None if key is None else self._cipher(key_id, key)
            for key_id, key in self.keys_for_reading(key_ids).items()
        }

    def _cipher(self, key_id: str, key: bytes) -> AESGCM:
        """``key``'s cipher (``key_id``'s data key): the one kept, if it was made of these very bytes."""
        ciphers = self._ciphers
        found = ciphers.get(key_id)
        if found is not None and found[0] == key:
            return found[1]
        cipher = AESGCM(key)
        if len(ciphers) >= CIPHERS_HELD:
            ciphers.clear()
        ciphers[key_id] = (key, cipher)
        return cipher

    def destroy(self, key_id: str) -> bool:
        """Destroy ``key_id``'s data key in the vault, then evict it (so no read overlapping it caches it)."""
        try:
            return self.vault.destroy(key_id)
        finally:
            self.evict([key_id])

    def evict(self, key_ids: Iterable[str]) -> None:
        """Forget cached keys (they were destroyed); vault reads under way now cache nothing."""
        with self._lock:
            self._evictions += 1
            for key_id in key_ids:
                self._cache.pop(key_id, None)
                self._ciphers.pop(key_id, None)

    def evict_all(self) -> None:
        """Forget every cached key (the process may have missed erasures); vault reads under way cache nothing."""
        with self._lock:
            self._evictions += 1
            self._cache.clear()
            self._ciphers.clear()

    def close(self) -> None:
        """Stop listening to the vault's reconnections and destroyed keys."""
        self._unwatch()
        self._unlisten()

    def _keep(self, keys: Mapping[str, bytes], evictions: int) -> None:
        """Cache ``keys``, read from the vault after ``evictions`` evictions, unless one happened since (a full
        cache is emptied first)."""
        with self._lock:
            if self._evictions == evictions:
                if len(self._cache) + len(keys) > KEYS_HELD:
                    self._cache.clear()
                self._cache.update(itertools.islice(keys.items(), KEYS_HELD))


def installed() -> Keyring | None:
    """The keyring the codec and readers use now, if any."""
    return _installed


def vault_has_room() -> bool:
    """False while the installed keyring's vault is refusing writes for want of storage (readiness reads it)."""
    keyring = _installed
    return keyring is None or not keyring.vault.out_of_space


def evict_cached_keys(key_ids: Iterable[str]) -> None:
    """Drop ``key_ids`` from the installed keyring's cache (a process that learns of an erasure by an event)."""
    keyring = _installed
    if keyring is not None:
        keyring.evict(key_ids)


def install(keyring: Keyring | None) -> Keyring | None:
    """Make ``keyring`` the process's keyring; returns the one it replaces."""
    global _installed
    with _install_lock:
        previous, _installed = _installed, keyring
    return previous


@contextlib.contextmanager
def open_keyring(settings: Settings, environ: Mapping[str, str] | None = None) -> Iterator[Keyring]:
    """The deployment's keys from configuration (``services.common.privacy.keys``), the pseudonym key installed,
    the vault on ``settings.nats_url`` opened (a wrong KEK raises :class:`~.vault.WrongKekError`) and its keyring
    installed for the process; uninstalled and closed on exit."""
    from services.common.privacy.vault import Kek, NatsKeyVault

    keys = DeploymentKeys.from_env(environ, settings.data_dir)
    use_pseudonym_key(keys.pseudonym_key)
    vault = NatsKeyVault.open(settings.nats_url, Kek(keys.kek, keys.previous_keks), replicas=settings.stream_replicas)
    keyring = Keyring(vault, settings.default_region)
    previous = install(keyring)
    try:
        yield keyring
    finally:
        if installed() is keyring:
            install(previous)
        keyring.close()
        vault.close()

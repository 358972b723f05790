"""The process's keyring: data keys by key id from the key vault, cached, and the process-wide installation.

A composition root opens one with :func:`open_keyring` (settings -> deployment keys -> vault); while it is open,
the event codec and the upstream readers seal and open marked fields with it (:mod:`.sealing`). Without one,
marked fields are stored and read as they are (tools and tests that build an application by hand).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import structlog

from services.common.config import Settings
from services.common.identifiers import use_pseudonym_key
from services.common.privacy.keys import DeploymentKeys

if TYPE_CHECKING:
    from services.common.privacy.vault import KeyVault

log = structlog.get_logger(__name__)

_installed: Keyring | None = None
_install_lock = threading.Lock()


class Keyring:
    """Data keys by key id: made on first write, read on each open, destroyed for ever (see the vault)."""

    def __init__(self, vault: KeyVault, default_region: str | None = None) -> None:
        self.vault = vault
        self.default_region = default_region
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def key_for_writing(self, key_id: str) -> bytes:
        found = self._cache.get(key_id)
        if found is None:
            found = self.vault.create(key_id)
            with self._lock:
                self._cache[key_id] = found
        return found

    def keys_for_writing(self, key_ids: Iterable[str]) -> None:
        """Have the data keys of ``key_ids`` made (or read) and cached, those not cached yet in one vault call."""
        missing = [key_id for key_id in dict.fromkeys(key_ids) if key_id not in self._cache]
        if not missing:
            return
        made = self.vault.create_many(missing)
        with self._lock:
            self._cache.update(made)

    def key_for_reading(self, key_id: str) -> bytes | None:
        found = self._cache.get(key_id)
        if found is None:
            found = self.vault.get(key_id)
            if found is not None:
                with self._lock:
                    self._cache[key_id] = found
        return found

    def destroy(self, key_id: str) -> bool:
        self.evict([key_id])
        return self.vault.destroy(key_id)

    def evict(self, key_ids: Iterable[str]) -> None:
        """Forget cached keys (another process destroyed them)."""
        with self._lock:
            for key_id in key_ids:
                self._cache.pop(key_id, None)


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
        vault.close()

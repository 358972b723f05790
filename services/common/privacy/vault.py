"""The key vault: one data key per data subject, kept wrapped by the deployment's key-encryption key (KEK).

:class:`KeyVault` is the interface (``create``, ``get``, ``destroy``, ``on_destroyed``, ``on_reconnect``); a KMS or
Vault Transit can stand behind it.
:class:`NatsKeyVault` keeps the data keys in the NATS KV bucket ``CHORUS_KEYS`` (key ``dk.<key id>``), each value
a wrap: ``b"CKW1"`` + the KEK's id (8 bytes) + a 12-byte nonce + AES-256-GCM(KEK) of the 32-byte data key with the
key id as associated data, so a wrap cannot be passed off as another subject's key.

- **The KEK's id** is the first 8 bytes of SHA-256 over ``"chorus-kek" + KEK``: it names the KEK, never reveals it.
- **Start-up check.** The bucket holds ``kek-check``, a wrap made with the KEK the vault was set up with. A vault
  opened with a KEK (current or former) that cannot unwrap it refuses to start: :class:`WrongKekError`, one line.
- **Rotation.** Configure the new KEK as ``CHORUS_KEK`` and the old one in ``CHORUS_KEK_PREVIOUS``. New wraps use the
  new KEK; a key wrapped by a former KEK is rewrapped with the current one when it is next read, and the check
  entry at start-up. Once every key is rewrapped (``NatsKeyVault.rewrap_all``), drop the old KEK.
- **Destroying** a key erases its stored message (JetStream's secure delete overwrites it in the store files) and
  then purges the key's subject, so neither the bucket's history nor the files keep the wrapped bytes. The
  bucket's stream allows deleting messages for that (a KV bucket made by ``create_key_value`` denies it). A key
  the bucket does not hold is purged all the same (a destroy that stopped after the erasure, asked again), as the
  purge is what the other processes hear.
- **Making many keys at once.** ``create_many`` writes up to a thousand new keys as one atomic batch of the
  bucket's stream (each expecting its subject to be empty), one acknowledgement for all, sent from the calling
  thread (the connection's blocking path) when it can. When some key exists
  already, that batch stores nothing: the existing keys are read (one request) and the others written as a batch
  again; if that is refused too (a destroyed key's subject keeps its purge, or another process made one
  meanwhile), they are made one by one as :meth:`~NatsKeyVault.create` makes them.
- **Hearing of destroyed keys.** ``on_destroyed`` watches the keys' subjects for purges and deletes, so a
  process's keyring (each one asks for it) evicts a key another process destroyed; after a reconnection the
  keyring drops its whole cache instead, as news may have been missed while the connection was down.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator

import nats.aio.msg
import nats.errors
import nats.js.api
import nats.js.errors
import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.common.errors import ConfigurationError, Unavailable
from services.common.eventstore.connection import MAX_BATCH_MESSAGES, MULTI_LAST_SUBJECTS, JetStreamConnection
from services.common.eventstore.envelope import EXPECTED_LAST_SUBJECT_SEQUENCE, OutgoingMessage
from services.common.eventstore.errors import (
    CONFLICTS,
    InsufficientResourcesError,
    RequestTimeoutError,
    StorageResourcesExceededError,
    StoreOutOfSpaceError,
    StreamStoreFailedError,
    TooManyInflightBatchesError,
)

log = structlog.get_logger(__name__)

BUCKET = "CHORUS_KEYS"
STREAM = f"KV_{BUCKET}"
WRAP_MAGIC = b"CKW1"
CHECK_KEY = "kek-check"
CREATE_WINDOW = 256  # bucket writes in flight at once in create_many
_KEY_ID = re.compile(r"^[A-Za-z0-9_=-][A-Za-z0-9_=.-]{0,127}$")


class KeyVaultError(Exception):
    """Root of the key vault's errors."""


class WrongKekError(KeyVaultError, ConfigurationError):
    """The configured KEK cannot unwrap what the vault holds: the process must not start."""


class InvalidKeyIdError(KeyVaultError, ValueError):
    """A key id with characters a vault key cannot have."""


def kek_id(kek: bytes) -> bytes:
    """The id of a KEK: the first 8 bytes of SHA-256 over ``"chorus-kek" + kek``."""
    return hashlib.sha256(b"chorus-kek" + kek).digest()[:8]


class Kek:
    """The current KEK (wraps) and former ones (unwrap only)."""

    def __init__(self, current: bytes, previous: tuple[bytes, ...] = ()) -> None:
        self.current_id = kek_id(current)
        self._keys = {kek_id(k): AESGCM(k) for k in (current, *previous)}

    def wrap(self, key_id: str, data_key: bytes, nonce: bytes | None = None) -> bytes:
        """``data_key`` wrapped for ``key_id`` (``nonce``: 12 random bytes the caller drew, else drawn here)."""
        nonce = nonce or os.urandom(12)
        sealed = self._keys[self.current_id].encrypt(nonce, data_key, key_id.encode())
        return WRAP_MAGIC + self.current_id + nonce + sealed

    def unwrap(self, key_id: str, wrapped: bytes) -> tuple[bytes, bool]:
        """The data key and whether it was wrapped by a former KEK; :class:`WrongKekError` when no KEK fits."""
        if not wrapped.startswith(WRAP_MAGIC):
            raise WrongKekError(f"{BUCKET}: {key_id} is not a Chorus key wrap")
        wrapper = wrapped[4:12]
        aead = self._keys.get(wrapper)
        if aead is None:
            raise WrongKekError(
                f"{BUCKET} holds keys wrapped with KEK {wrapper.hex()}, the configured KEK is {self.current_id.hex()} "
                "(CHORUS_KEK / CHORUS_KEK_FILE; a former one goes in CHORUS_KEK_PREVIOUS): refusing to start"
            )
        try:
            return aead.decrypt(wrapped[12:24], wrapped[24:], key_id.encode()), wrapper != self.current_id
        except InvalidTag:
            raise WrongKekError(f"{BUCKET}: the wrap of {key_id} does not open with KEK {wrapper.hex()}") from None


class KeyVault(abc.ABC):
    """Data keys by key id: :meth:`create` (idempotent), :meth:`get`, :meth:`destroy` (for ever)."""

    @abc.abstractmethod
    def create(self, key_id: str) -> bytes:
        """The data key of ``key_id``, made now if it has none."""

    def create_many(self, key_ids: Iterable[str]) -> dict[str, bytes]:
        """The data keys of ``key_ids`` (made now where missing), by key id; vaults override it to save round trips."""
        return {key_id: self.create(key_id) for key_id in dict.fromkeys(key_ids)}

    @abc.abstractmethod
    def get(self, key_id: str) -> bytes | None:
        """The data key of ``key_id``, or None when it never had one or it was destroyed."""

    def get_many(self, key_ids: Iterable[str]) -> dict[str, bytes | None]:
        """The data key of each of ``key_ids`` (None as :meth:`get` gives it, and for a key id no vault key can
        have), by key id; vaults override it to save round trips."""
        found: dict[str, bytes | None] = {}
        for key_id in dict.fromkeys(key_ids):
            try:
                found[key_id] = self.get(key_id)
            except InvalidKeyIdError:
                found[key_id] = None
        return found

    @abc.abstractmethod
    def destroy(self, key_id: str) -> bool:
        """Destroy the data key of ``key_id`` beyond recovery; whether there was one."""

    def close(self) -> None:  # noqa: B027 - most vaults hold nothing open
        """Release what the vault holds open."""

    def on_destroyed(self, listener: Callable[[list[str]], None], lost: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener(key ids)`` when keys are destroyed, by any process, from now on, and ``lost()`` when
        such news may have been missed; return the function that stops it. Default: a vault no other process
        shares, whose keys only its own keyring destroys."""
        return lambda: None

    def on_reconnect(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` each time the vault's connection to its store comes back after a loss (keys may
        have been destroyed meanwhile); return the function that stops it. Default: a vault that never loses one."""
        return lambda: None

    @property
    def out_of_space(self) -> bool:
        """Whether the vault's last write was refused for want of storage (health is NOT_SERVING meanwhile)."""
        return False


def _check_key_id(key_id: str) -> str:
    if not _KEY_ID.match(key_id):
        raise InvalidKeyIdError("a key id is letters, digits, '-', '_', '=' and '.' (at most 128)")
    return f"dk.{key_id}"


class NatsKeyVault(KeyVault):
    """Data keys in the NATS KV bucket ``CHORUS_KEYS`` (see the module docstring)."""

    def __init__(self, connection: JetStreamConnection, kek: Kek, *, replicas: int = 1, owns_connection: bool = False):
        self._connection = connection
        self._kek = kek
        self._owns = owns_connection
        self._kv = connection.call(lambda: self._open_bucket(replicas))
        self._check_kek()

    @classmethod
    def open(cls, url: str, kek: Kek, *, replicas: int = 1) -> NatsKeyVault:
        connection = JetStreamConnection.open(url)
        try:
            return cls(connection, kek, replicas=replicas, owns_connection=True)
        except BaseException:
            connection.close()
            raise

    async def _open_bucket(self, replicas: int) -> nats.js.kv.KeyValue:
        js = self._connection.client.jetstream()
        config = nats.js.api.StreamConfig(
            name=STREAM,
            description="Chorus data keys, wrapped by the KEK",
            subjects=[f"$KV.{BUCKET}.>"],
            allow_direct=True,
            allow_atomic=True,
            allow_rollup_hdrs=True,
            deny_delete=False,
            deny_purge=False,
            discard=nats.js.api.DiscardPolicy.NEW,
            max_msgs_per_subject=1,
            num_replicas=replicas,
            storage=nats.js.api.StorageType.FILE,
        )
        try:
            info = await js.stream_info(STREAM)
        except nats.js.errors.NotFoundError:
            try:
                await js.add_stream(config)
            except nats.js.errors.BadRequestError:
                info = await js.stream_info(STREAM)  # made by another process meanwhile
            else:
                return await js.key_value(BUCKET)
        if not info.config.allow_atomic:  # a bucket made before keys were made in batches
            info.config.allow_atomic = True
            await js.update_stream(info.config)
        return await js.key_value(BUCKET)

    def _check_kek(self) -> None:
        async def check() -> None:
            try:
                entry = await self._kv.get(CHECK_KEY)
            except nats.js.errors.KeyNotFoundError:
                with contextlib.suppress(nats.js.errors.KeyWrongLastSequenceError):
                    await self._kv.create(CHECK_KEY, self._kek.wrap(CHECK_KEY, os.urandom(32)))
                    log.info("privacy.vault_created", bucket=BUCKET, kek_id=self._kek.current_id.hex())
                    return
                entry = await self._kv.get(CHECK_KEY)
            data_key, former = self._kek.unwrap(CHECK_KEY, entry.value or b"")
            if former:
                await self._kv.update(CHECK_KEY, self._kek.wrap(CHECK_KEY, data_key), last=entry.revision)

        self._connection.call(check)

    @property
    def out_of_space(self) -> bool:
        return bool(self._connection.out_of_space)

    @contextlib.contextmanager
    def _store_errors(self) -> Iterator[None]:
        """The bucket's failures as the event store's: a full store is out of space, NATS away is Unavailable."""
        try:
            yield
        except nats.js.errors.APIError as error:
            if error.err_code in (
                InsufficientResourcesError.code,
                StorageResourcesExceededError.code,
                StreamStoreFailedError.code,
            ):
                self._connection.out_of_space = True
                raise StoreOutOfSpaceError(f"{BUCKET}: the store is out of space; retry once it has room") from None
            if isinstance(error, nats.js.errors.ServiceUnavailableError):
                raise Unavailable(f"{BUCKET}: the key vault cannot be reached; retry") from None
            raise
        except InsufficientResourcesError:  # a batch of new keys refused (the store's own error classes)
            self._connection.out_of_space = True
            raise StoreOutOfSpaceError(f"{BUCKET}: the store is out of space; retry once it has room") from None
        except (
            nats.errors.TimeoutError,
            nats.errors.NoRespondersError,
            nats.errors.ConnectionClosedError,
            RequestTimeoutError,
        ):
            raise Unavailable(f"{BUCKET}: the key vault cannot be reached; retry") from None

    def create(self, key_id: str) -> bytes:
        name = _check_key_id(key_id)
        with self._store_errors():
            return self._connection.call(lambda: self._create(key_id, name))

    def create_many(self, key_ids: Iterable[str]) -> dict[str, bytes]:
        """The data keys of ``key_ids``: new keys in atomic batches of up to a thousand (one acknowledgement
        each, published from the calling thread when the connection has a free blocking link); a batch refused
        because some of its keys exist is made one key at a time instead, the bucket writes of up to
        :data:`CREATE_WINDOW` keys in flight at once."""
        names = {key_id: _check_key_id(key_id) for key_id in dict.fromkeys(key_ids)}
        pending = list(names.items())
        made: dict[str, bytes] = {}
        with self._store_errors():
            for start in range(0, len(pending), MAX_BATCH_MESSAGES):
                chunk = pending[start : start + MAX_BATCH_MESSAGES]
                fresh, messages = self._new_keys(chunk)
                try:
                    self._connection.publish(messages)
                except (*CONFLICTS, TooManyInflightBatchesError):
                    fresh = self._connection.call(
                        lambda chunk=chunk: self._create_existing(chunk),  # type: ignore[misc]
                        timeout=self._connection.request_timeout * (3 + len(chunk) // CREATE_WINDOW),
                    )
                made.update(fresh)
        return made

    def _new_keys(self, pending: list[tuple[str, str]]) -> tuple[dict[str, bytes], list[OutgoingMessage]]:
        """New data keys for ``(key id, name)`` and the bucket messages that store them where none exists."""
        drawn = os.urandom(44 * len(pending))  # each key's 32 bytes and its wrap's 12-byte nonce, in one draw
        made: dict[str, bytes] = {}
        messages: list[OutgoingMessage] = []
        wrap = self._kek.wrap
        for n, (key_id, name) in enumerate(pending):
            made[key_id] = key = drawn[44 * n : 44 * n + 32]
            wrapped = wrap(key_id, key, drawn[44 * n + 32 : 44 * n + 44])
            messages.append(OutgoingMessage(f"$KV.{BUCKET}.{name}", wrapped, {EXPECTED_LAST_SUBJECT_SEQUENCE: "0"}))
        return made, messages

    async def _create_existing(self, pending: list[tuple[str, str]]) -> dict[str, bytes]:
        """Make ``(key id, name)``'s keys after a batch of them was refused as some exist: read those (one
        request) and make the others as a batch; when that is refused too (a key destroyed, or made meanwhile),
        make them one by one."""
        found = await self._read_many({f"$KV.{BUCKET}.{name}": key_id for key_id, name in pending})
        missing = [(key_id, name) for key_id, name in pending if key_id not in found]
        made = await self._publish_new(missing) if missing else {}
        if made is None:
            made = {}
            for start in range(0, len(missing), CREATE_WINDOW):
                window = missing[start : start + CREATE_WINDOW]
                keys = await asyncio.gather(*(self._create(key_id, name) for key_id, name in window))
                made.update(zip((key_id for key_id, _ in window), keys, strict=True))
        return {**found, **made}

    async def _publish_new(self, pending: list[tuple[str, str]]) -> dict[str, bytes] | None:
        """New keys for ``(key id, name)``, stored as one atomic batch; None when some subject is not empty."""
        made, messages = self._new_keys(pending)
        try:
            await self._connection.publish_atomic(messages)
        except (*CONFLICTS, TooManyInflightBatchesError):
            return None
        return made

    async def _create(self, key_id: str, name: str) -> bytes:
        data_key = AESGCM.generate_key(bit_length=256)
        try:
            await self._kv.create(name, self._kek.wrap(key_id, data_key))
            self._connection.out_of_space = False
            return data_key
        except nats.js.errors.KeyWrongLastSequenceError:
            found = await self._get(key_id, name)  # another process made it first
            if found is None:
                raise KeyVaultError(f"{BUCKET}: the key of {key_id} vanished while it was made") from None
            return found

    def get(self, key_id: str) -> bytes | None:
        name = _check_key_id(key_id)
        with self._store_errors():
            return self._connection.call(lambda: self._get(key_id, name))

    def get_many(self, key_ids: Iterable[str]) -> dict[str, bytes | None]:
        """The data keys of ``key_ids``, read by batched direct gets of the keys' subjects (up to a thousand keys a
        request), so a page of events under many subjects' keys costs one round trip, not one per key."""
        found: dict[str, bytes | None] = {}
        subjects: dict[str, str] = {}
        for key_id in dict.fromkeys(key_ids):
            found[key_id] = None
            try:
                subjects[f"$KV.{BUCKET}.{_check_key_id(key_id)}"] = key_id
            except InvalidKeyIdError:
                continue
        if not subjects:
            return found

        async def get_all() -> dict[str, bytes | None]:
            found.update(await self._read_many(subjects))
            return found

        with self._store_errors():
            return self._connection.call(
                get_all, timeout=self._connection.request_timeout * (3 + len(subjects) // MULTI_LAST_SUBJECTS)
            )

    async def _read_many(self, subjects: dict[str, str]) -> dict[str, bytes]:
        """The keys stored on ``subjects`` (subject -> key id) and not destroyed, by key id."""
        found: dict[str, bytes] = {}
        stored = await self._connection.direct_get_last_many(STREAM, list(subjects))
        for subject, message in stored.items():
            key_id = subjects[subject]
            if not message.data or message.headers.get("KV-Operation") in ("DEL", "PURGE"):
                continue  # destroyed
            data_key, former = self._kek.unwrap(key_id, message.data)
            if former:
                with contextlib.suppress(nats.js.errors.KeyWrongLastSequenceError):
                    await self._kv.update(_check_key_id(key_id), self._kek.wrap(key_id, data_key), last=message.seq)
            found[key_id] = data_key
        return found

    async def _get(self, key_id: str, name: str) -> bytes | None:
        try:
            entry = await self._kv.get(name)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return None
        if not entry.value:
            return None
        data_key, former = self._kek.unwrap(key_id, entry.value)
        if former:
            with contextlib.suppress(nats.js.errors.KeyWrongLastSequenceError):
                await self._kv.update(name, self._kek.wrap(key_id, data_key), last=entry.revision)
        return data_key

    def destroy(self, key_id: str) -> bool:
        name = _check_key_id(key_id)

        async def destroy() -> bool:
            js = self._connection.client.jetstream()
            try:
                entry = await self._kv.get(name)
            except nats.js.errors.KeyDeletedError:
                return False  # purged before: every watching vault was told then
            except nats.js.errors.KeyNotFoundError:
                # never made, or a destroy stopped after the secure delete: purge, so watching vaults hear of it
                await self._kv.purge(name)
                return False
            if entry.revision is not None:
                await js.delete_msg(STREAM, entry.revision)  # secure delete: overwritten in the store files
            await self._kv.purge(name)
            return True

        with self._store_errors():
            return self._connection.call(destroy)

    def rewrap_all(self) -> int:
        """Rewrap every key wrapped by a former KEK with the current one; how many were rewrapped."""

        async def rewrap() -> int:
            try:
                names = await self._kv.keys()
            except nats.js.errors.NoKeysError:
                return 0
            done = 0
            for name in names:
                entry = await self._kv.get(name)
                key_id = name.removeprefix("dk.") if name != CHECK_KEY else CHECK_KEY
                data_key, former = self._kek.unwrap(key_id, entry.value or b"")
                if former:
                    await self._kv.update(name, self._kek.wrap(key_id, data_key), last=entry.revision)
                    done += 1
            return done

        return self._connection.call(rewrap, timeout=600)

    def on_destroyed(self, listener: Callable[[list[str]], None], lost: Callable[[], None]) -> Callable[[], None]:
        """Watch the keys' subjects (``$KV.CHORUS_KEYS.dk.>``) for purges and deletes (header ``KV-Operation:
        PURGE`` or ``DEL``), made by any process or tool: a core subscription, so nothing of the past is
        delivered and the client subscribes again after each reconnection (what was missed meanwhile is for
        :meth:`on_reconnect`'s listeners to make good); ``lost()`` when the client dropped some of its messages."""
        prefix = f"$KV.{BUCKET}.dk."

        def on_message(msg: nats.aio.msg.Msg) -> None:
            if msg.headers and msg.headers.get("KV-Operation") in ("DEL", "PURGE"):
                listener([msg.subject.removeprefix(prefix)])

        stop = self._connection.call(lambda: self._connection.listen(f"{prefix}>", on_message, lost))

        def unlisten() -> None:
            if not self._connection.closed:
                with contextlib.suppress(Exception):
                    self._connection.call(stop, while_disconnected=True)

        return unlisten

    def on_reconnect(self, listener: Callable[[], None]) -> Callable[[], None]:
        async def relay() -> None:
            listener()

        return self._connection.on_reconnect(relay)

    def close(self) -> None:
        if self._owns:
            self._connection.close()

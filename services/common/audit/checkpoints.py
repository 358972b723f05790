"""Signed checkpoints of a stream, and the publisher each service runs for its own stream.

A checkpoint says: "the running digest of application ``app``'s stream, over every message up to ``sequence``,
is ``digest``", signed with Ed25519. The running digest starts at 32 zero bytes and folds in, in stream order,
each message's sequence and ``Chorus-Digest`` (:func:`services.common.eventstore.digest.running_digest`);
checkpoint messages themselves are left out. Someone who rewrites a chain whole, or removes or inserts a message,
cannot produce the signature that matches, so ``chorus audit verify`` finds the change at the first checkpoint
after it.

Checkpoints are stored in the stream they cover, on ``<namespace>.<app>.c``, as JSON
(``{"app", "sequence", "digest", "key_id", "signed_at", "signature"}``, the signature base64) over the bytes of
:meth:`Checkpoint.signed_bytes`. The stream is named by its application (``identity``), not by its NATS stream
name, so a copy restored under another namespace still verifies.

**Who publishes.** Each service signs its own stream: :class:`Checkpointer`, a daemon thread started by the
service's composition root, signs a checkpoint every ``interval`` seconds when the stream has grown since the last
one, and on demand when asked on the core NATS subject ``<namespace>._audit.checkpoint.<app>`` (outside every
stream; the reply is the checkpoint's JSON, or ``{"error": ...}``). Replicas of a service may all run one: a
checkpoint is written with ``Nats-Expected-Last-Subject-Sequence`` of the previous one, so of two replicas
signing at once one is stored and the other starts again from it. The thread resumes from the last stored
checkpoint after a restart, reading only the messages after it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import queue
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.persistence import InfrastructureFactory

from services.common.audit.keys import AuditSettings, key_id, signing_key
from services.common.errors import ChorusError, ConfigurationError
from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.digest import DIGEST_HEADER, GENESIS, running_digest
from services.common.eventstore.envelope import EXPECTED_LAST_SUBJECT_SEQUENCE, MSG_ID_HEADER, OutgoingMessage
from services.common.eventstore.errors import CONFLICTS, EventStoreError
from services.common.eventstore.factory import JetStreamFactory
from services.common.eventstore.layout import StreamLayout
from services.common.lifecycle import Startable

log = structlog.get_logger(__name__)

READ_BATCH = 1000
_SIGNED_PREFIX = b"chorus.audit.checkpoint.v1\n"


class CheckpointError(ChorusError):
    """A checkpoint that cannot be read or could not be published."""


def checkpoint_subject(layout: StreamLayout) -> str:
    """The subject of an application's checkpoints, inside its stream."""
    return f"{layout.prefix}.c"


def checkpoint_request_subject(layout: StreamLayout) -> str:
    """The core NATS subject that asks an application's service for a checkpoint now (no stream stores it)."""
    namespace = layout.prefix.rsplit(".", 1)[0]
    return f"{namespace}._audit.checkpoint.{layout.app}"


@dataclass(frozen=True)
class Checkpoint:
    """One signed statement about a stream (see the module docstring)."""

    app: str
    sequence: int
    digest: str
    key_id: str
    signed_at: str
    signature: str  #: base64 of the Ed25519 signature over :meth:`signed_bytes`

    def signed_bytes(self) -> bytes:
        return _SIGNED_PREFIX + f"{self.app}\n{self.sequence}\n{self.digest}\n{self.signed_at}".encode()

    @classmethod
    def sign(cls, key: Ed25519PrivateKey, app: str, sequence: int, digest: str) -> Checkpoint:
        unsigned = cls(
            app, sequence, digest, key_id(key.public_key()), datetime.now(UTC).isoformat(timespec="microseconds"), ""
        )
        signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode()
        return cls(app, sequence, digest, unsigned.key_id, unsigned.signed_at, signature)

    def verified_by(self, public_keys: dict[str, Ed25519PublicKey]) -> bool:
        """Whether the key the checkpoint names is among ``public_keys`` and its signature holds."""
        key = public_keys.get(self.key_id)
        if key is None:
            return False
        try:
            key.verify(base64.b64decode(self.signature, validate=True), self.signed_bytes())
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint:
        try:
            body = json.loads(data)
            return cls(
                app=str(body["app"]),
                sequence=int(body["sequence"]),
                digest=str(body["digest"]),
                key_id=str(body["key_id"]),
                signed_at=str(body["signed_at"]),
                signature=str(body["signature"]),
            )
        except (ValueError, KeyError, TypeError):
            raise CheckpointError("the message is not a checkpoint") from None


class Checkpointer(Startable):
    """Signs checkpoints of one application's stream, on a schedule and on demand (see the module docstring).

    ``connection`` is shared, not owned. ``interval`` 0 signs only on demand.
    """

    def __init__(
        self, connection: JetStreamConnection, layout: StreamLayout, key: Ed25519PrivateKey, *, interval: float = 60.0
    ) -> None:
        self.connection = connection
        self.layout = layout
        self.key = key
        self.interval = interval
        self.subject = checkpoint_subject(layout)
        self._lock = threading.Lock()
        self._state: tuple[int, str, int] | None = None  # (covered sequence, running digest, checkpoint's own seq)
        self._requests: queue.Queue[str] = queue.Queue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: object | None = None

    # ------------------------------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        subject = checkpoint_request_subject(self.layout)

        async def subscribe() -> object:
            async def on_request(msg: object) -> None:
                self._requests.put(msg.reply)  # type: ignore[attr-defined]

            return await self.connection.client.subscribe(subject, queue="chorus-checkpointers", cb=on_request)

        self._unsubscribe = self.connection.call(subscribe)
        self._thread = threading.Thread(target=self._loop, name=f"{self.layout.app}-checkpointer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._requests.put("")
        if self._unsubscribe is not None:
            subscription = self._unsubscribe

            async def unsubscribe() -> None:
                await subscription.unsubscribe()  # type: ignore[attr-defined]

            try:
                self.connection.call(unsubscribe)
            except Exception:  # noqa: BLE001 - stopping: the connection may be gone already
                log.debug("audit.checkpointer_unsubscribe_failed", app=self.layout.app)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        timeout = self.interval if self.interval > 0 else None
        while not self._stopping.is_set():
            try:
                reply = self._requests.get(timeout=timeout)
            except queue.Empty:
                reply = None
            if self._stopping.is_set():
                return
            try:
                checkpoint = self.checkpoint(only_if_grown=reply is None)
            except Exception as error:  # noqa: BLE001 - reported and retried at the next turn: the thread lives on
                log.warning("audit.checkpoint_failed", app=self.layout.app, error_type=type(error).__name__)
                answer = json.dumps({"error": f"checkpoint failed: {type(error).__name__}"}).encode()
            else:
                answer = checkpoint.to_bytes() if checkpoint is not None else b"{}"
            if reply:
                self._answer(reply, answer)

    def _answer(self, reply: str, data: bytes) -> None:
        async def publish() -> None:
            await self.connection.client.publish(reply, data)

        try:
            self.connection.call(publish)
        except EventStoreError:
            log.warning("audit.checkpoint_reply_failed", app=self.layout.app)

    # ------------------------------------------------------------------------------------------ signing

    def checkpoint(self, *, only_if_grown: bool = False) -> Checkpoint | None:
        """Sign and store a checkpoint of everything stored so far; return it.

        With ``only_if_grown``, return None instead when nothing was stored since the last checkpoint.
        """
        with self._lock:
            for _attempt in range(3):
                covered, digest, last_checkpoint_seq = self._state or self._resume()
                end, digest = self._fold(covered, digest)
                if end == covered and last_checkpoint_seq and only_if_grown:
                    return None
                checkpoint = Checkpoint.sign(self.key, self.layout.app, end, digest)
                headers = {
                    MSG_ID_HEADER: f"{uuid.uuid4().hex}:c",
                    EXPECTED_LAST_SUBJECT_SEQUENCE: str(last_checkpoint_seq),
                }
                message = OutgoingMessage(self.subject, checkpoint.to_bytes(), headers)
                try:
                    [seq] = self.connection.call(functools.partial(self.connection.publish_atomic, [message]))
                except CONFLICTS:  # another replica signed meanwhile: start from its checkpoint
                    self._state = None
                    continue
                self._state = (end, digest, seq)
                log.info("audit.checkpoint_signed", app=self.layout.app, sequence=end, key_id=checkpoint.key_id)
                return checkpoint
        raise CheckpointError(f"could not store a checkpoint of {self.layout.stream}: other writers kept winning")

    def _resume(self) -> tuple[int, str, int]:
        """(covered sequence, running digest, its message's sequence) of the last stored checkpoint, or a start."""
        last = self.connection.call(lambda: self.connection.last_message(self.layout.stream, self.subject))
        if last is None:
            return 0, GENESIS, 0
        stored = Checkpoint.from_bytes(last.data)
        return stored.sequence, stored.digest, last.seq

    def _fold(self, covered: int, digest: str) -> tuple[int, str]:
        """Fold every message after ``covered`` (checkpoints left out) into ``digest``; return (last seq, digest)."""
        stream, every = self.layout.stream, f"{self.layout.prefix}.>"
        start = covered + 1
        end = covered
        while True:
            page = self.connection.call(
                functools.partial(
                    self.connection.direct_get_batch, stream, start_seq=start, subject_filter=every, batch=READ_BATCH
                )
            )
            for msg in page:
                if msg.subject != self.subject:
                    digest = running_digest(digest, msg.seq, msg.headers.get(DIGEST_HEADER, ""))
                    end = msg.seq
            if len(page) < READ_BATCH:
                return end, digest
            start = page[-1].seq + 1


@contextlib.contextmanager
def signing_checkpoints(
    factory: InfrastructureFactory[Any], data_dir: Path, environ: Mapping[str, str] | None = None
) -> Iterator[Checkpointer]:
    """A running :class:`Checkpointer` for the stream of the application ``factory`` serves (the service chassis
    calls this), with the key and schedule of :class:`~services.common.audit.keys.AuditSettings`."""
    if not isinstance(factory, JetStreamFactory):
        raise ConfigurationError(f"checkpoints are signed on JetStream streams, not with {type(factory).__name__}")
    settings = AuditSettings.from_env(data_dir, environ)
    key = signing_key(settings)
    log.info(
        "audit.checkpoints",
        app=factory.layout.app,
        key_id=key_id(key.public_key()),
        key_file=str(settings.key_file),
        interval_seconds=settings.interval_seconds,
    )
    with Checkpointer(factory.connection, factory.layout, key, interval=settings.interval_seconds) as running:
        yield running

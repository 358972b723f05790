"""``chorus audit verify``: recompute a stream's digest chains and check its signed checkpoints.

Walking the stream in order, every message but a checkpoint must carry the ``Chorus-Digest`` that the digest of
its subject's previous message and its own stored bytes give (:mod:`services.common.eventstore.digest`); the
recomputed digests are folded into the running digest, and every checkpoint must be signed by a known key and
state the running digest recomputed at the sequence it names (:mod:`services.common.audit.checkpoints`).

What a break means:
- a message whose digest does not match: its bytes were altered, or a message of the same aggregate before it
  was removed or altered (the link to it is what broke), reported at that message's sequence;
- a checkpoint whose digest does not match: some message up to the sequence it names was altered, removed or
  inserted with its aggregate's chain recomputed; reported at the checkpoint, with the range since the last
  good one (the change lies in it);
- a gap in the sequences: messages are missing from the stream.

Messages after the last checkpoint are chained but not yet signed: the report says how many.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.stream import last_sequence, messages
from services.common.audit import Checkpoint, CheckpointError, checkpoint_subject
from services.common.eventstore import StreamLayout
from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.digest import DIGEST_HEADER, GENESIS, message_digest, relative_subject, running_digest


@dataclass(frozen=True)
class Break:
    """The first broken link of a stream."""

    sequence: int  #: where verification failed: the message, or the checkpoint
    reason: str
    covers: tuple[int, int] | None = None  #: for a checkpoint: the sequences the change lies in


@dataclass
class StreamReport:
    """What verifying one stream found."""

    app: str
    stream: str
    messages: int = 0
    checkpoints: int = 0
    signed_through: int = 0  #: the sequence the last good checkpoint covers
    last_sequence: int = 0
    broken: Break | None = None
    unsigned: int = field(default=0)  #: messages after the last good checkpoint

    @property
    def ok(self) -> bool:
        return self.broken is None


def verify_stream(
    connection: JetStreamConnection,
    app: str,
    public_keys: dict[str, Ed25519PublicKey],
    *,
    namespace: str = "chorus",
    progress: Callable[[int, int], None] | None = None,
) -> StreamReport:
    """Verify one application's stream; :class:`~services.audit.stream.UnreadableStream` when it cannot be read.

    ``progress(seq, last)`` is told how far the walk got.
    """
    layout = StreamLayout(app, namespace=namespace)
    report = StreamReport(app=layout.app, stream=layout.stream)
    end = last_sequence(connection, layout)
    report.last_sequence = end
    checkpoints = checkpoint_subject(layout)
    previous: dict[str, str] = {}
    running = GENESIS
    running_at: dict[int, str] = {0: GENESIS}
    expected_seq = 1
    tick = (lambda seq: progress(seq, end)) if progress is not None else None
    for msg in messages(connection, layout, end=end, progress=tick):
        if msg.seq != expected_seq:
            report.broken = Break(expected_seq, f"sequences {expected_seq} to {msg.seq - 1} are missing")
            return report
        expected_seq = msg.seq + 1
        if msg.subject == checkpoints:
            report.broken = _check(msg.seq, msg.data, layout.app, public_keys, running_at, report)
        else:
            report.messages += 1
            digest = message_digest(
                previous.get(msg.subject, GENESIS), relative_subject(msg.subject, layout.prefix), msg.headers, msg.data
            )
            stored = msg.headers.get(DIGEST_HEADER)
            if stored is None:
                report.broken = Break(msg.seq, f"{_aggregate(msg.subject, layout)} carries no digest")
            elif stored != digest:
                report.broken = Break(
                    msg.seq,
                    f"the digest of {_aggregate(msg.subject, layout)} does not match its stored bytes and "
                    "its aggregate's previous digest: this message was altered, or one before it on the same "
                    "subject was altered or removed",
                )
            previous[msg.subject] = digest
            running = running_digest(running, msg.seq, digest)
            running_at[msg.seq] = running
        if report.broken is not None:
            return report
    if expected_seq <= end:
        report.broken = Break(expected_seq, f"sequences {expected_seq} to {end} are missing")
    report.unsigned = sum(1 for seq in running_at if seq > report.signed_through)
    return report


def _check(
    seq: int,
    data: bytes,
    app: str,
    public_keys: dict[str, Ed25519PublicKey],
    running_at: dict[int, str],
    report: StreamReport,
) -> Break | None:
    """Check the checkpoint stored at ``seq``; on success move ``report.signed_through`` and forget older digests."""
    try:
        checkpoint = Checkpoint.from_bytes(data)
    except CheckpointError:
        return Break(seq, "a message on the checkpoint subject is not a checkpoint")
    report.checkpoints += 1
    if checkpoint.key_id not in public_keys:
        return Break(seq, f"the checkpoint is signed by key {checkpoint.key_id}, not one of the given public keys")
    if not checkpoint.verified_by(public_keys):
        return Break(seq, "the checkpoint's signature does not verify")
    if checkpoint.app != app:
        return Break(seq, f"the checkpoint is of the stream of {checkpoint.app!r}, not {app!r}")
    since = report.signed_through + 1
    if checkpoint.sequence not in running_at:
        return Break(
            seq,
            f"the checkpoint covers sequence {checkpoint.sequence}, which is no message of this stream before it",
            covers=(since, seq - 1),
        )
    if running_at[checkpoint.sequence] != checkpoint.digest:
        return Break(
            seq,
            f"the signed running digest up to sequence {checkpoint.sequence} does not match the "
            f"stream: a message between {since} and {checkpoint.sequence} was altered, removed or "
            "inserted",
            covers=(since, checkpoint.sequence),
        )
    report.signed_through = max(report.signed_through, checkpoint.sequence)
    for old in [s for s in running_at if s < checkpoint.sequence]:
        del running_at[old]
    return None


def _aggregate(subject: str, layout: StreamLayout) -> str:
    return f"the message on {relative_subject(subject, layout.prefix)}"

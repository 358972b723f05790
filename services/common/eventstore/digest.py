"""The digest chain: each stored message's SHA-256 digest chains to the previous message of its subject.

Every message the recorders write (an aggregate's events, a snapshot, a tracking position) carries
``Chorus-Digest``: the hex SHA-256 of the previous digest of the same subject (32 zero bytes for the first)
followed by the message's stored bytes — its subject relative to the stream (``e.<aggregate>``, ``t.<upstream>``),
its ``Chorus-Topic`` and ``Chorus-Version`` headers and its payload exactly as stored, each length-prefixed.
Whatever the payload holds (ciphertext, once the codec encrypts) is covered as it is, so deleting a data key
later changes no digest. The subject is taken relative to the stream so that a copy of a stream restored under
another namespace still verifies.

A chain alone can be rewritten whole by someone with write access; signed checkpoints
(:mod:`services.common.audit.checkpoints`) fold the digests of every message of the stream, in stream order,
into a :func:`running_digest` and sign it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

DIGEST_HEADER = "Chorus-Digest"
#: The "previous digest" of a subject's first message.
GENESIS = "00" * 32

_TOPIC_HEADER = "Chorus-Topic"
_VERSION_HEADER = "Chorus-Version"


def _framed(part: bytes) -> bytes:
    return len(part).to_bytes(8, "big") + part


def message_digest(previous: str, relative_subject: str, headers: Mapping[str, str], data: bytes) -> str:
    """The hex digest of one message given the hex digest of its subject's previous message.

    >>> message_digest(GENESIS, "e.x", {"Chorus-Topic": "t", "Chorus-Version": "1"}, b"state")[:16]
    'e23a9d8a7514b5a5'
    """
    sha = hashlib.sha256(bytes.fromhex(previous or GENESIS))
    for part in (
        relative_subject.encode(),
        headers.get(_TOPIC_HEADER, "").encode(),
        headers.get(_VERSION_HEADER, "").encode(),
        data,
    ):
        sha.update(_framed(part))
    return sha.hexdigest()


def running_digest(previous: str, sequence: int, digest: str) -> str:
    """The stream's running digest after folding in the message at ``sequence`` whose chain digest is ``digest``.

    A stream's running digest before its first message is :data:`GENESIS`.
    """
    return hashlib.sha256(bytes.fromhex(previous) + sequence.to_bytes(8, "big") + digest.encode()).hexdigest()


def relative_subject(subject: str, stream_prefix: str) -> str:
    """``subject`` without the stream's ``<namespace>.<app>.`` prefix."""
    head = f"{stream_prefix}."
    return subject[len(head) :] if subject.startswith(head) else subject

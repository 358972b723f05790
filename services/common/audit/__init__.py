"""Audit support every service shares: the checkpoint signing key and the signed checkpoints of a stream.

- :mod:`.keys`: the Ed25519 signing key from configuration (``CHORUS_AUDIT_SIGNING_KEY_FILE``), or generated
  once into the data directory; public keys for verifiers; key ids.
- :mod:`.checkpoints`: :class:`Checkpoint` (stream, sequence, running digest, signature), and the
  :class:`Checkpointer` a service runs to publish its own stream's checkpoints on a schedule and on demand.

The digest chain itself is written by the event store (:mod:`services.common.eventstore.digest`).
"""

from services.common.audit.checkpoints import (
    Checkpoint,
    Checkpointer,
    CheckpointError,
    checkpoint_request_subject,
    checkpoint_subject,
    signing_checkpoints,
)
from services.common.audit.keys import (
    AuditKeyError,
    AuditSettings,
    key_id,
    load_public_keys,
    signing_key,
)

__all__ = [
    "AuditKeyError",
    "AuditSettings",
    "Checkpoint",
    "CheckpointError",
    "Checkpointer",
    "checkpoint_request_subject",
    "checkpoint_subject",
    "key_id",
    "load_public_keys",
    "signing_checkpoints",
    "signing_key",
]

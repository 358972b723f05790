"""The Ed25519 key that signs checkpoints, and the public keys that verify them.

A service reads its signing key, at start-up, from

| variable | default | meaning |
| --- | --- | --- |
| ``CHORUS_AUDIT_SIGNING_KEY_FILE`` | (none) | PEM file of the Ed25519 private key (PKCS#8, unencrypted) that signs checkpoints |
| ``CHORUS_AUDIT_CHECKPOINT_SECONDS`` | ``60`` | how often a service signs a checkpoint of its stream when it has grown (0: only on demand) |

Without ``CHORUS_AUDIT_SIGNING_KEY_FILE`` the key is ``<CHORUS_DATA_DIR>/audit/signing-key.pem``, generated on
first use with its public half beside it (``signing-key.pub.pem``): what ``chorus up`` and tests use. Every
process of a deployment that signs should be given the same key (a secret file); verifiers need only the public
key. A key's id is the first 16 hex digits of the SHA-256 of its raw public key; every checkpoint names it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.common.errors import ConfigurationError

KEY_FILE_VAR = "CHORUS_AUDIT_SIGNING_KEY_FILE"
INTERVAL_VAR = "CHORUS_AUDIT_CHECKPOINT_SECONDS"
GENERATED_KEY = Path("audit") / "signing-key.pem"


class AuditKeyError(ConfigurationError):
    """A signing or public key that cannot be read (the message names the file, never the key)."""


@dataclass(frozen=True)
class AuditSettings:
    """Where the signing key comes from and how often checkpoints are signed (see the module docstring)."""

    key_file: Path
    generate: bool  #: True when ``key_file`` is the data directory's, created if missing
    interval_seconds: float = 60.0

    @classmethod
    def from_env(cls, data_dir: Path, environ: Mapping[str, str] | None = None) -> AuditSettings:
        env = os.environ if environ is None else environ
        text = env.get(INTERVAL_VAR, "").strip() or "60"
        try:
            interval = float(text)
        except ValueError:
            raise ConfigurationError(f"{INTERVAL_VAR}: {text!r} is not a number of seconds") from None
        if interval < 0:
            raise ConfigurationError(f"{INTERVAL_VAR}: must be 0 or more, got {text}")
        configured = env.get(KEY_FILE_VAR, "").strip()
        if configured:
            return cls(Path(configured), generate=False, interval_seconds=interval)
        return cls(data_dir / GENERATED_KEY, generate=True, interval_seconds=interval)


def key_id(public_key: Ed25519PublicKey) -> str:
    """The id of a public key: 16 hex digits of the SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signing_key(settings: AuditSettings) -> Ed25519PrivateKey:
    """The signing key ``settings`` name, generated first when it is the data directory's and missing."""
    path = settings.key_file
    if settings.generate and not path.exists():
        _generate(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise AuditKeyError(f"cannot read the checkpoint signing key {path}: {type(exc).__name__}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError(f"the checkpoint signing key {path} is not an Ed25519 private key")
    return key


def _generate(path: Path) -> None:
    """Write a new key pair; of processes racing to create it, one wins and the others read its key."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    staged = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(private)
        staged.chmod(0o600)
        try:
            os.link(staged, path)  # atomic, and refused when another process got there first
        except FileExistsError:
            return
        public_path(path).write_bytes(public)
    except OSError as exc:
        raise AuditKeyError(
            f"cannot create the checkpoint signing key {path} ({type(exc).__name__}): set {KEY_FILE_VAR}"
        ) from None
    finally:
        staged.unlink(missing_ok=True)


def public_path(key_file: Path) -> Path:
    """Where the public half of a generated key is written: ``signing-key.pub.pem`` beside ``signing-key.pem``."""
    return key_file.with_name(key_file.name.removesuffix(".pem") + ".pub.pem")


def load_public_keys(paths: Sequence[Path]) -> dict[str, Ed25519PublicKey]:
    """Key id -> public key, from PEM files holding a public key (or a private key, whose public half is used)."""
    keys: dict[str, Ed25519PublicKey] = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise AuditKeyError(f"cannot read the public key {path}: {type(exc).__name__}") from None
        try:
            loaded: object = serialization.load_pem_public_key(data)
        except ValueError:
            try:
                loaded = serialization.load_pem_private_key(data, password=None).public_key()
            except (ValueError, TypeError):
                raise AuditKeyError(f"{path} holds no PEM public key") from None
        if not isinstance(loaded, Ed25519PublicKey):
            raise AuditKeyError(f"{path} holds no Ed25519 public key")
        keys[key_id(loaded)] = loaded
    return keys

"""The deployment's two secrets, read from configuration: the key-encryption key and the pseudonym key.

| variable | default | meaning |
| --- | --- | --- |
| ``CHORUS_KEK`` | (none) | the key-encryption key that wraps every data key: 32 bytes, base64 |
| ``CHORUS_KEK_FILE`` | (none) | a file holding it (a mounted secret); read when ``CHORUS_KEK`` is unset |
| ``CHORUS_KEK_PREVIOUS`` | (none) | former KEKs, base64, comma-separated: unwrap only (rotation) |
| ``CHORUS_PSEUDONYM_KEY`` | (none) | the key of identifier ids (HMAC-SHA256): at least 16 bytes, base64 |
| ``CHORUS_PSEUDONYM_KEY_FILE`` | (none) | a file holding it; read when ``CHORUS_PSEUDONYM_KEY`` is unset |

When neither a variable nor its file is set, the key is generated into ``<CHORUS_DATA_DIR>/keys/`` (``kek`` and
``pseudonym``) the first time and read from there afterwards, and the process says so at start-up
(``privacy.key_generated`` / ``privacy.key_from_data_dir``): right for ``chorus up`` and tests, wrong for a
deployment, where both come from a secret store. Every process of a deployment must see the same two keys.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import structlog

from services.common.errors import ConfigurationError

log = structlog.get_logger(__name__)

KEK_BYTES = 32


@dataclass(frozen=True)
class DeploymentKeys:
    """The current KEK, former KEKs (unwrap only) and the pseudonym key."""

    kek: bytes
    previous_keks: tuple[bytes, ...]
    pseudonym_key: bytes

    def __repr__(self) -> str:  # never print a secret
        return "DeploymentKeys(<secret>)"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, data_dir: Path | None = None) -> DeploymentKeys:
        env = os.environ if environ is None else environ
        folder = (data_dir or Path(env.get("CHORUS_DATA_DIR") or "./var")) / "keys"
        kek = _secret(env, "CHORUS_KEK", folder / "kek", exact=KEK_BYTES)
        previous = tuple(
            _decode("CHORUS_KEK_PREVIOUS", item.strip(), exact=KEK_BYTES)
            for item in env.get("CHORUS_KEK_PREVIOUS", "").split(",")
            if item.strip()
        )
        pseudonym_key = _secret(env, "CHORUS_PSEUDONYM_KEY", folder / "pseudonym", minimum=16)
        return cls(kek=kek, previous_keks=previous, pseudonym_key=pseudonym_key)


def _decode(name: str, text: str, *, exact: int = 0, minimum: int = 0) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{name}: not base64") from None
    if exact and len(key) != exact:
        raise ConfigurationError(f"{name}: must be {exact} bytes, base64 (got {len(key)})")
    if len(key) < minimum:
        raise ConfigurationError(f"{name}: must be at least {minimum} bytes, base64 (got {len(key)})")
    return key


def _secret(env: Mapping[str, str], name: str, generated: Path, *, exact: int = 0, minimum: int = 0) -> bytes:
    if env.get(name, "").strip():
        return _decode(name, env[name], exact=exact, minimum=minimum)
    file_name = env.get(f"{name}_FILE", "").strip()
    if file_name:
        try:
            text = Path(file_name).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"{name}_FILE: cannot read {file_name} ({type(exc).__name__})") from None
        return _decode(f"{name}_FILE", text, exact=exact, minimum=minimum)
    return _generated(name, generated, exact or 32, exact=exact, minimum=minimum)


def _generated(name: str, path: Path, size: int, **rules: int) -> bytes:
    """The key in ``path``, created there (atomically: concurrent processes agree on one) when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(base64.b64encode(secrets.token_bytes(size)).decode("ascii"))
        try:
            os.link(temporary, path)  # fails when another process linked its key first: theirs wins
            log.warning("privacy.key_generated", setting=name, path=str(path))
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    else:
        log.info("privacy.key_from_data_dir", setting=name, path=str(path))
    return _decode(str(path), path.read_text(encoding="ascii"), **rules)

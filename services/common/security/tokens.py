"""Signed bearer tokens: a JWT (PyJWT, EdDSA over Ed25519) naming a subject and its role, with an expiry.

A token is issued with the private signing key (``chorus credentials issue``) and verified by every service
with the matching public key (``CHORUS_TOKEN_PUBLIC_KEY_FILE``). Claims: ``sub`` (who), ``role`` (one of
:data:`~.roles.ROLES`), ``jti`` (the token's id), ``iat``, ``exp``, ``iss`` and ``aud`` (both ``chorus``). A
token whose id is in the revocation list (:class:`RevocationList`, ``CHORUS_TOKEN_REVOKED_FILE``, appended to by
``chorus credentials revoke``) is refused from the next call on. Rotating the signing key means
issuing new tokens with the new key and giving the services the new public key: old tokens stop working.
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from services.common.errors import ChorusError
from services.common.security.roles import ROLES

ALGORITHM = "EdDSA"
ISSUER = "chorus"
AUDIENCE = "chorus"


class InvalidToken(ChorusError):
    """A bearer token that is expired, forged, malformed or names no known role (the message never quotes it)."""


@dataclass(frozen=True)
class TokenClaims:
    """Who a verified token names: its subject and role."""

    subject: str
    role: str


def new_signing_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def private_pem(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def issue(
    signing_key_pem: bytes, *, subject: str, role: str, days: float = 30.0, now: dt.datetime | None = None
) -> str:
    """A token for ``subject`` with ``role``, valid for ``days`` from ``now``."""
    if role not in ROLES:
        msg = f"unknown role {role!r}: expected one of {', '.join(ROLES)}"
        raise ChorusError(msg)
    if not subject.strip():
        msg = "a token needs a subject (who holds it)"
        raise ChorusError(msg)
    if not days > 0:
        msg = "a token must be valid for more than 0 days"
        raise ChorusError(msg)
    issued = now or dt.datetime.now(dt.UTC)
    claims = {
        "sub": subject,
        "role": role,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": uuid.uuid4().hex,
        "iat": issued,
        "exp": issued + dt.timedelta(days=days),
    }
    key: Any = serialization.load_pem_private_key(signing_key_pem, None)  # Ed25519 (checked by PyJWT)
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def token_id(token: str) -> str:
    """The ``jti`` of ``token``, read without verifying it (what revoking needs); :class:`InvalidToken` without."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise InvalidToken("the bearer token is not a valid Chorus token") from None
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise InvalidToken("the bearer token has no id (jti): it was issued before tokens could be revoked")
    return jti


class RevocationList:
    """The ids of revoked tokens, one a line in ``path`` (``#`` starts a comment; a missing file revokes none),
    read again whenever the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._ids: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def __contains__(self, jti: object) -> bool:
        try:
            stat = self.path.stat()
            seen: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            seen = None
        with self._lock:
            if seen != self._seen:
                text = self.path.read_text() if seen is not None else ""
                ids = (line.split("#", 1)[0].strip() for line in text.splitlines())
                self._ids = frozenset(jti for jti in ids if jti)
                self._seen = seen
            return jti in self._ids

    def revoke(self, jti: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as handle:
            handle.write(jti + "\n")


class TokenVerifier:
    """Verifies tokens with one public key (PEM).

    A token that verified is remembered (the last ``remember`` of them) with its expiry, so a caller's next
    calls cost a dictionary look-up instead of a signature check; a remembered token still expires on time.
    """

    def __init__(self, public_key_pem: bytes, remember: int = 1024, revoked: RevocationList | None = None) -> None:
        self._key: Any = serialization.load_pem_public_key(public_key_pem)  # Ed25519 (checked by PyJWT)
        self._revoked = revoked
        self._remember = remember
        self._verified: collections.OrderedDict[str, tuple[TokenClaims, float, str]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> TokenClaims:
        """The claims of ``token``; :class:`InvalidToken` saying why not (never quoting it)."""
        with self._lock:
            known = self._verified.get(token)
            if known is not None:
                if known[1] > time.time():
                    self._verified.move_to_end(token)
                else:
                    del self._verified[token]
                    known = None
        if known is not None:
            self._refuse_revoked(known[2])
            return known[0]
        claims = self._check(token)
        self._refuse_revoked(claims[2])
        with self._lock:
            self._verified[token] = claims
            while len(self._verified) > self._remember:
                self._verified.popitem(last=False)
        return claims[0]

    def _refuse_revoked(self, jti: str) -> None:
        if self._revoked is not None and jti and jti in self._revoked:
            raise InvalidToken("the bearer token has been revoked")

    def _check(self, token: str) -> tuple[TokenClaims, float, str]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the bearer token has expired") from None
        except jwt.InvalidSignatureError:
            raise InvalidToken("the bearer token's signature does not verify") from None
        except jwt.PyJWTError:
            raise InvalidToken("the bearer token is not a valid Chorus token") from None
        role = claims.get("role")
        if role not in ROLES:
            raise InvalidToken("the bearer token names no known role")
        return TokenClaims(subject=str(claims["sub"]), role=role), float(claims["exp"]), str(claims.get("jti") or "")

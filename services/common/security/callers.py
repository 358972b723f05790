"""Who is calling: the caller of an RPC, from its verified client certificate or its bearer token.

A bearer token comes in the ``authorization`` metadata as ``Bearer <jwt>`` (see :mod:`.tokens`). A client
certificate counts only when the server requires client certificates (then gRPC has verified it against the
CA): its common name is the subject, its organisational unit the role. A token, when present, wins over
the certificate. No credentials, or credentials that do not verify, raise :class:`Unauthenticated`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from services.common.errors import ChorusError
from services.common.security.roles import ROLES
from services.common.security.tokens import InvalidToken, TokenClaims, TokenVerifier

AUTHORIZATION_HEADER = "authorization"
BEARER = "bearer "


class Unauthenticated(ChorusError):
    """The call carries no credentials Chorus accepts (the message says why, never quoting them)."""


@dataclass(frozen=True)
class Caller(TokenClaims):
    """Who is calling (``subject``, ``role``) and how they proved it."""

    via: str  #: ``token`` or ``certificate``


@dataclass(frozen=True)
class Authenticator:
    """Finds the :class:`Caller` of a call: tokens checked by ``verifier``, certificates when ``certificates``."""

    verifier: TokenVerifier | None = None
    certificates: bool = False

    def caller(self, metadata: Sequence[tuple[str, str | bytes]] | None, peer: Mapping[str, Sequence[bytes]]) -> Caller:
        token = _bearer(metadata)
        if token is not None:
            if self.verifier is None:
                raise Unauthenticated("this server accepts no bearer tokens (no token public key configured)")
            try:
                claims = self.verifier.verify(token)
            except InvalidToken as error:
                raise Unauthenticated(str(error)) from None
            return Caller(claims.subject, claims.role, "token")
        pem = (peer.get("x509_pem_cert") or [b""])[0]
        if self.certificates and pem:
            subject, role = _certificate_identity(pem)
            if role not in ROLES:
                raise Unauthenticated("the client certificate names no known role in its OU")
            return Caller(subject, role, "certificate")
        raise Unauthenticated("this call needs credentials: a bearer token or a client certificate")


def _bearer(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key == AUTHORIZATION_HEADER and isinstance(value, str):
            if not value.lower().startswith(BEARER):
                raise Unauthenticated("the authorization metadata must be 'Bearer <token>'")
            return value[len(BEARER) :].strip()
    return None


@functools.lru_cache(maxsize=256)
def _certificate_identity(pem: bytes) -> tuple[str, str]:
    subject = x509.load_pem_x509_certificate(pem).subject

    def first(oid: x509.ObjectIdentifier) -> str:
        values = subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else ""

    return first(NameOID.COMMON_NAME), first(NameOID.ORGANIZATIONAL_UNIT_NAME)

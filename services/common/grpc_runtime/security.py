"""How a Chorus gRPC server is secured: its TLS credentials, who may call it, whether reflection is served.

:meth:`ServerSecurity.from_settings` reads the ``CHORUS_TLS_*`` and ``CHORUS_TOKEN_*`` settings
(see :mod:`services.common.config`); :data:`OPEN` is the plain, unauthenticated server the tests use.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from services.common.config import Settings
from services.common.security.callers import Authenticator
from services.common.security.tokens import RevocationList, TokenVerifier


@dataclass(frozen=True)
class ServerSecurity:
    """``credentials`` None: plain TCP. ``authenticator`` None: every caller may call every method (open)."""

    credentials: grpc.ServerCredentials | None = None
    authenticator: Authenticator | None = None
    reflection: bool = True

    @property
    def open(self) -> bool:
        return self.authenticator is None

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerSecurity:
        credentials = None
        if settings.tls_cert_file is not None and settings.tls_key_file is not None:
            credentials = grpc.ssl_server_credentials(
                [(settings.tls_key_file.read_bytes(), settings.tls_cert_file.read_bytes())],
                root_certificates=settings.tls_ca_file.read_bytes() if settings.tls_ca_file else None,
                require_client_auth=settings.tls_client_auth == "required",
            )
        authenticator = None
        if settings.authenticates:
            revoked = RevocationList(settings.token_revoked_file) if settings.token_revoked_file else None
            verifier = (
                TokenVerifier(settings.token_public_key_file.read_bytes(), revoked=revoked)
                if settings.token_public_key_file
                else None
            )
            authenticator = Authenticator(verifier, certificates=settings.tls_client_auth == "required")
        return cls(credentials, authenticator, settings.grpc_reflection)


OPEN = ServerSecurity()

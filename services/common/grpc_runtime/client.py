"""The client side: a channel to a Chorus service, secured the way ``chorus up`` secures it.

>>> with channel("127.0.0.1:50053", Path("var/credentials")) as ch:  # doctest: +SKIP
...     ExperienceServiceStub(ch).GetExperience(request)

With a credentials directory holding ``ca.pem`` (:mod:`services.common.security.local_ca`), the channel speaks
TLS, trusts that CA, presents the client certificate ``<certificate>.pem`` when it exists (``admin`` by
default) and sends ``token`` (or ``CHORUS_TOKEN``, or the directory's ``<certificate>.token``) as a bearer
token. Without one, it is a plain channel, for
servers running open (``chorus up --insecure``, tests).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from services.common.security.local_ca import CredentialsDir
from services.common.security.roles import ADMIN


def channel(
    address: str,
    credentials_dir: Path | None = None,
    *,
    token: str | None = None,
    certificate: str | None = ADMIN,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """A channel to ``address`` (``host:port``) with the credentials in ``credentials_dir`` (module docstring)."""
    token = token or os.environ.get("CHORUS_TOKEN") or None
    directory = CredentialsDir(credentials_dir) if credentials_dir is not None else None
    if directory is None or not directory.exists():
        return grpc.insecure_channel(address, options=list(options))
    key = cert = None
    if certificate and directory.cert(certificate).is_file():
        key, cert = directory.key(certificate).read_bytes(), directory.cert(certificate).read_bytes()
    if not token and certificate and directory.token(certificate).is_file():
        token = directory.token(certificate).read_text().strip()
    credentials = grpc.ssl_channel_credentials(directory.ca.read_bytes(), key, cert)
    if token:
        credentials = grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(token))
    return grpc.secure_channel(address, credentials, options=list(options))

"""The credentials ``chorus up`` keeps in ``<data dir>/credentials``: a local CA and what it signs.

| file | what |
| --- | --- |
| ``ca.pem`` / ``ca-key.pem`` | the local certificate authority (10 years) |
| ``<service>.pem`` / ``<service>-key.pem`` | each service's server certificate (``localhost``, ``127.0.0.1`` and the host it listens on) |
| ``admin.pem`` / ``admin-key.pem`` | a client certificate with the ``admin`` role (for servers requiring client certificates) |
| ``admin.token`` | a bearer token with the ``admin`` role for the CLI, issued anew (30 days) each time ``chorus up`` starts |
| ``token-signing-key.pem`` / ``token-public-key.pem`` | the Ed25519 key bearer tokens are signed / verified with |

A mounted Kubernetes TLS Secret (``tls.crt``, ``tls.key``, ``ca.crt``) serves as a directory too: its ``ca.crt``
stands for ``ca.pem`` (what ``chorus-healthcheck --credentials-dir`` needs to verify the server).

A client certificate names its holder in the subject's common name and its role in the organisational unit
(``CN=alice, OU=agent``); servers trust that only from a certificate their CA signed, when client certificates
are required. Files are created once and reused; private keys are written ``0600``. Delete the directory to
rotate everything (tokens issued before then stop working).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.common.security import tokens
from services.common.security.roles import ADMIN

CA_DAYS = 3650
LEAF_DAYS = 825


@dataclass(frozen=True)
class CredentialsDir:
    """Where each file of the module docstring's table lives under ``root``."""

    root: Path

    @property
    def ca(self) -> Path:
        """``ca.pem``; in a mounted Kubernetes TLS Secret (cert-manager's names) without one, ``ca.crt``."""
        pem = self.root / "ca.pem"
        crt = self.root / "ca.crt"
        return crt if not pem.is_file() and crt.is_file() else pem

    @property
    def ca_key(self) -> Path:
        return self.root / "ca-key.pem"

    def cert(self, name: str) -> Path:
        return self.root / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.root / f"{name}-key.pem"

    @property
    def signing_key(self) -> Path:
        return self.root / "token-signing-key.pem"

    @property
    def public_key(self) -> Path:
        return self.root / "token-public-key.pem"

    def token(self, name: str) -> Path:
        return self.root / f"{name}.token"

    def exists(self) -> bool:
        return self.ca.is_file()


def write_file(path: Path, data: bytes, *, secret: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(os.open(path, flags, 0o600 if secret else 0o644), "wb") as handle:
        handle.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str, unit: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chorus"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    return x509.Name(attributes)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_ca(directory: CredentialsDir) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Chorus local CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    write_file(directory.ca_key, _key_pem(key), secret=True)
    write_file(directory.ca, cert.public_bytes(serialization.Encoding.PEM))


def issue_certificate(
    directory: CredentialsDir, name: str, *, hosts: Iterable[str] = (), role: str | None = None, days: int = LEAF_DAYS
) -> None:
    """Sign ``<name>.pem`` with the local CA: a server certificate for ``hosts`` (when given), usable as a client
    certificate naming ``role`` in its OU."""
    ca_key = serialization.load_pem_private_key(directory.ca_key.read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate(directory.ca.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name, role))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    )
    alt_names = [_alt_name(host) for host in dict.fromkeys(hosts)]
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    write_file(directory.key(name), _key_pem(key), secret=True)
    write_file(directory.cert(name), cert.public_bytes(serialization.Encoding.PEM))


def _alt_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def ensure_local_credentials(
    root: Path,
    services: Iterable[str],
    host: str = "127.0.0.1",
    *,
    hosts_of: Callable[[str], list[str]] | None = None,
) -> CredentialsDir:
    """The credentials of the module docstring under ``root``, creating what is missing. A service's certificate
    is valid for ``hosts_of(service)``, by default its name, the loopback and ``host``."""
    directory = CredentialsDir(root)
    if not directory.exists():
        create_ca(directory)
    hosts = ["localhost", "127.0.0.1", "::1", *([host] if host not in ("0.0.0.0", "::", "") else [])]  # noqa: S104
    for service in services:
        if not directory.cert(service).is_file():
            issue_certificate(directory, service, hosts=hosts_of(service) if hosts_of else [service, *hosts])
    if not directory.cert(ADMIN).is_file():
        issue_certificate(directory, ADMIN, role=ADMIN)
    if not directory.signing_key.is_file():
        key = tokens.new_signing_key()
        write_file(directory.signing_key, tokens.private_pem(key), secret=True)
        write_file(directory.public_key, tokens.public_pem(key))
    admin_token = tokens.issue(directory.signing_key.read_bytes(), subject=ADMIN, role=ADMIN, days=30)
    write_file(directory.token(ADMIN), admin_token.encode(), secret=True)
    return directory

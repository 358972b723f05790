"""The credentials of one compose or Kubernetes deployment, written into a directory by
``chorus credentials deploy-bundle DIR``.

| path under DIR | what | used by |
| --- | --- | --- |
| ``secrets/chorus-<service>-tls/`` | ``tls.crt``, ``tls.key``, ``ca.crt``: the service's server certificate (cert-manager's names) | compose mounts it at ``/etc/chorus/tls``; Kubernetes Secret of the same name |
| ``secrets/chorus-token-public-key/`` | ``token-public-key.pem``: what bearer tokens are verified with | ``/etc/chorus/token`` |
| ``secrets/chorus-audit-signing-key/`` | ``audit-signing-key.pem``: the one Ed25519 key that signs every writer's checkpoints | ``/etc/chorus/audit`` (identity, touchpoints) |
| ``secrets/chorus-nats-users/`` | ``NATS_PASSWORD_<USER>``: each NATS user's password (:mod:`.nats_users`) | the NATS server's environment; each service its own |
| ``revoked/revoked-tokens`` | the ids of revoked tokens (``chorus credentials revoke``), none at first | compose mounts it at ``/etc/chorus/revoked`` (Kubernetes: the ConfigMap ``chorus-revoked-tokens``) |
| ``compose/<service>.env``, ``compose/nats.env`` | the same passwords as ``env_file`` lines (a service's ``CHORUS_NATS_URL`` with its user) | docker-compose.yml |
| ``operator/`` | the CA and its key, the token signing key, an admin certificate and token, the audit public key | the operator only: ``chorus credentials issue --credentials-dir DIR/operator``, the CLI's ``CHORUS_CREDENTIALS_DIR`` |

Each directory under ``secrets/`` becomes one Kubernetes Secret with
``kubectl create secret generic NAME --from-file=DIR/secrets/NAME``. Nothing is overwritten: a directory that
already holds a bundle is refused. Private keys and passwords are written ``0600``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from services.common.errors import ChorusError
from services.common.security import local_ca, nats_users, tokens

TLS_SECRET = "chorus-{service}-tls"  # noqa: S105 - a name, not a secret
TOKEN_SECRET = "chorus-token-public-key"  # noqa: S105 - a name, not a secret
AUDIT_SECRET = "chorus-audit-signing-key"  # noqa: S105 - a name, not a secret
NATS_SECRET = "chorus-nats-users"  # noqa: S105 - a name, not a secret
TOKEN_FILE = "token-public-key.pem"  # noqa: S105 - a name, not a secret
AUDIT_FILE = "audit-signing-key.pem"


class BundleExists(ChorusError):
    """The directory already holds credentials; a bundle is never overwritten."""


def service_hosts(service: str, namespace: str) -> list[str]:
    """The names a service's certificate is valid for: its compose and Kubernetes DNS names and the loopback the
    probe uses."""
    return [
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
        "localhost",
        "127.0.0.1",
    ]


def write_bundle(
    root: Path, services: Sequence[str], *, namespace: str = "chorus", nats_host: str = "nats:4222"
) -> dict[str, Path]:
    """Write the module docstring's files under ``root``; answers each Secret's directory by name."""
    if (root / "operator").exists() or (root / "secrets").exists():
        msg = f"{root} already holds a deployment bundle: choose an empty directory (nothing is overwritten)"
        raise BundleExists(msg)
    operator = local_ca.ensure_local_credentials(
        root / "operator", services, hosts_of=lambda service: service_hosts(service, namespace)
    )
    secrets_dir = root / "secrets"
    written: dict[str, Path] = {}
    for service in services:
        target = secrets_dir / TLS_SECRET.format(service=service)
        target.mkdir(parents=True)
        operator.cert(service).rename(target / "tls.crt")
        operator.key(service).rename(target / "tls.key")
        shutil.copyfile(operator.ca, target / "ca.crt")
        written[target.name] = target
    token_dir = secrets_dir / TOKEN_SECRET
    local_ca.write_file(token_dir / TOKEN_FILE, operator.public_key.read_bytes())
    audit = tokens.new_signing_key()  # Ed25519, PKCS#8: what services.common.audit.keys reads
    audit_dir = secrets_dir / AUDIT_SECRET
    local_ca.write_file(audit_dir / AUDIT_FILE, tokens.private_pem(audit), secret=True)
    local_ca.write_file(operator.root / "audit-signing-key.pub.pem", tokens.public_pem(audit))
    passwords = nats_users.ensure_users(operator.root)
    nats_dir = secrets_dir / NATS_SECRET
    for user, password in passwords.items():
        local_ca.write_file(nats_dir / nats_users.password_variable(user), password.encode(), secret=True)
    compose = root / "compose"
    nats_env = "".join(f"{nats_users.password_variable(user)}={password}\n" for user, password in passwords.items())
    local_ca.write_file(compose / "nats.env", nats_env.encode(), secret=True)
    for service in services:
        if service in passwords:
            url = nats_users.user_url(f"nats://{nats_host}", service, passwords[service])
            local_ca.write_file(compose / f"{service}.env", f"CHORUS_NATS_URL={url}\n".encode(), secret=True)
    local_ca.write_file(root / "revoked" / "revoked-tokens", b"# ids (jti) of revoked tokens, one a line\n")
    written.update({TOKEN_SECRET: token_dir, AUDIT_SECRET: audit_dir, NATS_SECRET: nats_dir})
    return written

"""What the deploy tests check of a service's settings against a deployment bundle, and running the CLI that
writes one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from services.common.config import Settings

REPO = Path(__file__).resolve().parents[2]


def assert_speaks_the_bundles_tls_and_needs_tokens(settings: Settings, bundle: Path, service: str) -> None:
    """``settings`` serve TLS from the service's certificate in ``bundle`` and verify every call's token."""
    tls = bundle / "secrets" / f"chorus-{service}-tls"
    assert (settings.tls_cert_file, settings.tls_key_file, settings.tls_ca_file) == (
        tls / "tls.crt",
        tls / "tls.key",
        tls / "ca.crt",
    )
    assert settings.tls_client_auth == "optional"  # as chorus up: every call carries a token
    assert settings.token_public_key_file == bundle / "secrets" / "chorus-token-public-key" / "token-public-key.pem"
    assert settings.authenticates


def deploy_bundle(root: Path) -> subprocess.CompletedProcess[str]:
    """``chorus credentials deploy-bundle ROOT``, run as a user would."""
    return subprocess.run(
        [sys.executable, "-c", "from services.cli import app; app()", "credentials", "deploy-bundle", str(root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

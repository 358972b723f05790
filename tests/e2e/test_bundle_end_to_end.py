"""The deployment bundle works end to end: ``chorus credentials deploy-bundle`` into a temporary directory, the
compose NATS config run by a real nats-server with the bundle's passwords, and identity started with exactly the
settings compose gives it (its files mapped to the bundle's), reached over a real TLS handshake."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from chorus.identity.v1 import identity_service_pb2 as identity_pb2
from chorus.identity.v1 import identity_service_pb2_grpc as identity_pb2_grpc
from services.common.healthcheck import check
from services.common.nats_server import free_port
from services.common.testing import eventually
from tests.integration.deploy.test_compose import compose_nats, container_env
from tests.support.bundle import REPO, deploy_bundle


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "deploy"
    made = deploy_bundle(root)
    assert made.returncode == 0, made.stderr
    assert "kubectl -n chorus create secret generic chorus-identity-tls" in made.stdout
    return root


@pytest.fixture
def identity(tmp_path: Path, bundle: Path) -> Iterator[str]:
    (tmp_path / "nats").mkdir()
    with compose_nats(tmp_path / "nats", bundle) as (nats_port, _varz):
        port = free_port()
        env = container_env("identity", bundle)
        env.update(
            {
                "CHORUS_NATS_URL": env["CHORUS_NATS_URL"].replace("@nats:4222", f"@127.0.0.1:{nats_port}"),
                "CHORUS_VIEWS_URL": f"sqlite:///{tmp_path / 'views.db'}",
                "CHORUS_GRPC_HOST": "127.0.0.1",
                "CHORUS_IDENTITY_PORT": str(port),
                "CHORUS_DATA_DIR": str(tmp_path / "data"),
            }
        )
        service = subprocess.Popen(
            [sys.executable, "-c", "from services.cli import app; app()", "serve", "identity"],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            yield f"127.0.0.1:{port}"
        finally:
            service.terminate()
            service.wait(timeout=30)
            if service.stderr:
                service.stderr.close()


def test_a_service_runs_on_the_bundle_behind_tls_and_tokens(bundle: Path, identity: str) -> None:
    tls = bundle / "secrets" / "chorus-identity-tls"

    def serving() -> str:
        status = check(identity, credentials_dir=tls, timeout=2)
        assert status == "SERVING", status
        return status

    eventually(serving, timeout=60)  # the compose healthcheck's command, through the mounted TLS Secret
    assert check(identity, timeout=2) != "SERVING"  # plain gRPC is not served

    request = identity_pb2.GetPartyRequest(party_id="00000000-0000-0000-0000-000000000000")
    credentials = grpc.ssl_channel_credentials((bundle / "operator" / "ca.pem").read_bytes())
    with grpc.secure_channel(identity, credentials) as channel, pytest.raises(grpc.RpcError) as refused:
        identity_pb2_grpc.IdentityServiceStub(channel).GetParty(request, timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED

    token = (bundle / "operator" / "admin.token").read_text().strip()
    with_token = grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(token))
    with grpc.secure_channel(identity, with_token) as channel, pytest.raises(grpc.RpcError) as missing:
        identity_pb2_grpc.IdentityServiceStub(channel).GetParty(request, timeout=10)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND  # through authentication, to the (empty) store


def test_a_bundle_is_never_overwritten(bundle: Path) -> None:
    before = {path: path.read_bytes() for path in bundle.rglob("*") if path.is_file()}
    again = deploy_bundle(bundle)
    assert again.returncode == 2
    assert "already holds a deployment bundle" in again.stderr
    assert {path: path.read_bytes() for path in bundle.rglob("*") if path.is_file()} == before
    private = [
        path
        for path in before
        if path.name.endswith((".key", ".env", ".token", "signing-key.pem", "ca-key.pem", "admin-key.pem"))
        or path.name.startswith("NATS_PASSWORD_")
    ]
    assert private and all(path.stat().st_mode & 0o077 == 0 for path in private)

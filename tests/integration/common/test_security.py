"""TLS on a real port, and the role table enforced by the one auth interceptor, RPC by RPC and role by role.

The servers here serve the three services' contracts with their generated base servicers, so a call that
passes the interceptor answers INVALID_ARGUMENT or UNIMPLEMENTED; what is asserted is only whether the
interceptor let it through (never UNAUTHENTICATED / PERMISSION_DENIED) or refused it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from chorus.experience.v1 import experience_service_pb2, experience_service_pb2_grpc
from chorus.identity.v1 import identity_service_pb2, identity_service_pb2_grpc
from chorus.touchpoints.v1 import touchpoint_service_pb2, touchpoint_service_pb2_grpc
from services.common.config import Settings
from services.common.grpc_runtime import ServerSecurity
from services.common.grpc_runtime.client import channel
from services.common.logging import configure_logging
from services.common.security import roles, tokens
from services.common.security.local_ca import CredentialsDir, ensure_local_credentials, issue_certificate
from services.common.testing import eventually, running_server

CONTRACTS = [
    (identity_service_pb2, identity_service_pb2_grpc, "IdentityService"),
    (touchpoint_service_pb2, touchpoint_service_pb2_grpc, "TouchpointService"),
    (experience_service_pb2, experience_service_pb2_grpc, "ExperienceService"),
]
METHODS = [method for module, _, name in CONTRACTS for method in module.DESCRIPTOR.services_by_name[name].methods]
METHODS_BY_NAME = {method.name: method for method in METHODS}


@dataclass
class Secured:
    port: int
    credentials: CredentialsDir

    def token(self, role: str, **kwargs: object) -> str:
        return tokens.issue(self.credentials.signing_key.read_bytes(), subject=f"someone-{role}", role=role, **kwargs)  # type: ignore[arg-type]

    def channel(self, token: str | None = None, certificate: str | None = None) -> grpc.Channel:
        return channel(f"127.0.0.1:{self.port}", self.credentials.root, token=token, certificate=certificate)


def _registrations() -> list:
    return [
        (
            getattr(grpc_module, f"add_{name}Servicer_to_server"),
            getattr(grpc_module, f"{name}Servicer")(),
            module.DESCRIPTOR.services_by_name[name].full_name,
        )
        for module, grpc_module, name in CONTRACTS
    ]


@contextlib.contextmanager
def _secured(root: Path, env: dict[str, str]) -> Iterator[Secured]:
    credentials = ensure_local_credentials(root, ["server"])
    issue_certificate(credentials, "agent-desk", role=roles.AGENT)
    settings = Settings.from_env(
        {
            "CHORUS_TLS_CERT_FILE": str(credentials.cert("server")),
            "CHORUS_TLS_KEY_FILE": str(credentials.key("server")),
            "CHORUS_TOKEN_PUBLIC_KEY_FILE": str(credentials.public_key),
            **env,
        }
        | ({"CHORUS_TLS_CA_FILE": str(credentials.ca)} if "CHORUS_TLS_CLIENT_AUTH" in env else {})
    )
    with running_server(_registrations(), security=ServerSecurity.from_settings(settings)) as (_, port):
        yield Secured(port, credentials)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """A TLS server verifying tokens; client certificates not asked for."""
    with _secured(tmp_path_factory.mktemp("credentials"), {}) as server:
        yield server


@pytest.fixture(scope="module")
def mutual(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """A TLS server requiring client certificates its CA signed (tokens accepted too)."""
    with _secured(tmp_path_factory.mktemp("credentials"), {"CHORUS_TLS_CLIENT_AUTH": "required"}) as server:
        yield server


def _call(ch: grpc.Channel, method) -> grpc.StatusCode:
    path = f"/{method.containing_service.full_name}/{method.name}"
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    kinds = {
        (False, False): ch.unary_unary,
        (False, True): ch.unary_stream,
        (True, False): ch.stream_unary,
        (True, True): ch.stream_stream,
    }
    call = kinds[(method.client_streaming, method.server_streaming)](
        path, request_serializer=request_class.SerializeToString, response_deserializer=response_class.FromString
    )
    request = iter([request_class()]) if method.client_streaming else request_class()
    try:
        reply = call(request, timeout=10)
        if method.server_streaming:
            list(reply)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


REFUSED = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def test_the_role_table_names_every_rpc_of_every_service_and_nothing_else() -> None:
    assert {f"/{m.containing_service.full_name}/{m.name}" for m in METHODS} == set(roles.ALLOWED)
    assert all(allowed <= set(roles.ROLES) for allowed in roles.ALLOWED.values())


@pytest.mark.parametrize("role", roles.ROLES)
def test_a_token_of_each_role_calls_exactly_its_methods_over_tls(secured: Secured, role: str) -> None:
    with secured.channel(token=secured.token(role)) as ch:
        outcomes = {f"{m.containing_service.name}/{m.name}": _call(ch, m) for m in METHODS}
    expected = {
        f"{m.containing_service.name}/{m.name}": roles.may_call(role, f"/{m.containing_service.full_name}/{m.name}")
        for m in METHODS
    }
    allowed = {name for name, code in outcomes.items() if code not in REFUSED}
    assert allowed == {name for name, may in expected.items() if may}
    refused_codes = {outcomes[name] for name, may in expected.items() if not may}
    assert refused_codes <= {grpc.StatusCode.PERMISSION_DENIED}


def test_permission_denied_names_the_role_needed(secured: Secured) -> None:
    with secured.channel(token=secured.token(roles.INGEST)) as ch:
        stub = experience_service_pb2_grpc.ExperienceServiceStub(ch)
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetExperience(experience_service_pb2.GetExperienceRequest(), timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "agent or admin" in refused.value.details()


def test_a_call_without_credentials_is_unauthenticated_but_health_is_open(secured: Secured) -> None:
    with secured.channel() as ch:
        codes = {_call(ch, m) for m in METHODS}
        health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert codes == {grpc.StatusCode.UNAUTHENTICATED}
    assert health.status == health_pb2.HealthCheckResponse.SERVING


def _expired(server: Secured) -> str:
    return server.token(roles.ADMIN, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=2), days=1)


def _forged(_server: Secured) -> str:
    return tokens.issue(tokens.private_pem(tokens.new_signing_key()), subject="mallory", role=roles.ADMIN)


@pytest.mark.parametrize("bad_token", [_expired, _forged, lambda _s: "not.a.jwt"], ids=["expired", "forged", "junk"])
def test_an_expired_forged_or_junk_token_is_unauthenticated(secured: Secured, bad_token) -> None:
    with secured.channel(token=bad_token(secured)) as ch:
        codes = {_call(ch, m) for m in METHODS[:3]}
    assert codes == {grpc.StatusCode.UNAUTHENTICATED}


def test_refusals_are_logged_with_caller_and_method_never_the_token_or_the_request(secured: Secured) -> None:
    buffer = io.StringIO()
    configure_logging("info", "json", stream=buffer)
    token = secured.token(roles.INGEST)
    try:
        with secured.channel(token=token) as ch:
            stub = identity_service_pb2_grpc.IdentityServiceStub(ch)
            request = identity_service_pb2.ResolveIdentifierRequest()
            request.identifier.value = "jane.smith@example.com"
            with pytest.raises(grpc.RpcError):
                stub.ResolveIdentifier(request, timeout=10)
        with secured.channel(token=_forged(secured)) as ch, pytest.raises(grpc.RpcError):
            identity_service_pb2_grpc.IdentityServiceStub(ch).ResolveIdentifier(request, timeout=10)
    finally:
        configure_logging("info", "json", stream=io.StringIO())
    text = buffer.getvalue()
    refusals = [line for line in text.splitlines() if '"rpc.refused"' in line]
    assert len(refusals) == 2
    assert "ResolveIdentifier" in refusals[0] and "someone-ingest" in refusals[0]
    assert "jane.smith" not in text and token not in text and token.split(".")[1] not in text


def test_a_client_without_a_certificate_is_refused_where_one_is_required(mutual: Secured) -> None:
    with mutual.channel() as ch, pytest.raises(grpc.RpcError) as refused:
        health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE  # the handshake fails: nothing is answered


def test_a_client_certificate_names_its_caller_and_role(mutual: Secured) -> None:
    with mutual.channel(certificate="agent-desk") as ch:
        experience = _call(
            ch, experience_service_pb2.DESCRIPTOR.services_by_name["ExperienceService"].methods_by_name["GetExperience"]
        )
        merge = _call(
            ch, identity_service_pb2.DESCRIPTOR.services_by_name["IdentityService"].methods_by_name["MergeParties"]
        )
    assert experience not in REFUSED
    assert merge == grpc.StatusCode.PERMISSION_DENIED


def test_reflection_can_be_turned_off(tmp_path: Path) -> None:
    with (
        _secured(tmp_path, {"CHORUS_GRPC_REFLECTION": "off"}) as server,
        server.channel(token=server.token(roles.AGENT)) as ch,
    ):
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        with pytest.raises(grpc.RpcError) as refused:
            list(
                stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
            )
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED  # not served at all


def test_tls_settings_that_do_not_fit_together_fail_at_start_up(tmp_path: Path) -> None:
    from services.common.errors import ConfigurationError

    credentials = ensure_local_credentials(tmp_path, ["server"])
    with pytest.raises(ConfigurationError, match="CHORUS_TLS_KEY_FILE"):
        Settings.from_env({"CHORUS_TLS_CERT_FILE": str(credentials.cert("server"))})
    with pytest.raises(ConfigurationError, match="CHORUS_TLS_CA_FILE"):
        Settings.from_env(
            {
                "CHORUS_TLS_CERT_FILE": str(credentials.cert("server")),
                "CHORUS_TLS_KEY_FILE": str(credentials.key("server")),
                "CHORUS_TLS_CLIENT_AUTH": "required",
            }
        )


def test_chorus_credentials_issue_prints_a_token_the_services_accept(secured: Secured, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from services.cli import app

    printed = CliRunner().invoke(
        app,
        [
            "credentials",
            "issue",
            "--role",
            "agent",
            "--subject",
            "desk-7",
            "--days",
            "1",
            "--credentials-dir",
            str(secured.credentials.root),
        ],
    )
    assert printed.exit_code == 0, printed.output
    claims = tokens.TokenVerifier(secured.credentials.public_key.read_bytes()).verify(printed.stdout.strip())
    assert claims == tokens.TokenClaims("desk-7", "agent")
    with secured.channel(token=printed.stdout.strip()) as ch:
        assert _call(ch, METHODS_BY_NAME["GetExperience"]) not in REFUSED
        assert _call(ch, METHODS_BY_NAME["ForgetParty"]) == grpc.StatusCode.PERMISSION_DENIED
    unknown = CliRunner().invoke(
        app,
        [
            "credentials",
            "issue",
            "--role",
            "root",
            "--subject",
            "x",
            "--credentials-dir",
            str(secured.credentials.root),
        ],
    )
    assert unknown.exit_code == 2 and "unknown role" in unknown.output


def test_a_remembered_token_still_expires_on_time() -> None:
    key = tokens.new_signing_key()
    verifier = tokens.TokenVerifier(tokens.public_pem(key))
    soon = tokens.issue(tokens.private_pem(key), subject="s", role=roles.AGENT, days=5 / 86_400)  # five seconds
    assert verifier.verify(soon).role == roles.AGENT
    assert verifier.verify(soon).role == roles.AGENT  # remembered

    def expired() -> str:
        try:
            verifier.verify(soon)
        except tokens.InvalidToken as error:
            return str(error)
        raise AssertionError("still accepted")

    assert "expired" in eventually(expired, timeout=15)


def test_a_revoked_token_is_unauthenticated_from_the_next_call_on(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from services.cli import app

    revoked = tmp_path / "revoked-tokens"
    with _secured(tmp_path / "credentials", {"CHORUS_TOKEN_REVOKED_FILE": str(revoked)}) as server:
        token, other = server.token(roles.AGENT), server.token(roles.AGENT)
        (tmp_path / "desk.token").write_text(token + "\n")
        with server.channel(token=token) as ch:
            assert _call(ch, METHODS_BY_NAME["GetExperience"]) not in REFUSED  # verified, and remembered
            done = CliRunner().invoke(
                app, ["credentials", "revoke", str(tmp_path / "desk.token"), "--revoked-file", str(revoked)]
            )
            assert done.exit_code == 0, done.output
            assert token not in revoked.read_text()  # only its id
            stub = experience_service_pb2_grpc.ExperienceServiceStub(ch)
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetExperience(experience_service_pb2.GetExperienceRequest(), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "revoked" in refused.value.details()
        with server.channel(token=other) as ch:
            assert _call(ch, METHODS_BY_NAME["GetExperience"]) not in REFUSED  # another token of the same role

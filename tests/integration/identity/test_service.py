"""The composition root: settings from the environment, readiness reported through gRPC health."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.config import Settings
from services.common.errors import ConfigurationError
from services.common.testing import eventually, serving
from services.identity.domain import LinkPolicy
from services.identity.grpc_api import SERVICE_NAME
from services.identity.main import SERVICE, IdentitySettings

if TYPE_CHECKING:
    from tests.integration.identity.conftest import IdentityHarness


def test_identity_settings_come_from_the_environment() -> None:
    settings = IdentitySettings.from_env(
        {
            "CHORUS_IDENTITY_APP_NAME": "identity_eu",
            "CHORUS_IDENTITY_CAPS": "email=2, crm_id=3",
            "CHORUS_IDENTITY_BLOCKED": "Nobody, x:bot",
        }
    )
    assert settings.app_name == "identity_eu"
    assert settings.policy.cap("email") == 2
    assert settings.policy.cap("crm_id") == 3
    assert settings.policy.cap("phone") == LinkPolicy().cap("phone")
    assert settings.policy.is_blocked("forum_user", "nobody")
    assert settings.policy.is_blocked("x", "bot")
    assert not settings.policy.is_blocked("email", "bot@example.org")
    assert IdentitySettings.from_env({}) == IdentitySettings()


def test_the_settings_never_show_the_blocked_identifiers() -> None:
    settings = IdentitySettings.from_env({"CHORUS_IDENTITY_BLOCKED": "jane.blocked@example.org"})

    assert settings.policy.is_blocked("email", "jane.blocked@example.org")
    assert "jane.blocked" not in repr(settings)  # a traceback that shows locals shows this repr


@pytest.mark.parametrize("caps", ["email", "fax=2", "email=many"])
def test_a_bad_cap_setting_fails_at_start_up(caps: str) -> None:
    with pytest.raises(ConfigurationError, match="CHORUS_IDENTITY_CAPS"):
        IdentitySettings.from_env({"CHORUS_IDENTITY_CAPS": caps})


def test_the_service_reports_serving_when_its_stream_answers(identity: IdentityHarness) -> None:
    health = health_pb2_grpc.HealthStub(identity.channel)

    def check() -> None:
        status = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME)).status
        assert status == health_pb2.HealthCheckResponse.SERVING

    eventually(check, timeout=5)


def test_the_service_reports_not_serving_when_its_resolution_view_stops_following_the_stream(
    nats_url: str, tmp_path: Path
) -> None:
    settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp_path / 'views.db'}")
    own = IdentitySettings(app_name=f"identity_{uuid.uuid4().hex[:12]}")
    with serving(SERVICE, settings, own) as identity:
        _, runner = identity.running
        health = health_pb2_grpc.HealthStub(identity.channel)

        def status_is(expected: int) -> Callable[[], None]:
            def check() -> None:
                assert health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME)).status == expected

            return check

        eventually(status_is(health_pb2.HealthCheckResponse.SERVING))
        runner.stop()  # the view no longer follows the stream: resolutions would answer from a stale view
        eventually(status_is(health_pb2.HealthCheckResponse.NOT_SERVING))

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.config import Settings
from services.common.errors import ConfigurationError


def test_an_empty_environment_gives_the_documented_defaults() -> None:
    settings = Settings.from_env({})

    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert settings.stream_replicas == 1
    assert settings.duplicate_window_seconds == 120
    assert settings.log_level == "info"
    assert settings.log_format == "json"
    assert settings.grpc_host == "0.0.0.0"
    assert (settings.identity_port, settings.touchpoints_port, settings.experience_port) == (50051, 50052, 50053)
    assert settings.data_dir == Path("./var")
    assert settings.views_url == "sqlite:///var/views.db"
    assert settings.shutdown_grace_seconds == 5


def test_every_variable_is_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "CHORUS_NATS_URL": "nats://n1:4222,nats://n2:4222",
            "CHORUS_STREAM_REPLICAS": "3",
            "CHORUS_DUPLICATE_WINDOW_SECONDS": "600",
            "CHORUS_LOG_LEVEL": "DEBUG",
            "CHORUS_LOG_FORMAT": "console",
            "CHORUS_GRPC_HOST": "127.0.0.1",
            "CHORUS_IDENTITY_PORT": "7001",
            "CHORUS_TOUCHPOINTS_PORT": "7002",
            "CHORUS_EXPERIENCE_PORT": "7003",
            "CHORUS_DATA_DIR": "/srv/chorus",
            "CHORUS_VIEWS_URL": "postgresql://chorus@db:5432/views",
            "CHORUS_SHUTDOWN_GRACE_SECONDS": "2.5",
        }
    )

    assert settings == Settings(
        nats_url="nats://n1:4222,nats://n2:4222",
        stream_replicas=3,
        duplicate_window_seconds=600,
        log_level="debug",
        log_format="console",
        grpc_host="127.0.0.1",
        identity_port=7001,
        touchpoints_port=7002,
        experience_port=7003,
        data_dir=Path("/srv/chorus"),
        views_url="postgresql://chorus@db:5432/views",
        shutdown_grace_seconds=2.5,
    )


def test_the_views_database_follows_the_data_dir_unless_given() -> None:
    assert Settings.from_env({"CHORUS_DATA_DIR": "/data"}).views_url == "sqlite:////data/views.db"


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.identity_port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CHORUS_IDENTITY_PORT", "fifty"),
        ("CHORUS_TOUCHPOINTS_PORT", "70000"),
        ("CHORUS_EXPERIENCE_PORT", "-1"),
        ("CHORUS_STREAM_REPLICAS", "0"),
        ("CHORUS_DUPLICATE_WINDOW_SECONDS", "2m"),
        ("CHORUS_LOG_FORMAT", "xml"),
        ("CHORUS_LOG_LEVEL", "loud"),
        ("CHORUS_NATS_URL", "http://127.0.0.1:4222"),
        ("CHORUS_VIEWS_URL", "mysql://db/views"),
        ("CHORUS_SHUTDOWN_GRACE_SECONDS", "soon"),
        ("CHORUS_SHUTDOWN_GRACE_SECONDS", "nan"),
    ],
)
def test_a_bad_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        Settings.from_env({variable: value})


def test_the_process_environment_is_read_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_EXPERIENCE_PORT", "6123")
    assert Settings.from_env().experience_port == 6123


def test_the_eventstore_env_selects_jetstream_and_protobuf_events() -> None:
    settings = Settings.from_env(
        {
            "CHORUS_NATS_URL": "nats://n1:4222",
            "CHORUS_STREAM_REPLICAS": "3",
            "CHORUS_DUPLICATE_WINDOW_SECONDS": "60",
            "CHORUS_STORE_TIMEOUT_SECONDS": "1.5",
            "CHORUS_STORE_PUBLISH_CONNECTIONS": "4",
        }
    )

    assert settings.eventstore_env("identity") == {
        "PERSISTENCE_MODULE": "services.common.eventstore.jetstream",
        "MAPPER_TOPIC": "services.common.eventstore.codec:ProtobufMapper",
        "NATS_URL": "nats://n1:4222",
        "NATS_STREAM_REPLICAS": "3",
        "NATS_DUPLICATE_WINDOW": "60",
        "NATS_REQUEST_TIMEOUT": "1.5",
        "NATS_PUBLISH_CONNECTIONS": "4",
    }


def test_the_store_timeout_is_short_by_default_and_must_be_positive() -> None:
    assert Settings.from_env({}).eventstore_env("identity")["NATS_REQUEST_TIMEOUT"] == "2.0"
    for bad in ("0", "-1", "nan", "inf", "soon"):
        with pytest.raises(ConfigurationError, match="CHORUS_STORE_TIMEOUT_SECONDS"):
            Settings.from_env({"CHORUS_STORE_TIMEOUT_SECONDS": bad})


def test_grpc_address_brackets_an_ipv6_host() -> None:
    assert Settings(grpc_host="::").grpc_address(50051) == "[::]:50051"
    assert Settings(grpc_host="0.0.0.0").grpc_address(50051) == "0.0.0.0:50051"


def test_the_default_region_of_phone_numbers_is_one_common_setting() -> None:
    assert Settings.from_env({}).default_region is None
    assert Settings.from_env({"CHORUS_DEFAULT_REGION": "gb"}).default_region == "GB"
    assert Settings.from_env({"CHORUS_IDENTITY_DEFAULT_REGION": "de"}).default_region == "DE"  # deprecated alias
    both = {"CHORUS_DEFAULT_REGION": "FR", "CHORUS_IDENTITY_DEFAULT_REGION": "DE"}
    assert Settings.from_env(both).default_region == "FR"


def test_an_unknown_region_fails_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="CHORUS_DEFAULT_REGION"):
        Settings.from_env({"CHORUS_DEFAULT_REGION": "Britain"})


def test_the_blocking_publishers_are_capped_by_one_setting_and_zero_turns_them_off() -> None:
    assert Settings.from_env({}).eventstore_env("identity")["NATS_PUBLISH_CONNECTIONS"] == "16"
    assert Settings.from_env({"CHORUS_STORE_PUBLISH_CONNECTIONS": "0"}).store_publish_connections == 0
    for bad in ("-1", "1000", "many"):
        with pytest.raises(ConfigurationError, match="CHORUS_STORE_PUBLISH_CONNECTIONS"):
            Settings.from_env({"CHORUS_STORE_PUBLISH_CONNECTIONS": bad})

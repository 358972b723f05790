"""docker-compose.yml, checked offline: the Compose specification's JSON schema (as check-jsonschema ships it),
what each service needs from the others, and the NATS config run on a real nats-server."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import tomllib
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from services.cli import Service
from services.common.config import Settings
from services.common.nats_server import find_binary, free_port
from services.common.testing import eventually

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
CHORUS_SERVICES = {
    "identity": "CHORUS_IDENTITY_PORT",
    "touchpoints": "CHORUS_TOUCHPOINTS_PORT",
    "experience": "CHORUS_EXPERIENCE_PORT",
}
DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def compose_schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(
        resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    )
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]


def with_defaults(value: str) -> str:
    """``${VAR:-default}`` as compose resolves it when VAR is unset."""
    return DEFAULT.sub(lambda match: match.group(2), value)


def test_compose_runs_every_service_chorus_serve_knows() -> None:
    assert set(CHORUS_SERVICES) == {service.value for service in Service}
    assert set(CHORUS_SERVICES) <= set(COMPOSE["services"])


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert compose_schema_errors(COMPOSE) == []


def test_the_schema_check_rejects_a_condition_compose_does_not_know() -> None:
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["identity"]["depends_on"]["nats"]["condition"] = "healthy"
    broken["services"]["touchpoints"]["helthcheck"] = broken["services"]["touchpoints"].pop("healthcheck")
    errors = compose_schema_errors(broken)
    assert any("identity" in error and "healthy" in error for error in errors), errors
    assert any("helthcheck" in error for error in errors), errors


@pytest.mark.parametrize("name", sorted(CHORUS_SERVICES))
def test_each_service_runs_from_the_one_image_and_is_probed_through_grpc_health_on_its_own_port(name: str) -> None:
    service = COMPOSE["services"][name]
    assert service["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}
    assert service["command"] == ["serve", name]
    port = service["environment"][CHORUS_SERVICES[name]]
    assert service["ports"] == [f"{port}:{port}"]
    probe = service["healthcheck"]["test"]
    assert probe == ["CMD", "chorus-healthcheck", f"127.0.0.1:{port}"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert probe[1] in scripts
    settings = Settings.from_env({key: with_defaults(value) for key, value in service["environment"].items()})
    assert settings.views_url.startswith("postgresql://") and "@postgres:5432/" in settings.views_url
    assert settings.nats_url == "nats://nats:4222"


def test_every_service_waits_for_what_it_needs_to_be_healthy_and_everything_has_a_health_check() -> None:
    services = COMPOSE["services"]
    for name, service in services.items():
        assert "healthcheck" in service, name
        for needed, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, needed)
            assert "healthcheck" in services[needed]
    for name in CHORUS_SERVICES:
        assert {"nats", "postgres"} <= set(services[name]["depends_on"]), name
    assert {"identity", "touchpoints"} <= set(services["experience"]["depends_on"])


def test_state_lives_on_named_volumes_and_mounted_files_exist() -> None:
    declared = set(COMPOSE["volumes"])
    used = set()
    for service in COMPOSE["services"].values():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).is_file(), source
            else:
                used.add(source)
    assert used == declared
    assert any(mount.endswith(":/data") for mount in COMPOSE["services"]["nats"]["volumes"])
    assert any(mount.endswith(":/var/lib/postgresql/data") for mount in COMPOSE["services"]["postgres"]["volumes"])


def test_nats_is_pinned_to_a_release_with_atomic_batches() -> None:
    image = COMPOSE["services"]["nats"]["image"]
    match = re.fullmatch(r"nats:(\d+)\.(\d+)\.(\d+)(-alpine)?", image)
    assert match, image
    assert tuple(map(int, match.groups()[:3])) >= (2, 12, 0)
    assert re.fullmatch(r"postgres:\d+\.\d+(-alpine)?", COMPOSE["services"]["postgres"]["image"])


def test_the_compose_nats_config_runs_jetstream_fsyncing_every_write(tmp_path: Path) -> None:
    """The config file the NATS container mounts, run by the nats-server the tests use (its store moved to tmp)."""
    mounted = next(m for m in COMPOSE["services"]["nats"]["volumes"] if m.endswith(":/etc/nats/nats-server.conf:ro"))
    text = (ROOT / mounted.split(":")[0]).read_text()
    assert "/data/" in text
    config = tmp_path / "nats-server.conf"
    config.write_text(text.replace("/data/", f"{tmp_path}/"))
    port, monitor = free_port(), free_port()
    server = subprocess.Popen(
        [str(find_binary()), "-c", str(config), "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def varz() -> dict[str, Any]:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true", timeout=2):
                    pass
                with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/varz", timeout=2) as reply:
                    return json.load(reply)
            except OSError as error:
                raise AssertionError(str(error)) from None

        jetstream = eventually(varz, timeout=20)["jetstream"]["config"]
        assert jetstream["sync_always"] is True
        assert jetstream["store_dir"].startswith(str(tmp_path))
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stderr:
            server.stderr.close()

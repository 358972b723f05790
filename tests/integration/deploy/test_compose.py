"""docker-compose.yml, checked offline: the Compose specification's JSON schema (as check-jsonschema ships it),
what each service needs from the others, and the NATS config run on a real nats-server."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import os
import re
import subprocess
import tomllib
import urllib.request
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import nats
import pytest
import yaml

from services.cli import Service
from services.common.audit.keys import AuditSettings
from services.common.config import Settings
from services.common.nats_server import find_binary, free_port
from services.common.security import nats_users
from services.common.security.deploy_bundle import write_bundle
from services.common.testing import eventually
from tests.support.bundle import assert_speaks_the_bundles_tls_and_needs_tokens

ROOT = Path(__file__).resolve().parents[3]
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


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `chorus credentials deploy-bundle` writes, for CHORUS_DEPLOY_DIR."""
    root = tmp_path_factory.mktemp("deploy")
    write_bundle(root, list(CHORUS_SERVICES))
    return root


def resolved(value: str, bundle: Path) -> str:
    """``${VAR:-default}`` as compose resolves it, CHORUS_DEPLOY_DIR set to ``bundle``."""
    return with_defaults(value.replace("${CHORUS_DEPLOY_DIR:-./var/deploy}", str(bundle)))


def env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def container_env(name: str, bundle: Path) -> dict[str, str]:
    """The environment of compose service ``name``, each path inside the container mapped to the host file
    compose mounts there (so the settings read the bundle's files)."""
    service = COMPOSE["services"][name]
    env = env_file(Path(resolved(service["env_file"], bundle)))
    env.update({key: resolved(value, bundle) for key, value in service.get("environment", {}).items()})
    mounts = {}
    for mount in service.get("volumes", []):
        source, target = resolved(mount, bundle).split(":")[:2]
        if source.startswith("/"):
            mounts[target] = source
    for key, value in env.items():
        for target, source in mounts.items():
            if value.startswith(target + "/"):
                env[key] = source + value[len(target) :]
    return env


@pytest.mark.parametrize("name", sorted(CHORUS_SERVICES))
def test_each_service_runs_from_the_one_image_and_is_probed_through_grpc_health_over_tls(
    name: str, bundle: Path
) -> None:
    service = COMPOSE["services"][name]
    assert service["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}
    assert service["command"] == ["serve", name]
    port = service["environment"][CHORUS_SERVICES[name]]
    assert service["ports"] == [f"{port}:{port}"]
    probe = service["healthcheck"]["test"]
    assert probe == ["CMD", "chorus-healthcheck", f"127.0.0.1:{port}", "--credentials-dir", "/etc/chorus/tls"]
    assert any(mount.endswith(":/etc/chorus/tls:ro") for mount in service["volumes"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert probe[1] in scripts
    settings = Settings.from_env(container_env(name, bundle))
    assert settings.views_url.startswith("postgresql://") and "@postgres:5432/" in settings.views_url
    assert re.fullmatch(rf"nats://{name}:[^@]+@nats:4222", settings.nats_url)


@pytest.mark.parametrize("name", sorted(CHORUS_SERVICES))
def test_each_service_speaks_tls_only_with_the_bundles_certificate_and_needs_a_token(name: str, bundle: Path) -> None:
    settings = Settings.from_env(container_env(name, bundle))
    assert_speaks_the_bundles_tls_and_needs_tokens(settings, bundle, name)
    assert settings.token_revoked_file == bundle / "revoked" / "revoked-tokens"
    assert settings.token_revoked_file.is_file()
    assert "--insecure" not in json.dumps(COMPOSE["services"][name])


def test_the_writers_share_one_checkpoint_signing_key_from_the_bundle(bundle: Path) -> None:
    keys = {
        name: AuditSettings.from_env(Path("/nowhere"), container_env(name, bundle)).key_file
        for name in ("identity", "touchpoints")
    }
    assert set(keys.values()) == {bundle / "secrets" / "chorus-audit-signing-key" / "audit-signing-key.pem"}


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
            if source.startswith("${CHORUS_DEPLOY_DIR"):
                continue  # the deployment bundle's files (test_each_service_speaks_tls_only...)
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


def _varz(server: subprocess.Popen[bytes], monitor: int) -> dict[str, Any] | None:
    """The /varz of a nats-server once it is healthy with JetStream; None when it has exited."""
    if server.poll() is not None:
        return None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true", timeout=2):
            pass
        with urllib.request.urlopen(f"http://127.0.0.1:{monitor}/varz", timeout=2) as reply:
            return json.load(reply)
    except OSError as error:
        raise AssertionError(str(error)) from None


@contextlib.contextmanager
def compose_nats(tmp_path: Path, bundle: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The config file the NATS container mounts, run by the nats-server the tests use (its store moved to tmp)
    with the environment compose gives it (the bundle's passwords): its client port and its /varz."""
    mounted = next(m for m in COMPOSE["services"]["nats"]["volumes"] if m.endswith(":/etc/nats/nats-server.conf:ro"))
    text = (ROOT / mounted.split(":")[0]).read_text()
    assert "/data/" in text
    config = tmp_path / "nats-server.conf"
    config.write_text(text.replace("/data/", f"{tmp_path}/"))
    env = {**os.environ, **env_file(Path(resolved(COMPOSE["services"]["nats"]["env_file"], bundle)))}
    for _attempt in range(3):
        port, monitor = free_port(), free_port()
        server = subprocess.Popen(
            [str(find_binary()), "-c", str(config), "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # nats-server reports a failed start on stdout
            env=env,
        )
        try:
            found = eventually(functools.partial(_varz, server, monitor), timeout=20)
            if found is None:
                output = server.stdout.read().decode() if server.stdout else ""
                if "address already in use" in output:
                    continue  # a free port was taken by another process between the pick and the start
                raise AssertionError(f"nats-server exited {server.returncode}: {output}")
            yield port, found
            return
        finally:
            if server.poll() is None:
                server.terminate()
            server.wait(timeout=10)
            if server.stdout:
                server.stdout.close()
    raise AssertionError("nats-server found its ports taken three times")


def test_the_compose_nats_config_runs_jetstream_fsyncing_every_write(tmp_path: Path, bundle: Path) -> None:
    with compose_nats(tmp_path, bundle) as (_port, varz):
        jetstream = varz["jetstream"]["config"]
        assert jetstream["sync_always"] is True
        assert jetstream["store_dir"].startswith(str(tmp_path))


@pytest.mark.parametrize(
    "config", ["deploy/nats/nats-server.conf", *(str(p.relative_to(ROOT)) for p in ROOT.glob("deploy/k8s/**/*.conf"))]
)
def test_every_deployments_nats_config_has_the_users_and_permissions_chorus_up_gives(config: str) -> None:
    assert nats_users.deployment_block_in((ROOT / config).read_text()) == nats_users.deployment_block()
    for user in nats_users.USERS:
        assert nats_users.permissions(user) == json.loads(
            re.search(rf'"user": "{user}", .*"permissions": (.*)}}$', nats_users.deployment_block(), re.M).group(1)
        )


def test_the_compose_nats_refuses_strangers_and_holds_each_service_to_its_own_subjects(
    tmp_path: Path, bundle: Path
) -> None:
    with compose_nats(tmp_path, bundle) as (port, _varz):
        urls = {
            name: env_file(Path(resolved(COMPOSE["services"][name]["env_file"], bundle)))["CHORUS_NATS_URL"]
            for name in CHORUS_SERVICES
        }
        local = {name: url.replace("@nats:4222", f"@127.0.0.1:{port}") for name, url in urls.items()}

        async def attempt() -> dict[str, object]:
            seen: dict[str, object] = {}
            try:
                await nats.connect(f"nats://127.0.0.1:{port}", allow_reconnect=False, max_reconnect_attempts=0)
                seen["stranger"] = "connected"
            except Exception as error:  # noqa: BLE001 - any refusal will do; its kind is asserted below
                seen["stranger"] = type(error).__name__
            for name, url in local.items():
                errors: list[str] = []
                refused = asyncio.Event()

                async def collect(
                    error: Exception, errors: list[str] = errors, refused: asyncio.Event = refused
                ) -> None:
                    errors.append(str(error))
                    refused.set()

                client = await nats.connect(url, error_cb=collect, allow_reconnect=False)
                await client.publish("chorus.identity.e.someone", b"x")
                await client.flush()
                if name != "identity":
                    await asyncio.wait_for(refused.wait(), timeout=10)
                await client.flush()  # the server answers a violation before the PONG
                seen[name] = errors
                await client.close()
            return seen

        seen = asyncio.run(attempt())
    assert seen["stranger"] != "connected"
    assert seen["identity"] == []  # its own stream's subject
    for name in ("touchpoints", "experience"):
        assert any("permissions violation" in error.lower() for error in seen[name]), (name, seen[name])

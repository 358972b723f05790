"""deploy/k8s, checked offline: every overlay rendered (tests/support/kustomize.py, and ``kubectl kustomize`` where
it is installed), every manifest validated strictly against the Kubernetes API schemas (kubernetes-validate),
and what each overlay promises: probes, resources, replicas, disruption budgets, network policies, secrets."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from services.cli import Service
from services.common.audit.keys import AuditSettings
from services.common.config import Settings
from services.common.nats_server import find_binary
from services.common.security import nats_users
from services.common.security.deploy_bundle import write_bundle
from tests.support.bundle import assert_speaks_the_bundles_tls_and_needs_tokens
from tests.support.kustomize import UnsupportedKustomization, render

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(path.name for path in (K8S / "overlays").iterdir() if (path / "kustomization.yaml").is_file())
#: The oldest Kubernetes these manifests are for (native gRPC probes are GA from 1.27) and the newest schemas shipped.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
SERVICES = {
    "identity": Settings().identity_port,
    "touchpoints": Settings().touchpoints_port,
    "experience": Settings().experience_port,
}
SERVICE_PODS = {"app.kubernetes.io/part-of": "chorus", "app.kubernetes.io/component": "service"}


def rendered(overlay: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in render(K8S / "overlays" / overlay)}


def container(resource: dict[str, Any]) -> dict[str, Any]:
    (only,) = resource["spec"]["template"]["spec"]["containers"]
    return only


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_both_overlays_are_there_and_deploy_every_service_chorus_serve_knows() -> None:
    assert OVERLAYS == ["dev", "prod"]
    assert set(SERVICES) == {service.value for service in Service}
    for overlay in OVERLAYS:
        assert {name for kind, name in rendered(overlay) if kind == "Deployment"} == set(SERVICES)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_manifest_of_the_overlay_is_valid_kubernetes_strictly(overlay: str) -> None:
    manifests = rendered(overlay)
    assert len(manifests) >= 15
    for (kind, name), manifest in manifests.items():
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(manifest, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{overlay} {kind}/{name} on Kubernetes {version}: {error.message} at {list(error.path)}")


def test_strict_validation_rejects_a_field_kubernetes_does_not_have() -> None:
    deployment = copy.deepcopy(rendered("dev")[("Deployment", "identity")])
    container(deployment)["readinessProbe"]["exec"]["comand"] = ["chorus-healthcheck"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed here: the renderer alone is used")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_renderer_builds_what_kubectl_kustomize_builds(overlay: str) -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    theirs = {(doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(built) if doc}
    assert rendered(overlay) == theirs


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\nimages:\n  - name: chorus\n    newTag: '2'\n")
    with pytest.raises(UnsupportedKustomization, match="images"):
        render(tmp_path)


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_is_probed_through_grpc_health_over_tls_with_resources_bounded(overlay: str, service: str) -> None:
    manifests = rendered(overlay)
    deployment = manifests[("Deployment", service)]
    pod = deployment["spec"]["template"]
    main = container(deployment)
    port = SERVICES[service]
    assert main["args"] == ["serve", service]
    assert main["ports"] == [{"name": "grpc", "containerPort": port}]
    tls = mounted_secrets(deployment)[f"chorus-{service}-tls"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert "grpc" not in main[probe], probe  # a native gRPC probe cannot speak TLS
        command = main[probe]["exec"]["command"]
        assert command[:4] == ["chorus-healthcheck", f"127.0.0.1:{port}", "--credentials-dir", tls], probe
        assert main[probe]["timeoutSeconds"] > float(command[command.index("--timeout") + 1]), probe
    assert set(main["resources"]) == {"requests", "limits"}
    assert set(main["resources"]["requests"]) == set(main["resources"]["limits"]) == {"cpu", "memory"}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["securityContext"]["runAsUser"] == 10001  # the image's user
    assert selects(SERVICE_PODS, pod["metadata"]["labels"])
    assert {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in main["envFrom"]} == {
        "chorus-config",
        "chorus-secrets",
    }
    assert manifests[("Service", service)]["spec"]["ports"][0]["port"] == port


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `chorus credentials deploy-bundle` writes: one directory per Secret, for `kubectl create secret`."""
    root = tmp_path_factory.mktemp("deploy")
    write_bundle(root, list(SERVICES))
    return root


def mounted_secrets(deployment: dict[str, Any]) -> dict[str, str]:
    """Secret name -> where the container mounts it."""
    volumes = {
        volume["name"]: volume["secret"]["secretName"]
        for volume in deployment["spec"]["template"]["spec"]["volumes"]
        if "secret" in volume
    }
    mounts = {mount["name"]: mount for mount in container(deployment)["volumeMounts"]}
    for name in volumes:
        assert mounts[name]["readOnly"] is True, name
    return {secret: mounts[name]["mountPath"] for name, secret in volumes.items()}


def pod_env(manifests: dict[tuple[str, str], dict[str, Any]], service: str, bundle: Path) -> dict[str, str]:
    """The environment of a service's container as the kubelet makes it from the bundle's Secrets: secret keys
    filled in, ``$(VAR)`` expanded, and each path under a Secret's mount mapped to the bundle's file."""
    deployment = manifests[("Deployment", service)]
    env = dict(manifests[("ConfigMap", "chorus-config")]["data"])
    env.update(manifests[("Secret", "chorus-secrets")]["stringData"])
    for item in container(deployment).get("env", []):
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = (bundle / "secrets" / ref["name"] / ref["key"]).read_text()
        else:
            env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda match: env[match.group(1)], item["value"])
    for secret, mount in mounted_secrets(deployment).items():
        for key, value in env.items():
            if value.startswith(mount + "/"):
                env[key] = str(bundle / "secrets" / secret) + value[len(mount) :]
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_settings_of_the_overlay_are_ones_the_services_accept(overlay: str, bundle: Path) -> None:
    manifests = rendered(overlay)
    for service in SERVICES:
        settings = Settings.from_env(pod_env(manifests, service, bundle))
        assert settings.views_url.startswith("postgresql://")
    replicas = {"dev": 1, "prod": 3}[overlay]
    assert settings.stream_replicas == replicas
    assert manifests[("StatefulSet", "nats")]["spec"]["replicas"] == replicas


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_speaks_tls_from_its_secret_needs_tokens_and_is_its_own_nats_user(
    overlay: str, service: str, bundle: Path
) -> None:
    manifests = rendered(overlay)
    settings = Settings.from_env(pod_env(manifests, service, bundle))
    assert_speaks_the_bundles_tls_and_needs_tokens(settings, bundle, service)
    volumes = manifests[("Deployment", service)]["spec"]["template"]["spec"]["volumes"]
    (revoked,) = [
        volume["name"] for volume in volumes if volume.get("configMap", {}).get("name") == "chorus-revoked-tokens"
    ]
    (mount,) = [
        m["mountPath"] for m in container(manifests[("Deployment", service)])["volumeMounts"] if m["name"] == revoked
    ]
    assert settings.token_revoked_file is not None and settings.token_revoked_file.parent == Path(mount)
    assert settings.token_revoked_file.name in manifests[("ConfigMap", "chorus-revoked-tokens")]["data"]
    password = (bundle / "secrets" / "chorus-nats-users" / nats_users.password_variable(service)).read_text()
    assert settings.nats_url == nats_users.user_url("nats://nats:4222", service, password)
    assert "--insecure" not in str(manifests[("Deployment", service)])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_writers_share_one_checkpoint_signing_key_from_a_secret(overlay: str, bundle: Path) -> None:
    manifests = rendered(overlay)
    keys = {
        AuditSettings.from_env(Path("/nowhere"), pod_env(manifests, service, bundle)).key_file
        for service in ("identity", "touchpoints")
    }
    assert keys == {bundle / "secrets" / "chorus-audit-signing-key" / "audit-signing-key.pem"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_the_pods_use_is_one_the_bundle_writes_or_git_holds_as_a_placeholder(
    overlay: str, bundle: Path
) -> None:
    manifests = rendered(overlay)
    in_git = {name for kind, name in manifests if kind == "Secret"}
    written = {path.name for path in (bundle / "secrets").iterdir()}
    for (kind, _name), resource in manifests.items():
        if kind not in {"Deployment", "StatefulSet"}:
            continue
        spec = resource["spec"]["template"]["spec"]
        used = {volume["secret"]["secretName"] for volume in spec.get("volumes", []) if "secret" in volume}
        for item in spec["containers"]:
            used |= {ref["secretRef"]["name"] for ref in item.get("envFrom", []) if "secretRef" in ref}
            used |= {
                e["valueFrom"]["secretKeyRef"]["name"]
                for e in item.get("env", [])
                if "secretKeyRef" in e.get("valueFrom", {})
            }
        for secret in used:
            assert secret in written | in_git, secret
            if secret in written and secret in in_git:  # the placeholder has the keys the bundle writes
                keys = set(manifests[("Secret", secret)]["stringData"])
                assert keys == {path.name for path in (bundle / "secrets" / secret).iterdir()}, secret


def test_nats_reads_every_users_password_from_the_nats_users_secret() -> None:
    nats = container(rendered("dev")[("StatefulSet", "nats")])
    assert {"secretRef": {"name": "chorus-nats-users"}} in nats["envFrom"]
    secret = rendered("dev")[("Secret", "chorus-nats-users")]["stringData"]
    assert set(secret) == {nats_users.password_variable(user) for user in nats_users.USERS}


def test_prod_runs_a_three_node_cluster_whose_routes_name_its_own_pods() -> None:
    manifests = rendered("prod")
    nats = manifests[("StatefulSet", "nats")]
    config = manifests[("ConfigMap", "nats-config")]["data"]["nats-server.conf"]
    service = nats["spec"]["serviceName"]
    assert manifests[("Service", service)]["spec"]["clusterIP"] == "None"
    for ordinal in range(nats["spec"]["replicas"]):
        assert f"nats-route://nats-{ordinal}.{service}:6222" in config
    assert config.count("nats-route://") == 3
    anti = nats["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert anti == [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "nats"}}}
    ]
    assert "cluster {" not in rendered("dev")[("ConfigMap", "nats-config")]["data"]["nats-server.conf"]


def test_prod_disruption_budgets_keep_the_nats_quorum_and_a_replica_of_each_service() -> None:
    manifests = rendered("prod")
    budgets = {name: doc["spec"] for (kind, name), doc in manifests.items() if kind == "PodDisruptionBudget"}
    assert budgets["nats"]["minAvailable"] == 2
    for service in SERVICES:
        assert budgets[service]["maxUnavailable"] == 1
        assert manifests[("Deployment", service)]["spec"]["replicas"] >= 2
    for name, budget in budgets.items():
        kind = "StatefulSet" if name == "nats" else "Deployment"
        assert selects(
            budget["selector"]["matchLabels"], manifests[(kind, name)]["spec"]["template"]["metadata"]["labels"]
        )
    assert not any(kind == "PodDisruptionBudget" for kind, _ in rendered("dev"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_services_reach_nats_and_postgres(overlay: str) -> None:
    manifests = rendered(overlay)
    pods = {
        name: doc["spec"]["template"]["metadata"]["labels"]
        for (kind, name), doc in manifests.items()
        if kind in {"Deployment", "StatefulSet"}
    }
    policies = [doc["spec"] for (kind, _), doc in manifests.items() if kind == "NetworkPolicy"]
    for guarded, port in (("nats", 4222), ("postgres", 5432)):
        (policy,) = [p for p in policies if selects(p["podSelector"]["matchLabels"], pods[guarded])]
        assert policy["policyTypes"] == ["Ingress"]
        allowed = {
            name
            for rule in policy["ingress"]
            if {"protocol": "TCP", "port": port} in rule["ports"]
            for peer in rule["from"]
            for name, labels in pods.items()
            if selects(peer["podSelector"]["matchLabels"], labels)
        }
        assert allowed == set(SERVICES), (guarded, allowed)
        assert all(set(peer) == {"podSelector"} for rule in policy["ingress"] for peer in rule["from"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_in_git_are_placeholders_only(overlay: str) -> None:
    secrets = {name: doc for (kind, name), doc in rendered(overlay).items() if kind == "Secret"}
    assert "CHORUS_KEK" in secrets["chorus-secrets"]["stringData"]
    not_secret = {"POSTGRES_USER", "POSTGRES_DB"}
    for name, secret in secrets.items():
        assert "data" not in secret, name
        for key, value in secret["stringData"].items():
            assert key in not_secret or "REPLACE_ME" in value, (name, key)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_nats_config_of_the_overlay_is_one_nats_server_accepts(overlay: str, tmp_path: Path) -> None:
    config = tmp_path / "nats-server.conf"
    manifests = rendered(overlay)
    config.write_text(manifests[("ConfigMap", "nats-config")]["data"]["nats-server.conf"])
    assert "sync_interval: always" in config.read_text()
    assert nats_users.deployment_block_in(config.read_text()) == nats_users.deployment_block()
    passwords = manifests[("Secret", "chorus-nats-users")]["stringData"]
    checked = subprocess.run(
        [str(find_binary()), "-t", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **passwords, "POD_NAME": "nats-0"},
        check=False,
    )
    assert checked.returncode == 0, checked.stderr

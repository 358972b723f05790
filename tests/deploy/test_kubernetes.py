"""deploy/k8s, checked offline: every overlay rendered (tests/deploy/kustomize.py, and ``kubectl kustomize`` where
it is installed), every manifest validated strictly against the Kubernetes API schemas (kubernetes-validate),
and what each overlay promises: probes, resources, replicas, disruption budgets, network policies, secrets."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from services.cli import Service
from services.common.config import Settings
from services.common.nats_server import find_binary
from tests.deploy.kustomize import UnsupportedKustomization, render

ROOT = Path(__file__).resolve().parents[2]
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
    container(deployment)["readinessProbe"]["grpc"]["prot"] = 50051
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
def test_each_service_is_probed_through_native_grpc_health_with_resources_bounded(overlay: str, service: str) -> None:
    manifests = rendered(overlay)
    deployment = manifests[("Deployment", service)]
    pod = deployment["spec"]["template"]
    main = container(deployment)
    port = SERVICES[service]
    assert main["args"] == ["serve", service]
    assert main["ports"] == [{"name": "grpc", "containerPort": port}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert main[probe]["grpc"] == {"port": port}, probe
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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_settings_of_the_overlay_are_ones_the_services_accept(overlay: str) -> None:
    manifests = rendered(overlay)
    env = {**manifests[("ConfigMap", "chorus-config")]["data"], **manifests[("Secret", "chorus-secrets")]["stringData"]}
    for service in SERVICES:
        env.update(
            {item["name"]: item["value"] for item in container(manifests[("Deployment", service)]).get("env", [])}
        )
        settings = Settings.from_env(env)
        assert settings.views_url.startswith("postgresql://")
    replicas = {"dev": 1, "prod": 3}[overlay]
    assert settings.stream_replicas == replicas
    assert manifests[("StatefulSet", "nats")]["spec"]["replicas"] == replicas


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
    config.write_text(rendered(overlay)[("ConfigMap", "nats-config")]["data"]["nats-server.conf"])
    assert "sync_interval: always" in config.read_text()
    checked = subprocess.run(
        [str(find_binary()), "-t", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "POD_NAME": "nats-0"},
        check=False,
    )
    assert checked.returncode == 0, checked.stderr

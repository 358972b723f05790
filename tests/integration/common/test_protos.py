"""The contracts under protos/: committed bindings match their sources, packages are versioned and mirror folders.

CI relies on the first test: it regenerates every binding into a temporary copy and compares.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PROTOS = REPO / "protos"
PACKAGE = re.compile(r"^\s*package\s+([A-Za-z0-9_.]+)\s*;", re.MULTILINE)
VERSION = re.compile(r"v\d+((alpha|beta)\d*)?")


def load_gen_protos():
    spec = importlib.util.spec_from_file_location("gen_protos", REPO / "scripts" / "gen_protos.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_protos = load_gen_protos()
SOURCES = gen_protos.proto_files(PROTOS)


def test_there_are_contracts_to_check():
    names = {source.as_posix() for source in SOURCES}
    assert {"chorus/common/v1/types.proto", "chorus/validate/v1/rules.proto", "chorus/bench/v1/echo.proto"} <= names


def test_committed_bindings_are_up_to_date_with_their_protos():
    stale = gen_protos.stale_files(PROTOS)
    assert stale == [], f"stale bindings, run `python scripts/gen_protos.py`: {stale}"


def test_the_staleness_check_names_edited_missing_and_orphaned_bindings(tmp_path):
    copy = tmp_path / "protos"
    shutil.copytree(PROTOS / "chorus" / "common", copy / "chorus" / "common")
    shutil.copytree(PROTOS / "chorus" / "validate", copy / "chorus" / "validate")
    shutil.copytree(PROTOS / "chorus" / "privacy", copy / "chorus" / "privacy")
    shutil.copyfile(PROTOS / "chorus" / "__init__.py", copy / "chorus" / "__init__.py")
    assert gen_protos.stale_files(copy) == []
    (copy / "chorus/common/v1/types_pb2.pyi").write_text("# edited by hand\n")
    (copy / "chorus/validate/v1/rules_pb2_grpc.py").unlink()
    (copy / "chorus/common/v1/gone_pb2.py").write_text("")
    assert gen_protos.stale_files(copy) == [
        "chorus/common/v1/gone_pb2.py",
        "chorus/common/v1/types_pb2.pyi",
        "chorus/validate/v1/rules_pb2_grpc.py",
    ]


def test_generation_is_deterministic_and_creates_package_markers(tmp_path):
    for source in SOURCES:
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROTOS / source, tmp_path / source)
    gen_protos.generate(tmp_path)
    first = gen_protos.generated_files(tmp_path)
    gen_protos.generate(tmp_path)
    assert gen_protos.generated_files(tmp_path) == first
    for source in SOURCES:
        for folder in source.parents:
            if folder != Path("."):
                assert (tmp_path / folder / "__init__.py").is_file(), folder


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.as_posix())
def test_every_proto_has_a_versioned_package_that_mirrors_its_folder(source):
    assert source.parts[0] == "chorus", "every contract lives under protos/chorus/"
    found = PACKAGE.findall((PROTOS / source).read_text(encoding="utf-8"))
    assert len(found) == 1, "exactly one package statement"
    package = found[0]
    assert package == ".".join(source.parent.parts), f"package {package} does not mirror {source.parent}"
    assert VERSION.fullmatch(package.split(".")[-1]), f"package {package} does not end in a version like v1"


@pytest.mark.parametrize("source", SOURCES, ids=lambda source: source.as_posix())
def test_every_binding_imports_as_a_chorus_module(source):
    module_name = ".".join(source.with_suffix("").parts) + "_pb2"
    module = importlib.import_module(module_name)
    assert module.DESCRIPTOR.name == source.as_posix()


def test_buf_lint_passes_when_buf_is_installed():
    buf = REPO / "node_modules" / ".bin" / "buf"
    if not buf.exists():
        pytest.skip("buf not installed: run `npm ci` (bash scripts/check_protos.sh does)")
    result = subprocess.run([str(buf), "lint"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

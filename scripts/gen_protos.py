#!/usr/bin/env python3
"""Regenerate the Python bindings of every ``.proto`` under ``protos/``, next to their sources.

Usage::

    python scripts/gen_protos.py              # regenerate protos/ in place
    python scripts/gen_protos.py --root DIR   # regenerate another copy of the tree
    python scripts/gen_protos.py --check      # exit 1 and name the stale bindings, change nothing

For each ``chorus/<...>/x.proto`` it writes ``x_pb2.py``, ``x_pb2.pyi`` and ``x_pb2_grpc.py`` beside it, creates
a missing ``__init__.py`` in every package folder from ``chorus/`` down, and deletes generated files whose
``.proto`` is gone. The output depends only on the sources and the pinned ``grpcio-tools``: running it twice
changes nothing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


class GenerationError(Exception):
    """protoc rejected the sources."""


def include_dirs() -> list[str]:
    """grpc_tools' bundled well-known types first, then googleapis-common-protos' ``google/rpc`` sources."""
    import grpc_tools

    dirs = [str(Path(grpc_tools.__file__).parent / "_proto")]
    try:
        import google.rpc.status_pb2 as status_pb2
    except ImportError:  # googleapis-common-protos is optional: only protos importing google/rpc need it
        return dirs
    rpc_dir = Path(status_pb2.__file__).parent
    if (rpc_dir / "status.proto").is_file():
        dirs.append(str(rpc_dir.parent.parent))
    return dirs


def proto_files(root: Path) -> list[Path]:
    """Every .proto under ``root``, relative to it, in a stable order."""
    return sorted(path.relative_to(root) for path in root.rglob("*.proto") if "node_modules" not in path.parts)


def remove_orphans(root: Path, sources: list[Path]) -> list[Path]:
    """Delete generated files whose .proto no longer exists; return what was deleted."""
    expected = {(root / source).with_suffix("").as_posix() for source in sources}
    removed = []
    for suffix in GENERATED_SUFFIXES:
        for path in sorted(root.rglob(f"*{suffix}")):
            stem = path.as_posix()[: -len(suffix)]
            if stem not in expected:
                path.unlink()
                removed.append(path)
    return removed


def ensure_packages(root: Path, sources: list[Path]) -> list[Path]:
    """Create an empty ``__init__.py`` in each folder holding protos and in its parents up to ``root``."""
    created = []
    folders = {parent for source in sources for parent in source.parents if parent != Path(".")}
    for folder in sorted(folders):
        init = root / folder / "__init__.py"
        if not init.exists():
            init.write_text("")
            created.append(init)
    return created


def generate(root: Path) -> list[Path]:
    """Compile every .proto under ``root`` in one protoc run; return the sources compiled."""
    from grpc_tools import protoc

    root = root.resolve()
    sources = proto_files(root)
    remove_orphans(root, sources)
    if not sources:
        return []
    args = ["grpc_tools.protoc", f"-I{root}"]
    args += [f"-I{directory}" for directory in include_dirs()]
    args += [f"--python_out={root}", f"--pyi_out={root}", f"--grpc_python_out={root}"]
    args += [str(root / source) for source in sources]
    if protoc.main(args) != 0:
        raise GenerationError(f"protoc failed on {len(sources)} files under {root}")
    ensure_packages(root, sources)
    return sources


def generated_files(root: Path) -> dict[str, bytes]:
    """Generated bindings and package markers under ``root``: relative path -> content."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and (path.name.endswith(GENERATED_SUFFIXES) or path.name == "__init__.py"):
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def stale_files(root: Path) -> list[str]:
    """Bindings under ``root`` that differ from a fresh generation, are missing, or have no .proto left.

    Regenerates from a temporary copy of the .proto files only, so ``root`` is never touched. An existing
    ``__init__.py`` may hold anything; only a missing one counts as stale.
    """
    root = root.resolve()
    with tempfile.TemporaryDirectory(prefix="chorus-protos-") as scratch:
        fresh_root = Path(scratch)
        for source in proto_files(root):
            (fresh_root / source).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / source, fresh_root / source)
        generate(fresh_root)
        fresh = generated_files(fresh_root)
    committed = generated_files(root)
    stale = []
    for name in sorted(fresh.keys() | committed.keys()):
        if name.endswith("__init__.py"):
            if name not in committed:
                stale.append(name)
        elif fresh.get(name) != committed.get(name):
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO / "protos", help="folder holding the .proto tree")
    parser.add_argument("--check", action="store_true", help="only report stale bindings (exit 1 if any)")
    options = parser.parse_args(argv)
    try:
        if options.check:
            stale = stale_files(options.root)
            for name in stale:
                print(f"stale: {options.root / name}", file=sys.stderr)
            if stale:
                print(f"gen_protos: {len(stale)} stale files; run: python scripts/gen_protos.py", file=sys.stderr)
                return 1
            print(f"gen_protos: bindings under {options.root} are up to date")
            return 0
        sources = generate(options.root)
    except GenerationError as error:
        print(f"gen_protos: {error}", file=sys.stderr)
        return 1
    print(f"gen_protos: {len(sources)} proto files compiled under {options.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

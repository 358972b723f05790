"""The README's settings reference is generated from the code and names every setting the code reads."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
#: Named in the code but not settings of a deployment: test switches, a deprecated alias, an example stream, the
#: key vault's bucket.
NOT_SETTINGS = {
    "CHORUS_TEST_NATS",
    "CHORUS_TEST_POSTGRES_URL",
    "CHORUS_IDENTITY_DEFAULT_REGION",
    "CHORUS_DEMO",
    "CHORUS_KEYS",
}


def test_the_readme_reference_is_what_the_code_tables_say() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/config_reference.py", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_setting_the_services_read_is_in_the_reference() -> None:
    readme = (REPO / "README.md").read_text()
    read = set()
    for path in (REPO / "services").rglob("*.py"):
        read |= set(re.findall(r"\"(CHORUS_[A-Z0-9_]+)\"", path.read_text()))
    documented = set(re.findall(r"``(CHORUS_[A-Z0-9_]+)``", readme))
    assert read - NOT_SETTINGS - documented == set()

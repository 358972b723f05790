"""The README's table of the CLI's exit codes is the code's own table."""

from __future__ import annotations

from pathlib import Path

from services.client.runtime import EXIT_CODES

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_lists_every_exit_code_with_its_meaning() -> None:
    text = README.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert {int(row.split("|")[1]): row.split("|")[2].strip() for row in rows} == EXIT_CODES

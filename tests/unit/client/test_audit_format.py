"""``chorus audit replay|receipts --format``: another word than table or jsonl stops the command before it reads."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from services.audit.cli import audit_app


@pytest.mark.parametrize("command", ["replay", "receipts"])
def test_an_unknown_format_stops_the_command_with_exit_2_before_it_connects(command: str) -> None:
    # nothing listens on port 9: had the command connected first, it would say NATS is unreachable
    result = CliRunner().invoke(audit_app, [command, "--format", "xml", "--nats-url", "nats://127.0.0.1:9"])

    assert result.exit_code == 2
    assert "--format: 'xml' is not table or jsonl" in result.output

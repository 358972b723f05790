"""The options every client command shares (addresses, ``--timeout``, ``--json``) are declared once, by
``runtime.command``: a command gets them after its own options, its function an ``Endpoint`` per service and a
dataclass per group of options, and the printers follow ``--json``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from services.cli import app as chorus
from services.client.runtime import BAD_INPUT, CommandFailed, Endpoint, as_json, subcommand

#: every client command and the services it calls (--json unless it is in NO_JSON)
CALLS = {
    ("party", "register"): ("identity",),
    ("party", "get"): ("identity",),
    ("party", "link"): ("identity",),
    ("party", "merge"): ("identity",),
    ("party", "unmerge"): ("identity",),
    ("touchpoint", "record"): ("touchpoints",),
    ("touchpoint", "get"): ("touchpoints",),
    ("touchpoint", "list"): ("touchpoints",),
    ("experience", "show"): ("experience",),
    ("experience", "rebuild"): ("experience",),
    ("experience", "status"): ("experience",),
    ("queue",): ("experience",),
    ("pulse",): ("experience",),
    ("suggestions",): ("experience",),
    ("demo",): ("identity", "touchpoints", "experience"),
}
NO_JSON = {("demo",)}


def _command(path: tuple[str, ...]) -> Any:
    command: Any = typer.main.get_command(chorus)
    for name in path:
        command = command.commands[name]
    return command


@pytest.mark.parametrize("path", sorted(CALLS), ids=" ".join)
def test_each_client_command_ends_with_the_shared_options(path: tuple[str, ...]) -> None:
    params = {param.name: param for param in _command(path).params}
    shared = [f"{name}_address" for name in CALLS[path]] + ["timeout"] + ([] if path in NO_JSON else ["json"])

    assert list(params)[-len(shared) :] == shared
    for name in CALLS[path]:
        address = params[f"{name}_address"]
        assert address.opts == [f"--{name}-address"]
        assert address.envvar == f"CHORUS_{name.upper()}_ADDRESS"
        assert address.default == f"127.0.0.1:{ {'identity': 50051, 'touchpoints': 50052, 'experience': 50053}[name] }"
    assert params["timeout"].envvar == "CHORUS_CLI_TIMEOUT"
    assert params["timeout"].default == 10.0


@dataclass(frozen=True)
class Why:
    """A group of options, as a command declares it."""

    rule: Annotated[str, typer.Option(help="the rule")] = ""
    by: Annotated[str, typer.Option("--by")] = "cli"


def _probe() -> tuple[typer.Typer, list[dict[str, Any]]]:
    app = typer.Typer()
    seen: list[dict[str, Any]] = []

    @subcommand(app, "identity", "experience", name="probe")
    def probe(
        identity: Endpoint,
        experience: Endpoint,
        party: Annotated[str, typer.Argument()],
        fail: Annotated[bool, typer.Option()] = False,
        *,
        why: Why,
    ) -> None:
        seen.append({"party": party, "identity": identity, "experience": experience, "why": why, "json": as_json()})
        if fail:
            raise CommandFailed(BAD_INPUT, "invalid argument: party: wrong")

    @app.command()
    def other() -> None:  # a second command, so that typer keeps "probe" a subcommand
        """Nothing."""

    return app, seen


def test_a_command_receives_an_endpoint_per_service_from_the_shared_options() -> None:
    app, seen = _probe()

    result = CliRunner().invoke(
        app,
        ["probe", "p-1", "--identity-address", "id:1", "--timeout", "2.5", "--rule", "r", "--json"],
        env={"CHORUS_EXPERIENCE_ADDRESS": "xp:3"},
    )

    assert result.exit_code == 0, result.output
    assert seen == [
        {
            "party": "p-1",
            "identity": Endpoint("identity", "id:1", 2.5),
            "experience": Endpoint("experience", "xp:3", 2.5),
            "why": Why(rule="r", by="cli"),
            "json": True,
        }
    ]
    assert not as_json()  # only while the command runs


def test_a_command_failure_is_one_line_and_its_exit_code() -> None:
    app, _ = _probe()

    result = CliRunner().invoke(app, ["probe", "p-1", "--fail"])

    assert result.exit_code == BAD_INPUT
    assert result.output.strip() == "chorus: invalid argument: party: wrong"

"""What every ``chorus`` client command shares: addresses, channels with deadlines, errors as exit codes, output.

A command reads a service's address from its option or the environment (by default ``chorus up``'s ports on
127.0.0.1), gives every call a deadline (``--timeout``), and prints either rich tables or, with ``--json``,
protobuf JSON for scripts (one object per line for lists). Each option's environment variable:

| variable | default | meaning |
| --- | --- | --- |
| ``CHORUS_IDENTITY_ADDRESS`` | ``127.0.0.1:50051`` | host:port of the identity service (``--identity-address``) |
| ``CHORUS_TOUCHPOINTS_ADDRESS`` | ``127.0.0.1:50052`` | host:port of the touchpoints service (``--touchpoints-address``) |
| ``CHORUS_EXPERIENCE_ADDRESS`` | ``127.0.0.1:50053`` | host:port of the experience service (``--experience-address``) |
| ``CHORUS_CLI_TIMEOUT`` | ``10`` | seconds each call may take (``--timeout``) |
| ``CHORUS_CREDENTIALS_DIR`` | ``var/credentials`` | where ``chorus up`` keeps its CA and admin token: with them the commands speak TLS with the admin token (or ``CHORUS_TOKEN``); without, plain gRPC (``chorus up --insecure``) |

A failure prints one line on stderr, ``chorus: <what>: <field>: <why>``, and exits with a code that says what
kind of failure it was (:data:`EXIT_CODES`). The line is built from the status code, the ``google.rpc``
``BadRequest`` field paths and the server's message, which never carries identifier values or texts; the
command's own checks name the option or field and never repeat what was typed.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import inspect
import json
import os
import sys
import time
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import grpc
import typer
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from chorus.experience.v1 import experience_service_pb2_grpc as xpb_grpc
from chorus.identity.v1 import identity_service_pb2_grpc as ipb_grpc
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as tpb_grpc
from services.common.grpc_runtime import client, status_details

OK, NOTHING, BAD_INPUT, UNAVAILABLE, REFUSED, FAILED = 0, 1, 2, 3, 4, 5
#: What each exit code of a client command means (the README shows this table).
EXIT_CODES: dict[int, str] = {
    OK: "done",
    NOTHING: "not found, or nothing to show",
    BAD_INPUT: "bad usage or bad input (a field or an option is wrong; rejected items in a recording)",
    UNAVAILABLE: "a service is unavailable or did not answer within --timeout",
    REFUSED: "refused by the current state: already exists, a rule forbids it, or a concurrent change won",
    FAILED: "the server failed (internal error)",
}
_EXIT_BY_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.NOT_FOUND: NOTHING,
    grpc.StatusCode.INVALID_ARGUMENT: BAD_INPUT,
    grpc.StatusCode.OUT_OF_RANGE: BAD_INPUT,
    grpc.StatusCode.UNAVAILABLE: UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: UNAVAILABLE,
    grpc.StatusCode.ALREADY_EXISTS: REFUSED,
    grpc.StatusCode.FAILED_PRECONDITION: REFUSED,
    grpc.StatusCode.ABORTED: REFUSED,
}

DEFAULT_PORTS = {"identity": 50051, "touchpoints": 50052, "experience": 50053}
DEFAULT_TIMEOUT = 10.0

_TIMEOUT = Annotated[
    float, typer.Option("--timeout", envvar="CHORUS_CLI_TIMEOUT", min=0.1, help="seconds each call may take")
]
_JSON = Annotated[bool, typer.Option("--json", help="print protobuf JSON (one object per line) instead of tables")]
_AS_JSON: contextvars.ContextVar[bool] = contextvars.ContextVar("chorus_cli_json", default=False)
_STUBS: dict[str, Callable[[grpc.Channel], Any]] = {
    "identity": ipb_grpc.IdentityServiceStub,
    "touchpoints": tpb_grpc.TouchpointServiceStub,
    "experience": xpb_grpc.ExperienceServiceStub,
}

#: tables at the terminal's width; written to a file or a pipe, at COLUMNS or 160 characters rather than 80
console = Console(highlight=False, width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160)
#: progress bars go to stderr, so stdout stays the answer (and --json stays parseable)
err_console = Console(stderr=True, highlight=False)


def progress_bar(
    console: Console = err_console, *, remaining: bool = False, transient: bool = True, disable: bool | None = None
) -> Progress:
    """A progress bar on ``console`` (stderr by default): each task's description, a bar, done of total, and the
    time elapsed (``remaining``: the time left). ``disable`` defaults to "not on a terminal"."""
    clock = TimeRemainingColumn() if remaining else TimeElapsedColumn()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        clock,
        console=console,
        transient=transient,
        disable=not console.is_terminal if disable is None else disable,
    )


_R = TypeVar("_R")


class CommandFailed(Exception):
    """A client command ends with this one line and exit code."""

    def __init__(self, code: int, line: str) -> None:
        super().__init__(line)
        self.code = code
        self.line = line


def bad_input(field: str, why: str) -> NoReturn:
    """Stop with exit code 2, naming the field or option (never the value typed)."""
    raise CommandFailed(BAD_INPUT, f"invalid argument: {field}: {why}")


def command(*calls: str, json: bool = True) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Make the decorated function a typer command that reaches the services named in ``calls``.

    The command gets the options every client command shares, after its own: ``--<service>-address`` for each
    service it calls (default ``chorus up``'s port on 127.0.0.1, or ``CHORUS_<SERVICE>_ADDRESS``), ``--timeout``
    and, unless ``json`` is False, ``--json`` (which :func:`print_answer`, :func:`print_rows` and :func:`as_json`
    follow). The function receives an :class:`Endpoint` per service as the argument named after it
    (``identity=...``). A parameter annotated with a dataclass is a group of options: its fields are the command's
    options, and the function receives the dataclass. A :class:`CommandFailed` prints its line on stderr and exits
    with its code."""

    def decorate(function: Callable[..., None]) -> Callable[..., None]:
        own: list[inspect.Parameter] = []
        groups: dict[str, tuple[type, list[str]]] = {}
        for parameter in inspect.signature(function, eval_str=True).parameters.values():
            if parameter.name in calls:
                continue
            if isinstance(parameter.annotation, type) and dataclasses.is_dataclass(parameter.annotation):
                fields = _group_options(parameter.annotation)
                groups[parameter.name] = (parameter.annotation, [field.name for field in fields])
                own += fields
            else:
                own.append(parameter)

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> None:
            timeout = kwargs.pop("timeout")
            for name in calls:
                kwargs[name] = Endpoint(name, kwargs.pop(f"{name}_address"), timeout)
            for name, (group, fields) in groups.items():
                kwargs[name] = group(**{field: kwargs.pop(field) for field in fields})
            mode = _AS_JSON.set(kwargs.pop("json", False))
            try:
                function(*args, **kwargs)
            except CommandFailed as failure:
                typer.secho(f"chorus: {failure.line}", err=True, fg=typer.colors.RED)
                raise typer.Exit(code=failure.code) from None
            finally:
                _AS_JSON.reset(mode)

        signature = inspect.Signature([*own, *_shared_options(calls, json)])
        run.__signature__ = signature  # type: ignore[attr-defined]
        run.__annotations__ = {parameter.name: parameter.annotation for parameter in signature.parameters.values()}
        return run

    return decorate


def subcommand(
    app: typer.Typer, *calls: str, name: str | None = None
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the decorated function as a command of ``app`` (named after it, or ``name``), made by
    :func:`command` with ``calls``."""

    def register(function: Callable[..., None]) -> Callable[..., None]:
        return app.command(name)(command(*calls)(function))

    return register


def _group_options(group: type) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(group, include_extras=True)
    return [
        inspect.Parameter(
            field.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default,
            annotation=hints[field.name],
        )
        for field in dataclasses.fields(group)
    ]


def _shared_options(calls: Sequence[str], json: bool) -> list[inspect.Parameter]:
    """``--<service>-address`` for each of ``calls``, ``--timeout`` and (``json``) ``--json``, as typer reads them."""
    options: list[tuple[str, Any, object]] = [
        (
            f"{name}_address",
            Annotated[
                str,
                typer.Option(
                    f"--{name}-address",
                    envvar=f"CHORUS_{name.upper()}_ADDRESS",
                    help=f"host:port of the {name} service",
                ),
            ],
            f"127.0.0.1:{DEFAULT_PORTS[name]}",
        )
        for name in calls
    ]
    options.append(("timeout", _TIMEOUT, DEFAULT_TIMEOUT))
    if json:
        options.append(("json", _JSON, False))
    return [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a) for n, a, d in options]


@dataclass
class Service:
    """One service's channel and stub, and calls to it with the command's deadline and its errors as one line."""

    name: str
    address: str
    timeout: float
    stub: Any

    def call(self, method: Callable[..., _R], request: Message, *, retries: int = 0) -> _R:
        """``method(request)`` within the deadline; ABORTED (a concurrent write won) is retried ``retries`` times,
        which the services document as safe."""
        for attempt in range(retries + 1):
            try:
                return method(request, timeout=self.timeout)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.ABORTED or attempt == retries:  # type: ignore[attr-defined]
                    raise self.failure(error) from None
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def failure(self, error: grpc.RpcError) -> CommandFailed:
        """The one line and exit code for a failed call (field paths from ``BadRequest``, no request contents)."""
        details = status_details(error)
        code = _EXIT_BY_STATUS.get(details.code, FAILED)
        what = details.code.name.lower().replace("_", " ")
        if details.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) and not details.details:
            # the client's own status (nothing listening, no answer in time): its text names addresses, not data
            reason = "did not answer in time" if details.code == grpc.StatusCode.DEADLINE_EXCEEDED else "not reachable"
            return CommandFailed(
                code,
                f"unavailable: {self.name} at {self.address} {reason} "
                f"(is `chorus up` running? --{self.name}-address, --timeout)",
            )
        message = details.message
        bad_request = details.detail(error_details_pb2.BadRequest)
        if bad_request is not None and bad_request.field_violations:
            message = "; ".join(
                f"{v.field}: {v.description}" if v.field else v.description for v in bad_request.field_violations
            )
        request = f" (request {details.request_id})" if details.request_id and code == FAILED else ""
        return CommandFailed(code, f"{what}: {message}{request}")


def credentials_dir() -> Path:
    """``CHORUS_CREDENTIALS_DIR``, or ``chorus up``'s default ``var/credentials``."""
    return Path(os.environ.get("CHORUS_CREDENTIALS_DIR") or "var/credentials")


@dataclass(frozen=True)
class Endpoint:
    """A service as a command was told to reach it: its name, ``--<name>-address`` and ``--timeout``."""

    name: str
    address: str
    timeout: float

    @contextlib.contextmanager
    def connect(self) -> Iterator[Service]:
        """A channel to the service for the length of a command."""
        channel = client.channel(
            self.address, credentials_dir(), options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)]
        )
        try:
            yield Service(self.name, self.address, self.timeout, _STUBS[self.name](channel))
        finally:
            channel.close()

    def call(self, method: str, request: Message) -> Any:
        """One call on a channel of its own: ``stub.method(request)``."""
        with self.connect() as service:
            return service.call(getattr(service.stub, method), request)


# ------------------------------------------------------------------------------------------------ output


def print_json(value: Message | dict[str, Any]) -> None:
    """One JSON object on one line: protobuf JSON for messages, also inside a dict or a list."""
    typer.echo(json.dumps(_plain(value), ensure_ascii=False, sort_keys=False))


def _plain(value: object) -> object:
    if isinstance(value, Message):
        return json_format.MessageToDict(value, preserving_proto_field_name=True)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def as_json() -> bool:
    """Whether the running command prints JSON (``--json``) rather than tables."""
    return _AS_JSON.get()


def print_answer(message: Message | dict[str, Any], render: Callable[[], None]) -> None:
    """``message`` as one line of JSON (``--json``), or what ``render`` prints."""
    if as_json():
        print_json(message)
    else:
        render()


def print_rows(rows: Sequence[Message], render: Callable[[], None], nothing: str) -> None:
    """JSON lines (``--json``) or the rendered table; then exit code 1 with ``nothing`` when there are no rows."""
    if as_json():
        for row in rows:
            print_json(row)
    else:
        render()
    if not rows:
        raise CommandFailed(NOTHING, nothing)

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
import functools
import inspect
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import grpc
import typer
from google.protobuf import duration_pb2, json_format, timestamp_pb2
from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from chorus.common.v1 import types_pb2 as types
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
    and, unless ``json`` is False, ``--json``. The function receives an :class:`Endpoint` per service as the
    keyword argument named after it (``identity=...``) and ``json`` as a bool. A :class:`CommandFailed` prints
    its line on stderr and exits with its code."""

    def decorate(function: Callable[..., None]) -> Callable[..., None]:
        own = [
            parameter
            for parameter in inspect.signature(function, eval_str=True).parameters.values()
            if parameter.name not in (*calls, "json")
        ]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> None:
            timeout = kwargs.pop("timeout")
            for name in calls:
                kwargs[name] = Endpoint(name, kwargs.pop(f"{name}_address"), timeout)
            try:
                function(*args, **kwargs)
            except CommandFailed as failure:
                typer.secho(f"chorus: {failure.line}", err=True, fg=typer.colors.RED)
                raise typer.Exit(code=failure.code) from None

        signature = inspect.Signature([*own, *_shared_options(calls, json)])
        run.__signature__ = signature  # type: ignore[attr-defined]
        run.__annotations__ = {parameter.name: parameter.annotation for parameter in signature.parameters.values()}
        return run

    return decorate


def subcommand(
    app: typer.Typer, *calls: str, name: str | None = None, json: bool = True
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register the decorated function as a command of ``app`` (named after it, or ``name``), made by
    :func:`command` with ``calls`` and ``json``."""

    def register(function: Callable[..., None]) -> Callable[..., None]:
        return app.command(name)(command(*calls, json=json)(function))

    return register


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
    channel: grpc.Channel
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
            yield Service(self.name, self.address, self.timeout, channel, _STUBS[self.name](channel))
        finally:
            channel.close()

    def call(self, method: str, request: Message) -> Any:
        """One call on a channel of its own: ``stub.method(request)``."""
        with self.connect() as service:
            return service.call(getattr(service.stub, method), request)


# ------------------------------------------------------------------------------------------------ enum words


def word(enum: EnumDescriptor, number: int) -> str:
    """An enum value in the domain's words: ``CHANNEL_X`` -> ``x``; the zero value -> ``""``."""
    if number == 0:
        return ""
    name = enum.values_by_number[number].name if number in enum.values_by_number else str(number)
    prefix = enum.values[0].name.removesuffix("UNSPECIFIED")
    return name.removeprefix(prefix).lower()


def words(enum: EnumDescriptor) -> list[str]:
    return [word(enum, value.number) for value in enum.values if value.number]


def parse_word(enum: EnumDescriptor, raw: str, field: str) -> int:
    """``x`` (or ``CHANNEL_X``) -> the enum number; an unknown word stops with exit code 2 naming ``field``."""
    prefix = enum.values[0].name.removesuffix("UNSPECIFIED")
    name = raw.strip().upper()
    value = enum.values_by_name.get(name) or enum.values_by_name.get(prefix + name)
    if value is None or value.number == 0:
        bad_input(field, f"expected one of {', '.join(words(enum))}")
    return value.number


def optional_word(enum: EnumDescriptor, raw: str, field: str) -> int:
    """:func:`parse_word`, or the zero value ("not given") for an empty option."""
    return parse_word(enum, raw, field) if raw else 0


# ------------------------------------------------------------------------------------------------ identifiers

_NAMESPACED = ("forum_user", "marketplace_reviewer", "chat_id", "other")
IDENTIFIER_HELP = (
    "TYPE:VALUE, e.g. email:jane@example.com, phone:+442079460958, x:@jane; "
    "TYPE@NAMESPACE:VALUE where the type needs one, e.g. forum_user@forum.acme.example:jane s"
)


def parse_identifier(raw: str, field: str = "identifier") -> types.Identifier:
    """``TYPE:VALUE`` or ``TYPE@NAMESPACE:VALUE`` -> an Identifier (the service normalises the value)."""
    head, colon, value = raw.partition(":")
    type_name, _, namespace = head.partition("@")
    if not colon or not value.strip():
        bad_input(field, f"expected {IDENTIFIER_HELP}")
    number = parse_word(types.IdentifierType.DESCRIPTOR, type_name, f"{field} type")
    if word(types.IdentifierType.DESCRIPTOR, number) in _NAMESPACED and not namespace:
        bad_input(field, f"a {type_name.strip().lower()} identifier needs a namespace: TYPE@NAMESPACE:VALUE")
    return types.Identifier(type=number, value=value, namespace=namespace)


def show_identifier(identifier: types.Identifier) -> str:
    kind = word(types.IdentifierType.DESCRIPTOR, identifier.type)
    return f"{kind}@{identifier.namespace}:{identifier.value}" if identifier.namespace else f"{kind}:{identifier.value}"


def is_uuid(raw: str) -> bool:
    try:
        uuid.UUID(raw)
    except ValueError:
        return False
    return True


def party_id(raw: str, field: str = "party_id") -> str:
    if not is_uuid(raw):
        bad_input(field, "expected a party id (a UUID)")
    return raw


# ------------------------------------------------------------------------------------------------ times

_SPAN = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_time(raw: str, field: str) -> timestamp_pb2.Timestamp:
    """An ISO 8601 time, or a span back from now (``30m``, ``12h``, ``7d``)."""
    span = _SPAN.match(raw.strip())
    try:
        if span:
            moment = datetime.now(UTC) - timedelta(seconds=float(span[1]) * _SECONDS[span[2]])
        else:
            moment = datetime.fromisoformat(raw.strip())
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        bad_input(field, "expected an ISO 8601 time (2026-11-30T12:00:00Z) or a span back from now (7d, 12h, 30m)")
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


def show_time(value: timestamp_pb2.Timestamp) -> str:
    if not value.seconds and not value.nanos:
        return ""
    return value.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M")


def show_duration(value: duration_pb2.Duration) -> str:
    seconds = value.ToTimedelta().total_seconds()
    if seconds <= 0:
        return ""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


# ------------------------------------------------------------------------------------------------ output


def as_dict(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def print_json(message: Message | dict[str, Any]) -> None:
    """One JSON object on one line (protobuf JSON for messages)."""
    value = as_dict(message) if isinstance(message, Message) else message
    typer.echo(json.dumps(value, ensure_ascii=False, sort_keys=False))


def print_rows(rows: Sequence[Message], as_json: bool, render: Callable[[], None], nothing: str) -> None:
    """JSON lines or the rendered table; then exit code 1 with ``nothing`` when there are no rows."""
    if as_json:
        for row in rows:
            print_json(row)
    else:
        render()
    if not rows:
        raise CommandFailed(NOTHING, nothing)


def clip(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"

"""``chorus touchpoint record|get|list``: record interactions and read them back, through the touchpoints API.

``record`` takes one touchpoint from options, or many from a JSONL file (``--file PATH``, ``-`` for stdin): one
``chorus.touchpoints.v1.TouchpointInput`` per line in protobuf JSON (``{"kind": "TOUCHPOINT_KIND_TOUCHPOINT",
"channel": "CHANNEL_X", ...}``). The lines are streamed through ``RecordTouchpointStream`` as they are read, with a
progress bar; a line that is not a TouchpointInput, or that the service rejects, is counted and named by its line
number and field in the summary, and its neighbours are recorded. Any reject makes the exit code 2.
"""

from __future__ import annotations

import json as jsonlib
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import grpc
import typer
from google.protobuf import json_format, timestamp_pb2
from rich.progress import Progress
from rich.table import Table

from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from services.client.runtime import (
    BAD_INPUT,
    Endpoint,
    Service,
    as_json,
    bad_input,
    console,
    print_answer,
    print_json,
    print_rows,
    progress_bar,
    subcommand,
)
from services.client.values import (
    IDENTIFIER_HELP,
    clip,
    is_uuid,
    optional_word,
    parse_identifier,
    parse_time,
    parse_word,
    show_duration,
    show_identifier,
    show_time,
    word,
)

app = typer.Typer(no_args_is_help=True, help="Touchpoints and non-touchpoints: record them, read them back.")

#: Rejects named one by one in the summary; the rest are counted.
SHOWN_REJECTS = 20


@dataclass
class Outcomes:
    """What a recording did: counts, and the rejects by line number with the fields they broke."""

    recorded: int = 0
    already_recorded: int = 0
    rejects: list[tuple[int, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # the request iterator runs elsewhere

    @property
    def total(self) -> int:
        return self.recorded + self.already_recorded + len(self.rejects)

    def add(self, result: tpb.RecordResult, line: int) -> None:
        if result.outcome == tpb.RECORD_OUTCOME_RECORDED:
            self.recorded += 1
        elif result.outcome == tpb.RECORD_OUTCOME_ALREADY_RECORDED:
            self.already_recorded += 1
        else:
            why = "; ".join(f"{v.field}: {v.description}" if v.field else v.description for v in result.violations)
            self.reject(line, why or "rejected")

    def reject(self, line: int, why: str) -> None:
        with self._lock:
            self.rejects.append((line, why))


_PARSE_FIELD = re.compile(r"Failed to parse (\w+) field")
_UNKNOWN_FIELD = re.compile(r'has no field named "(\w+)"')


def parse_line(text: str) -> tpb.TouchpointInput:
    """One JSONL line -> a TouchpointInput; ValueError names the field (never the value) when it is not one."""
    try:
        value = jsonlib.loads(text)
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    try:
        return json_format.ParseDict(value, tpb.TouchpointInput())
    except json_format.ParseError as error:
        message = str(error)
        path = ".".join(_PARSE_FIELD.findall(message))
        unknown = _UNKNOWN_FIELD.search(message)
        if unknown:
            return _raise(f"{path + '.' if path else ''}{unknown[1]}: no such field in TouchpointInput")
        return _raise(f"{path or 'touchpoint'}: not a valid value for this field")


def _raise(why: str) -> tpb.TouchpointInput:
    raise ValueError(why)


def record_stream(
    touchpoints: Service,
    lines: Iterable[str],
    progress: Progress | None = None,
    total: int | None = None,
    deadline: float = 3600.0,
) -> Outcomes:
    """Stream every JSONL line's touchpoint; outcomes by line number (blank lines are skipped, bad lines rejected
    here and never sent)."""
    outcomes = Outcomes()

    def parsed() -> Iterator[tuple[int, tpb.TouchpointInput]]:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                yield number, parse_line(text)
            except ValueError as error:
                outcomes.reject(number, str(error))

    return stream_touchpoints(touchpoints, parsed(), outcomes, progress, total, deadline)


def stream_touchpoints(
    touchpoints: Service,
    items: Iterable[tuple[int, tpb.TouchpointInput]],
    outcomes: Outcomes | None = None,
    progress: Progress | None = None,
    total: int | None = None,
    deadline: float = 3600.0,
    description: str = "recording",
) -> Outcomes:
    """Record ``(label, touchpoint)`` pairs through one RecordTouchpointStream; each outcome counted by its label,
    the progress bar advanced as the service answers."""
    outcomes = outcomes or Outcomes()
    labels: list[int] = []  # stream index -> label; appended on gRPC's thread, read on this one
    task = progress.add_task(description, total=total) if progress is not None else None

    def requests() -> Iterator[tpb.RecordTouchpointStreamRequest]:
        for label, item in items:
            labels.append(label)
            yield tpb.RecordTouchpointStreamRequest(touchpoint=item)

    try:
        for reply in touchpoints.stub.RecordTouchpointStream(requests(), timeout=deadline):
            for result in reply.results:
                outcomes.add(result, labels[result.index])
            if progress is not None and task is not None:
                progress.update(task, completed=outcomes.total)
    except grpc.RpcError as error:
        raise touchpoints.failure(error) from None
    outcomes.rejects.sort()
    return outcomes


def _input_lines(path: str) -> Iterable[str]:
    if path == "-":
        return sys.stdin
    if not Path(path).is_file():
        bad_input("--file", "no such file")
    return _lines_of(Path(path))


def _lines_of(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as lines:
        yield from lines


def _count_lines(path: str) -> int | None:
    if path == "-":
        return None
    with Path(path).open("rb") as stream:
        return sum(1 for line in stream if line.strip())


def say_outcomes(outcomes: Outcomes) -> None:
    if as_json():
        print_json(
            {
                "recorded": outcomes.recorded,
                "already_recorded": outcomes.already_recorded,
                "rejected": len(outcomes.rejects),
                "rejects": [{"line": line, "why": why} for line, why in outcomes.rejects],
            }
        )
        return
    console.print(
        f"recorded {outcomes.recorded}, already recorded {outcomes.already_recorded}, rejected {len(outcomes.rejects)}"
    )
    for line, why in outcomes.rejects[:SHOWN_REJECTS]:
        console.print(f"  line {line}: {why}")
    if len(outcomes.rejects) > SHOWN_REJECTS:
        console.print(f"  … and {len(outcomes.rejects) - SHOWN_REJECTS} more (--json lists all)")


def _now() -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(datetime.now(UTC))
    return value


@subcommand(app, "touchpoints")
def record(
    touchpoints: Endpoint,
    file: Annotated[str, typer.Option("--file", "-f", help="JSONL of TouchpointInput messages; - reads stdin")] = "",
    channel: Annotated[str, typer.Option(help="phone, email, chat, x, forum, blog, marketplace, …")] = "",
    kind: Annotated[str, typer.Option(help="touchpoint (the company took part) or non_touchpoint")] = "touchpoint",
    direction: Annotated[str, typer.Option(help="inbound (from the party) or outbound")] = "inbound",
    visibility: Annotated[str, typer.Option(help="private or public")] = "private",
    actor: Annotated[list[str] | None, typer.Option(help=f"who took part (repeatable): {IDENTIFIER_HELP}")] = None,
    text: Annotated[str, typer.Option(help="what was said")] = "",
    at: Annotated[str, typer.Option(help="when: ISO 8601, or a span back from now (2h); default now")] = "",
    source_system: Annotated[str, typer.Option(help="the source system (with --external-id: the id)")] = "cli",
    external_id: Annotated[str, typer.Option(help="its id in the source system (idempotency key)")] = "",
    reply_to: Annotated[str, typer.Option(help="the touchpoint id this replies to")] = "",
    thread: Annotated[str, typer.Option(help="the conversation's id")] = "",
    intent: Annotated[str, typer.Option(help="question, complaint, praise, suggestion, purchase, other")] = "",
    followers: Annotated[int, typer.Option(min=0, help="followers of the author (a public post)")] = 0,
    stream_timeout: Annotated[float, typer.Option(min=1, help="seconds a --file stream may take in all")] = 3600.0,
) -> None:
    """Record one touchpoint from options, or stream many from a JSONL file or stdin (--file)."""
    if file:
        lines = _input_lines(file)
        total = _count_lines(file)
        with touchpoints.connect() as service, progress_bar(disable=as_json() or None) as progress:
            outcomes = record_stream(service, lines, progress, total, stream_timeout)
        say_outcomes(outcomes)
        if outcomes.rejects:
            raise typer.Exit(code=BAD_INPUT)
        return
    if not channel:
        bad_input("--channel", "required (or --file to record a JSONL file)")
    if not actor:
        bad_input("--actor", "at least one is required")
    if not external_id:
        bad_input("--external-id", "required: with --source-system it is the touchpoint's idempotency key")
    item = tpb.TouchpointInput(
        kind=parse_word(types.TouchpointKind.DESCRIPTOR, kind, "--kind"),
        channel=parse_word(types.Channel.DESCRIPTOR, channel, "--channel"),
        direction=parse_word(types.Direction.DESCRIPTOR, direction, "--direction"),
        visibility=parse_word(types.Visibility.DESCRIPTOR, visibility, "--visibility"),
        occurred_at=parse_time(at, "--at") if at else _now(),
        source=tpb.Source(system=source_system, external_id=external_id),
        actors=[parse_identifier(raw, "--actor") for raw in actor],
        content=tpb.Content(text=text),
        thread_id=thread,
        intent=optional_word(types.Intent.DESCRIPTOR, intent, "--intent"),
        audience=tpb.Audience(followers=followers),
    )
    if reply_to:
        if not is_uuid(reply_to):
            bad_input("--reply-to", "expected a touchpoint id (a UUID)")
        item.reply_to.touchpoint_id = reply_to
    reply = touchpoints.call("RecordTouchpoint", tpb.RecordTouchpointRequest(touchpoint=item))
    outcome = word(tpb.RecordOutcome.DESCRIPTOR, reply.outcome)
    inferred = f" (inferred {', '.join(reply.inferred_fields)})" if reply.inferred_fields else ""
    print_answer(reply, lambda: console.print(f"{reply.touchpoint_id} {outcome}{inferred}"))


def render_touchpoint(touchpoint: tpb.Touchpoint) -> None:
    table = Table(title=f"Touchpoint {touchpoint.touchpoint_id}", show_header=False, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("")
    rows = [
        ("when", show_time(touchpoint.occurred_at)),
        ("channel", word(types.Channel.DESCRIPTOR, touchpoint.channel)),
        ("kind", word(types.TouchpointKind.DESCRIPTOR, touchpoint.kind)),
        ("direction", word(types.Direction.DESCRIPTOR, touchpoint.direction)),
        ("visibility", word(types.Visibility.DESCRIPTOR, touchpoint.visibility)),
        ("actors", ", ".join(show_identifier(a) for a in touchpoint.actors)),
        ("intent", word(types.Intent.DESCRIPTOR, touchpoint.intent)),
        ("sentiment", f"{touchpoint.sentiment.score:+.2f}" if touchpoint.sentiment.HasField("score") else ""),
        ("sociability", word(types.SociabilityDegree.DESCRIPTOR, touchpoint.sociability_degree)),
        ("text", touchpoint.content.text),
        ("source", f"{touchpoint.source.system} {touchpoint.source.external_id}"),
        ("thread", touchpoint.thread_id),
        ("replies to", touchpoint.reply_to_touchpoint_id),
        ("first response", show_duration(touchpoint.first_response_time)),
        ("inferred", ", ".join(touchpoint.inferred_fields)),
    ]
    for name, value in rows:
        if value:
            table.add_row(name, value)
    console.print(table)


@subcommand(app, "touchpoints")
def get(
    touchpoints: Endpoint,
    touchpoint: Annotated[str, typer.Argument(help="a touchpoint id, or SYSTEM:EXTERNAL_ID of its source")],
) -> None:
    """Show one touchpoint, by id or by its source's system and external id."""
    if is_uuid(touchpoint):
        request = tpb.GetTouchpointRequest(touchpoint_id=touchpoint)
    else:
        system, colon, external = touchpoint.partition(":")
        if not colon or not system or not external:
            bad_input("touchpoint", "expected a touchpoint id (a UUID) or SYSTEM:EXTERNAL_ID")
        request = tpb.GetTouchpointRequest(source=tpb.SourceReference(system=system, external_id=external))
    reply = touchpoints.call("GetTouchpoint", request)
    print_answer(reply.touchpoint, lambda: render_touchpoint(reply.touchpoint))


def render_touchpoints(found: list[tpb.Touchpoint]) -> None:
    table = Table(title=f"{len(found)} touchpoints, newest first", title_justify="left")
    for column in ("when", "channel", "dir", "kind", "intent", "actors", "text", "id"):
        table.add_column(column)
    for item in found:
        table.add_row(
            show_time(item.occurred_at),
            word(types.Channel.DESCRIPTOR, item.channel),
            word(types.Direction.DESCRIPTOR, item.direction)[:3],
            "touch" if item.kind == types.TOUCHPOINT_KIND_TOUCHPOINT else "non-touch",
            word(types.Intent.DESCRIPTOR, item.intent),
            ", ".join(show_identifier(a) for a in item.actors),
            clip(item.content.text, 40),
            item.touchpoint_id,
        )
    console.print(table)


@subcommand(app, "touchpoints", name="list")
def list_touchpoints(
    touchpoints: Endpoint,
    actor: Annotated[str, typer.Option(help=f"only this actor: {IDENTIFIER_HELP}")] = "",
    thread: Annotated[str, typer.Option(help="only this thread")] = "",
    channel: Annotated[str, typer.Option(help="only this channel")] = "",
    since: Annotated[str, typer.Option(help="at or after: ISO 8601 or a span back from now (7d)")] = "",
    until: Annotated[str, typer.Option(help="before: ISO 8601 or a span back from now")] = "",
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 50,
) -> None:
    """List touchpoints, newest first, by actor, thread, channel and time (exit code 1 when there are none)."""
    request = tpb.ListTouchpointsRequest(
        thread_id=thread,
        page_size=min(limit, 1000),
        channel=optional_word(types.Channel.DESCRIPTOR, channel, "--channel"),
    )
    if actor:
        request.actor.CopyFrom(parse_identifier(actor, "--actor"))
    if since:
        request.occurred_after.CopyFrom(parse_time(since, "--since"))
    if until:
        request.occurred_before.CopyFrom(parse_time(until, "--until"))
    found: list[tpb.Touchpoint] = []
    with touchpoints.connect() as service:
        while len(found) < limit:
            reply = service.call(service.stub.ListTouchpoints, request)
            found += reply.touchpoints[: limit - len(found)]
            if not reply.next_page_token:
                break
            request.page_token = reply.next_page_token
    print_rows(found, lambda: render_touchpoints(found), "nothing: no touchpoint matches")

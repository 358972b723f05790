"""``chorus audit``: read-only commands for auditors (replay, verify, as-of, export, receipts).

Every command only reads (stream info and direct gets: read-only NATS credentials do, given in the URL as
``nats://user:password@host:4222``), except ``checkpoint``, which asks a service to sign one now. A stream that
cannot be read prints one line and exits 2; ``verify`` exits 1 on a broken link.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from services.audit.history import (
    PARTY_FORGOTTEN,
    Point,
    Range,
    event_rows,
    experience_as_of,
    export_rows,
    is_empty,
    moment_of,
    party_aggregates,
)
from services.audit.stream import UnreadableStream
from services.audit.verify import verify_stream
from services.client.runtime import progress_bar
from services.common.audit import AuditKeyError, checkpoint_request_subject, load_public_keys
from services.common.errors import ChorusError, NotFound
from services.common.eventstore import StreamLayout
from services.common.eventstore.connection import JetStreamConnection
from services.experience.projection import IDENTITY, TOUCHPOINTS

audit_app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

#: Reads of more messages than this show a progress bar (on stderr, when it is a terminal).
LONG_RUN = 2000
DEFAULT_APPS = [IDENTITY, TOUCHPOINTS]
APPS_HELP = "default: identity touchpoints"

NATS_URL = typer.Option("nats://127.0.0.1:4222", envvar="CHORUS_NATS_URL", help="where NATS listens")
NAMESPACE = typer.Option("chorus", help="the deployment's namespace (first subject token)")
IDENTITY_APP = typer.Option(IDENTITY, help="application name of the identity stream")
TOUCHPOINTS_APP = typer.Option(TOUCHPOINTS, help="application name of the touchpoints stream")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"chorus audit: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=code)


def _checked_format(value: str) -> str:
    if value not in ("table", "jsonl"):
        raise _fail(f"--format: {value!r} is not table or jsonl")
    return value


#: the ``--format`` option's settings: another word than table or jsonl stops the command before it reads anything
FORMAT: dict[str, Any] = {"help": "table or jsonl", "callback": _checked_format}


@contextlib.contextmanager
def _connected(nats_url: str) -> Iterator[JetStreamConnection]:
    """A connection for the command; Chorus's own errors become one line and exit 2."""
    try:
        connection = JetStreamConnection.open(nats_url)
    except ChorusError as exc:
        raise _fail(str(exc)) from None
    try:
        yield connection
    except (UnreadableStream, AuditKeyError) as exc:
        raise _fail(str(exc)) from None
    finally:
        connection.close()


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback ``(seq, last)`` drawing a bar on stderr for reads longer than :data:`LONG_RUN`."""
    bar = progress_bar(Console(stderr=True), remaining=True)
    task: list[Any] = []

    def tick(seq: int, last: int) -> None:
        if last < LONG_RUN:
            return
        if not task:
            bar.start()
            task.append(bar.add_task(label, total=last))
        bar.update(task[0], completed=seq)

    try:
        yield tick
    finally:
        bar.stop()


def _moment(text: str, option: str) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"{option}: {text!r} is not an ISO 8601 time (2026-11-30T12:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _emit(rows: Iterator[dict[str, Any]], output: str) -> int:
    count = 0
    if output == "jsonl":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        return count
    table = Table("app", "seq", "id", "aggregate", "version", "topic", "stored at", "event")
    for row in rows:
        event = json.dumps(row["event"], ensure_ascii=False) if row["event"] is not None else row.get("undecodable")
        table.add_row(
            row["app"],
            str(row["seq"]),
            str(row["id"]),
            row["aggregate"],
            str(row["version"]),
            row["topic"].rsplit(".", 1)[-1],
            row["stored_at"],
            event,
        )
        count += 1
    console = Console()
    if not console.is_terminal:  # a file or a pipe: wide enough that no cell is cut
        console = Console(width=240)
    console.print(table)
    return count


@audit_app.command()
def replay(
    apps: list[str] = typer.Argument(None, help=f"applications whose streams to read ({APPS_HELP})"),  # noqa: B008
    party: str = typer.Option("", help="only this party's history (its identity aggregates and touchpoints)"),
    from_seq: int = typer.Option(1, help="first stream sequence"),
    to_seq: int = typer.Option(0, help="last stream sequence (0: the end)"),
    since: str = typer.Option("", help="only events stored at or after this time (ISO 8601)"),
    until: str = typer.Option("", help="only events stored before this time (ISO 8601)"),
    output: str = typer.Option("table", "--format", **FORMAT),
    nats_url: str = NATS_URL,
    namespace: str = NAMESPACE,
    identity_app: str = IDENTITY_APP,
    touchpoints_app: str = TOUCHPOINTS_APP,
) -> None:
    """Print stored events decoded with the contracts: one stream, several, or one party's history."""
    bounds = Range(
        from_seq=from_seq, to_seq=to_seq or None, since=_moment(since, "--since"), until=_moment(until, "--until")
    )
    with _connected(nats_url) as connection, _progress("replay") as tick:
        selected: dict[str, set[str] | None] = {}
        if party:
            roles = {IDENTITY: identity_app, TOUCHPOINTS: touchpoints_app}
            point = Point(at=bounds.until) if bounds.until else Point()
            with experience_as_of(connection, point, apps=roles) as experience:
                try:
                    live = experience.resolve_party(party)
                except NotFound:
                    raise _fail(f"no party {party} in the history read", code=1) from None
                selected = {roles[role]: ids for role, ids in party_aggregates(experience, live).items()}
        else:
            selected = dict.fromkeys(apps or DEFAULT_APPS)

        def rows() -> Iterator[dict[str, Any]]:
            for app, aggregates in selected.items():
                yield from event_rows(
                    connection, app, bounds, namespace=namespace, aggregates=aggregates, progress=tick
                )

        _emit(rows(), output)


@audit_app.command()
def verify(
    apps: list[str] = typer.Argument(None, help=f"applications whose streams to verify ({APPS_HELP})"),  # noqa: B008
    public_key: list[Path] = typer.Option(..., help="PEM public key(s) that sign checkpoints"),  # noqa: B008
    require_signed: bool = typer.Option(False, help="also fail when messages after the last checkpoint are unsigned"),
    nats_url: str = NATS_URL,
    namespace: str = NAMESPACE,
) -> None:
    """Recompute every digest chain and check every signed checkpoint; report each stream's first broken link.

    Exit 0 when every stream verifies, 1 at a broken link, 2 when a stream cannot be read."""
    try:
        keys = load_public_keys(public_key)
    except AuditKeyError as exc:
        raise _fail(str(exc)) from None
    failed = False
    with _connected(nats_url) as connection:
        for app in apps or DEFAULT_APPS:
            with _progress(f"verify {app}") as tick:
                report = verify_stream(connection, app, keys, namespace=namespace, progress=tick)
            if report.broken is not None:
                failed = True
                where = f"{report.stream} sequence {report.broken.sequence}"
                if report.broken.covers:
                    where += f" (the change lies in sequences {report.broken.covers[0]}-{report.broken.covers[1]})"
                typer.secho(f"BROKEN {where}: {report.broken.reason}", fg=typer.colors.RED)
                continue
            line = (
                f"OK {report.stream}: {report.messages} messages chained, {report.checkpoints} checkpoints, "
                f"signed through sequence {report.signed_through}"
            )
            if report.unsigned:
                line += f"; {report.unsigned} messages after it are chained but not signed yet"
                failed = failed or require_signed
            typer.echo(line)
    if failed:
        raise typer.Exit(code=1)


@audit_app.command("as-of")
def as_of(
    party: str = typer.Argument(..., help="the party's id"),
    at: str = typer.Option("", help="the moment (ISO 8601): events stored before it count"),
    identity_seq: int = typer.Option(0, help="the last identity stream sequence that counts"),
    touchpoints_seq: int = typer.Option(0, help="the last touchpoints stream sequence that counts"),
    dump: bool = typer.Option(False, help="print the whole replayed view (canonical dump) instead"),
    default_region: str = typer.Option("", envvar="CHORUS_DEFAULT_REGION", help="region of national phone numbers"),
    nats_url: str = NATS_URL,
    identity_app: str = IDENTITY_APP,
    touchpoints_app: str = TOUCHPOINTS_APP,
) -> None:
    """A party's experience as it stood at a past time, or at past stream sequences (give both)."""
    moment = _moment(at, "--at")
    if moment is None and not (identity_seq and touchpoints_seq):
        raise _fail("give --at, or both --identity-seq and --touchpoints-seq")
    point = Point(at=moment) if moment else Point(sequences={IDENTITY: identity_seq, TOUCHPOINTS: touchpoints_seq})
    roles = {IDENTITY: identity_app, TOUCHPOINTS: touchpoints_app}
    with (
        _connected(nats_url) as connection,
        experience_as_of(connection, point, apps=roles, default_region=default_region or None) as experience,
    ):
        if is_empty(experience):
            typer.echo(
                json.dumps(
                    {
                        "party_id": party,
                        "empty": True,
                        "note": "the view is empty at this point: no event had been stored before it",
                    }
                )
            )
            return
        if dump:
            typer.echo(json.dumps(experience.view.dump(), sort_keys=True, default=str))
            return
        try:
            live = experience.resolve_party(party)
        except NotFound:
            raise _fail(f"party {party} was not known at this point", code=1) from None
        now = moment_of(connection, point, roles)
        typer.echo(json.dumps(experience.experience(live, at_us=now), sort_keys=True, default=str))


@audit_app.command()
def export(
    apps: list[str] = typer.Argument(None, help=f"applications whose streams to export ({APPS_HELP})"),  # noqa: B008
    nats_url: str = NATS_URL,
    namespace: str = NAMESPACE,
) -> None:
    """Every stored message as JSON lines: subject, Chorus headers, payload (base64) and its decoded events."""
    with _connected(nats_url) as connection:
        for app in apps or DEFAULT_APPS:
            with _progress(f"export {app}") as tick:
                for row in export_rows(connection, app, namespace=namespace, progress=tick):
                    sys.stdout.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


@audit_app.command()
def receipts(
    output: str = typer.Option("jsonl", "--format", **FORMAT),
    nats_url: str = NATS_URL,
    namespace: str = NAMESPACE,
    identity_app: str = IDENTITY_APP,
) -> None:
    """The erasure receipts (``PartyForgotten`` events) recorded by identity: what was erased, when, why."""
    with _connected(nats_url) as connection, _progress("receipts") as tick:
        _emit(
            event_rows(connection, identity_app, namespace=namespace, topics={PARTY_FORGOTTEN}, progress=tick), output
        )


@audit_app.command()
def checkpoint(
    app: str = typer.Argument(..., help="the application whose service should sign a checkpoint now"),
    timeout: float = typer.Option(10.0, help="seconds to wait for the service"),
    nats_url: str = NATS_URL,
    namespace: str = NAMESPACE,
) -> None:
    """Ask a running service to sign a checkpoint of its stream now (the one command that is not read-only)."""
    subject = checkpoint_request_subject(StreamLayout(app, namespace=namespace))
    with _connected(nats_url) as connection:

        async def ask() -> bytes:
            reply = await connection.client.request(subject, b"", timeout=timeout)
            return bytes(reply.data)

        try:
            answer = connection.call(ask, timeout=timeout + 5)
        except Exception as exc:  # noqa: BLE001 - no service answering is a clear failure, not a traceback
            raise _fail(f"no service signed a checkpoint of {app} ({type(exc).__name__})") from None
        body = json.loads(answer or b"{}")
        if "error" in body:
            raise _fail(f"the {app} service could not sign a checkpoint: {body['error']}", code=1)
        typer.echo(json.dumps(body, sort_keys=True))

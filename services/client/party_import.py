"""``chorus party import FILE``: stream a CRM export (CSV or JSONL) into identity's ImportParties.

One row is one party. JSONL rows are objects::

    {"external_id": "C-1", "source_system": "crm", "kind": "person", "display_name": "Jane Smith",
     "roles": ["customer"], "identifiers": [{"type": "email", "value": "jane@example.org"}],
     "consents": [{"channel": "email", "status": "granted", "time": "2024-05-01T00:00:00Z"}],
     "preferred_channels": ["email", "phone"]}

CSV rows have a header: ``external_id``, ``display_name``, optional ``source_system``, ``kind`` (default
``person``), ``roles`` and ``preferred_channels`` (``;``-separated); a column named after an identifier type
(``email``, ``phone``, ``x``, ``crm_id``…) holds that type's values (``;``-separated); ``consent_<channel>``
holds the answer for that channel (``granted``, ``denied``, ``revoked``). ``--source-system`` fills rows that
name none. A row the command cannot read is rejected here, naming its line; every other row is answered by the
service (rows are sent up to :data:`FRAME_PARTIES` parties, :data:`FRAME_BYTES` bytes, to a stream frame). The
summary counts the outcomes and lists each reject by line, field and rule, never a value.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

import grpc
import typer
from google.protobuf import timestamp_pb2
from rich.console import Console
from rich.table import Table

from chorus.common.v1 import types_pb2
from chorus.identity.v1 import identity_service_pb2 as pb
from chorus.identity.v1 import identity_service_pb2_grpc as pb_grpc
from services.client.runtime import credentials_dir, progress_bar
from services.common.grpc_runtime import client

SHOWN_REJECTS = 50
"""Rejects listed one by one in the summary (all are counted)."""
FRAME_PARTIES = 100
"""Parties sent in one stream frame (a stream costs per frame, whatever the frame holds)."""
FRAME_BYTES = 1 << 20
"""Bytes of parties in one frame, far below the server's largest message (4 MiB): a frame of rows the service
will refuse (over a length limit) is answered row by row rather than failing the import."""
_IDENTIFIER_TYPES = {
    name.removeprefix("IDENTIFIER_TYPE_").lower() for name in types_pb2.IdentifierType.DESCRIPTOR.values_by_name
} - {"unspecified"}
_CSV_KNOWN = {"external_id", "source_system", "kind", "display_name", "roles", "preferred_channels"}


class FileFormat(str, Enum):
    auto = "auto"
    csv = "csv"
    jsonl = "jsonl"


class RowError(ValueError):
    """A row the command cannot turn into an ImportedParty: ``field`` names where."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(f"{field}: {description}")
        self.field = field
        self.description = description


class UnreadableFile(Exception):
    """The file stops being CSV or UTF-8 text somewhere: what was sent before is imported."""


@dataclass
class Summary:
    """What the import did, and each reject: (line, field, rule, description)."""

    imported: int = 0
    already_imported: int = 0
    rejects: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({line for line, *_ in self.rejects})


# ------------------------------------------------------------------------------------------- rows -> messages


def _enum(enum: Any, prefix: str, word: object, where: str) -> int:
    name = f"{prefix}{str(word).strip().upper()}"
    if not isinstance(word, str) or not word.strip() or name not in enum.DESCRIPTOR.values_by_name:
        raise RowError(where, f"not a known {prefix.removesuffix('_').lower().replace('_', ' ')}")
    return int(enum.Value(name))


def _timestamp(value: object, where: str) -> timestamp_pb2.Timestamp:
    if not isinstance(value, str):
        raise RowError(where, "must be an ISO-8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(where, "must be an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise RowError(where, "must carry a time zone")
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _text(row: dict[str, Any], key: str) -> str:
    value = row.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise RowError(key, "must be text")
    return str(value)


def _words(value: object, where: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [word for word in (w.strip() for w in value.split(";")) if word]
    if isinstance(value, list) and all(isinstance(w, str) for w in value):
        return value
    raise RowError(where, "must be a list of words")


def _objects(row: dict[str, Any], key: str, needs: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(field path, object) of each object in the list ``row[key]``."""
    items = row.get(key) or []
    if not isinstance(items, list):
        raise RowError(key, "must be a list")
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise RowError(f"{key}[{n}]", f"must be an object with {needs}")
        yield f"{key}[{n}]", item


def party_of(row: dict[str, Any], source_system: str) -> pb.ImportedParty:
    """The ImportedParty of one row in the JSONL shape (CSV rows are reshaped by :func:`_csv_row`)."""
    party = pb.ImportedParty(
        source_system=_text(row, "source_system") or source_system,
        external_id=_text(row, "external_id"),
        kind=_enum(types_pb2.PartyKind, "PARTY_KIND_", row.get("kind") or "person", "kind"),
        display_name=_text(row, "display_name"),
    )
    party.roles.extend(_enum(types_pb2.PartyRole, "PARTY_ROLE_", w, "roles") for w in _words(row.get("roles"), "roles"))
    for where, identifier in _objects(row, "identifiers", "type and value"):
        party.identifiers.add(
            type=_enum(types_pb2.IdentifierType, "IDENTIFIER_TYPE_", identifier.get("type"), f"{where}.type"),
            value=_text(identifier, "value"),
            namespace=_text(identifier, "namespace"),
        )
    for where, consent in _objects(row, "consents", "channel and status"):
        message = party.consents.add(
            channel=_enum(types_pb2.Channel, "CHANNEL_", consent.get("channel"), f"{where}.channel"),
            status=_enum(types_pb2.ConsentStatus, "CONSENT_STATUS_", consent.get("status"), f"{where}.status"),
            source=_text(consent, "source"),
        )
        if consent.get("time"):
            message.time.CopyFrom(_timestamp(consent["time"], f"{where}.time"))
    party.preferred_channels.extend(
        _enum(types_pb2.Channel, "CHANNEL_", w, "preferred_channels")
        for w in _words(row.get("preferred_channels"), "preferred_channels")
    )
    return party


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row in the JSONL shape: identifier columns and consent_<channel> columns become lists."""
    shaped = {key: row.get(key) for key in _CSV_KNOWN}
    shaped["identifiers"] = [
        {"type": column, "value": value}
        for column in row
        if column in _IDENTIFIER_TYPES
        for value in _words(row[column], column)
    ]
    shaped["consents"] = [
        {"channel": column.removeprefix("consent_"), "status": row[column].strip()}
        for column in row
        if column and column.startswith("consent_") and row[column] and row[column].strip()
    ]
    return shaped


def rows(path: Path, file_format: FileFormat) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(line number, row or why it cannot be read) for every row of the file."""
    chosen = resolved(path, file_format)
    with path.open(encoding="utf-8", newline="") as handle:
        if chosen is FileFormat.csv:
            reader = csv.DictReader(handle)
            for row in reader:
                yield reader.line_num, _csv_row(row)
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                yield number, RowError("", "not a JSON object")
                continue
            yield number, row if isinstance(row, dict) else RowError("", "not a JSON object")


def resolved(path: Path, file_format: FileFormat) -> FileFormat:
    if file_format is FileFormat.auto:
        return FileFormat.csv if path.suffix.lower() == ".csv" else FileFormat.jsonl
    return file_format


def check_header(path: Path, file_format: FileFormat) -> None:
    """A CSV file's header names the columns every row needs."""
    if resolved(path, file_format) is not FileFormat.csv:
        return
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle), [])
    missing = {"external_id", "display_name"} - set(header)
    if missing:
        raise UnreadableFile(f"the CSV header lacks {', '.join(sorted(missing))}")


def count_rows(path: Path, file_format: FileFormat) -> int:
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return lines - 1 if resolved(path, file_format) is FileFormat.csv else lines


# ------------------------------------------------------------------------------------------- the command


def import_file(
    stub: pb_grpc.IdentityServiceStub, path: Path, file_format: FileFormat, source_system: str, console: Console
) -> Summary:
    """Stream every readable row of ``path`` to ImportParties; the outcomes, with a progress bar meanwhile."""
    summary = Summary()
    sent_lines: list[int] = []
    progress = progress_bar(console, remaining=True, transient=False, disable=False)

    unreadable_file: list[str] = []

    def requests() -> Iterator[pb.ImportPartiesRequest]:
        frame: list[pb.ImportedParty] = []
        framed = 0  # the bytes of the parties in frame
        try:
            for line, row in rows(path, file_format):
                try:
                    if isinstance(row, RowError):
                        raise row
                    party = party_of(row, source_system)
                except RowError as unreadable:
                    summary.rejects.append((line, unreadable.field, "UNREADABLE", unreadable.description))
                    progress.advance(task)
                    continue
                size = party.ByteSize()
                if frame and (len(frame) == FRAME_PARTIES or framed + size > FRAME_BYTES):
                    yield pb.ImportPartiesRequest(parties=frame)
                    frame, framed = [], 0
                sent_lines.append(line)
                frame.append(party)
                framed += size
        except (UnicodeDecodeError, csv.Error) as broken:
            unreadable_file.append(
                f"the file cannot be read past line {len(sent_lines) + len(summary.rejects)}: {type(broken).__name__}"
            )
        if frame:
            yield pb.ImportPartiesRequest(parties=frame)

    with progress:
        task = progress.add_task("importing", total=count_rows(path, file_format))
        for answer in stub.ImportParties(requests()):
            for result in answer.results:
                line = sent_lines[result.index]
                if result.outcome == pb.IMPORT_OUTCOME_IMPORTED:
                    summary.imported += 1
                elif result.outcome == pb.IMPORT_OUTCOME_ALREADY_IMPORTED:
                    summary.already_imported += 1
                else:
                    summary.rejects.extend((line, v.field, v.rule, v.description) for v in result.violations)
                    if not result.violations:
                        summary.rejects.append((line, "", "", "rejected"))
            progress.advance(task, len(answer.results))
    if unreadable_file:
        raise UnreadableFile(unreadable_file[0])
    return summary


def print_summary(summary: Summary, console: Console) -> None:
    console.print(
        f"imported {summary.imported}, already imported {summary.already_imported}, rejected {summary.rejected}"
    )
    if not summary.rejects:
        return
    table = Table("line", "field", "rule", "why", title="rejects")
    for line, where, rule, description in sorted(summary.rejects)[:SHOWN_REJECTS]:
        table.add_row(str(line), where, rule, description)
    console.print(table)
    if len(summary.rejects) > SHOWN_REJECTS:
        console.print(f"... and {len(summary.rejects) - SHOWN_REJECTS} more")


def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="a CSV or JSONL file"),  # noqa: B008
    address: str = typer.Option("127.0.0.1:50051", help="host:port of the identity service"),
    file_format: FileFormat = typer.Option(FileFormat.auto, "--format", help="csv, jsonl, or auto (by suffix)"),  # noqa: B008
    source_system: str = typer.Option("", help="the source system of rows that name none"),
) -> None:
    """Import parties from a CSV or JSONL file; prints a summary of the outcomes and of every reject."""
    console = Console()
    with client.channel(address, credentials_dir()) as channel:
        try:
            check_header(file, file_format)
            summary = import_file(pb_grpc.IdentityServiceStub(channel), file, file_format, source_system, console)
        except grpc.RpcError as error:
            typer.secho(
                f"chorus: the import stopped: {error.code().name} ({error.details()})", err=True, fg=typer.colors.RED
            )
            raise typer.Exit(code=2) from None
        except (UnreadableFile, UnicodeDecodeError) as unreadable:
            typer.secho(
                f"chorus: {unreadable if isinstance(unreadable, UnreadableFile) else 'not UTF-8 text'}",
                err=True,
                fg=typer.colors.RED,
            )
            raise typer.Exit(code=2) from None
    print_summary(summary, console)
    if summary.rejects:
        raise typer.Exit(code=1)

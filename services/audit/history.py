"""What the auditor reads: the decoded history (``replay``, ``export``, ``receipts``) and experiences ``as of``.

Events are decoded with the contracts alone (:func:`services.common.projections.reader.decode`). A party's
history is every event of its identity aggregates (the party, the parties merged into it, the identifier claims
it holds) and of the touchpoints attributed to it, as the experience projections attribute them at the end of the
range read. ``as of`` replays the experience projections (:class:`~services.experience.projection.ExperienceProjection`)
into an in-memory view up to a past time or stream sequences, then asks the experience application's own
``experience()`` of it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.protobuf import json_format

from services.audit.stream import last_sequence, messages
from services.common.contracts import micros
from services.common.eventstore import IDS_PER_MESSAGE, StoredMessage, StreamLayout, notification_id
from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.digest import DIGEST_HEADER
from services.common.projections import ProjectionRunner
from services.common.projections.reader import decode, stored_time
from services.experience.application import ExperienceApplication, ExperienceSettings
from services.experience.projection import IDENTITY, TOUCHPOINTS, ExperienceProjection

#: The topic of an erasure receipt (recorded by identity's ForgetParty).
PARTY_FORGOTTEN = "chorus.identity.events.v1.PartyForgotten"


@dataclass(frozen=True)
class Range:
    """Which part of a stream to read: stream sequences and stored times, all bounds inclusive but ``until``."""

    from_seq: int = 1
    to_seq: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def event_rows(
    connection: JetStreamConnection,
    app: str,
    bounds: Range = Range(),
    *,
    namespace: str = "chorus",
    aggregates: set[str] | None = None,
    topics: set[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """One dict per stored event of ``app``'s stream in ``bounds`` (optionally only these aggregates or topics)."""
    layout = StreamLayout(app, namespace=namespace)
    end = last_sequence(connection, layout)
    if bounds.to_seq is not None:
        end = min(end, bounds.to_seq)
    tick = (lambda seq: progress(seq, end)) if progress is not None else None
    for stored in messages(
        connection, layout, start=bounds.from_seq, end=end, subject_filter=layout.events_filter, progress=tick
    ):
        for event in decode(layout.app, stored):
            moment = stored_time(event)
            if moment is not None and (
                (bounds.since and moment < bounds.since) or (bounds.until and moment >= bounds.until)
            ):
                continue
            if aggregates is not None and event.aggregate_id not in aggregates:
                continue
            if topics is not None and event.topic not in topics:
                continue
            row: dict[str, Any] = {
                "app": layout.app,
                "seq": stored.seq,
                "id": event.sequence,
                "aggregate": event.aggregate_id,
                "version": event.version,
                "topic": event.topic,
                "stored_at": event.stored_at,
                "correlation_id": event.correlation_id,
                "causation_id": event.causation_id,
                "digest": stored.headers.get(DIGEST_HEADER, ""),
                "event": (
                    json_format.MessageToDict(event.message, preserving_proto_field_name=True)
                    if event.message is not None
                    else None
                ),
            }
            if event.message is None:
                row["undecodable"] = event.undecodable
            yield row


def export_rows(
    connection: JetStreamConnection,
    app: str,
    *,
    namespace: str = "chorus",
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every stored message of the stream as it is (subject, Chorus headers, payload in base64), with its events
    decoded: enough for another tool to recompute the digests and decode the payloads itself."""
    layout = StreamLayout(app, namespace=namespace)
    end = last_sequence(connection, layout)
    tick = (lambda seq: progress(seq, end)) if progress is not None else None
    for stored in messages(connection, layout, end=end, progress=tick):
        yield _export_row(layout, stored)


def _export_row(layout: StreamLayout, stored: StoredMessage) -> dict[str, Any]:
    row: dict[str, Any] = {
        "app": layout.app,
        "seq": stored.seq,
        "subject": stored.subject,
        "stored_at": stored.headers.get("Nats-Time-Stamp", ""),
        "headers": {name: value for name, value in sorted(stored.headers.items()) if name.startswith("Chorus-")},
        "data_b64": base64.b64encode(stored.data).decode(),
    }
    if stored.subject.startswith(layout.events_prefix):
        row["events"] = [
            {
                "id": event.sequence,
                "version": event.version,
                "topic": event.topic,
                "event": (
                    json_format.MessageToDict(event.message, preserving_proto_field_name=True)
                    if event.message is not None
                    else None
                ),
            }
            for event in decode(layout.app, stored)
        ]
    return row


# ---------------------------------------------------------------------------------------------- as of


@dataclass(frozen=True)
class Point:
    """A past moment: a stored time, or a stream sequence per upstream role (``identity``, ``touchpoints``)."""

    at: datetime | None = None
    sequences: Mapping[str, int] | None = None


@contextlib.contextmanager
def experience_as_of(
    connection: JetStreamConnection,
    point: Point = Point(),
    *,
    apps: Mapping[str, str] | None = None,
    default_region: str | None = None,
) -> Iterator[ExperienceApplication]:
    """The experience application over an in-memory view replayed up to ``point`` (to the end when unbounded).

    ``apps`` maps the roles ``identity`` and ``touchpoints`` to their application names;
    :class:`~services.audit.stream.UnreadableStream` when one of their streams cannot be read. Only read from the
    application: its own runner never runs.
    """
    upstream_apps = {IDENTITY: IDENTITY, TOUCHPOINTS: TOUCHPOINTS, **(apps or {})}
    for name in upstream_apps.values():  # a stream that is missing or closed to us is an error, not an empty past
        last_sequence(connection, StreamLayout(name))
    app = ExperienceApplication(
        connection, "sqlite://:memory:", ExperienceSettings(upstream_apps=upstream_apps, default_region=default_region)
    )
    try:
        stop_at = {
            upstream_apps[role]: notification_id(seq, IDS_PER_MESSAGE - 1)
            for role, seq in (point.sequences or {}).items()
        }
        runner = ProjectionRunner(
            ExperienceProjection(app.view, default_region=default_region),
            app.readers,
            stop_at=stop_at or None,
            stop_before=point.at,
            name="audit-as-of",
        )
        runner.run_to_end()
        yield app
    finally:
        app.close()


def is_empty(app: ExperienceApplication) -> bool:
    """Whether the view holds nothing at all (the point lies before the first event)."""
    return not any(app.view.dump().values())


def moment_of(connection: JetStreamConnection, point: Point, apps: Mapping[str, str] | None = None) -> int | None:
    """The "now" of ``point`` in microseconds: its time, or when the newest message at its sequences was stored."""
    if point.at is not None:
        return micros(point.at)
    upstream_apps = {IDENTITY: IDENTITY, TOUCHPOINTS: TOUCHPOINTS, **(apps or {})}
    newest = None
    for role, seq in (point.sequences or {}).items():
        layout = StreamLayout(upstream_apps[role])
        end = min(seq, last_sequence(connection, layout))
        stored = connection.call(functools.partial(connection.message_at, layout.stream, end)) if end > 0 else None
        moment = stored_time_of(stored) if stored is not None else None
        if moment is not None and (newest is None or moment > newest):
            newest = moment
    return micros(newest) if newest is not None else None


def stored_time_of(stored: StoredMessage) -> datetime | None:
    return next((stored_time(event) for event in decode("", stored)), None)


def party_aggregates(app: ExperienceApplication, party_id: str) -> dict[str, set[str]]:
    """Role -> the aggregate ids of a live party's history (see the module docstring)."""
    merged = app.view.merged_into(party_id)
    claims = {claim["identifier_id"] for claim in app.view.claims_of(party_id)}
    touchpoints = {row["touchpoint_id"] for row in app.view.interactions_of(party_id)}
    return {IDENTITY: {party_id, *merged, *claims}, TOUCHPOINTS: touchpoints}

"""``chorus experience show|rebuild``: one party's holistic experience, and rebuilding the views, through the
experience API."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as xpb
from services.client.runtime import (
    Endpoint,
    as_json,
    console,
    print_answer,
    print_json,
    progress_bar,
    subcommand,
)
from services.client.values import (
    IDENTIFIER_HELP,
    clip,
    is_uuid,
    parse_identifier,
    parse_time,
    show_duration,
    show_identifier,
    show_time,
    word,
)

app = typer.Typer(no_args_is_help=True, help="One party's holistic experience; the views behind it.")


def selector(raw: str) -> xpb.PartySelector:
    """A party id, or an identifier in TYPE:VALUE form."""
    if is_uuid(raw):
        return xpb.PartySelector(party_id=raw)
    return xpb.PartySelector(identifier=parse_identifier(raw, "party"))


def _counts(counts: list[xpb.Count]) -> str:
    return ", ".join(f"{count.key} {count.count}" for count in counts)


def render_experience(experience: xpb.Experience, timeline: list[xpb.TimelineEntry]) -> None:
    """The experience as a summary table, then its timeline (newest first)."""
    name = experience.display_name or "(no name)"
    summary = Table(
        title=f"{name}: the holistic experience of party {experience.party_id}", show_header=False, title_justify="left"
    )
    summary.add_column("", style="bold")
    summary.add_column("")
    trend = word(xpb.Trend.DESCRIPTOR, experience.sentiment.trend) or "too few points"
    sociability = experience.sociability
    rows = [
        ("identifiers", "\n".join(show_identifier(i) for i in experience.identifiers)),
        ("merged in", ", ".join(experience.merged_party_ids)),
        (
            "interactions",
            f"{experience.interactions} (listen {experience.listen} : talk {experience.talk}), "
            f"{show_time(experience.first_interaction)} → {show_time(experience.last_interaction)}",
        ),
        ("by channel", _counts(list(experience.by_channel))),
        ("by kind", _counts(list(experience.by_kind))),
        ("by intent", _counts(list(experience.by_intent))),
        (
            "sentiment",
            f"{trend}: earlier {experience.sentiment.earlier_mean:+.2f}, "
            f"recent {experience.sentiment.recent_mean:+.2f}",
        ),
        (
            "sociability",
            f"now {word(types.SociabilityDegree.DESCRIPTOR, sociability.now) or '-'}, "
            f"{word(xpb.Trend.DESCRIPTOR, sociability.trend) or 'no trend'}"
            + (" — becoming a social customer" if sociability.becoming_social else ""),
        ),
        (
            "influence",
            f"{experience.influence.score:.2f} ({experience.influence.public_interactions} public, "
            f"at most {experience.influence.max_followers} followers)",
        ),
        (
            "responses",
            f"{experience.responses.answered} answered, median "
            f"{show_duration(experience.responses.median) or '-'}, slowest "
            f"{show_duration(experience.responses.slowest) or '-'}",
        ),
        (
            "awaiting a reply",
            "\n".join(
                f"{word(types.Channel.DESCRIPTOR, a.channel)} {word(types.Intent.DESCRIPTOR, a.intent)}, "
                f"waiting {show_duration(a.waiting)}"
                for a in experience.awaiting
            )
            or "nothing",
        ),
        (
            "at risk",
            ("YES: " if experience.at_risk.at_risk else "no; ")
            + ("last experience negative, " if experience.at_risk.last_experience_negative else "")
            + f"quiet for {show_duration(experience.at_risk.quiet_for) or '-'}",
        ),
        ("contact", "do not contact" if experience.contact.do_not_contact else "allowed where consented"),
    ]
    for label, value in rows:
        if value:
            summary.add_row(label, value)
    console.print(summary)
    if not timeline:
        return
    table = Table(title=f"Timeline ({len(timeline)} newest)", title_justify="left")
    for column in ("when", "channel", "dir", "kind", "intent", "sentiment", "answered", "text"):
        table.add_column(column)
    for entry in timeline:
        inbound = entry.direction == types.DIRECTION_INBOUND
        table.add_row(
            show_time(entry.occurred_at),
            word(types.Channel.DESCRIPTOR, entry.channel),
            "in" if inbound else "out",
            "touch" if entry.kind == types.TOUCHPOINT_KIND_TOUCHPOINT else "non-touch",
            word(types.Intent.DESCRIPTOR, entry.intent),
            f"{entry.sentiment_score:+.2f}",
            (f"in {show_duration(entry.response_time)}" if entry.answered else "no") if inbound else "",
            clip(entry.text, 50),
        )
    console.print(table)


@subcommand(app, "experience")
def show(
    experience: Endpoint,
    party: Annotated[str, typer.Argument(help=f"a party id, or an identifier it holds: {IDENTIFIER_HELP}")],
    timeline: Annotated[int, typer.Option(min=0, max=1000, help="how many timeline entries to show")] = 20,
    as_of: Annotated[str, typer.Option(help="judge waiting and silence as of: ISO 8601 or a span back")] = "",
) -> None:
    """Show a party's holistic experience and its newest interactions (exit code 1 when no party matches)."""
    request = xpb.GetExperienceRequest(party=selector(party))
    if as_of:
        request.as_of_time.CopyFrom(parse_time(as_of, "--as-of"))
    with experience.connect() as service:
        reply = service.call(service.stub.GetExperience, request)
        entries = (
            list(
                service.call(
                    service.stub.ListTimeline, xpb.ListTimelineRequest(party=request.party, page_size=timeline)
                ).entries
            )
            if timeline
            else []
        )
    print_answer(
        {"experience": reply.experience, "timeline": entries},
        lambda: render_experience(reply.experience, entries),
    )


def views_lag(status: xpb.GetViewsStatusResponse) -> int:
    return sum(upstream.lag for upstream in status.upstreams)


@subcommand(app, "experience")
def rebuild(
    experience: Endpoint,
    wait: Annotated[bool, typer.Option(help="follow the rebuild until the new views answer")] = True,
    poll: Annotated[float, typer.Option(min=0.05, help="seconds between status reads")] = 0.5,
) -> None:
    """Rebuild the experience views from sequence 1 beside the live ones, then follow it until they swap."""
    with experience.connect() as service:
        started = service.call(service.stub.RebuildViews, xpb.RebuildViewsRequest())
        status = service.call(service.stub.GetViewsStatus, xpb.GetViewsStatusRequest())
        if wait:
            with progress_bar(disable=as_json() or None) as progress:
                task = progress.add_task(f"rebuilding generation {started.generation}", total=None)
                while status.generation < started.generation or status.rebuilding_generation:
                    applied = sum(u.applied for u in status.rebuild_upstreams)
                    left = sum(u.lag for u in status.rebuild_upstreams)
                    progress.update(task, completed=applied, total=applied + left or None)
                    time.sleep(poll)
                    status = service.call(service.stub.GetViewsStatus, xpb.GetViewsStatusRequest())
    if as_json():
        print_json({"rebuild": started, "status": status})
        return
    verb = "started" if started.started else "was already running"
    done = "; it answers reads now" if wait else ""
    console.print(f"rebuild of generation {started.generation} {verb}{done}")
    render_status(status)


def render_status(status: xpb.GetViewsStatusResponse) -> None:
    table = Table(
        title=f"Views: generation {status.generation}, "
        f"{'healthy' if status.healthy else 'NOT following its upstreams'}, "
        f"{status.quarantined} quarantined",
        title_justify="left",
    )
    for column in ("upstream", "applied", "lag"):
        table.add_column(column)
    for upstream in status.upstreams:
        table.add_row(upstream.upstream, str(upstream.applied), str(upstream.lag))
    console.print(table)


@subcommand(app, "experience")
def status(
    experience: Endpoint,
) -> None:
    """How far the views have applied each upstream, their lag, quarantine and any rebuild."""
    reply = experience.call("GetViewsStatus", xpb.GetViewsStatusRequest())
    print_answer(reply, lambda: render_status(reply))

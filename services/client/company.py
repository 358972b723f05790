"""``chorus queue``, ``chorus pulse``, ``chorus suggestions``: the company's views, through the experience API.

- ``queue``: what needs a company reply now, highest score first, each item with its score's parts (weight ×
  value = contribution, and the value in words), so it says why it ranks where it does; ``--lens`` reads it as
  service, marketing, PR, sales or product.
- ``pulse``: volume, listen : talk, sentiment and response times per channel and bucket.
- ``suggestions``: suggestions grouped by what they ask for, across distinct parties (co-creation signals).

Each exits with code 1 when there is nothing to show.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as xpb
from services.client.runtime import Endpoint, command, console, print_rows
from services.client.values import clip, optional_word, parse_time, parse_word, show_duration, show_time, word

Channel = Annotated[str, typer.Option(help="only this channel (x, email, forum, …)")]


def render_queue(reply: xpb.ListAttentionResponse, lens: str) -> None:
    table = Table(
        title=f"Attention queue, {lens} lens: {len(reply.items)} of {reply.total} waiting, highest score first",
        title_justify="left",
        show_lines=True,
    )
    for column in ("#", "score", "channel", "intent", "waited", "party", "text", "why (weight × value = part)"):
        table.add_column(column, overflow="fold")
    for rank, item in enumerate(reply.items, start=1):
        why = "\n".join(
            f"{p.name} {p.weight:g} × {p.value:.2f} = {p.contribution:.2f}  {p.explanation}"
            for p in item.parts
            if p.contribution
        )
        table.add_row(
            str(rank),
            f"{item.score:.2f}",
            word(types.Channel.DESCRIPTOR, item.channel)
            + (" (public)" if item.visibility == types.VISIBILITY_PUBLIC else ""),
            word(types.Intent.DESCRIPTOR, item.intent),
            show_duration(item.waiting),
            item.party_id[:8] or "(unknown)",
            clip(item.text, 40),
            why,
        )
    console.print(table)


def render_pulse(reply: xpb.GetPulseResponse, title: str) -> None:
    table = Table(title=f"{title} (talk share guidance {reply.talk_share_guidance:.0%})", title_justify="left")
    for column in (
        "from",
        "channel",
        "volume",
        "listen",
        "talk",
        "talk share",
        "sentiment",
        "reply p50",
        "reply p90",
        "within bar",
        "non-touch",
    ):
        table.add_column(column, justify="right")
    for bucket in reply.buckets:
        table.add_row(
            show_time(bucket.start)[:10],
            word(types.Channel.DESCRIPTOR, bucket.channel),
            str(bucket.volume),
            str(bucket.inbound),
            str(bucket.outbound),
            f"{bucket.talk_share:.0%}",
            f"{bucket.mean_sentiment:+.2f}",
            show_duration(bucket.response_p50) or "-",
            show_duration(bucket.response_p90) or "-",
            f"{bucket.answered_within_bar_share:.0%}" if bucket.answered else "-",
            f"{bucket.non_touchpoint_share:.0%}",
        )
    console.print(table)


def render_suggestions(reply: xpb.ListSuggestionsResponse) -> None:
    table = Table(title="Co-creation signals: suggestions grouped by what they ask for", title_justify="left")
    for column in ("asks for", "parties", "suggestions", "earlier", "recent", "trend"):
        table.add_column(column)
    for group in reply.groups:
        table.add_row(
            group.topic,
            str(group.parties),
            str(group.suggestions),
            str(group.earlier),
            str(group.recent),
            word(xpb.Trend.DESCRIPTOR, group.trend) or "-",
        )
    console.print(table)


@command("experience")
def queue(
    experience: Endpoint,
    lens: Annotated[str, typer.Option(help="service, marketing, pr, sales or product")] = "service",
    channel: Channel = "",
    limit: Annotated[int, typer.Option(min=1, max=1000, help="how many items")] = 20,
    as_of: Annotated[str, typer.Option(help="judge waiting as of: ISO 8601 or a span back from now")] = "",
) -> None:
    """The attention queue: what needs a company reply now, and why each item ranks where it does."""
    request = xpb.ListAttentionRequest(
        lens=parse_word(xpb.Lens.DESCRIPTOR, lens, "--lens"),
        page_size=limit,
        channel=optional_word(types.Channel.DESCRIPTOR, channel, "--channel"),
    )
    if as_of:
        request.as_of_time.CopyFrom(parse_time(as_of, "--as-of"))
    reply = experience.call("ListAttention", request)
    print_rows(
        reply.items,
        lambda: render_queue(reply, word(xpb.Lens.DESCRIPTOR, request.lens)),
        "nothing: no interaction waits for a reply",
    )


@command("experience")
def pulse(
    experience: Endpoint,
    bucket: Annotated[str, typer.Option(help="hour, day or week")] = "day",
    channel: Channel = "",
    since: Annotated[str, typer.Option(help="from: ISO 8601 or a span back from now (default 30 days)")] = "",
    until: Annotated[str, typer.Option(help="until: ISO 8601 or a span back from now (default now)")] = "",
) -> None:
    """The brand pulse: volume, listen : talk, sentiment and response times per channel and bucket."""
    request = xpb.GetPulseRequest(
        bucket=parse_word(xpb.Bucket.DESCRIPTOR, bucket, "--bucket"),
        channel=optional_word(types.Channel.DESCRIPTOR, channel, "--channel"),
    )
    if since:
        request.since.CopyFrom(parse_time(since, "--since"))
    if until:
        request.until.CopyFrom(parse_time(until, "--until"))
    reply = experience.call("GetPulse", request)
    title = f"Brand pulse per {word(xpb.Bucket.DESCRIPTOR, request.bucket)} and channel"
    print_rows(reply.buckets, lambda: render_pulse(reply, title), "nothing: no interaction in that period")


@command("experience")
def suggestions(
    experience: Endpoint,
    min_parties: Annotated[int, typer.Option(min=1, help="groups with at least this many distinct parties")] = 1,
    since: Annotated[str, typer.Option(help="from: ISO 8601 or a span back from now (default 90 days)")] = "",
    limit: Annotated[int, typer.Option(min=1, max=1000, help="how many groups")] = 20,
) -> None:
    """Co-creation signals: suggestions grouped by what they ask for, most parties first."""
    request = xpb.ListSuggestionsRequest(min_parties=min_parties, page_size=limit)
    if since:
        request.since.CopyFrom(parse_time(since, "--since"))
    reply = experience.call("ListSuggestions", request)
    print_rows(reply.groups, lambda: render_suggestions(reply), "nothing: no suggestion in that period")

"""``chorus demo``: load the demo story (``services.client.story``) into a running Chorus through its public gRPC
APIs, wait for the experience views to catch up, and show what Chorus makes of it.

Loading, in the order a real ecosystem would produce it: the parties identity knows (registered concurrently),
every touchpoint streamed through ``RecordTouchpointStream``, the identifiers identity learns late, then a wrong
merge and its undoing. The views have caught up when ``GetViewsStatus`` shows no lag on either upstream twice in
a row with nothing applied in between. Then four tables: Jane Smith's holistic experience, the attention queue
with each item's reasons, the brand pulse per week and channel, and the co-creation signals (suggestion groups).

The story is loaded once per Chorus: when identity already holds Jane Smith's e-mail, loading is skipped and the
tables are shown from what is there.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Annotated

import typer
from rich.progress import Progress

from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as xpb
from chorus.identity.v1 import identity_service_pb2 as ipb
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from services.client import story
from services.client.company import render_pulse, render_queue, render_suggestions
from services.client.experience import render_experience, views_lag
from services.client.runtime import (
    FAILED,
    REFUSED,
    UNAVAILABLE,
    CommandFailed,
    Endpoint,
    Service,
    command,
    console,
    progress_bar,
)
from services.client.touchpoint import stream_touchpoints

#: Concurrent unary calls to identity while loading.
IDENTITY_CALLS_IN_FLIGHT = 8
#: How often a call that lost to a concurrent write (ABORTED) is retried.
RETRIES = 5


class DemoSize(str, Enum):
    small = "small"
    full = "full"


def _register_all(identity: Service, parties: list[story.Party], progress: Progress) -> list[str]:
    task = progress.add_task("registering parties", total=len(parties))

    def register(party: story.Party) -> str:
        reply = identity.call(identity.stub.RegisterParty, party.request, retries=RETRIES)
        progress.advance(task)
        return reply.party.party_id

    with ThreadPoolExecutor(IDENTITY_CALLS_IN_FLIGHT) as pool:
        return list(pool.map(register, parties))


def _link_late(identity: Service, parties: list[story.Party], ids: list[str], progress: Progress) -> int:
    links = [(party_id, identifier) for party, party_id in zip(parties, ids, strict=True) for identifier in party.late]
    task = progress.add_task("linking identifiers late", total=len(links))

    def link(pair: tuple[str, types.Identifier]) -> None:
        identity.call(
            identity.stub.LinkIdentifier,
            ipb.LinkIdentifierRequest(
                party_id=pair[0],
                identifier=pair[1],
                evidence=ipb.Evidence(
                    source="support-call", rule="confirmed by the customer", asserted_by="chorus-demo"
                ),
            ),
            retries=RETRIES,
        )
        progress.advance(task)

    with ThreadPoolExecutor(IDENTITY_CALLS_IN_FLIGHT) as pool:
        list(pool.map(link, links))
    return len(links)


def _labelled(items: list[tpb.TouchpointInput]) -> Iterator[tuple[int, tpb.TouchpointInput]]:
    yield from enumerate(items)


def _wait_for_views(experience: Service, progress: Progress, patience: float) -> xpb.GetViewsStatusResponse:
    """Until both upstreams show no lag twice in a row with the same applied positions."""
    task = progress.add_task("experience views catching up", total=None)
    give_up = time.monotonic() + patience
    previous: tuple[int, ...] | None = None
    while True:
        status = experience.call(experience.stub.GetViewsStatus, xpb.GetViewsStatusRequest())
        applied = tuple(upstream.applied for upstream in status.upstreams)
        lag = views_lag(status)
        progress.update(task, completed=sum(applied), total=sum(applied) + lag)
        if lag == 0 and applied == previous and status.healthy:
            return status
        previous = applied if lag == 0 else None
        if time.monotonic() > give_up:
            raise CommandFailed(
                UNAVAILABLE,
                f"unavailable: the experience views still lag {lag} events behind "
                f"after {patience:.0f} s (chorus experience status shows them)",
            )
        time.sleep(0.25)


@command("identity", "touchpoints", "experience", json=False)
def demo(
    size: Annotated[
        DemoSize, typer.Option(help="small: a few hundred interactions (CI); full: tens of thousands")
    ] = DemoSize.full,
    seed: Annotated[int, typer.Option(help="the same seed makes the same brand month")] = 7,
    patience: Annotated[float, typer.Option(min=1, help="seconds to wait for the views to catch up")] = 300.0,
    *,
    identity: Endpoint,
    touchpoints: Endpoint,
    experience: Endpoint,
) -> None:
    """Load Jane Smith's journey and a synthetic brand's month into a running Chorus (``chorus up``), through
    the gRPC APIs, then show her experience, the attention queue, the brand pulse and co-creation signals."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with (
        identity.connect() as identity_service,
        touchpoints.connect() as touchpoints_service,
        experience.connect() as experience_service,
    ):
        started = time.monotonic()
        if _loaded_before(identity_service):
            console.print("The demo story is already loaded in this Chorus; showing what it holds.", soft_wrap=True)
        else:
            _load(identity_service, touchpoints_service, size, seed, now)
        loaded = time.monotonic()
        with progress_bar() as progress:
            _wait_for_views(experience_service, progress, patience)
        caught_up = time.monotonic()
        console.print(
            f"Loaded in {loaded - started:.1f} s; the experience views caught up "
            f"{caught_up - loaded:.1f} s later ({caught_up - started:.1f} s in all).",
            soft_wrap=True,
        )
        _show(experience_service, now)


def _loaded_before(identity: Service) -> bool:
    """Whether an earlier run loaded the story (Jane's last late link is there); a run that stopped half-way
    cannot be completed (its parties exist, their identifiers are taken), so it is refused."""
    jane = identity.call(identity.stub.SearchParties, ipb.SearchPartiesRequest(identifier=story.JANE_EMAIL)).parties
    if not jane:
        return False
    last_link = story.JANE_SPELLED["review"][1]
    if identity.call(identity.stub.SearchParties, ipb.SearchPartiesRequest(identifier=last_link)).parties:
        return True
    raise CommandFailed(
        REFUSED,
        "failed precondition: an earlier `chorus demo` stopped before it had loaded "
        "everything; run it against a fresh Chorus (chorus up --data-dir NEW_DIR)",
    )


def _load(identity: Service, touchpoints: Service, size: DemoSize, seed: int, now: datetime) -> None:
    full = story.jane(now)
    full.extend(story.brand_month(seed, story.SIZES[size.value], now))
    clock = [time.monotonic()]
    with progress_bar() as progress:
        ids = _register_all(identity, full.parties, progress)
        clock.append(time.monotonic())
        outcomes = stream_touchpoints(
            touchpoints,
            _labelled(full.touchpoints),
            progress=progress,
            total=len(full.touchpoints),
            description="recording touchpoints",
            deadline=max(600.0, len(full.touchpoints) / 50),
        )
        clock.append(time.monotonic())
        linked = _link_late(identity, full.parties, ids, progress)
    if outcomes.rejects:
        raise CommandFailed(
            FAILED,
            f"internal: the service rejected {len(outcomes.rejects)} demo touchpoints "
            f"(the first: {outcomes.rejects[0][1]})",
        )
    if full.wrong_merge is not None:
        target, source = (ids[n] for n in full.wrong_merge)
        identity.call(
            identity.stub.MergeParties,
            ipb.MergePartiesRequest(
                target_party_id=target,
                source_party_id=source,
                evidence=ipb.Evidence(source="agent", rule="same name and town", asserted_by="chorus-demo"),
            ),
        )
        identity.call(
            identity.stub.UnmergeParty,
            ipb.UnmergePartyRequest(
                party_id=source,
                evidence=ipb.Evidence(source="agent", rule="different people: wrong merge", asserted_by="chorus-demo"),
            ),
        )
    clock.append(time.monotonic())
    console.print(
        f"Recorded {outcomes.recorded} touchpoints ({outcomes.already_recorded} already there) for "
        f"{len(ids)} parties; linked {linked} identifiers late; merged "
        f"{'one pair by mistake and undid it' if full.wrong_merge else 'nobody'}.",
        soft_wrap=True,
    )
    registering, recording, linking = (later - earlier for earlier, later in itertools.pairwise(clock))
    console.print(
        f"Registering took {registering:.1f} s, recording {recording:.1f} s "
        f"({outcomes.total / recording:.0f} touchpoints/s), linking and merging {linking:.1f} s.",
        soft_wrap=True,
    )


def _show(experience: Service, now: datetime) -> None:
    jane = xpb.PartySelector(identifier=story.JANE_EMAIL)
    reply = experience.call(experience.stub.GetExperience, xpb.GetExperienceRequest(party=jane))
    timeline = experience.call(experience.stub.ListTimeline, xpb.ListTimelineRequest(party=jane, page_size=20))
    console.rule("Jane Smith")
    render_experience(reply.experience, list(timeline.entries))
    console.rule("What needs a reply now")
    render_queue(
        experience.call(experience.stub.ListAttention, xpb.ListAttentionRequest(lens=xpb.LENS_SERVICE, page_size=10)),
        "service",
    )
    console.rule("The brand pulse")
    render_pulse(
        experience.call(experience.stub.GetPulse, xpb.GetPulseRequest(bucket=xpb.BUCKET_WEEK)),
        "Brand pulse per week and channel",
    )
    console.rule("Co-creation")
    month = xpb.ListSuggestionsRequest(min_parties=2, page_size=8)
    month.since.FromDatetime(now - timedelta(days=30))
    render_suggestions(experience.call(experience.stub.ListSuggestions, month))

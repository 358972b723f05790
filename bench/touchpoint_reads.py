"""Touchpoint index read benchmark: ListTouchpoints and GetTouchpoint opening sealed values, beside the same reads
with the opening taken out.

Run: ``python bench/touchpoint_reads.py`` (``--actors``, ``--per-actor`` touchpoints each, ``--rounds`` calls per
sample). One embedded nats-server (file storage in a temporary directory), the touchpoints service composed as
``chorus serve touchpoints`` composes it (keyring, key vault, SQLite index), called at the application
(``list_touchpoints`` by actor, a page of 50; ``get``). The index keeps personal data sealed and opens it when read
(``services/touchpoints/projection.py``); the baseline is the same call with ``projection.opened`` replaced by a
no-op, i.e. the documents as the index stores them, parsed: the read path before the index kept them sealed.
Each is the best of five samples, opened and baseline in turn; the ratio opened / baseline is printed, also for an actor whose key is
destroyed (its values read ``[erased]``: the vault is asked for the key once per page).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.common.config import Settings
from services.common.identifiers import Identifier, normalise
from services.common.logging import configure_logging
from services.common.nats_server import NatsServer
from services.common.privacy.keyring import installed
from services.touchpoints import projection
from services.touchpoints.domain import TouchpointDraft, touchpoint_id_for
from services.touchpoints.main import TouchpointsSettings, touchpoints_service


def compare(work: Callable[[], object], rounds: int, samples: int = 5) -> tuple[float, float]:
    """The fastest of ``samples`` runs of ``rounds`` calls, per call, opened and baseline, their samples taken
    in turn (so a busy moment of the machine falls on both)."""
    best = [float("inf"), float("inf")]
    for _ in range(samples):
        for side in (0, 1):
            with opening_off() if side else contextlib.nullcontext():
                started = time.perf_counter()
                for _ in range(rounds):
                    work()
                best[side] = min(best[side], (time.perf_counter() - started) / rounds)
    return best[0], best[1]


@contextlib.contextmanager
def opening_off() -> Iterator[None]:
    """Reads return the documents as stored (the baseline)."""
    real = projection.opened
    projection.opened = lambda doc, keys: doc  # type: ignore[assignment]
    try:
        yield
    finally:
        projection.opened = real


def drafts(actors: list[Identifier], per_actor: int) -> list[TouchpointDraft]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        TouchpointDraft(
            kind="touchpoint",
            channel="email",
            direction="inbound",
            visibility="private",
            occurred_at=now - timedelta(minutes=n),
            actors=(actor,),
            source_system="bench",
            external_id=f"{a}-{n}",
            external_url=f"https://mail.example.net/{a}/{n}",
            text=f"My order {a}-{n} has not arrived and nobody answers my e-mails",
            intent="complaint",
            sentiment_label="negative",
            sentiment_score=-0.5,
        )
        for a, actor in enumerate(actors)
        for n in range(per_actor)
    ]


def row(name: str, opened: float, baseline: float) -> str:
    return f"{name:<44} {opened * 1e6:9.1f} µs   baseline {baseline * 1e6:9.1f} µs   ratio {opened / baseline:5.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=100)
    parser.add_argument("--per-actor", type=int, default=50, help="touchpoints per actor (default 50)")
    parser.add_argument("--rounds", type=int, default=200, help="calls per sample (default 200)")
    args = parser.parse_args()
    configure_logging("warning", "console")
    with tempfile.TemporaryDirectory(prefix="chorus-bench-tp-reads-") as tmp:
        server = NatsServer(store_dir=Path(tmp) / "nats").start()
        try:
            settings = Settings(nats_url=server.url, views_url=f"sqlite:///{tmp}/views.db", data_dir=Path(tmp))
            with touchpoints_service(settings, TouchpointsSettings(app_name="bench_reads")) as app:
                actors = [Identifier("email", "", f"Person.{n}.{uuid.uuid4().hex[:6]}@Example.org") for n in range(2)]
                actors += [Identifier("email", "", f"p{n}@example.org") for n in range(2, args.actors)]
                work = drafts(actors, args.per_actor)
                for start in range(0, len(work), 500):
                    app.record_batch(work[start : start + 500])
                assert app.index_runner is not None
                app.index_runner.catch_up(timeout=120)
                live, erased = actors[0], actors[1]
                keyring = installed()
                assert keyring is not None
                keyring.destroy(normalise(erased.type, erased.namespace, erased.value).key)
                one = touchpoint_id_for("bench", "0-0")

                def listing(actor: Identifier) -> Callable[[], Any]:
                    return lambda: app.list_touchpoints(actor=actor, page_size=50)

                assert listing(erased)()[0][0]["text"] == "[erased]"
                assert listing(live)()[0][0]["text"].startswith("My order")
                measured = {
                    "ListTouchpoints by actor, page of 50": compare(listing(live), args.rounds),
                    "ListTouchpoints, an erased actor's page": compare(listing(erased), args.rounds),
                    "GetTouchpoint": compare(lambda: app.get(one), args.rounds),
                }
        finally:
            server.stop()
    print(f"{len(work)} touchpoints of {args.actors} actors; opened (this index) beside baseline (no opening)")
    for name, (opened, baseline) in measured.items():
        print(row(name, opened, baseline))


if __name__ == "__main__":
    main()

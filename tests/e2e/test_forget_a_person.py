"""Forgetting Jane Smith: after ForgetParty nothing she said or was called is readable anywhere Chorus keeps it.

The three services run on a nats-server of their own, so the test can scan its store files: the JetStream
streams, the key vault's bucket, the experience views (live and rebuilt from sequence 1), the bytes of the view
files identity and experience share (database, WAL and shared-memory index) and every log line the services
wrote must hold none of her identifier values, her name or her texts in clear, while what identifies nobody (how
many touchpoints there were) stays as it was.

The touchpoints index keeps its views in a file of its own in the first test (``touchpoints.db``), scanned too
(it keeps personal data sealed). The second test puts every service's views in one file, as ``chorus up`` does,
and traces each page holding something of hers to the table owning it: none may.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from chorus.identity.v1 import identity_service_pb2 as ipb
from services.common.nats_server import NatsServer
from services.common.projections import ProjectionRunner
from services.experience.projection import ExperienceProjection, ExperienceView
from services.touchpoints.projection import TouchpointIndex
from tests.e2e.test_jane_smith_experience import SPELLED, jane_story
from tests.support.stack import Stack, chorus_stack

HERS = (
    "Jane Smith",
    "jane.smith@example.com",
    "Jane.Smith@Example.COM",
    "+442079460958",
    "020 7946 0958",
    "janesmithtweets",
    "JaneSmithTweets",
    "janesmith.example.net",
    "JaneSmith.example.net",
    "R-778",
    "My boiler stopped heating",
    "How do I reset the thermostat",
    "still no heating after 3 days",
    "Three weeks with a broken boiler",
    "Anyone else's boiler losing pressure",
    "Please add a pressure gauge app",
    "Two stars. Broke within a month",
    "so sorry, an engineer will call you today",
)
NOT_HERS = "Same here, every week."  # another forum user's post in her thread


def clear_text_of_hers(data: bytes) -> list[str]:
    lowered = data.lower()
    return [value for value in HERS if value.lower().encode() in lowered]


def files_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


#: The view files scanned after the forget: identity's and experience's shared file, the touchpoints index's file,
#: the rebuilt views' file (each with its WAL and shared-memory index).
SCANNED_VIEW_FILES = tuple(
    f"{name}{suffix}" for name in ("views.db", "touchpoints.db", "rebuilt.db") for suffix in ("", "-wal", "-shm")
)
TOUCHPOINTS_FILE = "touchpoints.db"  #: the touchpoints index's own file


def view_files_bytes(folder: Path) -> bytes:
    """The bytes of every file in ``folder`` but the stream store."""
    files = [p for p in sorted(folder.iterdir()) if p.is_file()]
    assert {p.name for p in files} <= set(SCANNED_VIEW_FILES), [p.name for p in files]
    return b"".join(path.read_bytes() for path in files)


def views_bytes(view: ExperienceView) -> bytes:
    return json.dumps(view.dump(), sort_keys=True, default=str).encode()


def test_after_forget_party_nothing_of_hers_is_readable_in_the_store_the_views_a_rebuild_or_the_logs(
    own_nats: NatsServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with chorus_stack(
        own_nats.url, f"sqlite:///{tmp_path / 'views.db'}", touchpoints_views=f"sqlite:///{tmp_path / TOUCHPOINTS_FILE}"
    ) as stack:
        jane = stack.register("Jane Smith")
        for name in SPELLED:
            stack.link(jane, SPELLED[name][1])
        jane_story(stack)
        stack.caught_up()
        live = live_view(stack)
        before = live.dump()
        assert clear_text_of_hers(views_bytes(live)), "the story did not reach the views"
        assert clear_text_of_hers(files_bytes(tmp_path / "store")) == []  # sealed when recorded
        assert clear_text_of_hers(view_files_bytes(tmp_path)), "the views' files held nothing of hers to purge"

        receipt = stack.identity.ForgetParty(
            ipb.ForgetPartyRequest(party_id=jane, requested_by="case-1", legal_basis="GDPR Art. 17(1)(a)")
        ).receipt
        stack.caught_up()

        after = live.dump()
        assert clear_text_of_hers(views_bytes(live)) == []
        assert clear_text_of_hers(view_files_bytes(tmp_path)) == []  # as soon as the purge is seen applied
        assert len(after["exp_touchpoint"]) == len(before["exp_touchpoint"])  # volumes identify nobody
        assert [row["party_id"] for row in after["exp_party"] if row["party_id"] == jane] == []
        assert NOT_HERS in {row["text"] for row in after["exp_touchpoint"]}
        assert "[erased]" in {row["text"] for row in after["exp_touchpoint"]}

        rebuilt = ExperienceView(f"sqlite:///{tmp_path / 'rebuilt.db'}")
        runner = ProjectionRunner(
            ExperienceProjection(rebuilt, default_region="GB"), stack.experience_app.readers, defer_indexes_from=1
        )
        runner.run_to_end()  # with its indexes deferred, as a rebuild of many events has them
        assert not rebuilt.indexes_deferred
        redone = rebuilt.dump()
        assert clear_text_of_hers(views_bytes(rebuilt)) == []
        assert len(redone["exp_touchpoint"]) == len(before["exp_touchpoint"])
        assert sum(row["text"] == "[erased]" for row in redone["exp_touchpoint"]) == sum(
            row["text"] == "[erased]" for row in after["exp_touchpoint"]
        )
        assert NOT_HERS in {row["text"] for row in redone["exp_touchpoint"]}
        rebuilt.close()
        assert clear_text_of_hers(view_files_bytes(tmp_path)) == []
        assert receipt.key_ids
    own_nats.stop()
    assert clear_text_of_hers(files_bytes(tmp_path / "store")) == []
    assert clear_text_of_hers(caplog.text.encode()) == []


def test_with_the_three_services_in_one_view_file_no_page_of_it_holds_anything_of_hers_after_the_forget(
    own_nats: NatsServer, tmp_path: Path
) -> None:
    """``chorus up``'s default: one SQLite file for every service's views. Each page of the database and each
    frame of its WAL that holds something of hers is traced to the table or index owning that page now; once the
    purge is seen applied, none may (the touchpoints index's never did: it keeps personal data sealed)."""
    path = tmp_path / "views.db"
    with chorus_stack(own_nats.url, f"sqlite:///{path}") as stack:
        jane = stack.register("Jane Smith")
        for name in SPELLED:
            stack.link(jane, SPELLED[name][1])
        jane_story(stack)
        stack.caught_up()
        touchpoints_index = objects_of(path, TouchpointIndex.TABLES)
        assert owners_of_pages_with_hers(path) - touchpoints_index, "nothing of hers outside the index to purge"
        assert owners_of_pages_with_hers(path) & touchpoints_index == set()

        stack.identity.ForgetParty(
            ipb.ForgetPartyRequest(party_id=jane, requested_by="case-1", legal_basis="GDPR Art. 17(1)(a)")
        )
        stack.caught_up()

        assert owners_of_pages_with_hers(path) == set()


def objects_of(path: Path, tables: Sequence[str]) -> set[str]:
    """The tables named and their indexes (those SQLite makes for keys included)."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        marks = ", ".join("?" * len(tables))
        rows = connection.execute(f"SELECT name FROM sqlite_master WHERE tbl_name IN ({marks})", tuple(tables))
        return {name for (name,) in rows}


def owners_of_pages_with_hers(path: Path) -> set[str]:
    """The tables and indexes (``dbstat``'s names) owning the pages of the database file, or of its WAL's
    frames, in which something of hers is written; ``(free)`` for a page that belongs to none now."""
    database, wal = path.read_bytes(), (path.with_name(path.name + "-wal")).read_bytes()
    page_size = int.from_bytes(database[16:18], "big") or 65536
    pages = [(n + 1, database[n * page_size : (n + 1) * page_size]) for n in range(len(database) // page_size)]
    frame = 24 + page_size
    for start in range(32, len(wal) - frame + 1, frame):  # a 32-byte header, then (24-byte header + page) each
        pages.append((int.from_bytes(wal[start : start + 4], "big"), wal[start + 24 : start + frame]))
    with contextlib.closing(sqlite3.connect(path)) as connection:
        owner = dict(connection.execute("SELECT pageno, name FROM dbstat"))
    return {owner.get(number, "(free)") for number, page in pages if clear_text_of_hers(page)}


def live_view(stack: Stack) -> ExperienceView:
    """The experience service's live views, read directly."""
    return stack.experience_app.view

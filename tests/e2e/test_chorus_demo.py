"""``chorus demo --size small`` against a ``chorus up`` on free ports, judged by what it printed."""

from __future__ import annotations

import re

from tests.e2e.conftest import DemoChorus


def test_the_demo_loads_the_story_and_prints_jane_the_queue_the_pulse_and_suggestions(chorus: DemoChorus) -> None:
    demo = chorus.demo
    assert demo.returncode == 0, demo.stderr
    out = demo.stdout
    assert "Traceback" not in demo.stderr
    assert re.search(r"Recorded \d{3} touchpoints \(0 already there\) for 42 parties; linked \d+ identifiers late; "
                     r"merged one pair by mistake and undid it\.", out), out
    # Jane: nine interactions under five late-linked identifiers, answered twice, three waiting
    assert "Jane Smith: the holistic experience of party" in out
    assert re.search(r"interactions\s+│ 9 \(listen 7 : talk 2\)", out), out
    assert "forum_user@forum.acme.example:jane s" in out
    assert "marketplace_reviewer@market.example:R-778" in out
    assert "becoming a social customer" in out
    assert re.search(r"awaiting a reply\s+│ phone complaint, waiting 20\.0d", out), out
    # the queue: ten rows, each with its score parts
    queue = out[out.index("Attention queue"):out.index("Brand pulse")]
    assert re.search(r"Attention queue, service lens: 10 of \d+ waiting", queue), queue
    ranks = re.findall(r"^│ (\d+)\s+│ (\d+\.\d\d)\s+│", queue, flags=re.MULTILINE)
    assert [int(rank) for rank, _ in ranks] == list(range(1, 11))
    scores = [float(score) for _, score in ranks]
    assert scores == sorted(scores, reverse=True)
    assert re.search(r"intent 1 × 3\.00 = 3\.00  a complaint", queue)
    assert re.search(r"waiting 1 × \d\.\d\d = \d\.\d\d  waited \d\.\d\dx the \w+ bar of", queue)
    # the pulse: rows per week and channel
    pulse = out[out.index("Brand pulse"):out.index("Co-creation signals")]
    rows = re.findall(r"^│ (\d{4}-\d\d-\d\d) │\s+(\w+) │\s+(\d+) │", pulse, flags=re.MULTILINE)
    assert len(rows) >= 10
    assert {"email", "chat", "phone"} <= {channel for _, channel, _ in rows}
    # co-creation: the product asks cluster across parties
    suggestions = out[out.index("Co-creation signals"):]
    group = re.search(r"│ app gauge pressure\s+│ (\d+)\s+│ (\d+)", suggestions)
    assert group is not None, suggestions
    assert int(group[1]) >= 2


def test_a_second_demo_run_shows_what_is_loaded_without_loading_it_again(chorus: DemoChorus) -> None:
    again = chorus.run("demo", "--size", "small")
    assert again.returncode == 0, again.stderr
    assert "The demo story is already loaded in this Chorus" in again.stdout
    assert "Recorded" not in again.stdout
    assert re.search(r"interactions\s+│ 9 \(listen 7 : talk 2\)", again.stdout)

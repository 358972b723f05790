"""``chorus demo --size small`` against a ``chorus up`` on free ports, judged by what it printed; then the
day-to-day CLI against what it loaded: ``--json`` output that parses, exit codes that mean something, and errors
in one line that name the field and carry no personal data.

One ``chorus up`` serves the module and stops after it; it writes its log to a file (a pipe nobody reads would
fill and stall the services).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from services.cli import app
from services.common.nats_server import free_port
from services.common.testing import eventually

CHORUS = [sys.executable, "-m", "services.cli"]
SERVICES = ("identity", "touchpoints", "experience")


@dataclass
class DemoChorus:
    """A running ``chorus up``, the environment that points the CLI at it, and what ``chorus demo`` printed."""

    ports: dict[str, int]
    env: dict[str, str]
    demo: subprocess.CompletedProcess[str]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """``chorus ARGS`` as a subprocess against this Chorus."""
        return subprocess.run([*CHORUS, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def chorus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoChorus]:
    data_dir = tmp_path_factory.mktemp("demo-chorus")
    ports = {name: free_port() for name in ("nats", *SERVICES)}
    log = data_dir / "chorus-up.log"
    with log.open("w") as output:
        up = subprocess.Popen(
            [
                *CHORUS,
                "up",
                "--data-dir",
                str(data_dir / "data"),
                *(arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:

        def is_up() -> None:
            assert up.poll() is None, log.read_text()
            assert "Chorus is up" in log.read_text()

        eventually(is_up, timeout=60, interval=0.2)
        env = {
            **os.environ,
            "COLUMNS": "200",
            "NO_COLOR": "1",
            "CHORUS_CREDENTIALS_DIR": str(data_dir / "data" / "credentials"),
            **{f"CHORUS_{name.upper()}_ADDRESS": f"127.0.0.1:{ports[name]}" for name in SERVICES},
        }
        demo = subprocess.run(
            [*CHORUS, "demo", "--size", "small"], env=env, capture_output=True, text=True, timeout=300
        )
        yield DemoChorus(ports=ports, env=env, demo=demo)
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)


def test_the_demo_loads_the_story_and_prints_jane_the_queue_the_pulse_and_suggestions(chorus: DemoChorus) -> None:
    demo = chorus.demo
    assert demo.returncode == 0, demo.stderr
    out = demo.stdout
    assert "Traceback" not in demo.stderr
    assert re.search(
        r"Recorded \d{3} touchpoints \(0 already there\) for 42 parties; linked \d+ identifiers late; "
        r"merged one pair by mistake and undid it\.",
        out,
    ), out
    # Jane: nine interactions under five late-linked identifiers, answered twice, three waiting
    assert "Jane Smith: the holistic experience of party" in out
    assert re.search(r"interactions\s+│ 9 \(listen 7 : talk 2\)", out), out
    assert "forum_user@forum.acme.example:jane s" in out
    assert "marketplace_reviewer@market.example:R-778" in out
    assert "becoming a social customer" in out
    assert re.search(r"awaiting a reply\s+│ phone complaint, waiting 20\.0d", out), out
    # the queue: ten rows, each with its score parts
    queue = out[out.index("Attention queue") : out.index("Brand pulse")]
    assert re.search(r"Attention queue, service lens: 10 of \d+ waiting", queue), queue
    ranks = re.findall(r"^│ (\d+)\s+│ (\d+\.\d\d)\s+│", queue, flags=re.MULTILINE)
    assert [int(rank) for rank, _ in ranks] == list(range(1, 11))
    scores = [float(score) for _, score in ranks]
    assert scores == sorted(scores, reverse=True)
    assert re.search(r"intent 1 × 3\.00 = 3\.00  a complaint", queue)
    assert re.search(r"waiting 1 × \d\.\d\d = \d\.\d\d  waited \d\.\d\dx the \w+ bar of", queue)
    # the pulse: rows per week and channel
    pulse = out[out.index("Brand pulse") : out.index("Co-creation signals")]
    rows = re.findall(r"^│ (\d{4}-\d\d-\d\d) │\s+(\w+) │\s+(\d+) │", pulse, flags=re.MULTILINE)
    assert len(rows) >= 10
    assert {"email", "chat", "phone"} <= {channel for _, channel, _ in rows}
    # co-creation: the product asks cluster across parties
    suggestions = out[out.index("Co-creation signals") :]
    group = re.search(r"│ app gauge pressure\s+│ (\d+)\s+│ (\d+)", suggestions)
    assert group is not None, suggestions
    assert int(group[1]) >= 2


def test_a_second_demo_run_shows_what_is_loaded_without_loading_it_again(chorus: DemoChorus) -> None:
    again = chorus.run("demo", "--size", "small")
    assert again.returncode == 0, again.stderr
    assert "The demo story is already loaded in this Chorus" in again.stdout
    assert "Recorded" not in again.stdout
    assert re.search(r"interactions\s+│ 9 \(listen 7 : talk 2\)", again.stdout)


JANE = "email:Jane.Smith@Example.COM"  # as she spelled it in chat; identity holds it lower-cased


def chorus_cli(chorus: DemoChorus, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=chorus.env, input=stdin)


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def one_line_error(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("chorus: ")
    assert "Traceback" not in result.output
    return lines[0]


def test_experience_show_reads_jane_by_any_identifier_spelling_as_json(chorus: DemoChorus) -> None:
    result = chorus_cli(chorus, "experience", "show", JANE, "--json")
    assert result.exit_code == 0, result.output
    [shown] = json_lines(result)
    assert shown["experience"]["display_name"] == "Jane Smith"
    assert int(shown["experience"]["interactions"]) == 9
    assert len(shown["timeline"]) == 9
    by_x = json_lines(chorus_cli(chorus, "experience", "show", "x:@JaneSmithTweets", "--json"))
    assert by_x[0]["experience"]["party_id"] == shown["experience"]["party_id"]
    table = chorus_cli(chorus, "experience", "show", shown["experience"]["party_id"], "--timeline", "3")
    assert table.exit_code == 0
    assert "Timeline (3 newest)" in table.stdout


def test_an_unknown_party_exits_1_and_a_malformed_identifier_exits_2_in_one_line_without_the_value(
    chorus: DemoChorus,
) -> None:
    unknown = chorus_cli(chorus, "experience", "show", "email:nobody.secret@example.com")
    assert unknown.exit_code == 1
    assert "not found" in one_line_error(unknown)
    assert "nobody.secret" not in unknown.output
    malformed = chorus_cli(chorus, "experience", "show", "jane-without-a-type")
    assert malformed.exit_code == 2
    line = one_line_error(malformed)
    assert line.startswith("chorus: invalid argument: party: expected TYPE:VALUE")
    assert "jane-without-a-type" not in malformed.output
    bad_type = chorus_cli(chorus, "experience", "show", "fax:12345")
    assert bad_type.exit_code == 2
    assert "party type: expected one of email, phone" in one_line_error(bad_type)
    assert "12345" not in bad_type.output


def test_the_queue_explains_every_score_by_its_parts_in_every_lens(chorus: DemoChorus) -> None:
    for lens in ("service", "marketing", "pr", "sales", "product"):
        result = chorus_cli(chorus, "queue", "--lens", lens, "--limit", "5", "--json")
        assert result.exit_code == 0, result.output
        items = json_lines(result)
        assert len(items) == 5
        for item in items:
            parts = {part["name"]: part for part in item["parts"]}
            assert set(parts) == {"intent", "waiting", "social_pressure", "visibility", "sentiment", "influence"}
            contributions = sum(part.get("contribution", 0.0) for part in item["parts"])
            assert item["score"] == pytest.approx(contributions, rel=1e-6)
        assert [item["score"] for item in items] == sorted((item["score"] for item in items), reverse=True)
    pr = json_lines(chorus_cli(chorus, "queue", "--lens", "pr", "--json"))
    assert {part["name"]: part.get("weight", 0) for part in pr[0]["parts"]}["visibility"] == 2
    wrong = chorus_cli(chorus, "queue", "--lens", "finance")
    assert wrong.exit_code == 2
    assert one_line_error(wrong) == (
        "chorus: invalid argument: --lens: expected one of service, marketing, pr, sales, product"
    )


def test_pulse_and_suggestions_print_rows_as_json_and_refuse_a_bad_bucket(chorus: DemoChorus) -> None:
    pulse = chorus_cli(chorus, "pulse", "--bucket", "week", "--json")
    assert pulse.exit_code == 0, pulse.output
    buckets = json_lines(pulse)
    assert sum(int(bucket["volume"]) for bucket in buckets) >= 300
    assert {"CHANNEL_EMAIL", "CHANNEL_X", "CHANNEL_FORUM"} <= {bucket["channel"] for bucket in buckets}
    only_x = json_lines(chorus_cli(chorus, "pulse", "--channel", "x", "--json"))
    assert only_x and {bucket["channel"] for bucket in only_x} == {"CHANNEL_X"}
    assert chorus_cli(chorus, "pulse", "--bucket", "fortnight").exit_code == 2
    assert one_line_error(chorus_cli(chorus, "pulse", "--since", "yesterday")).startswith(
        "chorus: invalid argument: --since: expected an ISO 8601 time"
    )
    groups = json_lines(chorus_cli(chorus, "suggestions", "--min-parties", "2", "--json"))
    assert "app gauge pressure" in {group["topic"] for group in groups}
    assert all(int(group["parties"]) >= 2 for group in groups)
    nothing = chorus_cli(chorus, "suggestions", "--min-parties", "100000")
    assert nothing.exit_code == 1
    assert one_line_error(nothing) == "chorus: nothing: no suggestion in that period"


def test_party_register_get_link_merge_and_unmerge(chorus: DemoChorus) -> None:
    run = uuid.uuid4().hex[:8]
    ann = json_lines(
        chorus_cli(
            chorus,
            "party",
            "register",
            "Ann Example",
            "--role",
            "customer",
            "-i",
            f"email:Ann.{run}@Example.com",
            "--json",
        )
    )[0]
    assert ann["identifiers"][0]["identifier"]["value"] == f"ann.{run}@example.com"
    found = json_lines(chorus_cli(chorus, "party", "get", f"email:ann.{run}@example.com", "--json"))[0]
    assert found["party_id"] == ann["party_id"]
    linked = chorus_cli(chorus, "party", "link", ann["party_id"], f"x:@ann{run}", "--rule", "told us", "--json")
    assert linked.exit_code == 0, linked.output
    assert len(json_lines(linked)[0]["identifiers"]) == 2
    other = json_lines(chorus_cli(chorus, "party", "register", "Ann Example (dup)", "--json"))[0]
    merged = chorus_cli(chorus, "party", "merge", ann["party_id"], other["party_id"], "--rule", "same person", "--json")
    assert merged.exit_code == 0, merged.output
    assert json_lines(merged)[0]["merged_party_ids"] == [other["party_id"]]
    unmerged = chorus_cli(chorus, "party", "unmerge", other["party_id"], "--rule", "wrong merge", "--json")
    assert unmerged.exit_code == 0, unmerged.output
    assert "merged_party_ids" not in json_lines(unmerged)[0]["former_target"]
    table = chorus_cli(chorus, "party", "get", ann["party_id"])
    assert "Ann Example" in table.stdout and f"x:ann{run}" in table.stdout


def test_party_errors_name_the_field_and_exit_with_their_meaning(chorus: DemoChorus) -> None:
    run = uuid.uuid4().hex[:8]
    bad = chorus_cli(chorus, "party", "register", "Bea", "-i", f"email:bea.{run}@@example.com")
    assert bad.exit_code == 2
    line = one_line_error(bad)
    assert line.startswith("chorus: invalid argument: identifiers[0].value: ")
    assert run not in bad.output
    missing = chorus_cli(chorus, "party", "get", str(uuid.uuid4()))
    assert missing.exit_code == 1
    assert one_line_error(missing).startswith("chorus: not found: ")
    held = chorus_cli(
        chorus,
        "party",
        "link",
        json_lines(chorus_cli(chorus, "party", "register", "Cy", "--json"))[0]["party_id"],
        JANE,
    )
    assert held.exit_code == 4
    assert "jane" not in one_line_error(held).lower()
    not_a_uuid = chorus_cli(chorus, "party", "merge", "someone", str(uuid.uuid4()), "--rule", "x")
    assert not_a_uuid.exit_code == 2
    assert one_line_error(not_a_uuid) == "chorus: invalid argument: target: expected a party id (a UUID)"
    assert chorus_cli(chorus, "party", "register", "Di", "--kind", "robot").exit_code == 2
    nameless = chorus_cli(chorus, "party", "register", "")
    assert nameless.exit_code == 2
    assert one_line_error(nameless) == "chorus: invalid argument: display_name: is required"


def test_touchpoint_record_get_and_list(chorus: DemoChorus) -> None:
    run = uuid.uuid4().hex[:8]
    actor = f"email:eve.{run}@example.com"
    recorded = chorus_cli(
        chorus,
        "touchpoint",
        "record",
        "--channel",
        "email",
        "--actor",
        actor,
        "--text",
        "Where is my order?",
        "--at",
        "2h",
        "--external-id",
        f"cli-{run}",
        "--json",
    )
    assert recorded.exit_code == 0, recorded.output
    reply = json_lines(recorded)[0]
    assert reply["outcome"] == "RECORD_OUTCOME_RECORDED"
    again = json_lines(
        chorus_cli(
            chorus,
            "touchpoint",
            "record",
            "--channel",
            "email",
            "--actor",
            actor,
            "--external-id",
            f"cli-{run}",
            "--json",
        )
    )[0]
    assert again == {"touchpoint_id": reply["touchpoint_id"], "outcome": "RECORD_OUTCOME_ALREADY_RECORDED"}
    by_source = json_lines(chorus_cli(chorus, "touchpoint", "get", f"cli:cli-{run}", "--json"))[0]
    assert by_source["touchpoint_id"] == reply["touchpoint_id"]
    assert by_source["content"]["text"] == "Where is my order?"
    listed = json_lines(chorus_cli(chorus, "touchpoint", "list", "--actor", actor, "--json"))
    assert [item["touchpoint_id"] for item in listed] == [reply["touchpoint_id"]]
    none = chorus_cli(chorus, "touchpoint", "list", "--actor", f"email:nobody.{run}@example.com")
    assert none.exit_code == 1
    missing_actor = chorus_cli(chorus, "touchpoint", "record", "--channel", "email", "--external-id", "x")
    assert missing_actor.exit_code == 2
    assert one_line_error(missing_actor) == "chorus: invalid argument: --actor: at least one is required"


def _jsonl_item(run: str, n: int, **changes: Any) -> str:
    item = {
        "kind": "TOUCHPOINT_KIND_NON_TOUCHPOINT",
        "channel": "CHANNEL_X",
        "direction": "DIRECTION_INBOUND",
        "visibility": "VISIBILITY_PUBLIC",
        "occurred_at": "2026-11-30T10:00:00Z",
        "source": {"system": "x", "external_id": f"jsonl-{run}-{n}"},
        "actors": [{"type": "IDENTIFIER_TYPE_X", "value": f"@fan{run}"}],
        "content": {"text": f"secret words {run} number {n}"},
    }
    item.update(changes)
    return json.dumps(item)


def test_a_jsonl_stream_records_good_lines_and_names_each_reject_by_line_and_field(chorus: DemoChorus) -> None:
    run = uuid.uuid4().hex[:8]
    lines = [
        _jsonl_item(run, 1),
        "{not json " + run,
        _jsonl_item(run, 3, actors=[]),  # the service rejects it: no actor
        "",
        _jsonl_item(run, 5, channel=f"CHANNEL_{run}"),  # not a channel: rejected here, never sent
        _jsonl_item(run, 6),
    ]
    result = chorus_cli(chorus, "touchpoint", "record", "--file", "-", "--json", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 2, result.output
    summary = json_lines(result)[0]
    assert (summary["recorded"], summary["already_recorded"], summary["rejected"]) == (2, 0, 3)
    assert [reject["line"] for reject in summary["rejects"]] == [2, 3, 5]
    whys = {reject["line"]: reject["why"] for reject in summary["rejects"]}
    assert whys[2] == "not JSON"
    assert whys[3].startswith("actors: ")
    assert whys[5] == "channel: not a valid value for this field"
    assert run not in json.dumps(summary["rejects"])  # the summary names fields, never what the lines said


def test_a_jsonl_file_again_is_already_recorded_and_shows_a_summary(chorus: DemoChorus, tmp_path: Any) -> None:
    run = uuid.uuid4().hex[:8]
    path = tmp_path / "touchpoints.jsonl"
    path.write_text("".join(_jsonl_item(run, n) + "\n" for n in range(30)))
    first = chorus_cli(chorus, "touchpoint", "record", "--file", str(path))
    assert first.exit_code == 0, first.output
    assert "recorded 30, already recorded 0, rejected 0" in first.stdout
    second = chorus_cli(chorus, "touchpoint", "record", "--file", str(path))
    assert "recorded 0, already recorded 30, rejected 0" in second.stdout
    absent = chorus_cli(chorus, "touchpoint", "record", "--file", str(tmp_path / "absent.jsonl"))
    assert absent.exit_code == 2
    assert one_line_error(absent) == "chorus: invalid argument: --file: no such file"


def test_a_service_that_is_not_there_exits_3_in_one_line(chorus: DemoChorus) -> None:
    port = free_port()
    result = chorus_cli(chorus, "queue", "--experience-address", f"127.0.0.1:{port}", "--timeout", "2")
    assert result.exit_code == 3
    assert one_line_error(result) == (
        f"chorus: unavailable: experience at 127.0.0.1:{port} not reachable "
        "(is `chorus up` running? --experience-address, --timeout)"
    )


def test_experience_rebuild_follows_the_new_views_until_they_answer(chorus: DemoChorus) -> None:
    before = json_lines(chorus_cli(chorus, "experience", "status", "--json"))[0]
    result = chorus_cli(chorus, "experience", "rebuild", "--poll", "0.1", "--json")
    assert result.exit_code == 0, result.output
    rebuilt = json_lines(result)[0]
    generation = int(rebuilt["rebuild"]["generation"])
    assert generation > int(before.get("generation", 0))
    assert int(rebuilt["status"]["generation"]) >= generation
    assert "rebuilding_generation" not in rebuilt["status"]
    after = json_lines(chorus_cli(chorus, "experience", "show", JANE, "--json"))[0]
    assert int(after["experience"]["interactions"]) == 9


def test_a_service_that_does_not_answer_within_the_timeout_exits_3_in_one_line(chorus: DemoChorus) -> None:
    with socket.socket() as silent:  # accepts connections, never speaks HTTP/2
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        result = chorus_cli(
            chorus, "experience", "status", "--experience-address", f"127.0.0.1:{port}", "--timeout", "0.5"
        )
    assert result.exit_code == 3
    assert one_line_error(result) == (
        f"chorus: unavailable: experience at 127.0.0.1:{port} did not answer in time "
        "(is `chorus up` running? --experience-address, --timeout)"
    )

"""``chorus log``: an auditor reads what was stored, decoded with the contracts alone."""

from __future__ import annotations

import json
import subprocess
import sys

from services.common.context import bound
from services.common.eventstore import notification_id
from tests.support.eventstore import Account, new_app


def test_chorus_log_prints_each_stored_event_decoded(nats_url: str) -> None:
    app = new_app(nats_url)
    account = Account(kind="person", roles=("customer",), display_name="Jane Smith", anonymous=False)
    account.add_member("forum-regulars")
    with bound(correlation_id="audit-7"):
        app.save(account)
    app.close()

    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "log", app.name, "--nats-url", nats_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]

    assert [(r["seq"], r["id"], r["version"], r["topic"]) for r in records] == [  # one save: one message
        (1, notification_id(1, 0), 1, "chorus.bench.events.v1.AccountRegistered"),
        (1, notification_id(1, 1), 2, "chorus.bench.events.v1.AccountMemberAdded"),
    ]
    assert records[0]["aggregate"] == str(account.id)
    assert records[0]["event"]["display_name"] == "Jane Smith"
    assert records[0]["event"]["roles"] == ["PARTY_ROLE_CUSTOMER"]
    assert records[1]["event"]["member_id"] == "forum-regulars"
    assert {r["correlation_id"] for r in records} == {"audit-7"}


def _log(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "log", *args], capture_output=True, text=True, timeout=60
    )


def test_chorus_log_refuses_an_unknown_app_and_a_limit_below_one_in_one_line(nats_url: str) -> None:
    unknown = _log("no_such_app", "--nats-url", nats_url)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "chorus: there is no stream CHORUS_NO_SUCH_APP: no application no_such_app here"
    zero = _log("identity", "--limit", "0", "--nats-url", nats_url)
    assert zero.returncode == 2
    assert "--limit" in zero.stderr and "Traceback" not in zero.stderr


def test_chorus_log_says_when_there_is_nothing_to_show(nats_url: str) -> None:
    app = new_app(nats_url)
    app.save(Account(kind="person", roles=(), display_name="Jane", anonymous=False))
    app.close()
    result = _log(app.name, "--after", "5", "--nats-url", nats_url)
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.strip() == f"chorus: no events after stream sequence 5 in CHORUS_{app.name.upper()}"


def test_chorus_log_finds_the_nats_that_chorus_up_started_in_its_data_dir(nats_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = new_app(nats_url)
    app.save(Account(kind="person", roles=(), display_name="Jane", anonymous=False))
    app.close()
    (tmp_path / "nats-url").write_text(nats_url)
    result = _log(app.name, "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1

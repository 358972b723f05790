"""``chorus log``: an auditor reads what was stored, decoded with the contracts alone."""

from __future__ import annotations

import json
import subprocess
import sys

from services.common.context import bound
from services.common.eventstore import notification_id
from tests.common.eventstore_support import Account, new_app


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

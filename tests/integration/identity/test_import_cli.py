"""``chorus party import FILE``: a small CSV and a small JSONL file streamed into a running identity service."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as pb
from services.cli import app
from services.identity.domain import imported_party_id

if TYPE_CHECKING:
    from pathlib import Path

    from tests.integration.identity.conftest import IdentityHarness


def run(identity: IdentityHarness, path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["party", "import", str(path), "--address", identity.address, *extra])
    return result.exit_code, result.output


def party(identity: IdentityHarness, system: str, external_id: str) -> pb.Party:
    party_id = str(imported_party_id(system, external_id))
    return identity.stub.GetParty(pb.GetPartyRequest(party_id=party_id)).party


def test_a_csv_file_is_imported_and_its_rejects_summarised(identity: IdentityHarness, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    path = tmp_path / "customers.csv"
    path.write_text(
        "external_id,display_name,email,phone,x,consent_email,preferred_channels,roles\n"
        f"C-1,Jane Smith,jane.{tag}@example.org,+442071234567,jane{tag},granted,email;phone,customer\n"
        f"C-2,Blocked Bob,noreply@example.org,,bob{tag},,,\n"
        f"C-3,Ann Lee,ann.{tag}@example.org;ann2.{tag}@example.org,,,denied,,prospect\n"
        f"C-4,Bad Kind,kim.{tag}@example.org,,,,,wizard\n",
        encoding="utf-8",
    )
    code, output = run(identity, path, "--source-system", f"crm-{tag}")
    assert code == 1, output
    assert "imported 2, already imported 0, rejected 2" in output
    assert "BLOCKED_IDENTIFIER" in output and "roles" in output
    assert "noreply" not in output  # rejects name fields and rules, never values
    jane = party(identity, f"crm-{tag}", "C-1")
    assert jane.display_name == "Jane Smith"
    assert {i.identifier.type for i in jane.identifiers} == {
        types.IDENTIFIER_TYPE_EMAIL,
        types.IDENTIFIER_TYPE_PHONE,
        types.IDENTIFIER_TYPE_X,
    }
    assert [(c.channel, c.status) for c in jane.consents] == [(types.CHANNEL_EMAIL, types.CONSENT_STATUS_GRANTED)]
    assert list(jane.preferred_channels) == [types.CHANNEL_EMAIL, types.CHANNEL_PHONE]
    assert len(party(identity, f"crm-{tag}", "C-3").identifiers) == 2

    code, output = run(identity, path, "--source-system", f"crm-{tag}")
    assert "imported 0, already imported 2, rejected 2" in output


def test_a_jsonl_file_is_imported_with_unreadable_lines_named(identity: IdentityHarness, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    rows = [
        {
            "external_id": "J-1",
            "source_system": f"crm-{tag}",
            "kind": "organisation",
            "display_name": "Acme Ltd",
            "identifiers": [
                {"type": "email", "value": f"info.{tag}@acme.example"},
                {"type": "crm_id", "value": f"A-{tag}", "namespace": "salesforce"},
            ],
            "consents": [{"channel": "email", "status": "granted", "time": "2024-05-01T00:00:00Z"}],
        },
        "not an object",
        {
            "external_id": "J-3",
            "source_system": f"crm-{tag}",
            "display_name": "Raj",
            "identifiers": [{"type": "fax", "value": "1"}],
        },
        {
            "external_id": "J-4",
            "source_system": f"crm-{tag}",
            "display_name": "Mo",
            "identifiers": [{"type": "email", "value": "not-an-email"}],
        },
    ]
    path = tmp_path / "customers.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n{broken\n", encoding="utf-8")
    code, output = run(identity, path)
    assert code == 1, output
    assert "imported 1, already imported 0, rejected 4" in output
    assert "identifiers[0].type" in output and "identifiers[0].value" in output and "UNREADABLE" in output
    acme = party(identity, f"crm-{tag}", "J-1")
    assert acme.kind == types.PARTY_KIND_ORGANISATION
    assert acme.consents[0].time.ToJsonString() == "2024-05-01T00:00:00Z"


def test_a_csv_without_the_needed_columns_is_refused_in_one_line(identity: IdentityHarness, tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("id,name\n1,Jane\n", encoding="utf-8")
    code, output = run(identity, path)
    assert code == 2
    assert "the CSV header lacks display_name, external_id" in output

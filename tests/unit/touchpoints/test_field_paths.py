"""The servicer's translation of the domain's refusals into the field paths of the request (``grpc_api.field_path``)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.descriptor import Descriptor

from chorus.touchpoints.v1 import touchpoint_service_pb2 as pb
from services.common.identifiers import Identifier
from services.touchpoints.domain import RECLASSIFIABLE, InvalidReclassification, InvalidTouchpoint, TouchpointDraft
from services.touchpoints.grpc_api import field_path, reclassification_field_path

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def resolves(message: Descriptor, path: str) -> bool:
    """Whether ``path`` (``actors[1].type``, ``reply_to.source``) names a field of ``message``."""
    for part in path.split("."):
        name = re.sub(r"\[\d+\]$", "", part)
        field = message.fields_by_name.get(name)
        if field is None:
            return False
        if field.message_type is not None:
            message = field.message_type
    return True


def everything_wrong() -> list[TouchpointDraft]:
    """Drafts that, between them, break every rule ``TouchpointDraft.check`` has."""
    base = TouchpointDraft(
        kind="#9",
        channel="#9",
        direction="#9",
        visibility="#9",
        intent="#9",
        sociability_degree="#9",
        business_sociability_degree="#9",
        company_function="#9",
        sentiment_label="#9",
        sentiment_score=2.0,
        occurred_at=NOW + timedelta(days=1),
        actors=(Identifier("fax", "\n", "\n"), Identifier("other", "", "v" * 501)),
        external_url="u" * 2001,
        followers=-1,
        recipients=-1,
        text="t" * 1001,
        language="l" * 36,
        thread_id="t" * 501,
        tags=tuple("x" * 101 for _ in range(51)),
        rating=9,
    )
    own = "6f1c2b8e-4a8d-5d7e-9c3b-2f6e1a0d9b47"
    return [
        replace(
            base,
            source_system="s" * 101,
            external_id="e" * 501,
            touchpoint_id="not-a-uuid",
            reply_to_source_system="r" * 101,
            reply_to_external_id="x" * 501,
        ),
        replace(base, source_system="zendesk", reply_to_source_system="zendesk"),
        replace(base, external_id="T-1", reply_to_id="not-a-uuid"),
        replace(base, touchpoint_id=own, reply_to_id=own),
        replace(base, actors=(), occurred_at=None),
        replace(base, occurred_at=datetime(2026, 3, 1)),
    ]


def test_every_refusal_of_a_draft_names_a_field_of_the_touchpoint_input() -> None:
    paths = set()
    for draft in everything_wrong():
        with pytest.raises(InvalidTouchpoint) as caught:
            draft.check(NOW, timedelta(minutes=5), 1000)
        paths |= {field_path(violation) for violation in caught.value.violations}
    assert not [path for path in paths if not resolves(pb.TouchpointInput.DESCRIPTOR, path)]
    assert {
        "source.system",
        "source.external_id",
        "reply_to.source.system",
        "reply_to.source.external_id",
        "reply_to.source",
        "reply_to.touchpoint_id",
        "reply_to",
        "content.text",
        "sentiment.score",
        "sentiment.label",
        "audience.followers",
        "actors[0].type",
        "actors[1].value",
        "tags[50]",
    } <= paths


@pytest.mark.parametrize("subject", ["field", "value", "reason", "actor", "sentiment_score"])
def test_every_refusal_of_a_reclassification_names_a_field_of_its_request(subject: str) -> None:
    path = reclassification_field_path(InvalidReclassification(subject, "is wrong"))
    assert resolves(pb.ReclassifyTouchpointRequest.DESCRIPTOR, path) or path == "value"  # the oneof's name
    oneof = pb.ReclassifyTouchpointRequest.DESCRIPTOR.oneofs_by_name["value"]
    assert set(RECLASSIFIABLE) <= {field.name for field in oneof.fields}

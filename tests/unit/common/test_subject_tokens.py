"""An aggregate's id as text from its subject: what ``str(originator_of_subject(...))`` gives, for any token."""

from __future__ import annotations

import uuid

import pytest

from services.common.eventstore.layout import originator_of_subject, originator_text_of_subject, originator_token


@pytest.mark.parametrize(
    "token",
    [
        str(uuid.uuid4()),  # as the event store writes a UUID
        str(uuid.uuid4()).upper(),  # a UUID in another spelling: its canonical text
        uuid.uuid4().hex,  # without hyphens
        originator_token("a string id"),  # a string id, base64url behind s-
    ],
    ids=["canonical", "upper-case", "hex", "string"],
)
def test_the_text_of_a_subjects_aggregate_id_is_the_text_of_the_id_it_names(token: str) -> None:
    subject = f"chorus.demo.e.{token}"
    assert originator_text_of_subject(subject) == str(originator_of_subject(subject))


def test_a_token_that_names_no_id_is_refused_as_before() -> None:
    with pytest.raises(ValueError):
        originator_of_subject("chorus.demo.e.not-an-id")
    with pytest.raises(ValueError):
        originator_text_of_subject("chorus.demo.e.not-an-id")

"""AIP-158 pagination: page sizes with a default and a ceiling, page tokens bound to the query that made them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import FieldViolation, InvalidArgument
from services.common.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PageToken,
    decode,
    page_size,
    query_fingerprint,
    use_secret,
)

QUERY = query_fingerprint(method="ListTouchpoints", identifier="email:ada@example.com", channel="CHANNEL_EMAIL")


def test_page_size_zero_means_the_default_of_50():
    assert DEFAULT_PAGE_SIZE == 50
    assert page_size(0) == 50
    assert page_size(0, default=20) == 20


def test_page_size_within_bounds_is_kept():
    assert page_size(1) == 1
    assert page_size(999) == 999
    assert page_size(1000) == 1000


def test_page_size_above_the_maximum_is_coerced_to_1000():
    assert MAX_PAGE_SIZE == 1000
    assert page_size(1001) == 1000
    assert page_size(2**31 - 1) == 1000
    assert page_size(500, maximum=100) == 100


def test_a_negative_page_size_is_an_invalid_argument_on_page_size():
    with pytest.raises(InvalidArgument) as raised:
        page_size(-1)
    assert raised.value.violations == (FieldViolation("page_size", "must not be negative"),)


def test_an_empty_token_starts_at_the_first_item_of_the_query():
    start = decode("", QUERY)
    assert start == PageToken(query=QUERY, offset=0, cursor=None)


def test_an_offset_token_round_trips_and_is_url_safe():
    token = decode("", QUERY).advanced(50).encode()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert decode(token, QUERY) == PageToken(query=QUERY, offset=50)
    assert decode(decode(token, QUERY).advanced(50).encode(), QUERY).offset == 100


def test_a_cursor_token_round_trips_compound_values():
    cursor = ["2026-11-23T01:00:00+00:00", 4711]
    token = PageToken(query=QUERY).at(cursor).encode()
    assert decode(token, QUERY) == PageToken(query=QUERY, offset=0, cursor=cursor)


@given(offset=st.integers(min_value=0, max_value=2**63), cursor=st.one_of(st.none(), st.integers(), st.text()))
def test_any_offset_and_cursor_round_trip(offset, cursor):
    token = PageToken(query=QUERY, offset=offset, cursor=cursor).encode()
    assert decode(token, QUERY) == PageToken(query=QUERY, offset=offset, cursor=cursor)


def test_the_token_is_opaque_it_does_not_show_the_filter_values():
    token = PageToken(query=QUERY, offset=10).encode()
    assert "ada" not in base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8", "replace")


def test_a_token_from_another_query_is_refused_on_page_token():
    other = query_fingerprint(method="ListTouchpoints", identifier="email:bob@example.com", channel="CHANNEL_EMAIL")
    token = PageToken(query=other, offset=50).encode()
    with pytest.raises(InvalidArgument) as raised:
        decode(token, QUERY)
    (violation,) = raised.value.violations
    assert violation.field == "page_token"
    assert "different query" in violation.description


@pytest.mark.parametrize(
    "token",
    [
        "not a token",  # not base64url
        "AAAA",  # too short to hold a checksum and a payload
        base64.urlsafe_b64encode(b'[1,"q",0,null]\x00\x00\x00\x00').decode().rstrip("="),  # wrong checksum
        "x" * 5000,  # too long to be ours
    ],
)
def test_a_malformed_token_is_refused_on_page_token(token):
    with pytest.raises(InvalidArgument) as raised:
        decode(token, QUERY)
    (violation,) = raised.value.violations
    assert violation.field == "page_token"
    assert "malformed" in violation.description


def test_an_edited_token_is_refused_as_malformed():
    token = PageToken(query=QUERY, offset=50).encode()
    for index in range(len(token)):
        replacement = "A" if token[index] != "A" else "B"
        edited = token[:index] + replacement + token[index + 1 :]
        with pytest.raises(InvalidArgument, match="malformed"):
            decode(edited, QUERY)


def test_a_well_formed_token_with_a_negative_offset_is_refused():
    payload = json.dumps([1, QUERY, -5, None], separators=(",", ":")).encode()
    token = base64.urlsafe_b64encode(payload + hashlib.sha256(payload).digest()[:4]).decode().rstrip("=")
    with pytest.raises(InvalidArgument, match="malformed"):
        decode(token, QUERY)


def test_the_fingerprint_ignores_argument_order_and_tells_values_apart():
    party = uuid.uuid4()
    since = datetime(2026, 11, 23, tzinfo=UTC)
    assert query_fingerprint(party=party, since=since) == query_fingerprint(since=since, party=party)
    assert query_fingerprint(party=party, since=since) != query_fingerprint(party=uuid.uuid4(), since=since)
    assert query_fingerprint(method="A") != query_fingerprint(method="B")
    assert query_fingerprint(channel="") != query_fingerprint(channel=None)


def _unkeyed(fields: list[object]) -> Iterator[str]:
    """A token made the way anyone can: the payload and a plain hash of it (no key)."""
    payload = json.dumps(fields, separators=(",", ":")).encode()
    for size in (4, 16):
        yield base64.urlsafe_b64encode(payload + hashlib.sha256(payload).digest()[:size]).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [2**63, -1, [2**63, "x"], 7])
def test_a_token_not_signed_with_the_key_is_refused_whatever_it_says(cursor):
    for forged in _unkeyed([1, QUERY, 0, cursor]):
        with pytest.raises(InvalidArgument, match="not issued by this service") as raised:
            decode(forged, QUERY)
        assert [v.field for v in raised.value.violations] == ["page_token"]


def test_tokens_signed_with_one_secret_are_refused_under_another_and_accepted_under_the_same():
    try:
        use_secret("first secret")
        token = PageToken(query=QUERY, cursor=[5, "a"]).encode()
        use_secret("second secret")
        with pytest.raises(InvalidArgument, match="not issued by this service"):
            decode(token, QUERY)
        use_secret("first secret")
        assert decode(token, QUERY).cursor == [5, "a"]
    finally:
        use_secret("a secret only this test module uses")

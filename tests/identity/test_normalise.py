"""Identifier normalisation: one canonical spelling per identifier (table tests and properties)."""

from __future__ import annotations

import string

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.errors import InvalidArgument
from services.identity.domain import identifier_id
from services.identity.normalise import IDENTIFIER_TYPES, canonical_url, normalise_identifier


@pytest.mark.parametrize(
    ("type_", "value", "namespace", "expected"),
    [
        ("email", " Jane.Smith@Example.COM ", "", "jane.smith@example.com"),
        ("email", "mailto:jane+news@example.co.uk", "", "jane+news@example.co.uk"),
        ("phone", "+44 20 7946 0958", "", "+442079460958"),
        ("phone", "tel:+1-212-555-0123".replace("555-0123", "456-7890"), "", "+12124567890"),
        ("x", "@JaneSmith", "", "janesmith"),
        ("x", "https://twitter.com/JaneSmith/status/1", "", "janesmith"),
        ("instagram", "@jane.smith_", "", "jane.smith_"),
        ("youtube", "@JaneBakes", "", "janebakes"),
        ("forum_user", "  Jane   Smith ", "Forum.Example.com", "jane smith"),
        ("blog_url", "HTTP://WWW.Example.com:80/Blog/#top", "", "http://www.example.com/Blog"),
        ("blog_url", "example.com/", "", "https://example.com"),
        ("blog_url", "https://example.com:8443/a/?p=1", "", "https://example.com:8443/a?p=1"),
        ("marketplace_reviewer", "AbC123", "marketplace.example", "AbC123"),
        ("crm_id", "CUST-0042", "", "CUST-0042"),
        ("device_id", "A1B2-C3", "", "a1b2-c3"),
        ("chat_id", "visitor-7F", "livechat", "visitor-7F"),
        ("other", "Loyalty-99", "loyalty_card", "Loyalty-99"),
    ],
)
def test_identifiers_are_normalised_to_one_spelling(type_: str, value: str, namespace: str, expected: str) -> None:
    assert normalise_identifier(type_, value, namespace).value == expected


@pytest.mark.parametrize(
    ("type_", "value", "namespace", "field"),
    [
        ("fax", "123", "", "identifier.type"),
        ("", "123", "", "identifier.type"),
        ("email", "jane.example.com", "", "identifier.value"),
        ("email", "jane@localhost", "", "identifier.value"),
        ("email", "ja ne@example.com", "", "identifier.value"),
        ("email", "", "", "identifier.value"),
        ("phone", "not a number", "", "identifier.value"),
        ("phone", "020 7946 0958", "", "identifier.value"),  # national number without a default region
        ("phone", "+44 12", "", "identifier.value"),
        ("x", "@way_too_long_handle_for_x", "", "identifier.value"),
        ("x", "https://example.com/jane", "", "identifier.value"),
        ("blog_url", "ftp://example.com/blog", "", "identifier.value"),
        ("blog_url", "https://user:pw@example.com/", "", "identifier.value"),
        ("forum_user", "jane", "", "identifier.namespace"),
        ("email", "jane@example.com", "somewhere", "identifier.namespace"),
        ("other", "line\nbreak", "kind", "identifier.value"),
    ],
)
def test_bad_identifiers_are_refused_naming_the_field(type_: str, value: str, namespace: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_identifier(type_, value, namespace)
    assert [v.field for v in caught.value.violations] == [field]


def test_a_national_phone_number_uses_the_default_region() -> None:
    assert normalise_identifier("phone", "020 7946 0958", default_region="GB").value == "+442079460958"


# ---- properties

_local = st.text(alphabet=string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
)
_label = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12)
_emails = st.builds(lambda l, d, t: f"{l}@{d}.{t}", _local, _label, st.sampled_from(["com", "ORG", "De", "io"]))


@settings(max_examples=80, deadline=None)
@given(email=_emails, pad=st.sampled_from(["", " ", "\t"]))
def test_email_normalisation_is_idempotent_and_case_insensitive(email: str, pad: str) -> None:
    once = normalise_identifier("email", pad + email + pad).value
    assert once == once.lower()
    assert normalise_identifier("email", once).value == once
    assert normalise_identifier("email", email.upper()).value == once


_regions = st.sampled_from(["GB", "US", "DE", "FR", "IN", "BR", "JP", "AU", "ZA", "NL"])


_formats = st.sampled_from(
    [
        phonenumbers.PhoneNumberFormat.E164,
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        phonenumbers.PhoneNumberFormat.NATIONAL,
        phonenumbers.PhoneNumberFormat.RFC3966,
    ]
)


@settings(max_examples=60, deadline=None)
@given(region=_regions, style=_formats)
def test_every_spelling_of_a_phone_number_has_one_e164_form(region: str, style: int) -> None:
    number = phonenumbers.example_number(region)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    spelled = phonenumbers.format_number(number, style)
    national = style == phonenumbers.PhoneNumberFormat.NATIONAL
    assert normalise_identifier("phone", spelled, default_region=region if national else None).value == e164
    assert normalise_identifier("phone", e164).value == e164


_handles = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=15)


@settings(max_examples=60, deadline=None)
@given(handle=_handles, at=st.booleans())
def test_x_handles_lose_the_at_and_the_case(handle: str, at: bool) -> None:
    value = normalise_identifier("x", ("@" if at else "") + handle).value
    assert value == handle.lower()
    assert identifier_id("x", "", value) == identifier_id("x", "", normalise_identifier("x", handle.upper()).value)


_paths = st.lists(st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=8), max_size=3)


@settings(max_examples=80, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTPS"]),
    host=st.lists(_label, min_size=2, max_size=3),
    default_port=st.booleans(),
    path=_paths,
    slash=st.booleans(),
    fragment=st.text(alphabet=string.ascii_letters, max_size=5),
)
def test_urls_have_one_canonical_form(
    scheme: str, host: list[str], default_port: bool, path: list[str], slash: bool, fragment: str
) -> None:
    port = {"http": ":80", "https": ":443"}[scheme.lower()] if default_port else ""
    url = f"{scheme}://{'.'.join(host)}{port}/{'/'.join(path)}{'/' if slash else ''}{'#' + fragment if fragment else ''}"
    canonical = canonical_url(url)
    assert canonical == canonical_url(canonical)
    assert canonical.startswith(scheme.lower() + "://" + ".".join(host).lower())
    assert "#" not in canonical
    assert not canonical.endswith("/")
    assert ":80" not in canonical and ":443" not in canonical


@settings(max_examples=60, deadline=None)
@given(type_=st.sampled_from(IDENTIFIER_TYPES), value=st.text(max_size=40), namespace=st.text(max_size=10))
def test_normalisation_either_refuses_or_is_a_fixed_point(type_: str, value: str, namespace: str) -> None:
    try:
        once = normalise_identifier(type_, value, namespace)
    except InvalidArgument as refused:
        assert refused.violations and refused.violations[0].field.startswith("identifier.")
        return
    assert normalise_identifier(once.type, once.value, once.namespace) == once

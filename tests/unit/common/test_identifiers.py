"""The kernel's identifier normal form: one spelling per identifier (table tests and properties)."""

from __future__ import annotations

import string
import unicodedata

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.identifiers import (
    IDENTIFIER_TYPES,
    Identifier,
    InvalidIdentifier,
    canonical_url,
    has_refused_characters,
    normalise,
)


def normalise_identifier(
    type_: str, value: str, namespace: str = "", *, default_region: str | None = None
) -> Identifier:
    return normalise(type_, namespace, value, default_region)


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
        ("fax", "123", "", "type"),
        ("", "123", "", "type"),
        ("email", "jane.example.com", "", "value"),
        ("email", "jane@localhost", "", "value"),
        ("email", "ja ne@example.com", "", "value"),
        ("email", "", "", "value"),
        ("phone", "not a number", "", "value"),
        ("phone", "020 7946 0958", "", "value"),  # national number without a default region
        ("phone", "+44 12", "", "value"),
        ("x", "@way_too_long_handle_for_x", "", "value"),
        ("x", "https://example.com/jane", "", "value"),
        ("blog_url", "ftp://example.com/blog", "", "value"),
        ("blog_url", "https://user:pw@example.com/", "", "value"),
        ("forum_user", "jane", "", "namespace"),
        ("email", "jane@example.com", "somewhere", "namespace"),
        ("other", "line\nbreak", "kind", "value"),
    ],
)
def test_bad_identifiers_are_refused_naming_the_field(type_: str, value: str, namespace: str, field: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise_identifier(type_, value, namespace)
    assert caught.value.part == field
    assert [v.field for v in caught.value.at("identifiers[3]").violations] == [f"identifiers[3].{field}"]


def test_a_national_phone_number_uses_the_default_region() -> None:
    assert normalise_identifier("phone", "020 7946 0958", default_region="GB").value == "+442079460958"


# ---- properties

_local = st.text(alphabet=string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
)
_label = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=12)
_emails = st.builds(lambda local, d, t: f"{local}@{d}.{t}", _local, _label, st.sampled_from(["com", "ORG", "De", "io"]))


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
    assert normalise_identifier("x", value).key == normalise_identifier("x", handle.upper()).key


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
    url = (
        f"{scheme}://{'.'.join(host)}{port}/{'/'.join(path)}{'/' if slash else ''}{'#' + fragment if fragment else ''}"
    )
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
    except InvalidIdentifier as refused:
        assert refused.part in {"type", "namespace", "value"}
        return
    assert normalise_identifier(once.type, once.value, once.namespace) == once


# ---- Unicode, control characters, extensions (issue 13 "Normalisation")


@pytest.mark.parametrize(
    ("type_", "namespace"),
    [
        ("forum_user", "forum.example"),
        ("chat_id", "livechat"),
        ("marketplace_reviewer", "market.example"),
        ("other", "kind"),
    ],
)
def test_a_name_typed_composed_or_decomposed_is_one_identifier(type_: str, namespace: str) -> None:
    composed, decomposed = "Jos\u00e9", "Jose\u0301"
    assert normalise(type_, namespace, composed).key == normalise(type_, namespace, decomposed).key


def test_case_insensitive_types_fold_case_beyond_ascii() -> None:
    assert (
        normalise("forum_user", "forum.example", "JOSÉ").value == normalise("forum_user", "forum.example", "josé").value
    )


@pytest.mark.parametrize("type_", IDENTIFIER_TYPES)
@pytest.mark.parametrize("control", ["\x00", "\x07", "\n", "\u2028"])
def test_a_control_character_inside_any_identifier_is_refused(type_: str, control: str) -> None:
    namespace = "example.org" if type_ in {"forum_user", "marketplace_reviewer", "chat_id", "other"} else ""
    with pytest.raises(InvalidIdentifier) as caught:
        normalise(type_, namespace, f"jane{control}smith")
    assert caught.value.part == "value"


def test_surrounding_white_space_is_trimmed_not_refused() -> None:
    assert normalise("chat_id", "livechat", "\tvisitor-7F\n").value == "visitor-7F"


def test_a_phone_extension_is_kept_in_the_normal_form() -> None:
    with_extension = normalise("phone", "", "+1 415 555 2671 ext. 12")
    assert with_extension.value == "+14155552671;ext=12"
    assert normalise("phone", "", with_extension.value) == with_extension
    assert with_extension.key != normalise("phone", "", "+1 415 555 2671").key


def test_a_national_number_without_a_default_region_is_refused_with_a_hint() -> None:
    with pytest.raises(InvalidIdentifier, match=r"\+ and the country code"):
        normalise("phone", "", "020 7946 0958")


@pytest.mark.parametrize(
    ("type_", "namespace", "value"),
    [
        ("email", "", "jane.smith@localhost"),
        ("phone", "", "+44 12 secret"),
        ("x", "", "jane.smith.secret.handle"),
        ("blog_url", "", "ftp://secret.example/jane"),
        ("forum_user", "", "jane secret"),
    ],
)
def test_a_refusal_never_repeats_the_value(type_: str, namespace: str, value: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        normalise(type_, namespace, value)
    assert "secret" not in str(caught.value)
    assert all("secret" not in v.description for v in caught.value.violations)


@settings(max_examples=60, deadline=None)
@given(region=_regions, style=_formats)
def test_the_key_of_every_spelling_of_a_phone_number_is_the_same(region: str, style: int) -> None:
    number = phonenumbers.example_number(region)
    spelled = phonenumbers.format_number(number, style)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert Identifier("phone", "", spelled).normal(region).key == Identifier("phone", "", e164).key


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_refused_characters_are_those_of_the_refused_unicode_categories(text: str) -> None:
    expected = any(unicodedata.category(ch) in {"Cc", "Zl", "Zp", "Cs"} for ch in text.strip())
    assert has_refused_characters(text) == expected


def test_a_remembered_normal_key_follows_a_new_pseudonym_key_and_an_invalid_spelling_keys_as_spelled() -> None:
    from services.common import identifiers

    original = identifiers._pseudonym_key
    assert original is not None
    before = identifiers.normal_key("email", "", "Jane.Smith@Example.com")
    assert before == normalise("email", "", "jane.smith@example.com").key
    assert identifiers.normal_key("email", "", "not an address") == Identifier("email", "", "not an address").key
    try:
        identifiers.use_pseudonym_key(b"another deployment's key")
        assert identifiers.normal_key("email", "", "Jane.Smith@Example.com") != before
        assert identifiers.normal_key("email", "", "not an address") == Identifier("email", "", "not an address").key
    finally:
        identifiers.use_pseudonym_key(original)
    assert identifiers.normal_key("email", "", "Jane.Smith@Example.com") == before


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=80))
def test_a_pseudonym_is_the_hmac_sha256_of_the_text_under_the_key_as_a_version_8_uuid(text: str) -> None:
    import hashlib
    import hmac
    import uuid

    from services.common import identifiers

    key = identifiers._pseudonym_key
    assert key is not None
    digest = bytearray(hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    assert identifiers.pseudonym(text) == uuid.UUID(bytes=bytes(digest))
    assert identifiers.pseudonym(text) == identifiers.pseudonym(text)  # the keyed state is not used up

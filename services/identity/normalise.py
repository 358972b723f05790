"""Identifier normalisation: one canonical spelling per identifier, so one identifier has one id.

Pure functions, no I/O. Every identifier is reduced to ``(type, namespace, value)``; the identifier id is a
UUIDv5 of that triple (``services.identity.domain.identifier_id``), so two spellings of the same handle are the
same identifier and resolve to the same party.

Choices, per type (the value is always stripped of surrounding white space first):

``email``
    The whole address is lower-cased (RFC 5321 allows case-sensitive local parts; no mail system we meet uses
    them, and lower-casing is what people expect). Syntax check: one ``@``, a dot-atom local part of at most 64
    characters (quoted local parts are refused), a domain of dot-separated LDH labels with at least two labels
    and an alphabetic top-level label, at most 254 characters in all. A ``mailto:`` prefix is removed.
    Sub-addresses (``jane+news@``) are kept: they are what the person typed.
``phone``
    E.164 via ``phonenumbers``. A number without ``+`` needs a default region (the service setting
    ``CHORUS_IDENTITY_DEFAULT_REGION``; none by default, so national numbers are refused rather than guessed).
    The number must be valid for its region, not merely possible.
``x``, ``facebook``, ``instagram``, ``youtube``
    Handles: one leading ``@`` is removed and the handle is lower-cased (all four platforms treat handles
    case-insensitively). A profile URL on the platform's own host (``https://x.com/Jane``) is reduced to its
    handle. Each platform's character set and length is checked.
``forum_user``, ``marketplace_reviewer``
    Need a namespace (the forum or marketplace host, lower-cased). A forum user name is lower-cased with inner
    white space collapsed; a marketplace reviewer id is opaque and keeps its case.
``blog_url``
    Canonical URL: a missing scheme means ``https``; only ``http`` and ``https`` are accepted; scheme and host
    are lower-cased; default ports (80, 443) are dropped; the fragment is dropped; trailing slashes of the path
    are dropped (the root path becomes empty); the query string is kept as is; ``www.`` is kept (it can be a
    different site); user information (``user:pass@``) is refused, it does not belong in an identifier.
``crm_id``, ``device_id``
    Opaque: a CRM id keeps its case (namespace optional: the CRM system); a device id is lower-cased (device ids
    are hexadecimal or UUIDs in practice).
``chat_id``, ``other``
    Need a namespace (the chat system; for ``other`` the kind of handle); the value is opaque and keeps its
    case. Opaque values must not contain control characters or line breaks.

A namespace, where it is not used by a type, must be empty. Namespaces are lower-cased.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import phonenumbers

from services.common.errors import FieldViolation, InvalidArgument

#: Every identifier type, by its lower-case domain name (the proto enum is ``IDENTIFIER_TYPE_<NAME>``).
IDENTIFIER_TYPES: tuple[str, ...] = (
    "email",
    "phone",
    "x",
    "facebook",
    "instagram",
    "youtube",
    "forum_user",
    "blog_url",
    "marketplace_reviewer",
    "crm_id",
    "device_id",
    "chat_id",
    "other",
)

NAMESPACE_REQUIRED = frozenset({"forum_user", "marketplace_reviewer", "chat_id", "other"})
NAMESPACE_ALLOWED = NAMESPACE_REQUIRED | {"crm_id", "device_id"}

MAX_VALUE_LENGTH = 512

_LOCAL_PART = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9._:/-]{0,199}$")

_HANDLES: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    # type: (pattern of the lower-cased handle, hosts whose profile URLs carry the handle as first path part)
    "x": (re.compile(r"^[a-z0-9_]{1,15}$"), ("x.com", "twitter.com", "mobile.twitter.com")),
    "facebook": (re.compile(r"^[a-z0-9.]{1,50}$"), ("facebook.com", "m.facebook.com", "fb.com")),
    "instagram": (re.compile(r"^(?!\.)[a-z0-9._]{1,30}(?<!\.)$"), ("instagram.com",)),
    "youtube": (re.compile(r"^[a-z0-9._-]{3,30}$"), ("youtube.com", "m.youtube.com")),
}

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, order=True)
class NormalisedIdentifier:
    """An identifier in its one canonical spelling."""

    type: str
    namespace: str
    value: str


def _bad(field: str, description: str) -> InvalidArgument:
    return InvalidArgument(f"{field}: {description}", [FieldViolation(field, description)])


def normalise_identifier(
    type: str,  # noqa: A002 - the domain word
    value: str,
    namespace: str = "",
    *,
    default_region: str | None = None,
    field: str = "identifier",
) -> NormalisedIdentifier:
    """Return the canonical spelling of an identifier, or raise InvalidArgument naming the bad field.

    >>> normalise_identifier("email", " Jane.Smith@Example.COM ")
    NormalisedIdentifier(type='email', namespace='', value='jane.smith@example.com')
    >>> normalise_identifier("x", "@JaneSmith").value
    'janesmith'
    """
    if type not in IDENTIFIER_TYPES:
        raise _bad(f"{field}.type", f"unknown identifier type {type!r}")
    namespace = (namespace or "").strip().lower()
    if type in NAMESPACE_REQUIRED and not namespace:
        raise _bad(f"{field}.namespace", f"a {type} identifier needs a namespace (the site or system it lives in)")
    if namespace and type not in NAMESPACE_ALLOWED:
        raise _bad(f"{field}.namespace", f"a {type} identifier has no namespace")
    if namespace and not _NAMESPACE.match(namespace):
        raise _bad(f"{field}.namespace", "namespace must be a host or system name (letters, digits, . _ : / -)")
    value = (value or "").strip()
    if not value:
        raise _bad(f"{field}.value", "must not be empty")
    if len(value) > MAX_VALUE_LENGTH:
        raise _bad(f"{field}.value", f"longer than {MAX_VALUE_LENGTH} characters")
    canonical = _NORMALISERS[type](value, default_region, f"{field}.value")
    return NormalisedIdentifier(type=type, namespace=namespace, value=canonical)


def _email(value: str, _region: str | None, field: str) -> str:
    value = value.lower()
    if value.startswith("mailto:"):
        value = value[len("mailto:") :]
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise _bad(field, "not an email address (expected local@domain)")
    if len(value) > 254 or len(local) > 64:
        raise _bad(field, "email address too long")
    if not _LOCAL_PART.match(local):
        raise _bad(field, "email local part has characters that are not allowed")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels) or not labels[-1].isalpha():
        raise _bad(field, "email domain is not a valid host name")
    return value


def _phone(value: str, region: str | None, field: str) -> str:
    if value.lower().startswith("tel:"):
        value = value[4:]
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else region)
    except phonenumbers.NumberParseException:
        hint = "" if value.startswith("+") or region else " (write it with + and the country code)"
        raise _bad(field, f"not a phone number{hint}") from None
    if not phonenumbers.is_valid_number(number):
        raise _bad(field, "not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _handle_of(type_: str) -> object:
    pattern, hosts = _HANDLES[type_]

    def normalise(value: str, _region: str | None, field: str) -> str:
        handle = value.lower()
        if "/" in handle:
            parts = urlsplit(handle if "://" in handle else f"https://{handle}")
            host = (parts.hostname or "").removeprefix("www.")
            segments = [s for s in parts.path.split("/") if s]
            if host not in hosts or not segments:
                raise _bad(field, f"not a {type_} handle or profile URL")
            handle = segments[0]
        handle = handle.removeprefix("@")
        if not pattern.match(handle):
            raise _bad(field, f"not a valid {type_} handle")
        return handle

    return normalise


def _forum_user(value: str, _region: str | None, field: str) -> str:
    name = " ".join(value.split()).lower().removeprefix("@")
    if not name:
        raise _bad(field, "must not be empty")
    return name


def _opaque(value: str, _region: str | None, field: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise _bad(field, "must not contain control characters or line breaks")
    return value


def _device_id(value: str, region: str | None, field: str) -> str:
    return _opaque(value, region, field).lower()


def _blog_url(value: str, _region: str | None, field: str) -> str:
    return canonical_url(value, field=field)


def canonical_url(value: str, *, field: str = "url") -> str:
    """Canonical form of an http(s) URL (see the module docstring).

    >>> canonical_url("HTTP://WWW.Example.com:80/Blog/#top")
    'http://www.example.com/Blog'
    """
    raw = value.strip()
    if "://" not in raw:
        raw = f"https://{raw}"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise _bad(field, "not a URL") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise _bad(field, "only http and https URLs are identifiers")
    if parts.username is not None or parts.password is not None:
        raise _bad(field, "a URL with user information is not an identifier")
    host = (parts.hostname or "").lower()
    labels = host.split(".")
    if not host or not all(_DOMAIN_LABEL.match(label) for label in labels) or len(labels) < 2:
        raise _bad(field, "URL host is not a valid host name")
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = parts.path.rstrip("/")
    if any(ch.isspace() for ch in path + parts.query):
        raise _bad(field, "URL contains white space")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


_NORMALISERS = {
    "email": _email,
    "phone": _phone,
    "x": _handle_of("x"),
    "facebook": _handle_of("facebook"),
    "instagram": _handle_of("instagram"),
    "youtube": _handle_of("youtube"),
    "forum_user": _forum_user,
    "blog_url": _blog_url,
    "marketplace_reviewer": _opaque,
    "crm_id": _opaque,
    "device_id": _device_id,
    "chat_id": _opaque,
    "other": _opaque,
}

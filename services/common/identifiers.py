"""Identifiers and their normal form: the one spelling of an identifier that every Chorus service shares.

An :class:`Identifier` is a typed handle that points at a party: ``(type, namespace, value)``. Sources spell one
identifier many ways (``+44 20 7946 0958``, ``020 7946 0958``, ``+442079460958``); :func:`normalise` gives the
one spelling, and :attr:`Identifier.key` a stable string of it for joins and indexes. Identity keeps its claims
under that key, touchpoints lists a person's touchpoints by it, experience matches the two with it.

The whole API::

    from services.common.identifiers import Identifier, InvalidIdentifier, normalise, has_refused_characters

    ident = normalise("phone", "", "020 7946 0958", default_region="GB")
    ident.value                  # '+442079460958'
    ident.key                    # the same str for every spelling (a keyed HMAC; identity's identifier id)
    Identifier("x", "", "@Jane").normal()   # Identifier(type='x', namespace='', value='jane')

:func:`has_refused_characters` is the one rule for characters, for callers that keep an identifier in its raw
spelling (touchpoints records actors as the source spelled them). :func:`normalise` raises :class:`InvalidIdentifier` naming the part that is wrong (``type``, ``namespace`` or
``value``) and why, never repeating the value: error texts reach logs and clients. A boundary puts its own field
path in front of the part (``identifiers[2].value``). The normal form is a fixed point: normalising it again
gives it back, so a value that cannot be normalised is never equal to any normal form, and its raw
:attr:`~Identifier.key` can never collide with a normalised one.

``default_region`` is the region of phone numbers written without ``+`` (``CHORUS_DEFAULT_REGION`` in
``services.common.config``, one setting for every service); ``None`` refuses them rather than guessing.

Decisions, for every type. The value and namespace are first trimmed of surrounding white space and brought to
Unicode NFC (so ``José`` typed as one code point or as ``e`` + combining accent is one identifier; NFKC is not
used: it would fold characters that are different on screen). A value or namespace with a control character,
line or paragraph separator or lone surrogate left inside is refused, for every type. Types that compare
case-insensitively are case-folded (``str.casefold``, then NFC again), the others keep their case.

``email``
    Case-folded as a whole (RFC 5321 allows case-sensitive local parts; no mail system we meet uses them, and
    folding is what people expect). Syntax check: one ``@``, a dot-atom local part of at most 64 characters
    (quoted local parts are refused), a domain of dot-separated LDH labels with at least two labels and an
    alphabetic top-level label, at most 254 characters in all. A ``mailto:`` prefix is removed. Sub-addresses
    (``jane+news@``) are kept: they are what the person typed.
``phone``
    E.164 via ``phonenumbers``. A number without ``+`` needs ``default_region``. The number must be valid for its
    region, not merely possible. An extension (``+1 415 555 2671 ext. 12``) is kept, written ``;ext=12`` after
    the E.164 number (RFC 3966): the number with an extension reaches a desk behind a switchboard that many
    people share, so it is a different identifier from the switchboard's number and is never silently dropped.
``x``, ``facebook``, ``instagram``, ``youtube``
    Handles: one leading ``@`` is removed and the handle is case-folded (all four platforms treat handles
    case-insensitively). A profile URL on the platform's own host (``https://x.com/Jane``) is reduced to its
    handle. Each platform's character set and length is checked.
``forum_user``, ``marketplace_reviewer``
    Need a namespace (the forum or marketplace host). A forum user name is case-folded with inner white space
    collapsed and one leading ``@`` removed; a marketplace reviewer id is opaque and keeps its case.
``blog_url``
    Canonical URL: a missing scheme means ``https``; only ``http`` and ``https`` are accepted; scheme and host
    are lower-cased; default ports (80, 443) are dropped; the fragment is dropped; trailing slashes of the path
    are dropped (the root path becomes empty); the query string is kept as is; ``www.`` is kept (it can be a
    different site); user information (``user:pass@``) is refused, it does not belong in an identifier.
``crm_id``, ``device_id``
    Opaque: a CRM id keeps its case (namespace optional: the CRM system); a device id is case-folded (device ids
    are hexadecimal or UUIDs in practice).
``chat_id``, ``other``
    Need a namespace (the chat system; for ``other`` the kind of handle); the value is opaque and keeps its case.

A namespace, where a type does not use one, must be empty. Namespaces are lower-cased host or system names.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
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

#: The deployment's pseudonym key (:func:`use_pseudonym_key`); identifier ids are HMACs under it.
_pseudonym_key: bytes | None = None
#: HMAC-SHA256 keyed with it, copied for each id: a copy skips the key set-up and the digest look-up that a new
#: HMAC (or ``hmac.digest``) repeats each time.
_keyed_hmac: hmac.HMAC | None = None

#: Unicode categories refused anywhere in a value: controls, line and paragraph separators, lone surrogates.
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})

_LOCAL_PART = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9._:/-]{0,199}$")

_HANDLES: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {
    # type: (pattern of the case-folded handle, hosts whose profile URLs carry the handle as first path part)
    "x": (re.compile(r"^[a-z0-9_]{1,15}$"), ("x.com", "twitter.com", "mobile.twitter.com")),
    "facebook": (re.compile(r"^[a-z0-9.]{1,50}$"), ("facebook.com", "m.facebook.com", "fb.com")),
    "instagram": (re.compile(r"^(?!\.)[a-z0-9._]{1,30}(?<!\.)$"), ("instagram.com",)),
    "youtube": (re.compile(r"^[a-z0-9._-]{3,30}$"), ("youtube.com", "m.youtube.com")),
}

_DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidIdentifier(InvalidArgument):
    """An identifier has no normal form: ``part`` (``type``, ``namespace`` or ``value``) and ``description`` say
    why, without repeating the value. Boundaries prefix ``part`` with their own field path (:meth:`at`)."""

    def __init__(self, part: str, description: str) -> None:
        super().__init__(f"{part}: {description}", [FieldViolation(part, description)])
        self.part = part
        self.description = description

    def at(self, path: str) -> InvalidArgument:
        """The same refusal for the request field ``path`` (``identifiers[2]`` gives ``identifiers[2].value``)."""
        return InvalidArgument.field(f"{path}.{self.part}", self.description)


@dataclass(frozen=True, order=True)
class Identifier:
    """A typed handle that points at a party, in whatever spelling it was given (see the module docstring)."""

    type: str
    namespace: str
    value: str

    @property
    def id(self) -> uuid.UUID:
        """A keyed pseudonym of the triple (:func:`pseudonym`): for a normal form, identity's identifier id (the
        id of its claim) and the id of its data key. Computed once per object: its fields never change."""
        known = self.__dict__.get("_id")
        if known is None:
            known = pseudonym(f"{self.type}\x1f{self.namespace}\x1f{self.value}")
            object.__setattr__(self, "_id", known)
        return known

    @property
    def key(self) -> str:
        """One stable string per spelling, for joins and indexes (``str(self.id)``); normalise first to get one
        string per identifier."""
        known = self.__dict__.get("_key")
        if known is None:
            known = str(self.id)
            object.__setattr__(self, "_key", known)
        return known

    def normal(self, default_region: str | None = None) -> Identifier:
        """This identifier in its normal form (:func:`normalise`)."""
        return normalise(self.type, self.namespace, self.value, default_region)


class PseudonymKeyMissing(RuntimeError):
    """An identifier id was asked for before the composition root installed the deployment's pseudonym key."""


def use_pseudonym_key(key: bytes) -> None:
    """Install the deployment's pseudonym key (what ``services.common.privacy.keys`` reads from configuration).

    Every process of a deployment must use the same key: identity's claim ids, touchpoints' actor index and the
    experience joins all compare these ids. Changing it re-keys every identifier (a rebuild of every view).
    """
    global _pseudonym_key, _keyed_hmac  # noqa: PLW0603 - one key per process, installed once by the composition root
    if len(key) < 16:
        msg = "the pseudonym key must be at least 16 bytes"
        raise ValueError(msg)
    _pseudonym_key = bytes(key)
    _keyed_hmac = hmac.new(_pseudonym_key, digestmod=hashlib.sha256)
    _NORMAL_FORMS.clear()
    _INVALID_KEYS.clear()


#: (type, namespace, value, region) -> its normal form, for the current pseudonym key (a normal form remembers its
#: id); bounded by clearing. Sealing and imports normalise every identifier of every event they write.
_NORMAL_FORMS: dict[tuple[str, str, str, str | None], Identifier] = {}
_NORMAL_FORMS_HELD = 100_000


#: (type, namespace, value, region) of a spelling with no normal form -> the key of the spelling itself, for the
#: current pseudonym key; bounded by clearing. Read models key every actor of every event they apply, so an
#: invalid spelling would otherwise be parsed again each time.
_INVALID_KEYS: dict[tuple[str, str, str, str | None], str] = {}
_INVALID_KEYS_HELD = 100_000

_Spelling = tuple[str, str, str, str | None]
_T = TypeVar("_T")


def _spelling(type: str, namespace: str, value: str, region: str | None) -> _Spelling | None:  # noqa: A002
    """The cache key of a spelling; None for hostile input (not strings), which is refused as it is, not remembered."""
    if isinstance(type, str) and isinstance(namespace, str) and isinstance(value, str):
        return (type, namespace, value, region)
    return None


def _remember(cache: dict[_Spelling, _T], held: int, spelling: _Spelling, found: _T) -> _T:
    if len(cache) >= held:
        cache.clear()
    cache[spelling] = found
    return found


def normal_key(type: str, namespace: str, value: str, default_region: str | None = None) -> str:  # noqa: A002
    """The key of the identifier's normal form, or of its spelling when it has none (an invalid value)."""
    spelling = _spelling(type, namespace, value, default_region)
    if spelling is not None:
        normal = _NORMAL_FORMS.get(spelling)  # a valid spelling seen before: one look-up
        if normal is not None:
            return normal.key
        known = _INVALID_KEYS.get(spelling)
        if known is not None:
            return known
    try:
        return normalise(type, namespace, value, default_region).key
    except InvalidIdentifier:
        key = Identifier(type, namespace, value).key
        return _remember(_INVALID_KEYS, _INVALID_KEYS_HELD, spelling, key) if spelling is not None else key


def pseudonym(text: str) -> uuid.UUID:
    """HMAC-SHA256 of ``text`` under the deployment's pseudonym key, as a UUID (RFC 9562 version 8: the first 122
    bits of the MAC). Without the key nobody can tell which identifier an id stands for, nor confirm a guess."""
    keyed = _keyed_hmac
    if keyed is None:
        msg = "no pseudonym key installed: the composition root calls services.common.privacy.keys first"
        raise PseudonymKeyMissing(msg)
    mac = keyed.copy()
    mac.update(text.encode("utf-8"))
    digest = bytearray(mac.digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    return uuid.UUID(bytes=bytes(digest))


def normalise(
    type: str,  # noqa: A002 - the domain word
    namespace: str,
    value: str,
    default_region: str | None = None,
) -> Identifier:
    """The normal form of an identifier, or :class:`InvalidIdentifier` naming the part that is wrong.

    >>> normalise("email", "", " Jane.Smith@Example.COM ")
    Identifier(type='email', namespace='', value='jane.smith@example.com')
    >>> normalise("x", "", "@JaneSmith").value
    'janesmith'
    >>> normalise("phone", "", "020 7946 0958", "GB").key == normalise("phone", "", "+44 20 7946 0958").key
    True
    """
    spelling = _spelling(type, namespace, value, default_region)
    if spelling is None:
        return _normalise(type, namespace, value, default_region)
    found = _NORMAL_FORMS.get(spelling)
    if found is None:
        found = _remember(
            _NORMAL_FORMS, _NORMAL_FORMS_HELD, spelling, _normalise(type, namespace, value, default_region)
        )
    return found


def _normalise(
    type: str,  # noqa: A002 - the domain word
    namespace: str,
    value: str,
    default_region: str | None,
) -> Identifier:
    if type not in IDENTIFIER_TYPES:
        raise InvalidIdentifier("type", "is not a known identifier type")
    namespace = _text("namespace", namespace).lower()
    if type in NAMESPACE_REQUIRED and not namespace:
        raise InvalidIdentifier("namespace", f"a {type} identifier needs a namespace (the site or system it lives in)")
    if namespace and type not in NAMESPACE_ALLOWED:
        raise InvalidIdentifier("namespace", f"a {type} identifier has no namespace")
    if namespace and not _NAMESPACE.match(namespace):
        raise InvalidIdentifier("namespace", "must be a host or system name (letters, digits, . _ : / -)")
    value = _text("value", value)
    if not value:
        raise InvalidIdentifier("value", "must not be empty")
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidIdentifier("value", f"longer than {MAX_VALUE_LENGTH} characters")
    return Identifier(type=type, namespace=namespace, value=_NORMALISERS[type](value, default_region))


def has_refused_characters(text: str) -> bool:
    """Whether ``text`` holds a character no identifier may hold (a control character, line or paragraph
    separator, lone surrogate): the rule for every type, also where an identifier is kept in its raw spelling."""
    text = text.strip()
    if text.isprintable():  # no "Other" or "Separator" character but the space: none of the refused ones
        return False
    return any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text)


def _text(part: str, text: str) -> str:
    """Trimmed, NFC, and free of control characters (the rule for every type)."""
    text = unicodedata.normalize("NFC", (text or "").strip())
    if has_refused_characters(text):
        raise InvalidIdentifier(part, "must not contain control characters or line breaks")
    return text


def _folded(text: str) -> str:
    """Case-insensitive types compare by case folding; folding can leave a string that is not NFC."""
    return unicodedata.normalize("NFC", text.casefold())


def _email(value: str, _region: str | None) -> str:
    value = _folded(value)
    if value.startswith("mailto:"):
        value = value[len("mailto:") :]
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise InvalidIdentifier("value", "not an email address (expected local@domain)")
    if len(value) > 254 or len(local) > 64:
        raise InvalidIdentifier("value", "email address too long")
    if not _LOCAL_PART.match(local):
        raise InvalidIdentifier("value", "email local part has characters that are not allowed")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels) or not labels[-1].isalpha():
        raise InvalidIdentifier("value", "email domain is not a valid host name")
    return value


def _phone(value: str, region: str | None) -> str:
    if value.lower().startswith("tel:"):
        value = value[4:]
    international = value.startswith("+")
    try:
        number = phonenumbers.parse(value, None if international else region)
    except phonenumbers.NumberParseException:
        hint = "" if international or region else " (write it with + and the country code)"
        raise InvalidIdentifier("value", f"not a phone number{hint}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier("value", "not a valid phone number for its country")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return f"{e164};ext={number.extension}" if number.extension else e164


def _handle_of(type_: str) -> Callable[[str, str | None], str]:
    pattern, hosts = _HANDLES[type_]

    def normalise_handle(value: str, _region: str | None) -> str:
        handle = _folded(value)
        if "/" in handle:
            parts = urlsplit(handle if "://" in handle else f"https://{handle}")
            host = (parts.hostname or "").removeprefix("www.")
            segments = [s for s in parts.path.split("/") if s]
            if host not in hosts or not segments:
                raise InvalidIdentifier("value", f"not a {type_} handle or profile URL")
            handle = segments[0]
        handle = handle.removeprefix("@")
        if not pattern.match(handle):
            raise InvalidIdentifier("value", f"not a valid {type_} handle")
        return handle

    return normalise_handle


def _forum_user(value: str, _region: str | None) -> str:
    name = " ".join(_folded(value).split()).removeprefix("@").strip()
    if not name:
        raise InvalidIdentifier("value", "must not be empty")
    return name


def _opaque(value: str, _region: str | None) -> str:
    return value


def _device_id(value: str, _region: str | None) -> str:
    return _folded(value)


def _blog_url(value: str, _region: str | None) -> str:
    return canonical_url(value)


def canonical_url(value: str) -> str:
    """Canonical form of an http(s) URL (see ``blog_url`` in the module docstring).

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
        raise InvalidIdentifier("value", "not a URL") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidIdentifier("value", "only http and https URLs are identifiers")
    if parts.username is not None or parts.password is not None:
        raise InvalidIdentifier("value", "a URL with user information is not an identifier")
    host = (parts.hostname or "").lower()
    labels = host.split(".")
    if not host or not all(_DOMAIN_LABEL.match(label) for label in labels) or len(labels) < 2:
        raise InvalidIdentifier("value", "URL host is not a valid host name")
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = parts.path.rstrip("/")
    if any(ch.isspace() for ch in path + parts.query):
        raise InvalidIdentifier("value", "URL contains white space")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


_NORMALISERS: dict[str, Callable[[str, str | None], str]] = {
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

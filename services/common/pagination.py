"""List pagination after AIP-158: page sizes with a default and a ceiling, and opaque page tokens bound to a query.

A servicer for ``ListThings(filter..., page_size, page_token)`` does::

    query = query_fingerprint(method="ListThings", party_id=request.party_id, channel=request.channel)
    size = page_size(request.page_size)                      # 0 -> 50, > 1000 -> 1000, < 0 -> InvalidArgument
    start = decode(request.page_token, query)                 # "" -> offset 0; other query -> InvalidArgument
    rows = app.list_things(..., offset=start.offset, limit=size + 1)
    next_token = start.advanced(size).encode() if len(rows) > size else ""

A token carries the fingerprint of the filter parameters that made it, so a token reused with a changed
filter is refused (``page_size`` is not part of the query and may change between pages). Instead of an offset a
token may carry a cursor (a JSON value such as a stream sequence or ``[timestamp, id]``) for keyset pagination.
Tokens are url-safe base64 of a small JSON document and its HMAC-SHA256 (truncated to 16 bytes): opaque and
unforgeable, not secret, so a cursor must never hold personal data. A token that was not made with the key is
refused as INVALID_ARGUMENT before anything in it is used. The key comes from :func:`use_secret` (``main.py``
passes ``CHORUS_PAGE_TOKEN_SECRET``); without one, each process draws a random key at start-up, so its tokens
are refused by another replica or after a restart (the client starts the listing again). Give every replica
of a service the same secret to let a client page across them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from typing import Any

from services.common.errors import InvalidArgument

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "PageToken",
    "decode",
    "page_size",
    "query_fingerprint",
    "use_secret",
]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

_VERSION = 1
_SIGNATURE_BYTES = 16
_MAX_TOKEN_CHARS = 4096  # refuse to decode anything bigger: a real token is far smaller
_KEY_CONTEXT = b"chorus page tokens v1\x00"

_key = secrets.token_bytes(32)  # per process until use_secret() is called


def use_secret(secret: str) -> None:
    """Sign and check page tokens with a key derived from ``secret`` (the same in every replica of a service).

    An empty ``secret`` keeps the random per-process key.
    """
    global _key  # noqa: PLW0603 - one key per process, set once at the composition root
    if secret:
        _key = hashlib.sha256(_KEY_CONTEXT + secret.encode("utf-8")).digest()


def _signature(payload: bytes) -> bytes:
    return hmac.new(_key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def page_size(requested: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    """The number of items to return for a request's ``page_size``: 0 means ``default``, more than ``maximum``
    is coerced to ``maximum`` and a negative size is an ``InvalidArgument`` on ``page_size``."""
    if requested < 0:
        raise InvalidArgument.field("page_size", "must not be negative")
    if requested == 0:
        return default
    return min(requested, maximum)


def query_fingerprint(**filters: Any) -> str:
    """A short stable digest of a list query's filter parameters (not ``page_size``, not ``page_token``).

    Include the method name so tokens of one list method are refused by another. Values may be JSON types,
    UUIDs, datetimes or anything else whose ``str()`` is stable.
    """
    canonical = json.dumps(filters, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class PageToken:
    """Where the next page of one query starts: an offset, or a cursor value for keyset pagination."""

    query: str
    offset: int = 0
    cursor: Any = None

    def advanced(self, count: int) -> PageToken:
        """The token of the page after this one when this one returned ``count`` items (offset pagination)."""
        return replace(self, offset=self.offset + count)

    def at(self, cursor: Any) -> PageToken:
        """The token of the page that starts after ``cursor`` (keyset pagination), same query."""
        return replace(self, cursor=cursor)

    def encode(self) -> str:
        """The opaque, url-safe string for a response's ``next_page_token``."""
        payload = json.dumps(
            [_VERSION, self.query, self.offset, self.cursor], separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
        return base64.urlsafe_b64encode(payload + _signature(payload)).decode("ascii").rstrip("=")


def decode(token: str, query_fingerprint: str) -> PageToken:
    """The start of the requested page: offset 0 for an empty token, else what ``token`` says.

    Raises ``InvalidArgument`` on ``page_token`` when the token is malformed, was not issued with this
    process's key, or was made by another query.
    """
    if not token:
        return PageToken(query=query_fingerprint)
    decoded = _parse(token)
    if decoded is None:
        raise InvalidArgument.field(
            "page_token",
            "is malformed or was not issued by this service (or before it restarted): pass the next_page_token "
            "of a previous response unchanged, or start again without a page_token",
        )
    if decoded.query != query_fingerprint:
        raise InvalidArgument.field(
            "page_token", "belongs to a different query: the filter changed, start again without a page_token"
        )
    return decoded


def _parse(token: str) -> PageToken | None:
    if len(token) > _MAX_TOKEN_CHARS:
        return None
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        return None
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != token:
        return None  # the same bytes spelled another way (the unused bits of the last character): not ours
    payload, signature = raw[:-_SIGNATURE_BYTES], raw[-_SIGNATURE_BYTES:]
    if len(raw) <= _SIGNATURE_BYTES or not hmac.compare_digest(_signature(payload), signature):
        return None
    try:
        fields = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(fields, list) or len(fields) != 4 or fields[0] != _VERSION:
        return None
    _, query, offset, cursor = fields
    if not isinstance(query, str) or type(offset) is not int or offset < 0:
        return None
    return PageToken(query=query, offset=offset, cursor=cursor)

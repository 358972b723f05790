"""Copy like-named fields from one record to another: ``Message(**pick(row, "topic", "parties"), other=...)``.

A record here is a mapping (a view's row, a document) or an object with attributes (a dataclass, an event).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def pick(source: Any, *names: str) -> dict[str, Any]:
    """``{name: source's value of name}`` for each name: by key when ``source`` is a mapping, else by attribute.

    A missing name is the same error indexing or attribute access would raise (``KeyError``, ``AttributeError``).
    """
    if isinstance(source, Mapping):
        return {name: source[name] for name in names}
    return {name: getattr(source, name) for name in names}

"""Records by their fields: copy like-named fields from one record to another
(``Message(**pick(row, "topic", "parties"), other=...)``), and make a frozen one from its fields (``made_of``).

A record here is a mapping (a view's row, a document) or an object with attributes (a dataclass, an event).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

_Record = TypeVar("_Record")


def pick(source: Any, *names: str) -> dict[str, Any]:
    """``{name: source's value of name}`` for each name: by key when ``source`` is a mapping, else by attribute.

    A missing name is the same error indexing or attribute access would raise (``KeyError``, ``AttributeError``).
    """
    if isinstance(source, Mapping):
        return {name: source[name] for name in names}
    return {name: getattr(source, name) for name in names}


def made_of(cls: type[_Record], fields: dict[str, Any]) -> _Record:
    """The instance of ``cls`` (a frozen dataclass, a domain event) with ``fields`` (every one of its fields, by
    name; the instance keeps the dict), made without its ``__init__``, which sets each field through
    ``object.__setattr__`` and runs ``__post_init__``: the same instance, for per-item paths (the caller vouches for
    what ``__post_init__`` would check)."""
    made = object.__new__(cls)
    object.__setattr__(made, "__dict__", fields)
    return made

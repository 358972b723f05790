"""Structured logs for every Chorus process: one JSON object a line, with the request that caused it.

Call :func:`configure_logging` once at the composition root (``main.py``), then log with
``structlog.get_logger(__name__)`` and key/value events::

    log = structlog.get_logger(__name__)
    log.info("touchpoint.recorded", channel="email", touchpoint_id=str(touchpoint_id))

Each line carries ``timestamp`` (ISO 8601, UTC), ``level``, ``logger``, ``event``, whatever was bound with
``structlog.contextvars.bind_contextvars``, and the ``request_id`` / ``correlation_id`` of the request being
served (from :mod:`services.common.context`).

An exception (``exc_info``, ``log.exception``, also from the standard ``logging`` module) is logged as its
``error_type`` and ``error_frames``, a list of ``module:line function`` frames, in every format: never its
message, never local variables, never source lines. Exception messages and locals hold request values (an
e-mail address, a message text, the bytes of a request); a type and a stack are enough to find the fault,
and they cost a line, not a rendered traceback.

Personal data: apart from exceptions, this module does not and cannot scrub values. Callers MUST NOT pass
personal data (identifier values such as emails or phone numbers, names, free text of interactions) as log
values: log ids, types, counts and durations instead. The event store is the only place personal data
belongs (encrypted per data subject: ``services.common.privacy``), and a log line cannot be erased when a
person asks to be forgotten.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from services.common import context
from services.common.config import LOG_FORMATS, LOG_LEVELS
from services.common.errors import ConfigurationError

_lock = threading.Lock()
_configured: tuple[str, str, int] | None = None


def add_request_context(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the ``request_id`` and ``correlation_id`` of the request being served, if any."""
    ctx = context.current()
    if ctx is not None:
        event_dict.setdefault("request_id", ctx.request_id)
        event_dict.setdefault("correlation_id", ctx.correlation_id)
    return event_dict


def exception_as_type_and_stack(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: ``exc_info`` becomes ``error_type`` and ``error_frames`` (no message, no locals)."""
    exc_info = event_dict.pop("exc_info", None)
    event_dict.pop("exception", None)  # a traceback rendered elsewhere carries the message
    error = _exception_of(exc_info)
    if error is not None:
        event_dict.setdefault("error_type", type(error).__name__)
        event_dict["error_frames"] = [
            f"{frame.f_globals.get('__name__', '?')}:{line} {frame.f_code.co_name}"
            for frame, line in traceback.walk_tb(error.__traceback__)
        ]
    return event_dict


def _exception_of(exc_info: Any) -> BaseException | None:
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and isinstance(exc_info[1], BaseException):
        return exc_info[1]
    return None


def configure_logging(level: str = "info", fmt: str = "json", *, stream: TextIO | None = None) -> None:
    """Route structlog and the standard ``logging`` module (grpc, nats, eventsourcing) to ``stream``.

    ``level`` is one of ``debug``, ``info``, ``warning``, ``error``, ``critical``; ``fmt`` is ``json`` or
    ``console``. ``stream`` defaults to ``sys.stderr``. Calling it again with the same arguments changes
    nothing; with other arguments it reconfigures.
    """
    global _configured  # noqa: PLW0603 - logging is process-wide by nature
    level = level.lower()
    fmt = fmt.lower()
    if level not in LOG_LEVELS:
        msg = f"log level {level!r} is not one of {', '.join(LOG_LEVELS)}"
        raise ConfigurationError(msg)
    if fmt not in LOG_FORMATS:
        msg = f"log format {fmt!r} is not one of {', '.join(LOG_FORMATS)}"
        raise ConfigurationError(msg)
    stream = stream or sys.stderr
    key = (level, fmt, id(stream))
    with _lock:
        if _configured == key:
            return
        _configure(getattr(logging, level.upper()), fmt, stream)
        _configured = key


def _configure(level: int, fmt: str, stream: TextIO) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_request_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        exception_as_type_and_stack,
    ]
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:  # exceptions never reach it (see above); no rich traceback with locals if one did
        renderer = structlog.dev.ConsoleRenderer(
            colors=stream.isatty(), exception_formatter=structlog.dev.plain_traceback
        )

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.set_name("chorus")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "chorus":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from services.common import context
from services.common.errors import ConfigurationError
from services.common.logging import configure_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    yield buffer
    structlog.contextvars.clear_contextvars()
    configure_logging("info", "json", stream=io.StringIO())


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_structlog_event_is_one_json_line_with_iso_timestamp_and_level(stream: io.StringIO) -> None:
    configure_logging("info", "json", stream=stream)

    structlog.get_logger("chorus.test").info("touchpoint.recorded", channel="email", count=2)

    [line] = _lines(stream)
    assert line["event"] == "touchpoint.recorded"
    assert line["channel"] == "email"
    assert line["count"] == 2
    assert line["level"] == "info"
    assert line["logger"] == "chorus.test"
    assert str(line["timestamp"]).endswith("Z")
    assert "T" in str(line["timestamp"])


def test_the_request_being_served_is_on_every_line(stream: io.StringIO) -> None:
    configure_logging("info", "json", stream=stream)
    log = structlog.get_logger("chorus.test")

    with context.bound(request_id="r-1", correlation_id="c-1"):
        log.info("inside")
    log.info("outside")

    inside, outside = _lines(stream)
    assert (inside["request_id"], inside["correlation_id"]) == ("r-1", "c-1")
    assert "request_id" not in outside
    assert "correlation_id" not in outside


def test_contextvars_bound_values_are_merged(stream: io.StringIO) -> None:
    configure_logging("info", "json", stream=stream)

    structlog.contextvars.bind_contextvars(rpc="/chorus.bench.v1.EchoService/Echo")
    structlog.get_logger("chorus.test").info("bound")

    assert _lines(stream)[0]["rpc"] == "/chorus.bench.v1.EchoService/Echo"


def test_the_level_filters_structlog_and_stdlib_loggers(stream: io.StringIO) -> None:
    configure_logging("warning", "json", stream=stream)

    structlog.get_logger("chorus.test").info("dropped")
    logging.getLogger("grpc.test").info("dropped too")
    structlog.get_logger("chorus.test").warning("kept")
    logging.getLogger("grpc.test").error("stdlib kept %s", "too")

    events = [line["event"] for line in _lines(stream)]
    assert events == ["kept", "stdlib kept too"]


def _fail_with_personal_data(email: str) -> None:
    request = {"email": email, "text": "my kettle leaks"}
    raise KeyError(request["email"])


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_an_exception_is_logged_as_its_type_and_stack_without_message_or_locals(stream: io.StringIO, fmt: str) -> None:
    configure_logging("info", fmt, stream=stream)
    try:
        _fail_with_personal_data("jane@example.org")
    except KeyError:
        structlog.get_logger("chorus.test").exception("failed")
        logging.getLogger("some.library").exception("library failed")
    structlog.get_logger("chorus.test").error("failed again", exc_info=KeyError("jane@example.org"))

    text = stream.getvalue()
    assert "jane@example.org" not in text
    assert "kettle" not in text
    assert "Traceback" not in text
    assert text.count("KeyError") == 3
    assert text.count("_fail_with_personal_data") == 2
    assert len(text.strip().splitlines()) == 3  # a line each


def test_the_stack_names_module_line_and_function(stream: io.StringIO) -> None:
    configure_logging("info", "json", stream=stream)
    try:
        _fail_with_personal_data("jane@example.org")
    except KeyError:
        structlog.get_logger("chorus.test").exception("failed")

    [line] = _lines(stream)
    assert line["error_type"] == "KeyError"
    assert str(line["error_frames"][-1]).startswith("tests.unit.common.test_logging:")  # type: ignore[index]
    assert str(line["error_frames"][-1]).endswith(" _fail_with_personal_data")  # type: ignore[index]


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_a_logged_traceback_shows_no_local_variables(stream: io.StringIO, fmt: str) -> None:
    configure_logging("info", fmt, stream=stream)

    def record(identifier: str) -> None:
        raise RuntimeError("store unreachable")

    try:
        record("@".join(["jane.smith", "example.org"]))  # the joined value stands only in a local variable
    except RuntimeError:
        structlog.get_logger("chorus.test").warning("failed", exc_info=True)

    text = stream.getvalue()
    assert "RuntimeError" in text
    assert "store unreachable" not in text  # nor the message: it may quote the request
    assert "jane.smith@example.org" not in text


def test_configuring_twice_does_not_duplicate_lines(stream: io.StringIO) -> None:
    configure_logging("info", "json", stream=stream)
    configure_logging("info", "json", stream=stream)

    structlog.get_logger("chorus.test").info("once")

    assert len(_lines(stream)) == 1
    assert len([h for h in logging.getLogger().handlers if h.get_name() == "chorus"]) == 1


def test_reconfiguring_to_console_renders_plain_text(stream: io.StringIO) -> None:
    configure_logging("info", "json", stream=io.StringIO())
    configure_logging("info", "console", stream=stream)

    structlog.get_logger("chorus.test").info("hello", channel="chat")

    text = stream.getvalue()
    assert "hello" in text
    assert "channel=chat" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


@pytest.mark.parametrize(("level", "fmt"), [("loud", "json"), ("info", "xml")])
def test_unknown_level_or_format_is_a_configuration_error(level: str, fmt: str) -> None:
    with pytest.raises(ConfigurationError):
        configure_logging(level, fmt)

"""The shared gRPC runtime, through a real channel to a real server on port 0, with the bench Echo service."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from chorus.bench.v1 import echo_pb2, echo_pb2_grpc
from services.common import context as request_context
from services.common.errors import (
    AlreadyExists,
    ConfigurationError,
    Conflict,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.common.grpc_runtime import REQUEST_ID_HEADER, Registration, status_details
from services.common.logging import configure_logging
from services.common.testing import eventually, running_server

ECHO = "chorus.bench.v1.EchoService"
COUNTDOWN = "chorus.test.v1.Countdown"
REPO = Path(__file__).resolve().parents[3]

FAILURES: dict[str, Callable[[], Exception]] = {
    "invalid": lambda: InvalidArgument.field("routing.reason", "too long"),
    "missing": lambda: NotFound("party", "parties/p-1"),
    "exists": lambda: AlreadyExists("party", "parties/p-1"),
    "precondition": lambda: FailedPrecondition.rule("MERGE_CAP", "parties/p-1", "five emails at most"),
    "conflict": lambda: Conflict("party p-1 changed meanwhile"),
    "unavailable": lambda: Unavailable("the event store cannot be reached"),
    "misconfigured": lambda: ConfigurationError("secret-host.internal:4222 refused"),
    "crash": lambda: RuntimeError("secret detail"),
}


def _current_ids() -> str:
    ctx = request_context.current()
    return "" if ctx is None else f"{ctx.request_id}|{ctx.correlation_id}"


class Echo(echo_pb2_grpc.EchoServiceServicer):
    """Echoes, or fails the way the request text asks; "whoami" answers the request context it runs in."""

    def Echo(self, request: echo_pb2.EchoRequest, context: grpc.ServicerContext) -> echo_pb2.EchoResponse:
        if request.text in FAILURES:
            raise FAILURES[request.text]()
        if request.text == "deny":
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")
        if request.text == "whoami":
            return echo_pb2.EchoResponse(text=_current_ids())
        return echo_pb2.EchoResponse(text=request.text, payload=request.payload)

    def EchoStream(
        self, request_iterator: Iterator[echo_pb2.EchoStreamRequest], context: grpc.ServicerContext
    ) -> echo_pb2.EchoStreamResponse:
        count = 0
        for item in request_iterator:
            if item.text in FAILURES:
                raise FAILURES[item.text]()
            count += 1
        return echo_pb2.EchoStreamResponse(count=count, payload_bytes=len(_current_ids()))


def _countdown(request: echo_pb2.EchoRequest, context: grpc.ServicerContext) -> Iterator[echo_pb2.EchoResponse]:
    """A server-streaming method: one response per step, each saying which request context it ran in (``held``:
    after the first step, nothing more until the call ends)."""
    ended = threading.Event()
    context.add_callback(ended.set)
    for step in range(request.repeat, 0, -1):
        if step == 1 and request.text in FAILURES:
            raise FAILURES[request.text]()
        if request.text == "held" and step < request.repeat:
            ended.wait(timeout=10)
        yield echo_pb2.EchoResponse(text=f"{step}:{_current_ids()}")


def _add_countdown(_servicer: object, server: grpc.Server) -> None:
    handler = grpc.unary_stream_rpc_method_handler(
        _countdown,
        request_deserializer=echo_pb2.EchoRequest.FromString,
        response_serializer=echo_pb2.EchoResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(COUNTDOWN, {"Count": handler}),))


REGISTRATIONS: list[Registration] = [
    (echo_pb2_grpc.add_EchoServiceServicer_to_server, Echo(), ECHO),
    (_add_countdown, None, COUNTDOWN),
]


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    with running_server(REGISTRATIONS) as (channel, _port):
        yield channel


@pytest.fixture
def echo(channel: grpc.Channel) -> echo_pb2_grpc.EchoServiceStub:
    return echo_pb2_grpc.EchoServiceStub(channel)


def _count(channel: grpc.Channel) -> Callable[..., Iterator[echo_pb2.EchoResponse]]:
    return channel.unary_stream(
        f"/{COUNTDOWN}/Count",
        request_serializer=echo_pb2.EchoRequest.SerializeToString,
        response_deserializer=echo_pb2.EchoResponse.FromString,
    )


def _fail(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value


def _trailing(error_or_call: grpc.Call) -> dict[str, str]:
    return dict(error_or_call.trailing_metadata() or ())


def test_a_valid_request_is_answered(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    assert echo.Echo(echo_pb2.EchoRequest(text="hello", payload=b"\x00\x01")) == echo_pb2.EchoResponse(
        text="hello", payload=b"\x00\x01"
    )


def test_invalid_argument_names_the_field(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    details = status_details(_fail(lambda: echo.Echo(echo_pb2.EchoRequest(text="invalid"))))

    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.fields == ["routing.reason"]
    assert details.detail(error_details_pb2.BadRequest).field_violations[0].description == "too long"


@pytest.mark.parametrize(
    ("text", "code"), [("missing", grpc.StatusCode.NOT_FOUND), ("exists", grpc.StatusCode.ALREADY_EXISTS)]
)
def test_missing_and_existing_resources_are_described(
    echo: echo_pb2_grpc.EchoServiceStub, text: str, code: grpc.StatusCode
) -> None:
    details = status_details(_fail(lambda: echo.Echo(echo_pb2.EchoRequest(text=text))))

    assert details.code == code
    info = details.detail(error_details_pb2.ResourceInfo)
    assert (info.resource_type, info.resource_name) == ("party", "parties/p-1")


def test_a_failed_precondition_names_the_rule(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    details = status_details(_fail(lambda: echo.Echo(echo_pb2.EchoRequest(text="precondition"))))

    assert details.code == grpc.StatusCode.FAILED_PRECONDITION
    assert details.precondition_types == ["MERGE_CAP"]
    violation = details.detail(error_details_pb2.PreconditionFailure).violations[0]
    assert (violation.subject, violation.description) == ("parties/p-1", "five emails at most")
    assert details.message == "five emails at most"


def test_a_conflict_is_aborted_with_a_reason(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    details = status_details(_fail(lambda: echo.Echo(echo_pb2.EchoRequest(text="conflict"))))

    assert details.code == grpc.StatusCode.ABORTED
    info = details.detail(error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain) == ("CONCURRENT_WRITE", "chorus")


def test_unavailable_says_when_to_retry(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    details = status_details(_fail(lambda: echo.Echo(echo_pb2.EchoRequest(text="unavailable"))))

    assert details.code == grpc.StatusCode.UNAVAILABLE
    assert details.detail(error_details_pb2.RetryInfo).retry_delay.ToNanoseconds() == 1_000_000_000
    assert details.message == "the event store cannot be reached"


@pytest.mark.parametrize(
    ("text", "secret", "logged"), [("crash", "secret detail", False), ("misconfigured", "secret-host", True)]
)
def test_server_faults_are_internal_and_log_their_type_and_stack_but_no_request_values(
    echo: echo_pb2_grpc.EchoServiceStub, text: str, secret: str, logged: bool
) -> None:
    log = io.StringIO()
    configure_logging("info", "json", stream=log)
    try:
        error = _fail(lambda: echo.Echo(echo_pb2.EchoRequest(text=text)))
    finally:
        configure_logging("info", "json", stream=io.StringIO())

    details = status_details(error)
    assert details.code == grpc.StatusCode.INTERNAL
    assert secret not in details.message
    assert details.request_id
    assert details.request_id in details.message
    failed = [line for line in map(json.loads, log.getvalue().splitlines()) if line["event"] == "rpc.failed"]
    assert len(failed) == 1
    # an unexpected error's message may quote the request: never logged; a misconfiguration is Chorus's own words
    assert (secret in log.getvalue()) is logged
    assert failed[0]["error_type"] in ("RuntimeError", "ConfigurationError")
    assert any(frame.endswith(" Echo") for frame in failed[0]["error_frames"])
    assert failed[0]["request_id"] == details.request_id


def test_a_servicer_that_aborts_keeps_its_own_status(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    details = status_details(_fail(lambda: echo.Echo(echo_pb2.EchoRequest(text="deny"))))

    assert (details.code, details.message, details.details) == (grpc.StatusCode.PERMISSION_DENIED, "not yours", ())


def test_the_request_id_is_taken_from_metadata_bound_and_echoed(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    response, call = echo.Echo.with_call(
        echo_pb2.EchoRequest(text="whoami"),
        metadata=((REQUEST_ID_HEADER, "req-123"), ("x-correlation-id", "conv-9")),
    )

    assert response.text == "req-123|conv-9"
    assert _trailing(call)[REQUEST_ID_HEADER] == "req-123"


def test_a_request_id_is_minted_when_absent_or_malformed(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    first, call = echo.Echo.with_call(echo_pb2.EchoRequest(text="whoami"))
    second, _ = echo.Echo.with_call(echo_pb2.EchoRequest(text="whoami"), metadata=((REQUEST_ID_HEADER, "bad id; x"),))
    third, _ = echo.Echo.with_call(echo_pb2.EchoRequest(text="whoami"), metadata=((REQUEST_ID_HEADER, "r" * 129),))

    request_id, correlation_id = first.text.split("|")
    assert uuid.UUID(request_id)
    assert correlation_id == request_id
    assert _trailing(call)[REQUEST_ID_HEADER] == request_id
    assert uuid.UUID(second.text.split("|")[0]) != uuid.UUID(request_id)
    assert uuid.UUID(third.text.split("|")[0]) != uuid.UUID(request_id)


def test_the_request_id_is_echoed_on_errors_too(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    error = _fail(lambda: echo.Echo(echo_pb2.EchoRequest(text="missing"), metadata=((REQUEST_ID_HEADER, "req-404"),)))

    assert _trailing(error)[REQUEST_ID_HEADER] == "req-404"
    assert status_details(error).request_id == "req-404"


def test_the_context_does_not_leak_between_calls(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    ids = {echo.Echo(echo_pb2.EchoRequest(text="whoami")).text for _ in range(20)}

    assert len(ids) == 20


def test_a_streaming_response_runs_every_step_in_the_request_context(channel: grpc.Channel) -> None:
    responses = list(_count(channel)(echo_pb2.EchoRequest(text="go", repeat=3), metadata=((REQUEST_ID_HEADER, "r-s"),)))

    assert [r.text for r in responses] == ["3:r-s|r-s", "2:r-s|r-s", "1:r-s|r-s"]


def test_an_error_in_the_middle_of_a_stream_becomes_its_status(channel: grpc.Channel) -> None:
    call = _count(channel)(echo_pb2.EchoRequest(text="conflict", repeat=3), metadata=((REQUEST_ID_HEADER, "r-x"),))
    received = []
    with pytest.raises(grpc.RpcError) as raised:
        received.extend(response.text for response in call)

    assert received == ["3:r-x|r-x", "2:r-x|r-x"]
    assert status_details(raised.value).code == grpc.StatusCode.ABORTED
    assert _trailing(raised.value)[REQUEST_ID_HEADER] == "r-x"


def test_a_cancelled_stream_is_logged_as_cancelled(channel: grpc.Channel) -> None:
    log = io.StringIO()
    configure_logging("info", "json", stream=log)
    try:
        call = _count(channel)(echo_pb2.EchoRequest(text="held", repeat=100), metadata=((REQUEST_ID_HEADER, "r-c"),))
        assert next(call).text == "100:r-c|r-c"
        call.cancel()

        def logged() -> None:
            assert '"r-c"' in log.getvalue()

        eventually(logged, timeout=5)
    finally:
        configure_logging("info", "json", stream=io.StringIO())

    finished = [line for line in map(json.loads, log.getvalue().splitlines()) if line["event"] == "rpc.finished"]
    assert [(f["request_id"], f["code"]) for f in finished] == [("r-c", "CANCELLED")]


def test_a_client_stream_is_served_in_the_request_context(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    items = (echo_pb2.EchoStreamRequest(text=str(i)) for i in range(5))

    response = echo.EchoStream(items, metadata=((REQUEST_ID_HEADER, "r-cs"),))

    assert response.count == 5
    assert response.payload_bytes == len("r-cs|r-cs")
    error = _fail(lambda: echo.EchoStream(iter([echo_pb2.EchoStreamRequest(text="invalid")])))
    assert status_details(error).fields == ["routing.reason"]


def test_every_rpc_is_logged_once_with_method_code_and_duration(channel: grpc.Channel) -> None:
    echo, echo_channel = echo_pb2_grpc.EchoServiceStub(channel), channel
    log = io.StringIO()
    configure_logging("info", "json", stream=log)
    try:
        echo.Echo(echo_pb2.EchoRequest(text="ok"), metadata=((REQUEST_ID_HEADER, "r-log-1"),))
        _fail(lambda: echo.Echo(echo_pb2.EchoRequest(text="missing"), metadata=((REQUEST_ID_HEADER, "r-log-2"),)))
        health_pb2_grpc.HealthStub(echo_channel).Check(health_pb2.HealthCheckRequest(service=ECHO))
    finally:
        configure_logging("info", "json", stream=io.StringIO())

    finished = [line for line in map(json.loads, log.getvalue().splitlines()) if line["event"] == "rpc.finished"]
    assert [(f["request_id"], f["code"]) for f in finished] == [("r-log-1", "OK"), ("r-log-2", "NOT_FOUND")]
    assert all(f["method"] == f"/{ECHO}/Echo" and f["duration_ms"] >= 0 for f in finished)


def test_reflection_lists_the_services(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    [answer] = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))

    names = {service.name for service in answer.list_services_response.service}
    assert {ECHO, COUNTDOWN, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


def test_reflection_describes_the_echo_service(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    [answer] = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(file_containing_symbol=ECHO)]))

    assert answer.file_descriptor_response.file_descriptor_proto


def _wait_for_status(stub: health_pb2_grpc.HealthStub, service: str, expected: int, timeout: float = 5.0) -> None:
    def check() -> None:
        status = stub.Check(health_pb2.HealthCheckRequest(service=service)).status
        assert status == expected, f"{service!r} stayed {status}, expected {expected}"

    eventually(check, timeout=timeout)


def test_health_follows_readiness() -> None:
    ready = threading.Event()
    before = set(threading.enumerate())
    with running_server(REGISTRATIONS[:1], readiness=ready.is_set) as (channel, _port):
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", ECHO):
            assert (
                health.Check(health_pb2.HealthCheckRequest(service=service)).status
                == health_pb2.HealthCheckResponse.NOT_SERVING
            )

        ready.set()
        _wait_for_status(health, "", health_pb2.HealthCheckResponse.SERVING)
        _wait_for_status(health, ECHO, health_pb2.HealthCheckResponse.SERVING)

        ready.clear()
        _wait_for_status(health, "", health_pb2.HealthCheckResponse.NOT_SERVING)
        _wait_for_status(health, ECHO, health_pb2.HealthCheckResponse.NOT_SERVING)
        reporters = [t for t in set(threading.enumerate()) - before if t.name == "health-reporter"]

    for reporter in reporters:
        reporter.join(timeout=2)
    assert len(reporters) == 1
    assert not any(reporter.is_alive() for reporter in reporters), "the reporter outlived its server"


def test_a_failing_readiness_probe_means_not_serving() -> None:
    down = threading.Event()

    def probe() -> bool:
        if down.is_set():
            raise ConnectionRefusedError("nats down")
        return True

    with running_server(REGISTRATIONS[:1], readiness=probe) as (channel, _port):
        health = health_pb2_grpc.HealthStub(channel)
        _wait_for_status(health, ECHO, health_pb2.HealthCheckResponse.SERVING)  # the probe answered first

        down.set()

        _wait_for_status(health, ECHO, health_pb2.HealthCheckResponse.NOT_SERVING)


def test_without_readiness_the_server_is_serving_once_started(channel: grpc.Channel) -> None:
    _wait_for_status(health_pb2_grpc.HealthStub(channel), ECHO, health_pb2.HealthCheckResponse.SERVING)


def test_an_unknown_service_has_no_health(channel: grpc.Channel) -> None:
    error = _fail(lambda: health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="nope.v1.X")))

    assert error.code() == grpc.StatusCode.NOT_FOUND


SERVE_SCRIPT = """
import sys, threading, time
from chorus.bench.v1 import echo_pb2, echo_pb2_grpc
from services.common.grpc_runtime import create_server, serve
from services.common.logging import configure_logging

class Servicer(echo_pb2_grpc.EchoServiceServicer):
    def Echo(self, request, context):
{echo}

configure_logging("info", "json")
server, port = create_server(
    [(echo_pb2_grpc.add_EchoServiceServicer_to_server, Servicer(), "chorus.bench.v1.EchoService")]
)
print(port, flush=True)
serve(server, grace={grace})
"""


@contextlib.contextmanager
def _serving_process(echo: str, grace: float) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A process that serves ``Echo`` (its body ``echo``) with ``serve(grace=...)``; killed if still alive after."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "protos")])}
    script = SERVE_SCRIPT.format(echo=textwrap.indent(textwrap.dedent(echo).strip(), " " * 8), grace=grace)
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        yield process, int(process.stdout.readline())  # type: ignore[union-attr]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _logged(process: subprocess.Popen[str]) -> list[dict[str, object]]:
    lines = process.stderr.read().splitlines()  # type: ignore[union-attr]
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_serve_finishes_in_flight_calls_after_sigterm_then_exits() -> None:
    slow = """
        print("in flight", flush=True)
        sys.stdin.readline()  # held until the test lets it finish
        return echo_pb2.EchoResponse(text=request.text)
    """
    with _serving_process(slow, grace=5) as (process, port):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            in_flight = echo_pb2_grpc.EchoServiceStub(channel).Echo.future(echo_pb2.EchoRequest(text="slow"))
            assert process.stdout.readline().strip() == "in flight"  # type: ignore[union-attr]
            process.send_signal(signal.SIGTERM)

            def stopping() -> None:  # health leaves SERVING (or the server refuses new calls) once it stops
                try:
                    reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                except grpc.RpcError:
                    return
                assert reply.status != health_pb2.HealthCheckResponse.SERVING

            eventually(stopping, timeout=10)
            process.stdin.write("release\n")  # type: ignore[union-attr]
            process.stdin.flush()  # type: ignore[union-attr]
            assert in_flight.result(timeout=10).text == "slow"
        assert process.wait(timeout=10) == 0
        events = _logged(process)
        names = [e["event"] for e in events]
        assert names.index("grpc.stopping") < names.index("rpc.finished") < names.index("grpc.stopped")
        assert events[names.index("grpc.stopping")]["signal"] == "SIGTERM"
        assert events[names.index("grpc.stopping")]["services"] == [ECHO]
        assert events[names.index("grpc.stopped")]["services"] == [ECHO]


def test_a_handler_deaf_to_cancellation_does_not_keep_a_stopped_service_alive() -> None:
    deaf = """
        print("stuck", flush=True)
        threading.Event().wait()  # deaf to its cancellation, like a call into a store that never answers
    """
    with _serving_process(deaf, grace=0.5) as (process, port):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            in_flight = echo_pb2_grpc.EchoServiceStub(channel).Echo.future(echo_pb2.EchoRequest(text="x"))
            assert process.stdout.readline().strip() == "stuck"  # type: ignore[union-attr]
            process.send_signal(signal.SIGTERM)

            assert _fail(lambda: in_flight.result(timeout=30)).code() == grpc.StatusCode.UNAVAILABLE  # retry elsewhere
        assert process.wait(timeout=30) == 0
        [stopped] = [e for e in _logged(process) if e["event"] == "grpc.stopped"]
        assert (stopped["services"], stopped["handlers_still_running"]) == ([ECHO], 1)


def test_validation_rejects_an_empty_required_field_before_the_servicer(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    error = _fail(lambda: echo.Echo(echo_pb2.EchoRequest(text="")))

    details = status_details(error)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.fields == ["text"]


def test_validation_reports_every_broken_rule_with_its_path(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    request = echo_pb2.EchoRequest(text="ok", repeat=101, tags=["ok", "x"], routing=echo_pb2.EchoRouting())

    details = status_details(_fail(lambda: echo.Echo(request)))

    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(details.fields) == {"repeat", "tags[1]", "routing.target"}


def test_streaming_requests_are_left_to_the_servicer(echo: echo_pb2_grpc.EchoServiceStub) -> None:
    assert echo.EchoStream(iter([echo_pb2.EchoStreamRequest(text="")])).count == 1


def test_health_list_answers_every_service_with_its_status(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    _wait_for_status(health, ECHO, health_pb2.HealthCheckResponse.SERVING)

    statuses = health.List(health_pb2.HealthListRequest()).statuses

    assert {name: reply.status for name, reply in statuses.items()} == {
        "": health_pb2.HealthCheckResponse.SERVING,
        ECHO: health_pb2.HealthCheckResponse.SERVING,
        COUNTDOWN: health_pb2.HealthCheckResponse.SERVING,
    }


def test_a_reflection_client_that_goes_away_is_a_cancellation_not_a_fault(channel: grpc.Channel) -> None:
    log = io.StringIO()
    more = threading.Event()

    def requests() -> Iterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        more.wait(timeout=30)  # the client keeps its stream open, then leaves without closing it

    configure_logging("debug", "json", stream=log)  # a call taken for a successful one is logged at debug
    try:
        call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            requests(), metadata=((REQUEST_ID_HEADER, "r-gone"),)
        )
        assert next(call).list_services_response.service
        eventually(lambda: _reflection_waits_for_a_request("r-gone"))  # the servicer reads when the client leaves
        call.cancel()

        def finished() -> list[dict[str, object]]:
            lines = [json.loads(line) for line in log.getvalue().splitlines()]
            done = [line for line in lines if line.get("request_id") == "r-gone"]
            assert any(line["event"] == "rpc.finished" for line in done)
            return done

        logged = eventually(finished, timeout=30)
    finally:
        more.set()
        configure_logging("info", "json", stream=io.StringIO())

    # grpc may hand the servicer the end of its request stream before it marks the call cancelled; the
    # servicer then returns as from a closed stream. Either way it is one line, and no fault.
    assert [line["event"] for line in logged] == ["rpc.finished"]
    assert logged[0]["code"] in ("CANCELLED", "OK")


def _reflection_waits_for_a_request(request_id: str) -> None:
    """Passes once the server thread serving ``request_id`` waits in the reflection servicer for a request."""
    for frame in sys._current_frames().values():  # the only way to see where a thread waits
        names, ids = set(), set()
        while frame is not None:
            names.add(frame.f_code.co_name)
            context = frame.f_locals.get("context")
            if isinstance(context, grpc.ServicerContext):
                ids.update(value for _key, value in context.invocation_metadata() or ())
            frame = frame.f_back
        if {"ServerReflectionInfo", "_next", "wait"} <= names and request_id in ids:  # in grpc's request iterator
            return
    raise AssertionError("no server thread waits for a reflection request")

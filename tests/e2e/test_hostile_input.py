"""Hostile requests through every RPC of both services: never INTERNAL, and nothing they carry reaches the log.

The methods are enumerated from the generated service descriptors (plus health and reflection), so an RPC
added later is covered without touching this file.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2
from chorus.touchpoints.v1 import touchpoint_service_pb2
from services.common.config import Settings
from services.common.grpc_runtime import status_details
from services.common.logging import configure_logging
from services.common.testing import serving
from services.identity.domain import LinkPolicy
from services.identity.main import SERVICE as IDENTITY_SERVICE
from services.identity.main import IdentitySettings
from services.touchpoints.main import SERVICE as TOUCHPOINTS_SERVICE
from services.touchpoints.main import TouchpointsSettings

RUN = uuid.uuid4().hex[:8]
SECRET_EMAIL = f"jane.hostile.{RUN}@example.org"
SECRET_TEXT = f"my secret complaint {RUN} about the kettle"
BLOCKED = f"blocked.{RUN}@example.org"
GARBAGE = b"\x0a\x05ab"  # field 1, five bytes long, but only two follow: no message decodes from it

IDENTITY = identity_service_pb2.DESCRIPTOR.services_by_name["IdentityService"]
TOUCHPOINTS = touchpoint_service_pb2.DESCRIPTOR.services_by_name["TouchpointService"]
HEALTH = health_pb2.DESCRIPTOR.services_by_name["Health"]
REFLECTION = reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"]


@dataclass
class Services:
    identity: grpc.Channel
    touchpoints: grpc.Channel

    def channel_for(self, method: MethodDescriptor) -> grpc.Channel:
        return self.touchpoints if method.containing_service is TOUCHPOINTS else self.identity


@pytest.fixture(scope="module")
def services(nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    tmp: Path = tmp_path_factory.mktemp("hostile")
    identity_settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp / 'identity.db'}")
    touchpoints_settings = Settings(nats_url=nats_url, views_url=f"sqlite:///{tmp / 'touchpoints.db'}")
    identity = IdentitySettings(app_name=f"identity_hostile_{RUN}", policy=LinkPolicy(blocked=frozenset({BLOCKED})))
    with (
        serving(IDENTITY_SERVICE, identity_settings, identity) as identity_service,
        serving(
            TOUCHPOINTS_SERVICE, touchpoints_settings, TouchpointsSettings(app_name=f"tp_hostile_{RUN}")
        ) as touchpoints,
    ):
        yield Services(identity_service.channel, touchpoints.channel)


def _methods(*services: object) -> list[MethodDescriptor]:
    return [method for service in services for method in service.methods]  # type: ignore[attr-defined]


PER_ITEM_STREAM = TOUCHPOINTS.methods_by_name["RecordTouchpointStream"]  # answers each frame, garbage included
PER_ITEM_IMPORT = IDENTITY.methods_by_name["ImportParties"]  # answers each frame too (identity test_import.py)
ALL_METHODS = [
    m for m in _methods(IDENTITY, TOUCHPOINTS, HEALTH, REFLECTION) if m not in (PER_ITEM_STREAM, PER_ITEM_IMPORT)
]


def _path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def _raw_call(channel: grpc.Channel, method: MethodDescriptor, frames: list[bytes]) -> list[bytes]:
    """Send ``frames`` as they are; the raw response messages (or the RpcError the call ended with)."""
    path = _path(method)
    if method.client_streaming and method.server_streaming:
        return list(channel.stream_stream(path)(iter(frames), timeout=10))
    if method.client_streaming:
        return [channel.stream_unary(path)(iter(frames), timeout=10)]
    if method.server_streaming:
        call = channel.unary_stream(path)(frames[0], timeout=10)
        first = next(call)  # Watch streams for ever: its first answer is enough
        call.cancel()
        return [first]
    return [channel.unary_unary(path)(frames[0], timeout=10)]


@pytest.mark.parametrize("method", ALL_METHODS, ids=_path)
def test_bytes_that_are_no_message_are_invalid_argument_without_a_traceback(
    services: Services, method: MethodDescriptor
) -> None:
    log = io.StringIO()
    configure_logging("info", "console", stream=log)
    try:
        with pytest.raises(grpc.RpcError) as raised:
            _raw_call(services.channel_for(method), method, [GARBAGE])
    finally:
        configure_logging("info", "json", stream=io.StringIO())

    details = status_details(raised.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT, details.message
    assert f"not a valid {method.input_type.full_name} message" in details.message
    assert "Traceback" not in log.getvalue()
    assert "deserializ" not in log.getvalue()


def test_a_garbage_frame_in_the_touchpoint_stream_is_rejected_alone(services: Services) -> None:
    def good(n: int) -> bytes:
        return touchpoint_service_pb2.RecordTouchpointStreamRequest(
            touchpoint=_touchpoint(f"frame-{n}")
        ).SerializeToString()

    method = PER_ITEM_STREAM
    frames = [good(0), GARBAGE, good(2), GARBAGE, good(4)]

    answers = [
        result
        for raw in _raw_call(services.touchpoints, method, frames)
        for result in touchpoint_service_pb2.RecordTouchpointStreamResponse.FromString(raw).results
    ]

    assert [a.index for a in answers] == [0, 1, 2, 3, 4]
    outcomes = [touchpoint_service_pb2.RecordOutcome.Name(a.outcome) for a in answers]
    assert outcomes == [
        "RECORD_OUTCOME_RECORDED",
        "RECORD_OUTCOME_REJECTED",
        "RECORD_OUTCOME_RECORDED",
        "RECORD_OUTCOME_REJECTED",
        "RECORD_OUTCOME_RECORDED",
    ]
    assert "RecordTouchpointStreamRequest" in answers[1].violations[0].description
    stub_get = services.touchpoints.unary_unary(
        "/chorus.touchpoints.v1.TouchpointService/GetTouchpoint",
        request_serializer=touchpoint_service_pb2.GetTouchpointRequest.SerializeToString,
        response_deserializer=touchpoint_service_pb2.GetTouchpointResponse.FromString,
    )
    for answer in (answers[0], answers[2], answers[4]):
        found = stub_get(touchpoint_service_pb2.GetTouchpointRequest(touchpoint_id=answer.touchpoint_id))
        assert found.touchpoint.touchpoint_id == answer.touchpoint_id


def _touchpoint(external_id: str) -> touchpoint_service_pb2.TouchpointInput:
    item = touchpoint_service_pb2.TouchpointInput(
        kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
        channel=types.CHANNEL_EMAIL,
        direction=types.DIRECTION_INBOUND,
        visibility=types.VISIBILITY_PRIVATE,
        source=touchpoint_service_pb2.Source(system="hostile", external_id=f"{RUN}-{external_id}"),
        actors=[types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="jane@example.org")],
        content=touchpoint_service_pb2.Content(text="The kettle leaks.", language="en"),
    )
    item.occurred_at.GetCurrentTime()
    return item


# ------------------------------------------------------------------------------ personal data in the log


def hostile(descriptor: Descriptor, depth: int = 0) -> Message:
    """A message of ``descriptor`` with every field set the hostile way: strings hold personal values,
    numbers are huge, timestamps lie outside their range; nested messages the same, a few levels deep."""
    message = GetMessageClass(descriptor)()
    for field in descriptor.fields:
        if field.containing_oneof is not None and message.WhichOneof(field.containing_oneof.name):
            continue  # one member per oneof (the first): setting another would only clear it
        _fill(message, field, depth)
    return message


def _fill(message: Message, field: FieldDescriptor, depth: int) -> None:
    repeated = field.is_repeated
    if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        if depth > 3:
            return
        if field.message_type.GetOptions().map_entry:
            return
        if field.message_type.full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
            value = GetMessageClass(field.message_type)(seconds=2**62, nanos=-1)
        else:
            value = hostile(field.message_type, depth + 1)
        target = getattr(message, field.name)
        (target.add() if repeated else target).CopyFrom(value)
        return
    value = _scalar(field)
    if value is None:
        return
    if repeated:
        getattr(message, field.name).append(value)
    else:
        setattr(message, field.name, value)


def _scalar(field: FieldDescriptor) -> object:
    kind = field.cpp_type
    if kind == FieldDescriptor.CPPTYPE_STRING:
        if field.type == FieldDescriptor.TYPE_BYTES:
            return SECRET_TEXT.encode()
        name = field.name
        return SECRET_TEXT if name in ("text", "reason", "display_name", "query") else SECRET_EMAIL
    if kind in (FieldDescriptor.CPPTYPE_INT32, FieldDescriptor.CPPTYPE_INT64):
        return -(2**31) if kind == FieldDescriptor.CPPTYPE_INT32 else 2**62
    if kind in (FieldDescriptor.CPPTYPE_UINT32, FieldDescriptor.CPPTYPE_UINT64):
        return 2**32 - 1
    if kind in (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE):
        return float("nan")
    if kind == FieldDescriptor.CPPTYPE_BOOL:
        return True
    if kind == FieldDescriptor.CPPTYPE_ENUM:
        return field.enum_type.values[-1].number
    return None


def _requests(method: MethodDescriptor) -> list[bytes]:
    """The hostile request, the same bytes cut short, and the hostile request with the blocked identifier."""
    full = hostile(method.input_type).SerializeToString()
    blocked = hostile(method.input_type).SerializeToString().replace(SECRET_EMAIL.encode(), BLOCKED.encode())
    return [full, full[:-3] + b"\x0a\x7f", blocked]


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_hostile_requests_on_every_rpc_leave_no_personal_value_in_the_log_and_no_internal(
    services: Services, fmt: str
) -> None:
    log = io.StringIO()
    codes: dict[str, set[str]] = {}
    configure_logging("debug", fmt, stream=log)
    try:
        for method in _methods(IDENTITY, TOUCHPOINTS, HEALTH):
            for frame in _requests(method):
                try:
                    _raw_call(services.channel_for(method), method, [frame])
                    code = "OK"
                except grpc.RpcError as error:
                    code = error.code().name  # type: ignore[attr-defined] - a client-side RpcError is a Call
                codes.setdefault(code, set()).add(_path(method))
    finally:
        configure_logging("info", "json", stream=io.StringIO())

    text = log.getvalue()
    assert "rpc.finished" in text  # the log was captured
    assert not {code: paths for code, paths in codes.items() if code in ("INTERNAL", "UNKNOWN")}
    for secret in (SECRET_EMAIL, SECRET_TEXT, BLOCKED):
        assert secret not in text, f"{secret!r} reached the {fmt} log"

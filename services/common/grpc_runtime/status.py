"""Chorus errors as gRPC statuses with ``google.rpc`` details, and the way back for clients and tests.

| error (``services.common.errors``) | status code | details |
| --- | --- | --- |
| ``InvalidArgument`` | ``INVALID_ARGUMENT`` | ``BadRequest`` with one ``FieldViolation`` per bad field |
| ``NotFound`` | ``NOT_FOUND`` | ``ResourceInfo`` (type, name, description) |
| ``AlreadyExists`` | ``ALREADY_EXISTS`` | ``ResourceInfo`` |
| ``FailedPrecondition`` | ``FAILED_PRECONDITION`` | ``PreconditionFailure`` (type, subject, description) |
| ``Conflict`` | ``ABORTED`` | ``ErrorInfo`` (reason, domain ``chorus``): retrying the whole request is safe |
| ``Unavailable`` | ``UNAVAILABLE`` | ``RetryInfo`` (``retry_after_seconds`` of the error, 1 s by default) |
| ``ConfigurationError`` | ``INTERNAL`` | ``ErrorInfo`` reason ``MISCONFIGURED``; the message stays in the server log |
| anything else | ``INTERNAL`` | generic message; the error's type and stack go to the server log |

Every error status also carries ``RequestInfo`` with the request id, so a caller can quote it to whoever reads
the server log. ``ConfigurationError`` is INTERNAL rather than FAILED_PRECONDITION: FAILED_PRECONDITION tells a
caller that *it* can change the state and retry, and no caller can fix a server's configuration; its
message may name hosts and paths, so it is not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common import errors

DOMAIN = "chorus"
DEFAULT_RETRY_SECONDS = 1.0

_M = TypeVar("_M", bound=Message)

_DETAIL_TYPES: tuple[type[Message], ...] = (
    error_details_pb2.BadRequest,
    error_details_pb2.ResourceInfo,
    error_details_pb2.PreconditionFailure,
    error_details_pb2.ErrorInfo,
    error_details_pb2.RetryInfo,
    error_details_pb2.RequestInfo,
    error_details_pb2.DebugInfo,
    error_details_pb2.QuotaFailure,
    error_details_pb2.Help,
    error_details_pb2.LocalizedMessage,
)


def to_rpc_status(error: BaseException, request_id: str = "") -> tuple[status_pb2.Status, bool]:
    """The ``google.rpc.Status`` for ``error``, and whether it is a server fault worth a traceback in the log."""
    code, message, details, fault = _classify(error, request_id)
    packed = []
    for detail in (*details, error_details_pb2.RequestInfo(request_id=request_id)):
        wrapper = any_pb2.Any()
        wrapper.Pack(detail)
        packed.append(wrapper)
    return status_pb2.Status(code=code, message=message, details=packed), fault


def to_grpc_status(error: BaseException, request_id: str = "") -> tuple[grpc.Status, bool]:
    """Like :func:`to_rpc_status`, as the ``grpc.Status`` that ``context.abort_with_status`` takes."""
    status, fault = to_rpc_status(error, request_id)
    return rpc_status.to_status(status), fault


def _classify(error: BaseException, request_id: str) -> tuple[int, str, Sequence[Message], bool]:
    message = str(error)
    if isinstance(error, errors.InvalidArgument):
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations
        ]
        return code_pb2.INVALID_ARGUMENT, message, [error_details_pb2.BadRequest(field_violations=violations)], False
    if isinstance(error, errors.NotFound | errors.AlreadyExists):
        code = code_pb2.NOT_FOUND if isinstance(error, errors.NotFound) else code_pb2.ALREADY_EXISTS
        info = error_details_pb2.ResourceInfo(
            resource_type=error.resource_type, resource_name=error.resource_name, description=message
        )
        return code, message, [info], False
    if isinstance(error, errors.FailedPrecondition):
        violations = [
            error_details_pb2.PreconditionFailure.Violation(type=v.type, subject=v.subject, description=v.description)
            for v in error.violations
        ]
        return (
            code_pb2.FAILED_PRECONDITION,
            message,
            [error_details_pb2.PreconditionFailure(violations=violations)],
            False,
        )
    if isinstance(error, errors.Conflict):
        return code_pb2.ABORTED, message, [error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN)], False
    if isinstance(error, errors.Unavailable):
        seconds = float(getattr(error, "retry_after_seconds", DEFAULT_RETRY_SECONDS))
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(seconds * 1e9))
        return code_pb2.UNAVAILABLE, message, [error_details_pb2.RetryInfo(retry_delay=delay)], False
    if isinstance(error, errors.ConfigurationError):
        return (
            code_pb2.INTERNAL,
            f"the server is misconfigured (request {request_id})",
            [error_details_pb2.ErrorInfo(reason="MISCONFIGURED", domain=DOMAIN)],
            True,
        )
    return code_pb2.INTERNAL, f"internal error (request {request_id})", [], True


@dataclass(frozen=True)
class StatusDetails:
    """What a failed call said: code, message and the decoded ``google.rpc`` details.

    >>> details = status_details(error)  # doctest: +SKIP
    >>> details.code, details.fields  # doctest: +SKIP
    (<StatusCode.INVALID_ARGUMENT: (3, 'invalid argument')>, ['identifier.value'])
    """

    code: grpc.StatusCode
    message: str
    details: tuple[Message, ...] = field(default=())

    def detail(self, kind: type[_M]) -> _M | None:
        """The first detail of type ``kind`` (e.g. ``error_details_pb2.BadRequest``), if any."""
        for detail in self.details:
            if isinstance(detail, kind):
                return detail
        return None

    @property
    def fields(self) -> list[str]:
        """The fields named by ``BadRequest`` violations, in order."""
        bad_request = self.detail(error_details_pb2.BadRequest)
        return [] if bad_request is None else [v.field for v in bad_request.field_violations]

    @property
    def precondition_types(self) -> list[str]:
        """The types of ``PreconditionFailure`` violations (e.g. ``MERGE_CAP``), in order."""
        failure = self.detail(error_details_pb2.PreconditionFailure)
        return [] if failure is None else [v.type for v in failure.violations]

    @property
    def request_id(self) -> str:
        info = self.detail(error_details_pb2.RequestInfo)
        return "" if info is None else info.request_id


def status_details(error: grpc.RpcError) -> StatusDetails:
    """Decode the ``google.rpc.Status`` a server attached to a failed call (an empty one when there is none)."""
    call: grpc.Call = error  # type: ignore[assignment]  # a client-side RpcError is also a Call
    status = rpc_status.from_call(call)
    if status is None:
        return StatusDetails(code=call.code(), message=call.details() or "")
    return StatusDetails(
        code=call.code(), message=status.message, details=tuple(_unpack(detail) for detail in status.details)
    )


def _unpack(detail: any_pb2.Any) -> Message:
    for kind in _DETAIL_TYPES:
        if detail.Is(kind.DESCRIPTOR):
            message = kind()
            detail.Unpack(message)
            return message
    return detail

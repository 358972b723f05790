"""What every RPC goes through, outermost first: request context, caller and role (when the server
authenticates), error mapping, validation.

Each interceptor wraps a method's handler once (cached per method), keeping its kind: unary or streaming
requests and responses. Response-streaming handlers run lazily, after the servicer method returned its
generator, so the wrappers drive the generator themselves.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import structlog

from services.common import context as request_context
from services.common import validation
from services.common.errors import ConfigurationError
from services.common.grpc_runtime import decoding
from services.common.grpc_runtime.status import to_grpc_status
from services.common.security import roles
from services.common.security.callers import Authenticator, Unauthenticated

REQUEST_ID_HEADER = "x-request-id"
CORRELATION_ID_HEADER = "x-correlation-id"

# Probes and tooling: their successful calls are logged at debug level, not info.
_QUIET_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:/=+-]{1,128}$")

log = structlog.get_logger(__name__)

Behavior = Callable[[Any, grpc.ServicerContext], Any]


class _HandlerWrapper(grpc.ServerInterceptor):
    """Wraps each method's handler once; subclasses say how in :meth:`wrap`."""

    def __init__(self) -> None:
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = _rebuild(handler, lambda behavior: self.wrap(behavior, handler, method))
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def wrap(self, behavior: Behavior, handler: grpc.RpcMethodHandler, method: str) -> Behavior:
        raise NotImplementedError


def _rebuild(handler: grpc.RpcMethodHandler, wrap: Callable[[Behavior], Behavior]) -> grpc.RpcMethodHandler:
    serializers = {
        "request_deserializer": decoding.tolerant(handler.request_deserializer),
        "response_serializer": handler.response_serializer,
    }
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(wrap(handler.stream_stream), **serializers)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(wrap(handler.stream_unary), **serializers)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(wrap(handler.unary_stream), **serializers)
    return grpc.unary_unary_rpc_method_handler(wrap(handler.unary_unary), **serializers)


def _incoming(context: grpc.ServicerContext, key: str) -> str | None:
    for name, value in context.invocation_metadata() or ():
        if name == key and isinstance(value, str) and _ACCEPTED_ID.match(value):
            return value
    return None


class RequestContextInterceptor(_HandlerWrapper):
    """Binds the request id and correlation id for the whole handler, logs ``rpc.finished``, echoes the id.

    The ids come from the ``x-request-id`` / ``x-correlation-id`` metadata when present and well-formed
    (at most 128 characters of ``[A-Za-z0-9._:/=+-]``), otherwise a new UUID (the correlation id defaults to
    the request id). The handler runs in a context of its own (``contextvars``), so neither the ids nor
    anything it binds leak into the next RPC on the same worker thread. The request id is sent back as
    ``x-request-id`` trailing metadata, on success and on error. Successful health checks and reflection
    calls are logged at debug level, so probes do not flood the log.
    """

    def wrap(self, behavior: Behavior, handler: grpc.RpcMethodHandler, method: str) -> Behavior:
        if handler.response_streaming:

            def streaming(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                run, call = self._begin(context, method)
                outcome: BaseException | None = None
                responses: Any = None
                try:
                    responses = run(behavior, request, context)
                    while True:
                        try:
                            response = run(next, responses)
                        except StopIteration:
                            break
                        yield response
                except BaseException as error:
                    outcome = error
                    raise
                finally:
                    if outcome is not None and hasattr(responses, "close"):
                        run(responses.close)  # a cancelled stream: let the servicer's generator clean up now
                    run(self._finish, context, method, call, outcome)

            return streaming

        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            run, call = self._begin(context, method)
            outcome: BaseException | None = None
            try:
                return run(behavior, request, context)
            except BaseException as error:
                outcome = error
                raise
            finally:
                run(self._finish, context, method, call, outcome)

        return unary

    @staticmethod
    def _begin(context: grpc.ServicerContext, method: str) -> tuple[Callable[..., Any], tuple[float, Any]]:
        request_id = _incoming(context, REQUEST_ID_HEADER) or str(uuid.uuid4())
        correlation_id = _incoming(context, CORRELATION_ID_HEADER) or request_id
        scope = contextvars.copy_context()
        binding = request_context.bound(request_id=request_id, correlation_id=correlation_id)
        scope.run(binding.__enter__)  # left in _finish, in the same scope
        scope.run(structlog.contextvars.bind_contextvars, rpc=method)
        return scope.run, (time.perf_counter(), binding)

    @staticmethod
    def _finish(
        context: grpc.ServicerContext, method: str, call: tuple[float, Any], outcome: BaseException | None
    ) -> None:
        started, binding = call
        try:
            ctx = request_context.current()
            request_id = ctx.request_id if ctx is not None else ""
            context.set_trailing_metadata((*(context.trailing_metadata() or ()), (REQUEST_ID_HEADER, request_id)))
            code = context.code()
            if code is None:
                if outcome is None:  # a request stream cut by the client may end as if it were closed
                    code = grpc.StatusCode.OK if context.is_active() else grpc.StatusCode.CANCELLED
                elif isinstance(outcome, GeneratorExit) or _client_left(context, outcome):
                    code = grpc.StatusCode.CANCELLED
                else:
                    code = grpc.StatusCode.UNKNOWN
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            quiet = method.startswith(_QUIET_PREFIXES) and code == grpc.StatusCode.OK
            log.log(
                logging.DEBUG if quiet else logging.INFO,
                "rpc.finished",
                method=method,
                code=code.name,
                duration_ms=duration_ms,
            )
        finally:
            binding.__exit__(None, None, None)


def _client_left(context: grpc.ServicerContext, error: BaseException) -> bool:
    """Whether ``error`` is gRPC saying the client went away (cancelled, disconnected) while the servicer read."""
    return isinstance(error, grpc.RpcError) and not context.is_active()


class ErrorInterceptor(_HandlerWrapper):
    """Turns a raised error into its status with ``google.rpc`` details (see ``grpc_runtime.status``).

    A servicer that aborted on its own (``context.abort``) keeps its status. Server faults (anything that is
    not a Chorus error kind) are logged with their type and stack (never their message: it may quote the
    request) and answered with a generic INTERNAL message. A client that went away is a cancellation, not a
    fault.
    """

    def wrap(self, behavior: Behavior, handler: grpc.RpcMethodHandler, method: str) -> Behavior:
        if handler.response_streaming:

            def streaming(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                try:
                    yield from behavior(request, context)
                except Exception as error:  # noqa: BLE001 - every error becomes a status
                    _abort(context, error)

            return streaming

        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                return behavior(request, context)
            except Exception as error:  # noqa: BLE001 - every error becomes a status
                _abort(context, error)

        return unary


def _abort(context: grpc.ServicerContext, error: Exception) -> None:
    code = context.code()
    if code is not None and code != grpc.StatusCode.OK:  # the servicer aborted or set its status itself
        raise error
    if _client_left(context, error):
        raise error  # a cancellation, not a fault: nobody is there to answer
    ctx = request_context.current()
    status, fault = to_grpc_status(error, ctx.request_id if ctx is not None else "")
    if fault:  # its type and stack (see services.common.logging); a message only when it is Chorus's own words
        said = {"error": str(error)} if isinstance(error, ConfigurationError) else {}
        log.error("rpc.failed", error_type=type(error).__name__, exc_info=error, **said)
    context.abort_with_status(status)


class ValidationInterceptor(_HandlerWrapper):
    """Checks each unary request against its ``chorus.validate.v1`` rules before the servicer sees it.

    Streaming requests are validated by the servicer, item by item. A request that breaks a rule raises
    ``InvalidArgument``, which the :class:`ErrorInterceptor` (outside this one) turns into INVALID_ARGUMENT.
    So does a request whose bytes do not decode (see :mod:`.decoding`); in a request stream such a frame
    ends the stream that way, unless the servicer method is marked ``decoding.per_item`` and answers it alone.
    """

    def __init__(self, validate: Callable[[Any], None] = validation.validate) -> None:
        super().__init__()
        self._validate = validate

    def wrap(self, behavior: Behavior, handler: grpc.RpcMethodHandler, method: str) -> Behavior:
        if handler.request_streaming:
            if decoding.handles_per_item(behavior):
                return behavior

            def decoded(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
                return behavior(decoding.strict(requests), context)

            return decoded
        validate = self._validate

        def validated(request: Any, context: grpc.ServicerContext) -> Any:
            if isinstance(request, decoding.Undecodable):
                raise request.error()
            validate(request)
            return behavior(request, context)

        return validated


class AuthInterceptor(_HandlerWrapper):
    """Authenticates every call and authorises it by role, before the servicer (or validation) sees it.

    Health, and reflection unless turned off, are open. Any other method needs a caller
    (:mod:`services.common.security.callers`: a bearer token or a verified client certificate), else
    UNAUTHENTICATED saying why; and a role the table allows (:mod:`services.common.security.roles`), else
    PERMISSION_DENIED naming the roles needed (with ``reflection=False`` the server does not serve reflection
    at all; were it served, only ``admin`` could call it). Each refusal is logged as ``rpc.refused`` with the method, the
    caller's subject and role (when known) and the reason: never a token, never request contents.
    """

    def __init__(self, authenticator: Authenticator, *, reflection: bool = True) -> None:
        super().__init__()
        self._authenticator = authenticator
        self._reflection = reflection

    def wrap(self, behavior: Behavior, handler: grpc.RpcMethodHandler, method: str) -> Behavior:
        if roles.is_open(method, reflection=self._reflection):
            return behavior
        check = self._check
        if handler.response_streaming:

            def streaming(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                check(context, method)
                yield from behavior(request, context)

            return streaming

        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            check(context, method)
            return behavior(request, context)

        return unary

    def _check(self, context: grpc.ServicerContext, method: str) -> None:
        try:
            caller = self._authenticator.caller(context.invocation_metadata(), context.auth_context())
        except Unauthenticated as error:
            log.warning("rpc.refused", method=method, code="UNAUTHENTICATED", reason=str(error))
            context.abort(grpc.StatusCode.UNAUTHENTICATED, str(error))
        if not roles.may_call(caller.role, method):
            needed = roles.needed(method)
            log.warning(
                "rpc.refused",
                method=method,
                code="PERMISSION_DENIED",
                caller=caller.subject,
                role=caller.role,
                needed=needed,
            )
            context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{method.rsplit('/', 1)[-1]} needs the role {needed}; this caller has {caller.role}",
            )
        structlog.contextvars.bind_contextvars(caller=caller.subject, role=caller.role)

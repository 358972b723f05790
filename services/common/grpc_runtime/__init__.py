"""The gRPC runtime every Chorus service shares: one server recipe, one error mapping, one request context.

- :func:`create_server` builds a started server with health, reflection and the interceptors
  (request context -> errors -> validation, see :mod:`.interceptors`).
- :func:`serve` blocks until SIGTERM/SIGINT and stops gracefully; ``main.py`` of each service ends with it.
- :class:`ServerSecurity` says whether a server speaks TLS and who may call it (:mod:`.security`);
  :func:`.client.channel` is the client side.
- :func:`status_details` decodes the ``google.rpc`` details of a failed call, for clients and tests.
- The mapping from :mod:`services.common.errors` to status codes is documented in :mod:`.status`.
"""

from services.common.grpc_runtime.interceptors import (
    CORRELATION_ID_HEADER,
    REQUEST_ID_HEADER,
    AuthInterceptor,
    ErrorInterceptor,
    RequestContextInterceptor,
    ValidationInterceptor,
)
from services.common.grpc_runtime.security import OPEN, ServerSecurity
from services.common.grpc_runtime.server import (
    HealthReporter,
    Readiness,
    Registration,
    create_server,
    serve,
    stop,
)
from services.common.grpc_runtime.status import StatusDetails, status_details, to_grpc_status, to_rpc_status

__all__ = [
    "CORRELATION_ID_HEADER",
    "OPEN",
    "REQUEST_ID_HEADER",
    "AuthInterceptor",
    "ErrorInterceptor",
    "HealthReporter",
    "Readiness",
    "Registration",
    "RequestContextInterceptor",
    "ServerSecurity",
    "StatusDetails",
    "ValidationInterceptor",
    "create_server",
    "serve",
    "status_details",
    "stop",
    "to_grpc_status",
    "to_rpc_status",
]

"""``chorus-healthcheck ADDRESS``: ask a Chorus service's ``grpc.health.v1.Health/Check`` once; exit 0 when SERVING.

The probe command of the container image (compose ``healthcheck``, Kubernetes exec probes: native gRPC probes cannot
speak TLS).
It prints one line, ``SERVING``, ``NOT_SERVING`` or why no answer came (unreachable, deadline), and exits 1 for
anything but SERVING, so Docker counts the container unhealthy.

    chorus-healthcheck 127.0.0.1:50051
    chorus-healthcheck 127.0.0.1:50052 --service chorus.touchpoints.v1.TouchpointService --timeout 2
    chorus-healthcheck 127.0.0.1:50053 --credentials-dir /etc/chorus/tls    # TLS, trusting its ca.pem or ca.crt
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.grpc_runtime import client

SERVING = health_pb2.HealthCheckResponse.SERVING


def check(address: str, service: str = "", timeout: float = 3.0, credentials_dir: Path | None = None) -> str:
    """The serving status ``address`` reports for ``service`` (``""``: the server as a whole), by name.

    A server that does not answer within ``timeout`` seconds gives the gRPC status name instead
    (``UNAVAILABLE``, ``DEADLINE_EXCEEDED``; ``NOT_FOUND`` for a service it does not know). With
    ``credentials_dir`` (``chorus up``'s credentials), the check speaks TLS with that CA.
    """
    with client.channel(address, credentials_dir) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as error:
            return error.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chorus-healthcheck", description=__doc__.splitlines()[0])
    parser.add_argument("address", help="host:port of the service's gRPC server")
    parser.add_argument("--service", default="", help="service name to ask about (default: the whole server)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for an answer (default 3)")
    parser.add_argument("--credentials-dir", type=Path, default=None, help="TLS: the CA and client credentials")
    args = parser.parse_args(argv)
    status = check(args.address, args.service, args.timeout, args.credentials_dir)
    print(status)
    return 0 if status == health_pb2.HealthCheckResponse.ServingStatus.Name(SERVING) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Request validation benchmark: checking a ten-field request beside decoding the same request.

Run: ``python bench/validation.py`` (``--rounds`` per sample). Both are measured in this one run on the same
message, best of five samples each, and the ratio validate / decode is printed: the rules cost that many
decodes of the request. Validation runs on every unary request, after gRPC has decoded it.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable

from chorus.bench.v1 import echo_pb2
from chorus.common.v1 import types_pb2
from services.common.validation import violations


def ten_field_request() -> echo_pb2.EchoRequest:
    return echo_pb2.EchoRequest(
        text="hello",
        payload=b"\x00\x01",
        identifiers=[types_pb2.Identifier(type=types_pb2.IDENTIFIER_TYPE_EMAIL, value="ada@example.com")],
        labels={"team": "care"},
        request_id=str(uuid.uuid4()),
        repeat=3,
        channel=types_pb2.CHANNEL_EMAIL,
        ratio=0.5,
        tags=["ab", "CD9"],
        routing=echo_pb2.EchoRouting(party_id=str(uuid.uuid4()), reason="escalation"),
    )


def best_seconds(work: Callable[[], object], rounds: int, samples: int = 5) -> float:
    """The fastest of ``samples`` runs of ``rounds`` calls, per call."""
    best = float("inf")
    for _ in range(samples):
        started = time.perf_counter()
        for _ in range(rounds):
            work()
        best = min(best, (time.perf_counter() - started) / rounds)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5000, help="calls per sample (default 5000)")
    args = parser.parse_args()
    request = ten_field_request()
    wire = request.SerializeToString()
    assert violations(request) == [], "the benchmark request must be valid"
    decode = best_seconds(lambda: echo_pb2.EchoRequest.FromString(wire), args.rounds)
    validate = best_seconds(lambda: violations(request), args.rounds)
    print(f"decode   {decode * 1e6:8.2f} µs per request (baseline)")
    print(f"validate {validate * 1e6:8.2f} µs per request")
    print(f"ratio validate / decode: {validate / decode:.1f}")


if __name__ == "__main__":
    main()

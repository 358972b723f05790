"""Audit benchmark: what the digest chain costs a save, and what ``verify`` costs beside a raw read of the stream.

    python bench/audit.py                  # 20k saves
    python bench/audit.py --saves 5000

Against one embedded nats-server (a fresh store in a temporary directory), in one run:

1. Saves of one new aggregate each through the real recorder (digest computed and stored), beside the same
   recorder with the digest step taken out, on a stream of its own, in interleaved turns so drift hits both.
2. Reading the whole stream with batched direct gets (the reads ``verify`` makes, nothing recomputed), beside
   ``verify_stream`` (digests, running digest and one signed checkpoint recomputed and checked), alternated,
   best of three each: ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.stream import messages
from services.audit.verify import verify_stream
from services.common.audit import Checkpointer, key_id
from services.common.nats_server import NatsServer
from tests.support.eventstore import Account, new_app

TURNS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=20_000)
    args = parser.parse_args()
    per_turn = max(1, args.saves // TURNS)
    with tempfile.TemporaryDirectory() as tmp:
        server = NatsServer(store_dir=Path(tmp) / "nats").start()
        try:
            run(server.url, per_turn)
        finally:
            server.stop()


def timed_saves(app: Any, count: int) -> float:
    accounts = [Account(kind="person", roles=("customer",), display_name="Jane", anonymous=False) for _ in range(count)]
    started = time.perf_counter()
    for account in accounts:
        app.save(account)
    return time.perf_counter() - started


def run(url: str, per_turn: int) -> None:
    app: Any = new_app(url)
    undigested: Any = new_app(url)  # the same recorder on a stream of its own, with the digest step taken out
    undigested.recorder._seal = lambda msg, previous: (msg.headers.setdefault("Chorus-Digest", previous), msg)[1]
    with_digest = without = 0.0
    for _ in range(TURNS):
        with_digest += timed_saves(app, per_turn)
        without += timed_saves(undigested, per_turn)
    count = per_turn * TURNS
    print(f"saves with the digest:     {count / with_digest:9.0f}/s")
    print(f"saves without it:          {count / without:9.0f}/s")
    print(f"ratio with / without:      {with_digest / without:9.2f}")

    recorder = app.recorder
    connection = recorder.connection
    key = Ed25519PrivateKey.generate()
    Checkpointer(connection, recorder.layout, key, interval=0).checkpoint()
    keys = {key_id(key.public_key()): key.public_key()}
    reading = verifying = float("inf")
    for _ in range(3):  # alternated, best of three each: the first read of a stream warms the server's cache
        started = time.perf_counter()
        read = sum(1 for _ in messages(connection, recorder.layout))
        reading = min(reading, time.perf_counter() - started)
        started = time.perf_counter()
        report = verify_stream(connection, app.name, keys)
        verifying = min(verifying, time.perf_counter() - started)
    print(f"raw read of {read} messages: {read / reading:9.0f} msg/s")
    print(f"verify ({'ok' if report.ok else 'BROKEN'}):               {read / verifying:9.0f} msg/s")
    print(f"ratio verify / raw read:   {verifying / reading:9.2f}")
    app.close()
    undigested.close()


if __name__ == "__main__":
    main()

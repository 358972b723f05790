"""Profile of one in-thread catch-up of the experience views over a fixed set of seeded events.

    python bench/rebuild_profile.py --data-dir /tmp/chorus-rebuild-profile      # seeds once, then reuses
    python bench/rebuild_profile.py --data-dir DIR --profile 30                  # cProfile, top 30 by own time

Seeds (or reuses) the streams ``bench/experience.py`` seeds at the sizes given, then builds fresh experience
views from sequence 1 with ``ProjectionRunner.run_to_end`` in this thread, and prints the CPU time per event,
the CPU per event of each thread (the applying one, each NATS connection's loop) and of the processes reading the
upstreams for the runner (``read_process``), and a digest of the views' canonical dump: a change to the read side
that keeps the digest keeps the views byte-identical; and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.experience import cpu_with_children, memory_of, reseeded, seed


def thread_cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) of each live thread of this process, by thread name (Linux ``/proc``)."""
    import os
    import threading

    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[thread.name] = out.get(thread.name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parties", type=int, default=2000)
    parser.add_argument("--touchpoints", type=int, default=50_000)
    parser.add_argument("--identifiers-per-party", type=int, default=3)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions by own time")
    args = parser.parse_args()
    args.load = "application"

    from services.common.config import Settings
    from services.common.eventstore.connection import JetStreamConnection
    from services.common.logging import configure_logging
    from services.common.nats_server import NatsServer
    from services.common.privacy.keyring import open_keyring
    from services.common.projections import ProjectionRunner, StreamReader
    from services.experience.projection import ExperienceProjection, ExperienceView

    configure_logging("warning", "console")
    tmp = Path(args.data_dir)
    tmp.mkdir(parents=True, exist_ok=True)
    server = NatsServer(store_dir=tmp / "nats").start()
    try:
        with open_keyring(Settings(nats_url=server.url, data_dir=tmp)):
            seeded = reseeded(tmp, args) or seed(server.url, tmp, args, random.Random(7))
            connection = JetStreamConnection.open(server.url)
            try:
                readers = [
                    StreamReader(connection, seeded.identity_app),
                    StreamReader(connection, seeded.touchpoints_app),
                ]
                views = tmp / "profile.db"
                for stale in tmp.glob("profile.db*"):
                    stale.unlink()
                view = ExperienceView(f"sqlite:///{views}")
                runner = ProjectionRunner(ExperienceProjection(view), readers, batch_size=args.batch_size)
                profiler = cProfile.Profile() if args.profile else None
                threads_before = thread_cpu_seconds()
                start, start_cpu, start_thread = time.perf_counter(), time.process_time(), time.thread_time()
                start_all = cpu_with_children()
                if profiler:
                    profiler.enable()
                positions = runner.run_to_end()
                if profiler:
                    profiler.disable()
                seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
                readers_cpu = cpu_with_children() - start_all - cpu
                thread_cpu = time.thread_time() - start_thread
                threads_after = thread_cpu_seconds()
                events = runner.applied_events
                memory = memory_of()  # before the dump below, which holds every row at once
                digest = hashlib.sha256(json.dumps(view.dump(), sort_keys=True, default=str).encode()).hexdigest()
                print(
                    f"{events} events in {seconds:.2f} s = {events / seconds:.0f}/s; CPU {cpu / events * 1e6:.1f} us "
                    f"per event in this process, of which {thread_cpu / events * 1e6:.1f} us in the applying thread (batch "
                    f"{args.batch_size}); {readers_cpu / events * 1e6:.1f} us in the reading processes; positions {positions}; quarantined "
                    f"{runner.quarantined_events}; views digest {digest[:16]}"
                )
                per_thread = {name: cpu - threads_before.get(name, 0.0) for name, cpu in threads_after.items()}
                print(
                    "CPU per event by thread: "
                    + ", ".join(f"{name} {spent / events * 1e6:.1f} us" for name, spent in sorted(per_thread.items()))
                )
                print(
                    f"memory of this process once caught up: peak RSS {memory['VmHWM']} MiB, RSS {memory['VmRSS']}"
                    " MiB (the seeding's included when this run seeded)"
                )
                view.close()
                if profiler:
                    stats = pstats.Stats(profiler)
                    stats.sort_stats("tottime").print_stats(args.profile)
                    stats.sort_stats("cumulative").print_stats(args.profile)
            finally:
                connection.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()

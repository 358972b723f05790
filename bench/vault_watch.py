"""Key vault watch benchmark: what a keyring's watch of the bucket costs a process while others make data keys.

    python bench/vault_watch.py                 # 3 turns of 20k keys
    python bench/vault_watch.py --keys 5000

Every keyring watches ``$KV.CHORUS_KEYS.dk.>`` for destroyed keys (``services.common.privacy.vault``), so it
also receives each key another process makes. Against one embedded nats-server, in one run: two child
processes connected to the vault, one with a watching keyring and one whose vault does not watch, while this
process makes keys with ``create_many`` (as a bulk import's save does). Printed: the CPU each child used per key
made (the watching child's less the idle one's is the watch's cost), beside the CPU this process used to make
each key, and their ratio.
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.common.nats_server import NatsServer
from services.common.privacy.keyring import Keyring
from services.common.privacy.vault import Kek, KeyVault, NatsKeyVault

TURNS = 3


class UnwatchedVault(NatsKeyVault):
    """The NATS vault without its watch: the baseline child."""

    def on_destroyed(self, listener: Callable[[list[str]], None], lost: Callable[[], None]) -> Callable[[], None]:
        return KeyVault.on_destroyed(self, listener, lost)


def child(mode: str, url: str, kek: bytes) -> None:
    """Answer each line on stdin with this process's CPU seconds and its keyring's evictions so far."""
    vault = (NatsKeyVault if mode == "watch" else UnwatchedVault).open(url, Kek(kek))
    ring = Keyring(vault)
    print("ready", flush=True)
    for _line in sys.stdin:
        print(f"{time.process_time()} {ring._evictions}", flush=True)
    ring.close()
    vault.close()


class Child:
    def __init__(self, mode: str, url: str, kek: bytes) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--child", mode, url, base64.b64encode(kek).decode()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        assert self.stdout.readline().strip() == "ready"

    def ask(self) -> tuple[float, int]:
        self.stdin.write("?\n")
        self.stdin.flush()
        cpu, evictions = self.stdout.readline().split()
        return float(cpu), int(evictions)

    def stop(self) -> None:
        self.stdin.close()
        self.process.wait(timeout=30)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], base64.b64decode(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=20_000, help="keys made per turn")
    args = parser.parse_args()
    kek = os.urandom(32)
    with tempfile.TemporaryDirectory() as tmp:
        server = NatsServer(store_dir=Path(tmp) / "nats").start()
        try:
            run(server.url, kek, args.keys)
        finally:
            server.stop()


def run(url: str, kek: bytes, per_turn: int) -> None:
    writer = NatsKeyVault.open(url, Kek(kek))
    watching, idle = Child("watch", url, kek), Child("idle", url, kek)
    made = watch_cpu = idle_cpu = writer_cpu = 0.0
    try:
        for _ in range(TURNS):
            watch_before, evictions = watching.ask()
            idle_before, _ = idle.ask()
            started = time.process_time()
            writer.create_many(str(uuid.uuid4()) for _ in range(per_turn))
            writer_cpu += time.process_time() - started
            sentinel = str(uuid.uuid4())
            writer.create(sentinel)
            writer.destroy(sentinel)  # heard after every key made before it: the watching child is done
            while (answer := watching.ask())[1] == evictions:
                time.sleep(0.01)
            watch_cpu += answer[0] - watch_before
            idle_cpu += idle.ask()[0] - idle_before
            made += per_turn
    finally:
        watching.stop()
        idle.stop()
        writer.close()
    per_key = 1e6 / made
    watch_cost = (watch_cpu - idle_cpu) * per_key
    print(f"keys made:                         {made:9.0f}")
    print(f"writer CPU per key made:           {writer_cpu * per_key:9.1f} us")
    print(f"watching process CPU per key:      {watch_cpu * per_key:9.1f} us")
    print(f"idle process CPU per key:          {idle_cpu * per_key:9.1f} us")
    print(f"watch cost per key made elsewhere: {watch_cost:9.1f} us")
    print(f"ratio watch cost / writer CPU:     {watch_cost / (writer_cpu * per_key):9.2f}")


if __name__ == "__main__":
    main()

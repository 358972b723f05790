"""A long catch-up of one upstream, read by a process of its own and handed over in order.

:func:`start_process_read` starts a child process (``multiprocessing`` spawn) that reads an upstream's stream from a
position to a known end through a connection and a :class:`~.reader.StreamReader` of its own, splits its messages
into their events (``StreamReader.read_split``: the same events, not decoded) and sends them through a pipe in
chunks; :meth:`ProcessRead.take` decodes them here as the reader would (``decode_split``: its keyring opens the
sealed values, so no key leaves this process) and hands them out in order. So the NATS client's work runs beside the
decoding and the applying, not under their GIL. The child needs a connection that can be opened again from its URL
alone (``JetStreamConnection.reopenable_url``): where there is none, :func:`start_process_read` returns None and the
caller reads here.

What is held ahead is bounded: the child's catch-up buffer and :data:`CHUNKS_AHEAD` chunks of events. The child
ends at the end it was given, when this process closes the pipes or dies, or on an error, which it reports (by its
type alone, so no text of it can quote what was read): :meth:`ProcessRead.take` then raises
:class:`ProcessReadError`, and the runner reads on here from its position.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import queue
import signal
import threading
from collections.abc import Collection
from multiprocessing.connection import Connection
from typing import Any

from eventsourcing.persistence import OperationalError

from services.common.eventstore.connection import JetStreamConnection
from services.common.eventstore.errors import EventStoreError
from services.common.eventstore.layout import StreamLayout
from services.common.projections.reader import StoredEvent, StreamReader, UpstreamEvent, decode_split

#: Events the child sends at once.
CHUNK = 1000
#: Chunks the child holds ready ahead of the one being sent, at most.
CHUNKS_AHEAD = 20
#: How long the child may take to start, to open what it reads with, or to send its next chunk.
WAIT_SECONDS = 60.0
#: How long a closed read waits for its child to delete its consumer and exit, before killing it.
STOP_SECONDS = 10.0


class ProcessReadError(EventStoreError, OperationalError):
    """The reading process failed or ended early: read again from the position."""


class ProcessRead:
    """The events after ``after`` of ``reader``'s upstream, to the end the child was given (module docstring);
    :meth:`close` it when the read is over or goes elsewhere."""

    def __init__(
        self,
        reader: StreamReader,
        after: int,
        process: Any,
        data: Connection,
        control: Connection,
        *,
        topics: Collection[str] | None,
        key_only: Collection[str],
    ) -> None:
        self.upstream = reader.upstream
        self.keep_sealed = reader.keep_sealed
        self.topics = topics
        self.key_only = key_only
        self.after = after  #: the position the next :meth:`take` goes on from (the last event handed out)
        self.ended = False  #: the child has sent every event up to its end
        self._process = process
        self._data = data
        self._control = control
        self._taken: list[StoredEvent] = []  # received, not handed out yet

    @property
    def pid(self) -> int | None:
        return self._process.pid  # type: ignore[no-any-return]

    def take(self, limit: int) -> list[UpstreamEvent]:
        """The next ``limit`` events (fewer only at the end), waiting for the child as needed; decoded as the reader
        would decode them (the sealed values of all of them opened with one read of the key vault)."""
        while len(self._taken) < limit and not self.ended:
            self._receive()
        out, self._taken = self._taken[:limit], self._taken[limit:]
        if out:
            self.after = out[-1][0]
        return decode_split(out, topics=self.topics, keep_sealed=self.keep_sealed, key_only=self.key_only)

    def _receive(self) -> None:
        try:
            if not self._data.poll(WAIT_SECONDS):
                msg = f"the process reading {self.upstream} sent nothing for {WAIT_SECONDS:g}s"
                raise ProcessReadError(msg)
            kind, *body = pickle.loads(self._data.recv_bytes())  # noqa: S301 - our own child's pipe
        except (EOFError, OSError):
            msg = f"the process reading {self.upstream} ended before its read did"
            raise ProcessReadError(msg) from None
        if kind == "events":
            self._taken.extend(body[0])
        elif kind == "end":
            self.ended = True
        else:
            msg = f"reading {self.upstream} in a process of its own failed: {body[0]}"
            raise ProcessReadError(msg)

    def close(self) -> None:
        """Stop the child (closing the control pipe has it delete its consumer and exit) and wait for it."""
        self._control.close()
        self._process.join(STOP_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(STOP_SECONDS)
        self._data.close()


def start_process_read(
    reader: StreamReader,
    after: int,
    until: int,
    *,
    topics: Collection[str] | None,
    key_only: Collection[str],
) -> ProcessRead | None:
    """A child process reading ``reader``'s upstream after ``after`` up to ``until`` (None where it cannot read as
    ``reader`` would: see the module docstring)."""
    url = reader.connection.reopenable_url
    if url is None:
        return None
    context = multiprocessing.get_context("spawn")
    data, child_data = context.Pipe(duplex=False)
    child_control, control = context.Pipe(duplex=False)
    process = context.Process(
        target=_serve,
        args=(
            child_data,
            child_control,
            url,
            reader.upstream,
            reader.layout,
            after,
            until,
        ),
        name=f"chorus-read-{reader.upstream}",
        daemon=True,
    )
    process.start()
    child_data.close()  # the child's ends live in the child alone: its death is this end's EOF
    child_control.close()
    return ProcessRead(reader, after, process, data, control, topics=topics, key_only=key_only)


def _serve(
    data: Connection,
    control: Connection,
    url: str,
    upstream: str,
    layout: StreamLayout,
    after: int,
    until: int,
) -> None:
    """The child's body: read, split and send the events after ``after`` up to ``until``, then end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it (an interrupt of the terminal reaches both)
    stopped = threading.Event()
    outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=CHUNKS_AHEAD)

    def watch() -> None:
        with contextlib.suppress(EOFError, OSError):
            control.recv_bytes()  # nothing is ever sent: this returns when the parent closes its end, or dies
        stopped.set()

    def send() -> None:
        while (chunk := outbox.get()) is not None:
            try:
                data.send_bytes(chunk)
            except OSError:  # the parent is gone
                stopped.set()
                return

    def put(message: tuple[Any, ...]) -> None:
        chunk = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        while not stopped.is_set():
            with contextlib.suppress(queue.Full):
                outbox.put(chunk, timeout=0.5)
                return

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    sender = threading.Thread(target=send, name="sender", daemon=True)
    sender.start()
    try:
        with contextlib.closing(JetStreamConnection.open(url, publish_connections=0)) as connection:
            reader = StreamReader(connection, upstream, layout=layout)
            held = reader.held_read()
            try:
                position = after
                while position < until and not stopped.is_set():
                    events = [
                        e for e in reader.read_split(position, CHUNK, until=until, held=held) if e.sequence <= until
                    ]
                    if not events:
                        break
                    put(("events", [tuple(event) for event in events]))  # plain tuples: less to pickle
                    position = events[-1].sequence
                put(("end",))
            finally:
                held.close()
    except Exception as error:  # noqa: BLE001 - reported to the parent, which reads again
        put(("error", type(error).__name__))
    with contextlib.suppress(queue.Full):
        outbox.put(None, timeout=STOP_SECONDS)
    sender.join(STOP_SECONDS)

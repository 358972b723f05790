"""One NATS connection and the JetStream calls the recorders make through it.

The connection lives on a :class:`~services.common.eventstore.bridge.LoopThread` started by
:meth:`JetStreamConnection.open`; its synchronous methods (``ensure_stream``, ``call``, ``publish``) may be used
from any thread but the loop's own, and its coroutines (``publish_atomic``, ``direct_get_batch``…) run on the loop.
``publish`` sends a message, or an atomic batch in one write, from the calling thread through the
:class:`~services.common.eventstore.blocking.BlockingPublisher` beside it (the servers nats-py knows, the one it is
connected to first; the same TLS context), and through the loop when that publisher has no free connection or
cannot open one.

JetStream features used (nats-server >= 2.12):
- atomic batch publish (ADR-50): ``Nats-Batch-Id`` / ``Nats-Batch-Sequence`` / ``Nats-Batch-Commit`` headers on
  plain publishes, one request for the commit; the server stores all messages or none;
- batched direct get (ADR-31) with ``next_by_subj`` to read a subject filter in sequence order without a consumer,
  and with ``multi_last`` to read the last message of many subjects (the key vault's keys) in one request;
- ``Nats-Expected-Last-Subject-Sequence`` for optimistic concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import ssl
import sys
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import DEFAULT_SUB_PENDING_MSGS_LIMIT, Subscription

from services.common.eventstore.blocking import BlockingPublisher
from services.common.eventstore.bridge import LoopThread
from services.common.eventstore.catch_up import CatchUpRead
from services.common.eventstore.envelope import OutgoingMessage, StoredMessage
from services.common.eventstore.errors import (
    EventStoreConfigurationError,
    JetStreamApiError,
    MessageTooLargeError,
    NatsUnreachableError,
    RequestTimeoutError,
    ServerTooOldError,
    StreamConfigMismatchError,
    StreamNameInUseError,
    api_error,
    parse_ack,
)
from services.common.eventstore.layout import StreamSpec

_PASSWORD = re.compile(r"(//[^:/@,]+:)[^@,]*@")
_TOKEN = re.compile(r"//[^:/@,]+@")
log = structlog.get_logger(__name__)

T = TypeVar("T")

MINIMUM_SERVER_VERSION = (2, 12, 0)
MAX_BATCH_MESSAGES = 1000  # ADR-50: a server refuses larger atomic batches


class _ReplyFuture:
    """The single reply to one publish, delivered through the connection's inbox mux."""

    __slots__ = ("done",)

    def __init__(self, done: asyncio.Future[Msg]) -> None:
        self.done = done

    def add(self, msg: Msg) -> None:
        if not self.done.done():
            self.done.set_result(msg)


#: Subjects in one ``multi_last`` direct get (the server refuses more than 1024 with "413 Too Many Results").
MULTI_LAST_SUBJECTS = 1000


class _BatchCollector:
    """Gathers the replies of one batched direct get until the server's end-of-batch status."""

    __slots__ = ("done", "error", "messages")

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.messages: list[StoredMessage] = []
        self.error = ""

    def add(self, msg: Msg) -> None:
        headers = msg.headers or {}
        status = headers.get("Status")
        if status is None:
            self.messages.append(
                StoredMessage(
                    subject=headers["Nats-Subject"], seq=int(headers["Nats-Sequence"]), data=msg.data, headers=headers
                )
            )
            return
        if status not in ("404", "204", "408"):  # 404: nothing matched, 204: end of batch, 408: empty
            self.error = f"{status} {headers.get('Description', '')}".strip()
        if not self.done.done():
            self.done.set_result(None)


def parse_version(text: str) -> tuple[int, int, int]:
    parts = [int("".join(ch for ch in part if ch.isdigit()) or 0) for part in text.lstrip("v").split(".")[:3]]
    parts += [0, 0, 0]
    return parts[0], parts[1], parts[2]


class JetStreamConnection:
    """A NATS connection owned by a private event-loop thread; thread-safe synchronous facade.

    >>> conn = JetStreamConnection.open("nats://127.0.0.1:4222")   # doctest: +SKIP
    >>> conn.ensure_stream(StreamSpec("CHORUS_DEMO", ("chorus.demo.>",)))   # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        request_timeout: float = 5.0,
        max_inflight_batches: int = 40,
        connect_timeout: float = 5.0,
        tls: ssl.SSLContext | None = None,
        publish_connections: int = 16,
    ) -> None:
        self._servers = [server.strip() for server in url.split(",") if server.strip()]
        self.url = redacted(url)  #: what messages and logs show: never a password
        self.request_timeout = request_timeout
        #: the SSL context of ``tls://`` servers (or servers requiring TLS); None: nats-py's default context
        self._tls = tls
        self._publisher = (
            BlockingPublisher(
                self._publish_servers,
                request_timeout=request_timeout,
                connect_timeout=connect_timeout,
                max_connections=publish_connections,
                tls=(lambda: tls) if tls is not None else ssl.create_default_context,
                describe=f"NATS at {self.url}",
            )
            if publish_connections > 0
            else None
        )
        self._bridge = LoopThread("nats-loop")
        self._nc: Client | None = None
        self._inbox_prefix = ""
        self._waiters: dict[str, _BatchCollector | _ReplyFuture] = {}
        self._tokens = itertools.count(1)
        self._batch_slots: asyncio.Semaphore | None = None
        self._max_inflight_batches = max_inflight_batches
        #: the share of the in-flight batches the blocking links may carry; the loop's slots are the rest
        self._blocking_batches = min(publish_connections, max_inflight_batches // 2) if publish_connections else 0
        self._blocking_batch_slots = threading.BoundedSemaphore(self._blocking_batches)
        self._last_error: BaseException | None = None
        self._closed = False
        self._reconnect_listeners: list[Callable[[], Awaitable[None]]] = []
        self._loss_listeners: list[tuple[Subscription, Callable[[], None]]] = []
        #: Whether the last write was refused for want of storage; cleared by the next write that succeeds.
        self.out_of_space = False

    # -- lifecycle ------------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        url: str,
        *,
        connect_timeout: float = 5.0,
        request_timeout: float = 5.0,
        tls: ssl.SSLContext | None = None,
        publish_connections: int = 16,
    ) -> JetStreamConnection:
        """Start the loop thread, connect, check the server version; one clear error if that fails.

        ``tls``: the SSL context for TLS servers (default: the system's trust store, as nats-py's default);
        ``publish_connections``: at most so many blocking connections publish from the calling threads (0: every
        publish goes through the loop).
        """
        conn = cls(
            url,
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
            tls=tls,
            publish_connections=publish_connections,
        )
        conn._bridge.start()
        try:
            conn._call(conn._connect(connect_timeout), timeout=connect_timeout + 10)
        except RequestTimeoutError:
            conn.close()
            raise NatsUnreachableError(
                f"cannot reach NATS at {conn.url}: no answer within {connect_timeout:g}s"
            ) from None
        except BaseException:
            conn.close()
            raise
        return conn

    async def _connect(self, connect_timeout: float) -> None:
        async def on_error(exc: Exception) -> None:
            self._last_error = exc
            if isinstance(exc, nats.errors.SlowConsumerError):
                for sub, lost in list(self._loss_listeners):
                    if exc.sub is sub:
                        log.warning("nats.messages_dropped", url=self.url, subscription=sub.subject)
                        lost()

        async def on_disconnected() -> None:
            if not self._closed:
                log.warning("nats.disconnected", url=self.url)

        async def on_reconnected() -> None:
            log.info("nats.reconnected", url=self.url)
            for listener in list(self._reconnect_listeners):
                await listener()

        try:
            self._nc = await asyncio.wait_for(
                nats.connect(
                    self._servers,
                    connect_timeout=connect_timeout,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.25,
                    error_cb=on_error,
                    disconnected_cb=on_disconnected,
                    reconnected_cb=on_reconnected,
                    name="chorus-eventstore",
                    **({"tls": self._tls} if self._tls is not None else {}),
                ),
                timeout=connect_timeout,
            )
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            reason = self._last_error or exc
            raise NatsUnreachableError(f"cannot reach NATS at {self.url}: {reason or 'timed out'}") from None
        version_text = str(self._nc._server_info.get("version", "0.0.0"))  # noqa: SLF001 - nats-py exposes no getter
        if parse_version(version_text) < MINIMUM_SERVER_VERSION:
            await self._nc.close()
            raise ServerTooOldError(
                f"nats-server at {self.url} is version {version_text}; the Chorus event store needs 2.12 or newer "
                "(JetStream atomic batch publish)"
            )
        if not self._nc._server_info.get("jetstream"):  # noqa: SLF001
            await self._nc.close()
            raise EventStoreConfigurationError(f"nats-server at {self.url} runs without JetStream (start it with -js)")
        self._inbox_prefix = self._nc.new_inbox()
        await self._nc.subscribe(self._inbox_prefix + ".*", cb=self._on_reply)
        self._batch_slots = asyncio.Semaphore(max(self._max_inflight_batches - self._blocking_batches, 1))

    def close(self) -> None:
        """Close the connection and stop its loop thread (safe from any thread, the loop's own included)."""
        if self._closed:
            return
        self._closed = True
        if self._publisher is not None:
            self._publisher.close()
        if sys.is_finalizing():  # an application's finaliser at interpreter exit: the process is ending anyway
            return
        if self._bridge.on_loop_thread():  # e.g. a finaliser run by the GC on the loop thread
            self._bridge.schedule(self._close_and_stop())
            return
        if self._nc is not None and not self._nc.is_closed:
            try:
                self._call(self._nc.close(), timeout=5)
            except Exception:  # noqa: BLE001 - closing a broken connection may fail; nothing left to do
                log.debug("nats.close_failed", url=self.url)
        self._bridge.stop()

    async def _close_and_stop(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._bridge.stop()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def reopenable_url(self) -> str | None:
        """The servers' URL with its credentials, from which another process can open the same connection; None
        when that would not be the same (a TLS context given in code). Never log it: it may carry a password."""
        return ",".join(self._servers) if self._tls is None else None

    @property
    def is_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    @property
    def max_payload(self) -> int:
        """The largest message payload the server accepts."""
        return int(self.client.max_payload)

    @property
    def client(self) -> Client:
        if self._nc is None:
            raise EventStoreConfigurationError("the NATS connection is not open")
        return self._nc

    # -- the bridge -----------------------------------------------------------------------------------------

    def _call(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        timeout = timeout if timeout is not None else self.request_timeout * 3
        return self._bridge.call(coro, timeout, what=f"NATS at {self.url}")

    def call(
        self, fn: Callable[[], Awaitable[T]], timeout: float | None = None, *, while_disconnected: bool = False
    ) -> T:
        """Run ``fn()`` (a coroutine function) on the connection's loop and wait for its result.

        While the client is disconnected (its own state, set before its disconnect callback runs) a request
        could only wait for its timeout: it raises ``RequestTimeoutError`` at once instead, unless
        ``while_disconnected`` (for local work such as unsubscribing).
        """
        if not (while_disconnected or self.is_connected):
            raise RequestTimeoutError(f"not connected to NATS at {self.url}")
        return self._call(fn(), timeout)

    def on_reconnect(self, listener: Callable[[], Awaitable[None]]) -> Callable[[], None]:
        """Call ``listener`` (on the loop) after each reconnection; returns a function that removes it."""
        self._reconnect_listeners.append(listener)
        return lambda: self._reconnect_listeners.remove(listener) if listener in self._reconnect_listeners else None

    async def listen(
        self,
        subject: str,
        on_message: Callable[[Msg], None],
        on_loss: Callable[[], None],
        *,
        pending_messages: int = DEFAULT_SUB_PENDING_MSGS_LIMIT,
    ) -> Callable[[], Awaitable[None]]:
        """Subscribe to ``subject`` (core NATS: what is published from the moment the server has the interest,
        which it has when this returns; no history); ``on_message(msg)`` runs on the loop for each message, and
        ``on_loss()`` when the client dropped some because ``pending_messages`` were waiting for it (a slow
        consumer). The client subscribes again after a reconnection; what was published meanwhile is lost
        (:meth:`on_reconnect` tells of that). Returns the coroutine function that unsubscribes."""

        async def deliver(msg: Msg) -> None:
            on_message(msg)

        sub = await self.client.subscribe(subject, cb=deliver, pending_msgs_limit=pending_messages)
        entry = (sub, on_loss)
        self._loss_listeners.append(entry)

        async def stop() -> None:
            if entry in self._loss_listeners:
                self._loss_listeners.remove(entry)
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()

        try:
            await self.client.flush(timeout=max(1, round(self.request_timeout)))
        except BaseException:
            await stop()
            raise
        return stop

    # -- streams --------------------------------------------------------------------------------------------

    def ensure_stream(self, spec: StreamSpec, *, create: bool = True) -> None:
        """Create the stream if missing (when ``create``), else check that its config matches ``spec``."""
        self._call(self._ensure_stream(spec, create))

    async def _ensure_stream(self, spec: StreamSpec, create: bool) -> None:
        js = self.client.jetstream(timeout=self.request_timeout)
        try:
            info = await js.stream_info(spec.name)
        except nats.js.errors.NotFoundError:
            if not create:
                raise EventStoreConfigurationError(f"stream {spec.name} does not exist and creation is off") from None
            try:
                await js.add_stream(spec.config())
                log.info("eventstore.stream_created", stream=spec.name, replicas=spec.replicas)
                return
            except nats.js.errors.BadRequestError as exc:
                if not isinstance(api_error(exc.err_code or 0, exc.description or ""), StreamNameInUseError):
                    raise EventStoreConfigurationError(f"cannot create stream {spec.name}: {exc.description}") from None
                # created concurrently by another process: check it below
            info = await js.stream_info(spec.name)
        except nats.errors.TimeoutError:
            raise EventStoreConfigurationError(
                f"JetStream at {self.url} did not answer (is JetStream enabled?)"
            ) from None
        problems = spec.differences(info.config)
        if problems:
            raise StreamConfigMismatchError(
                f"stream {spec.name} exists with a different configuration: {'; '.join(problems)}"
            )

    def delete_stream(self, name: str) -> None:
        """Delete a stream (tests and benchmarks only; the services never delete history)."""

        async def delete() -> None:
            js = self.client.jetstream(timeout=self.request_timeout)
            try:
                await js.delete_stream(name)
            except nats.js.errors.NotFoundError:
                pass

        self._call(delete())

    # -- publishing -----------------------------------------------------------------------------------------

    def _publish_servers(self) -> list[str]:
        """Where the blocking publisher opens connections: the server nats-py is connected to, then the rest of
        its pool (the configured servers and those the cluster advertised), as nats-py would connect to them."""
        nc = self._nc
        if nc is None:
            return self._servers
        connected = nc.connected_url
        known = [connected.geturl()] if connected is not None else []
        known += [uri.geturl() for uri in nc.servers]  # the loop thread may change the pool meanwhile: a copy
        return list(dict.fromkeys(known)) or self._servers

    def publish(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        """Store all ``messages`` or none and return their stream sequences, waiting on the calling thread.

        They go over a pooled blocking connection when one is free (no thread switch; several as one atomic batch
        in one write, while the blocking links' share of the in-flight batches has room); when the pool is in use
        to its cap or cannot open a connection, through the loop (:meth:`publish_atomic`). A write that is
        stored clears :attr:`out_of_space`.
        """
        if messages and self._publisher is not None and not self._bridge.on_loop_thread():
            if len(messages) == 1:
                msg = messages[0]
                ack = self._publisher.publish(msg.subject, msg.data, msg.headers)
                if ack is not None:
                    self.out_of_space = False
                    return [int(ack["seq"])]
            elif self._blocking_batch_slots.acquire(blocking=False):
                try:
                    batch = self._batch_headers(messages)
                    ack = self._publisher.publish_batch(
                        [(msg.subject, msg.data, headers) for msg, headers in zip(messages, batch, strict=True)]
                    )
                finally:
                    self._blocking_batch_slots.release()
                if ack is not None:
                    self.out_of_space = False
                    return self._batch_sequences(ack, len(messages))
        return self.call(lambda: self.publish_atomic(messages))

    async def publish_atomic(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        """Store all ``messages`` or none; return their stream sequences.

        One message is a plain JetStream publish; several are one ADR-50 atomic batch whose commit is the only
        request (the rest are pipelined publishes), so a batch costs one round trip.
        """
        if not messages:
            return []
        nc = self.client
        if len(messages) == 1:
            msg = messages[0]
            self._check_size(msg.data, msg.headers)
            reply = await self._request(msg.subject, msg.data, msg.headers)
            sequence = self._parse_ack(reply)["seq"]
            self.out_of_space = False
            return [sequence]
        assert self._batch_slots is not None
        batch = self._batch_headers(messages)
        for msg, headers in zip(messages, batch, strict=True):
            self._check_size(msg.data, headers)  # before anything is sent
        last = len(messages)
        async with self._batch_slots:
            for position, (msg, headers) in enumerate(zip(messages, batch, strict=True), start=1):
                if position < last:
                    await nc.publish(msg.subject, msg.data, headers=headers)
                else:
                    reply = await self._request(msg.subject, msg.data, headers)
            ack = self._parse_ack(reply)
        self.out_of_space = False
        return self._batch_sequences(ack, last)

    @staticmethod
    def _batch_headers(messages: Sequence[OutgoingMessage]) -> list[dict[str, str]]:
        """Each message's headers as one ADR-50 atomic batch carries them (a new batch id; the last commits)."""
        if len(messages) > MAX_BATCH_MESSAGES:
            raise ValueError(f"an atomic commit holds at most {MAX_BATCH_MESSAGES} events, got {len(messages)}")
        batch_id = uuid.uuid4().hex
        batch = [
            {**msg.headers, "Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(position)}
            for position, msg in enumerate(messages, start=1)
        ]
        batch[-1]["Nats-Batch-Commit"] = "1"
        return batch

    @staticmethod
    def _batch_sequences(ack: Mapping[str, Any], count: int) -> list[int]:
        """The stream sequences of a batch of ``count`` messages from its commit's acknowledgement."""
        final = int(ack["seq"])
        if int(ack.get("count", count)) != count:
            raise JetStreamApiError(f"batch stored {ack.get('count')} of {count} messages")
        return list(range(final - count + 1, final + 1))

    def _check_size(self, data: bytes, headers: dict[str, str]) -> None:
        """:class:`MessageTooLargeError` when the message with its headers (as nats-py encodes them, which the
        server counts too) exceeds the server's limit."""
        limit = self.max_payload
        framing = len(data) + len(b"NATS/1.0\r\n\r\n") + 4 * len(headers)  # ": " and CRLF of each header line
        if framing + 4 * (sum(map(len, headers)) + sum(map(len, headers.values()))) <= limit:
            return  # under the limit even at 4 UTF-8 bytes a character: the exact count can only be smaller
        size = len(data) + len(b"NATS/1.0\r\n\r\n") + sum(len(f"{k}: {v}\r\n".encode()) for k, v in headers.items())
        MessageTooLargeError.check(size, limit)

    async def _request(self, subject: str, data: bytes, headers: dict[str, str]) -> Msg:
        """Publish with a reply subject on the connection's inbox mux and await the acknowledgement.

        Cheaper than nats-py's ``request`` (no task per timeout): this is the hot path of every save.
        """
        loop = asyncio.get_running_loop()
        token = f"r{next(self._tokens)}"
        reply = _ReplyFuture(loop.create_future())
        self._waiters[token] = reply
        expiry = loop.call_later(self.request_timeout, reply.done.cancel)
        try:
            await self.client.publish(subject, data, reply=f"{self._inbox_prefix}.{token}", headers=headers)
            return await reply.done
        except asyncio.CancelledError:
            if reply.done.cancelled():
                raise RequestTimeoutError(f"publish not acknowledged within {self.request_timeout:g}s") from None
            raise
        except (nats.errors.ConnectionClosedError, nats.errors.OutboundBufferLimitError) as exc:
            raise RequestTimeoutError(f"publish not sent: {type(exc).__name__}") from None
        finally:
            expiry.cancel()
            self._waiters.pop(token, None)

    @staticmethod
    def _parse_ack(reply: Msg) -> dict[str, Any]:
        return parse_ack((reply.headers or {}).get("Status", ""), reply.data)

    # -- reading --------------------------------------------------------------------------------------------

    async def _on_reply(self, msg: Msg) -> None:
        collector = self._waiters.get(msg.subject.rsplit(".", 1)[-1])
        if collector is not None:
            collector.add(msg)

    async def direct_get_batch(
        self, stream: str, *, start_seq: int, subject_filter: str, batch: int
    ) -> list[StoredMessage]:
        """Up to ``batch`` stored messages matching ``subject_filter`` from ``start_seq`` on, in sequence order."""
        request = {"seq": max(start_seq, 1), "next_by_subj": subject_filter, "batch": batch}
        return await self._direct_get_many(stream, request)

    async def direct_get_last_many(self, stream: str, subjects: Sequence[str]) -> dict[str, StoredMessage]:
        """The last stored message of each of ``subjects`` that has one, by subject (no wildcards): batched
        direct gets with ``multi_last``, :data:`MULTI_LAST_SUBJECTS` subjects a request, all in flight together."""
        chunks = [subjects[i : i + MULTI_LAST_SUBJECTS] for i in range(0, len(subjects), MULTI_LAST_SUBJECTS)]
        pages = await asyncio.gather(
            *(self._direct_get_many(stream, {"multi_last": list(chunk), "batch": len(chunk)}) for chunk in chunks)
        )
        return {message.subject: message for page in pages for message in page}

    async def _direct_get_many(self, stream: str, body: dict[str, Any]) -> list[StoredMessage]:
        token = uuid.uuid4().hex
        collector = _BatchCollector(asyncio.get_running_loop().create_future())
        self._waiters[token] = collector
        request = json.dumps(body).encode()
        try:
            await self.client.publish(f"$JS.API.DIRECT.GET.{stream}", request, reply=f"{self._inbox_prefix}.{token}")
            try:
                await asyncio.wait_for(collector.done, timeout=self.request_timeout)
            except TimeoutError:
                raise RequestTimeoutError(f"direct get on {stream} timed out") from None
        finally:
            self._waiters.pop(token, None)
        if collector.error:
            raise JetStreamApiError(f"direct get failed: {collector.error}")
        return collector.messages

    async def consume_range(
        self, stream: str, *, start_seq: int, subject_filter: str, limit: int, last_seq: int
    ) -> list[StoredMessage]:
        """Stored messages from ``start_seq`` to ``last_seq`` (at most ``limit``) through a catch-up read of its own
        (:class:`~services.common.eventstore.catch_up.CatchUpRead`, closed after this one page).

        For long reads: the server streams the messages instead of answering a get request per batch. ``last_seq`` must be a sequence known to match ``subject_filter`` (the caller read
        it with :meth:`last_message`), so the read always ends.
        """
        read = await CatchUpRead(self, stream, subject_filter, start_seq, buffer=limit).open()
        try:
            return await read.page(limit, last_seq)
        finally:
            await read.close()

    async def last_sequence(self, stream: str) -> int:
        """The stream's last sequence (0 when empty), from its state: no scan, whatever the stream's size."""
        try:
            reply = await self.client.request(f"$JS.API.STREAM.INFO.{stream}", b"", timeout=self.request_timeout)
        except (nats.errors.TimeoutError, nats.errors.NoRespondersError) as exc:
            raise RequestTimeoutError(f"stream info of {stream} failed: {type(exc).__name__}") from None
        body = json.loads(reply.data or b"{}")
        if "error" in body:
            raise api_error(int(body["error"].get("err_code", 0)), str(body["error"].get("description", "")))
        return int(body.get("state", {}).get("last_seq", 0))

    async def message_at(self, stream: str, seq: int) -> StoredMessage | None:
        """The message stored at ``seq``, or None when there is none (deleted or beyond the end)."""
        return await self._direct_get(stream, {"seq": seq})

    async def last_message(self, stream: str, subject_filter: str) -> StoredMessage | None:
        """The newest stored message matching ``subject_filter`` (wildcards allowed), or None."""
        return await self._direct_get(stream, {"last_by_subj": subject_filter})

    async def _direct_get(self, stream: str, request: dict[str, Any]) -> StoredMessage | None:
        try:
            reply = await self.client.request(
                f"$JS.API.DIRECT.GET.{stream}", json.dumps(request).encode(), timeout=self.request_timeout
            )
        except (nats.errors.TimeoutError, nats.errors.NoRespondersError) as exc:
            raise RequestTimeoutError(f"direct get on {stream} failed: {type(exc).__name__}") from None
        headers = reply.headers or {}
        status = headers.get("Status")
        if status == "404":
            return None
        if status:
            raise JetStreamApiError(f"direct get failed: {headers.get('Description', status)}")
        return StoredMessage(
            subject=headers["Nats-Subject"], seq=int(headers["Nats-Sequence"]), data=reply.data, headers=headers
        )


def redacted(url: str) -> str:
    """``url`` with any password or token replaced by ``***``: ``nats://identity:***@host:4222``,
    ``nats://***@host:4222``."""
    return _TOKEN.sub("//***@", _PASSWORD.sub(r"\1***@", url))

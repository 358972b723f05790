"""Publish a message (or an atomic batch) and wait for its JetStream acknowledgement on the calling thread, over a
blocking socket.

The recorders are synchronous and nats-py is asyncio: handing each save to the connection's loop thread costs
two thread switches and nats-py's per-call work. :class:`BlockingPublisher` keeps a small pool of plain NATS
connections instead, each used by one saving thread at a time, at most ``max_connections`` open; when none is
free, or none can be opened, :meth:`BlockingPublisher.publish` returns None and the caller uses the loop.

A new connection is opened to the first of its servers, in the order given, that answers; all of them together
within the publish's request timeout, each given an even share of the time left. When none answers in time or completes the handshake, the publish returns None
(nothing was sent) and no connection is opened for ``retry_open_after`` seconds (by default six request
timeouts).

Each connection is a minimal client of the NATS text protocol: it reads INFO, upgrades to TLS with the SSL
context it is given (``tls://`` URLs, or a server that requires TLS), sends CONNECT with the URL's credentials
(user and password, or a token), subscribes to its own reply inbox, then publishes with headers (HPUB) and reads
the reply (MSG/HMSG), answering the server's PINGs. An atomic batch is written at once, only its commit asking
for a reply. It only publishes; reads and subscriptions stay on nats-py.

Errors: a message over the server's ``max_payload`` with its headers raises
:class:`~.errors.MessageTooLargeError` before anything is sent; a JetStream refusal raises the typed error of
:mod:`.errors` (:func:`~.errors.parse_ack`) and keeps the connection; a permissions violation raises
:class:`~.errors.JetStreamApiError`; no answer in time, a refused or lost connection, or any other ``-ERR``
after the message was sent raise :class:`~.errors.RequestTimeoutError`: the outcome is unknown. After all but a
JetStream refusal the connection is dropped and the next publish opens a new one; a caller that retries with the
same ``Nats-Msg-Id`` is de-duplicated by the server. No error text carries the subject.
"""

from __future__ import annotations

import itertools
import json
import secrets
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import structlog

from services.common.eventstore.errors import (
    JetStreamApiError,
    MessageTooLargeError,
    RequestTimeoutError,
    parse_ack,
)

_CRLF = b"\r\n"
_HEADER_LINE = b"NATS/1.0\r\n"
_NEWLINES = str.maketrans("\r\n", "  ")
DEFAULT_PORT = 4222
log = structlog.get_logger(__name__)


class _ConnectionLost(Exception):
    """The socket failed, closed, timed out or the server sent a fatal ``-ERR``: the connection is unusable."""


class _Refused(Exception):
    """The server refused the publish (``-ERR 'Permissions Violation ...'``)."""


class _Link:
    """One blocking NATS connection, connected, authenticated and subscribed to its reply inbox."""

    __slots__ = ("_buffer", "_sock", "_tokens", "inbox", "max_payload")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self._tokens = itertools.count(1)
        self.inbox = f"_INBOX.{secrets.token_hex(11)}."
        self.max_payload = 1024 * 1024

    @classmethod
    def open(cls, server: str, *, deadline: float, tls: Callable[[], ssl.SSLContext], name: str) -> _Link:
        """Connect to ``server`` (``nats://[user:password@]host:port``, ``tls://…``) by ``deadline`` (monotonic);
        :class:`_ConnectionLost` or ``OSError`` when that fails."""
        url = urlsplit(server if "://" in server else f"nats://{server}")
        host = url.hostname or "127.0.0.1"
        sock = socket.create_connection((host, url.port or DEFAULT_PORT), timeout=_left(deadline))
        link = cls(sock)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            op, args, _ = link._next(deadline)
            if op != b"INFO":
                raise _ConnectionLost(f"the server did not start with INFO but {op.decode(errors='replace')}")
            info = json.loads(args)
            link.max_payload = int(info.get("max_payload", link.max_payload))
            secure = url.scheme == "tls" or bool(info.get("tls_required"))
            if secure:
                sock.settimeout(_left(deadline))  # the handshake too
                link._sock = tls().wrap_socket(sock, server_hostname=host)
            options: dict[str, Any] = {
                "verbose": False,
                "pedantic": False,
                "tls_required": secure,
                "headers": True,
                "no_responders": True,
                "protocol": 1,
                "lang": "python3",
                "version": "chorus-blocking",
                "name": name,
            }
            if url.username and url.password is not None:  # as written in the URL, as nats-py sends them
                options |= {"user": url.username, "pass": url.password}
            elif url.username:
                options["auth_token"] = url.username
            link._send(b"CONNECT %s\r\nSUB %s* 1\r\nPING\r\n" % (json.dumps(options).encode(), link.inbox.encode()))
            while link._next(deadline)[0] != b"PONG":
                pass
        except BaseException:
            link.close()
            raise
        return link

    def request(self, subject: str, payload: bytes, headers: Mapping[str, str], timeout: float) -> tuple[str, bytes]:
        """Publish and wait for the reply; returns its status (``""`` for none) and payload."""
        return self.request_batch([(subject, payload, headers)], timeout)

    def request_batch(
        self, messages: Sequence[tuple[str, bytes, Mapping[str, str]]], timeout: float
    ) -> tuple[str, bytes]:
        """Publish ``(subject, payload, headers)`` messages in one write, only the last with a reply subject, and
        wait for that reply (an atomic batch's commit is the only message answered); its status and payload.
        Every message is checked against the server's limit before anything is sent."""
        reply = f"{self.inbox}{next(self._tokens)}".encode()
        frames: list[bytes] = []
        last = len(messages) - 1
        for position, (subject, payload, headers) in enumerate(messages):
            header = _header_block(headers)
            MessageTooLargeError.check(len(header) + len(payload), self.max_payload)  # or the server would hang up
            frames.append(
                b"HPUB %s %s%d %d\r\n%s%s\r\n"
                % (
                    subject.encode(),
                    reply + b" " if position == last else b"",
                    len(header),
                    len(header) + len(payload),
                    header,
                    payload,
                )
            )
        deadline = time.monotonic() + timeout
        self._sock.settimeout(timeout)  # the send too: not what the last read left of its own deadline
        self._send(b"".join(frames))
        while True:
            op, args, body = self._next(deadline)
            if op not in (b"MSG", b"HMSG") or args.split(b" ", 1)[0] != reply:
                continue  # a late reply to an earlier request that timed out, or another protocol line
            if op == b"MSG":
                return "", body
            try:
                header_size = int(args.rsplit(b" ", 2)[-2])
                status_line = body[: body.index(_CRLF)].split(b" ", 2)
            except (ValueError, IndexError):
                raise _ConnectionLost("the server sent a malformed message") from None
            return (status_line[1].decode() if len(status_line) > 1 else ""), body[header_size:]

    def healthy(self) -> bool:
        """Answer what the server sent while the connection sat idle (PINGs); False when it is closed."""
        try:
            while _CRLF in self._buffer or self._readable():  # what came with the last reply, then the socket
                if _CRLF not in self._buffer and not self._fill(time.monotonic() + 1):
                    return False
                while _CRLF in self._buffer:
                    self._next(time.monotonic() + 1)
        except (_ConnectionLost, _Refused, OSError):
            return False
        return True

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass

    # -- the wire ---------------------------------------------------------------------------------------------

    def _readable(self) -> bool:
        if isinstance(self._sock, ssl.SSLSocket) and self._sock.pending():
            return True
        poller = select.poll()  # select() refuses descriptors above 1023, which a busy process reaches
        poller.register(self._sock, select.POLLIN)
        return bool(poller.poll(0))

    def _send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise _ConnectionLost(f"send failed: {type(exc).__name__}") from None

    def _fill(self, deadline: float) -> bool:
        """Read what the socket has, waiting until ``deadline``; False at end of stream."""
        self._sock.settimeout(_left(deadline))
        try:
            chunk = self._sock.recv(65536)
        except TimeoutError:
            raise _ConnectionLost("no answer in time") from None
        except OSError as exc:
            raise _ConnectionLost(f"receive failed: {type(exc).__name__}") from None
        self._buffer += chunk
        return bool(chunk)

    def _next(self, deadline: float) -> tuple[bytes, bytes, bytes]:
        """The next protocol line, and the payload of a MSG/HMSG: (operation, arguments, payload). A PING is
        answered before it is returned; ``-ERR`` raises."""
        end = self._buffer.find(_CRLF)
        while end < 0:
            if not self._fill(deadline):
                raise _ConnectionLost("the server closed the connection")
            end = self._buffer.find(_CRLF)
        op, _, args = bytes(self._buffer[:end]).partition(b" ")
        op = op.upper()
        if op in (b"MSG", b"HMSG"):
            try:
                size = int(args.rsplit(b" ", 1)[-1])
            except ValueError:
                raise _ConnectionLost("the server sent a malformed message") from None
            while len(self._buffer) < end + 2 + size + 2:
                if not self._fill(deadline):
                    raise _ConnectionLost("the server closed the connection")
            body = bytes(self._buffer[end + 2 : end + 2 + size])
            del self._buffer[: end + 2 + size + 2]
            return op, args, body
        del self._buffer[: end + 2]
        if op == b"PING":
            self._send(b"PONG\r\n")
        elif op == b"-ERR":
            text = args.decode(errors="replace").strip("' ")
            if text.lower().startswith("permissions violation"):
                raise _Refused(text.split(" for ", 1)[0])  # the rest names the subject
            raise _ConnectionLost(f"the server sent -ERR {text.split(' for ', 1)[0]!r}")
        return op, args, b""


def _header_block(headers: Mapping[str, str]) -> bytes:
    """The headers as NATS reads them (``NATS/1.0``, a line each, an empty line); a line break in a value becomes
    a space, so no value can add a header."""
    text = "".join([f"{k}: {v}\r\n" for k, v in headers.items()])
    if text.count("\n") != len(headers) or text.count("\r") != len(headers):  # a line break in some value
        text = "".join([f"{k}: {v.translate(_NEWLINES)}\r\n" for k, v in headers.items()])
    return _HEADER_LINE + text.encode() + _CRLF


def _left(deadline: float) -> float:
    """The seconds until ``deadline``; :class:`_ConnectionLost` when it has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _ConnectionLost("no answer in time")
    return remaining


class BlockingPublisher:
    """A pool of blocking NATS connections for publishing one message at a time from synchronous threads.

    >>> publisher = BlockingPublisher(["nats://127.0.0.1:4222"], request_timeout=5)   # doctest: +SKIP
    >>> publisher.publish("chorus.demo.e.s-YQ", b"x", {"Nats-Msg-Id": "1"})            # doctest: +SKIP
    {'stream': 'CHORUS_DEMO', 'seq': 1}
    """

    def __init__(
        self,
        servers: Sequence[str] | Callable[[], Sequence[str]],
        *,
        request_timeout: float,
        connect_timeout: float = 5.0,
        max_connections: int = 16,
        retry_open_after: float | None = None,
        tls: Callable[[], ssl.SSLContext] = ssl.create_default_context,
        name: str = "chorus-eventstore-publisher",
        describe: str = "NATS",
    ) -> None:
        """``servers``: where to open connections, in order of preference, or a function returning that (called
        for each connection opened)."""
        self._servers = servers if callable(servers) else lambda: servers
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.max_connections = max_connections
        #: after failing to open a connection, publish returns None without trying again for so many seconds;
        #: by default as long as a save's three attempts can last (an opening and a publish each), so that a save
        #: pays for one failed opening at most
        self.retry_open_after = retry_open_after if retry_open_after is not None else 6 * request_timeout
        self._open_again_at = 0.0
        self._tls = tls
        self._tls_context: ssl.SSLContext | None = None
        self._name = name
        self._describe = describe
        self._idle: list[_Link] = []
        self._open = 0
        self._lock = threading.Lock()
        self._closed = False

    @property
    def open_connections(self) -> int:
        """Connections open now, idle or in use."""
        return self._open

    def publish(self, subject: str, data: bytes, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """Publish and return JetStream's acknowledgement (``{"stream", "seq", …}``), or None when every pooled
        connection is in use or none could be opened: nothing was sent, the caller publishes another way."""
        return self.publish_batch([(subject, data, headers)])

    def publish_batch(self, messages: Sequence[tuple[str, bytes, Mapping[str, str]]]) -> dict[str, Any] | None:
        """:meth:`publish` for several messages sent in one write, the last one's acknowledgement returned: an
        atomic batch's (its headers say so, and its commit is the only message JetStream answers)."""
        link = self._checkout(time.monotonic() + self.request_timeout)
        if link is None:
            return None
        try:
            status, body = link.request_batch(messages, self.request_timeout)
        except MessageTooLargeError:
            self._checkin(link)  # nothing was sent
            raise
        except _ConnectionLost as exc:
            self._discard(link)
            raise RequestTimeoutError(f"publish to {self._describe} not acknowledged, outcome unknown: {exc}") from None
        except _Refused as exc:
            self._discard(link)
            raise JetStreamApiError(f"NATS refused the publish: {exc}") from None
        except BaseException:
            self._discard(link)
            raise
        self._checkin(link)
        return parse_ack(status, body)

    def close(self) -> None:
        """Close the idle connections; those in use close when their publish ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for link in idle:
            link.close()

    # -- the pool ---------------------------------------------------------------------------------------------

    def _checkout(self, deadline: float) -> _Link | None:
        while True:
            with self._lock:
                if self._closed:
                    return None
                link = self._idle.pop() if self._idle else None
                if link is None:
                    if self._open >= self.max_connections or time.monotonic() < self._open_again_at:
                        return None
                    self._open += 1
                    break
            if link.healthy():
                return link
            self._discard(link)
        link = None
        try:
            link = self._connect(deadline)
        finally:
            if link is None:
                with self._lock:
                    self._open -= 1
        return link

    def _checkin(self, link: _Link) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(link)
                return
            self._open -= 1
        link.close()

    def _discard(self, link: _Link) -> None:
        link.close()
        with self._lock:
            self._open -= 1

    def _connect(self, deadline: float) -> _Link | None:
        """A new connection to the first server that answers by ``deadline``, or None (then none is tried for
        :attr:`retry_open_after` seconds)."""
        servers = list(self._servers())
        reason = "no server configured"
        for n, server in enumerate(servers):
            share = (deadline - time.monotonic()) / (len(servers) - n)
            try:
                return _Link.open(
                    server,
                    deadline=time.monotonic() + min(share, self.connect_timeout),
                    tls=self._context,
                    name=self._name,
                )
            except (OSError, _ConnectionLost, _Refused, ValueError) as exc:
                reason = str(exc) if isinstance(exc, _ConnectionLost | _Refused) else type(exc).__name__
        with self._lock:
            self._open_again_at = time.monotonic() + self.retry_open_after
        log.warning("eventstore.publish_connection_failed", nats=self._describe, reason=reason)
        return None

    def _context(self) -> ssl.SSLContext:
        if self._tls_context is None:
            self._tls_context = self._tls()
        return self._tls_context

"""Settings of a Chorus process, read once from ``CHORUS_*`` environment variables.

Every variable has a default that runs Chorus on a laptop; deployments override them.

| variable | default | meaning |
| --- | --- | --- |
| ``CHORUS_NATS_URL`` | ``nats://127.0.0.1:4222`` | NATS server(s) holding the event streams; comma-separated for several |
| ``CHORUS_STREAM_REPLICAS`` | ``1`` | JetStream replicas of each service's stream, 1..5 (3 in a cluster) |
| ``CHORUS_DUPLICATE_WINDOW_SECONDS`` | ``120`` | how long JetStream remembers ``Nats-Msg-Id`` values to drop duplicate appends |
| ``CHORUS_LOG_LEVEL`` | ``info`` | ``debug``, ``info``, ``warning``, ``error`` or ``critical`` |
| ``CHORUS_LOG_FORMAT`` | ``json`` | ``json`` (one object a line) or ``console`` (coloured, for a terminal) |
| ``CHORUS_GRPC_HOST`` | ``0.0.0.0`` | interface the gRPC servers listen on |
| ``CHORUS_IDENTITY_PORT`` | ``50051`` | gRPC port of the identity service |
| ``CHORUS_TOUCHPOINTS_PORT`` | ``50052`` | gRPC port of the touchpoints service |
| ``CHORUS_EXPERIENCE_PORT`` | ``50053`` | gRPC port of the experience service |
| ``CHORUS_DATA_DIR`` | ``./var`` | local state: the embedded nats-server's store, SQLite views |
| ``CHORUS_VIEWS_URL`` | ``sqlite:///<data dir>/views.db`` | database of the projections' read models: ``sqlite:///path``, ``sqlite://:memory:``, or ``postgresql://user@host:5432/db`` in production |
| ``CHORUS_SHUTDOWN_GRACE_SECONDS`` | ``5`` | seconds in-flight RPCs get to finish after SIGTERM before they are cancelled |
| ``CHORUS_DEFAULT_REGION`` | (none) | region (ISO 3166 code, e.g. ``GB``) of phone numbers written without ``+``, the same in every service; none refuses them (``services.common.identifiers``) |
| ``CHORUS_STORE_TIMEOUT_SECONDS`` | ``2`` | seconds a request waits for one answer of the event store (a write is tried 3 times): the server's own deadline in an outage |
| ``CHORUS_STORE_PUBLISH_CONNECTIONS`` | ``16`` | most extra NATS connections a process keeps for publishing saves from the saving thread, 0..256; 0 sends every save through the event store's event loop |
| ``CHORUS_TLS_CERT_FILE`` | (none) | PEM certificate (chain) of the gRPC server; with the key file, every gRPC port speaks TLS only |
| ``CHORUS_TLS_KEY_FILE`` | (none) | PEM private key of that certificate |
| ``CHORUS_TLS_CA_FILE`` | (none) | PEM CA bundle client certificates are verified against |
| ``CHORUS_TLS_CLIENT_AUTH`` | ``required`` with a CA file, else ``none`` | ``required``: a client without a certificate the CA signed is refused at the handshake, and the certificate's CN/OU name the caller and its role; ``optional`` / ``none``: no certificate is asked for (grpcio cannot ask without requiring), callers use tokens |
| ``CHORUS_TOKEN_PUBLIC_KEY_FILE`` | (none) | PEM Ed25519 public key that bearer tokens (``chorus credentials issue``) are verified with |
| ``CHORUS_TOKEN_REVOKED_FILE`` | (none) | file of revoked token ids (``jti``), one a line (``chorus credentials revoke``); read again when it changes, a missing file revokes none |
| ``CHORUS_GRPC_REFLECTION`` | ``on`` | ``on`` / ``off``: server reflection, open to every caller like health |
| ``CHORUS_PAGE_TOKEN_SECRET`` | (random per process) | secret the page tokens of list methods are signed with; give every replica of a service the same one, or a token is refused by another replica and after a restart |

``CHORUS_IDENTITY_DEFAULT_REGION`` is a deprecated alias of ``CHORUS_DEFAULT_REGION``, read only when the
latter is unset.

Callers are authenticated and authorised by role (:mod:`services.common.security.roles`) when a token public
key is configured or client certificates are required; otherwise the services run **open**, as the tests and
``chorus up --insecure`` do, and say so at start-up (``security.open``). Never run open where others can reach it.

An unset or empty variable takes its default. A value that does not parse raises
:class:`~services.common.errors.ConfigurationError` naming the variable, so a bad deployment fails at start-up
instead of at the first request.

>>> settings = Settings.from_env({"CHORUS_IDENTITY_PORT": "6000"})
>>> settings.identity_port, settings.log_format
(6000, 'json')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import phonenumbers

from services.common.errors import ConfigurationError

PERSISTENCE_MODULE = "services.common.eventstore.jetstream"
MAPPER_TOPIC = "services.common.eventstore.codec:ProtobufMapper"

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
LOG_FORMATS = ("json", "console")
CLIENT_AUTH = ("required", "optional", "none")
VIEWS_URL_SCHEMES = ("sqlite://", "postgresql://", "postgres://")

_T = TypeVar("_T")


@dataclass(frozen=True)
class Settings:
    """What one Chorus process needs to know about its surroundings (see the module docstring)."""

    nats_url: str = "nats://127.0.0.1:4222"
    stream_replicas: int = 1
    duplicate_window_seconds: int = 120
    log_level: str = "info"
    log_format: str = "json"
    grpc_host: str = "0.0.0.0"  # noqa: S104 - a server inside a container listens on every interface
    identity_port: int = 50051
    touchpoints_port: int = 50052
    experience_port: int = 50053
    data_dir: Path = Path("./var")
    views_url: str = ""
    shutdown_grace_seconds: float = 5.0
    default_region: str | None = None
    store_timeout_seconds: float = 2.0
    store_publish_connections: int = 16
    page_token_secret: str = field(default="", repr=False)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_ca_file: Path | None = None
    tls_client_auth: str = "none"
    token_public_key_file: Path | None = None
    token_revoked_file: Path | None = None
    grpc_reflection: bool = True

    def __post_init__(self) -> None:
        if not self.views_url:
            object.__setattr__(self, "views_url", f"sqlite:///{self.data_dir / 'views.db'}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (``os.environ`` when omitted)."""
        env = os.environ if environ is None else environ
        defaults = cls()
        data_dir = Path(read_setting(env, "CHORUS_DATA_DIR", str, str(defaults.data_dir)))
        return cls(
            nats_url=read_setting(env, "CHORUS_NATS_URL", _nats_url, defaults.nats_url),
            stream_replicas=read_setting(env, "CHORUS_STREAM_REPLICAS", int_between(1, 5), defaults.stream_replicas),
            duplicate_window_seconds=read_setting(
                env, "CHORUS_DUPLICATE_WINDOW_SECONDS", int_between(1, 7 * 24 * 3600), defaults.duplicate_window_seconds
            ),
            log_level=read_setting(env, "CHORUS_LOG_LEVEL", _one_of(LOG_LEVELS), defaults.log_level),
            log_format=read_setting(env, "CHORUS_LOG_FORMAT", _one_of(LOG_FORMATS), defaults.log_format),
            grpc_host=read_setting(env, "CHORUS_GRPC_HOST", str, defaults.grpc_host),
            identity_port=read_setting(env, "CHORUS_IDENTITY_PORT", _port, defaults.identity_port),
            touchpoints_port=read_setting(env, "CHORUS_TOUCHPOINTS_PORT", _port, defaults.touchpoints_port),
            experience_port=read_setting(env, "CHORUS_EXPERIENCE_PORT", _port, defaults.experience_port),
            data_dir=data_dir,
            views_url=read_setting(env, "CHORUS_VIEWS_URL", _views_url, ""),
            shutdown_grace_seconds=read_setting(
                env, "CHORUS_SHUTDOWN_GRACE_SECONDS", non_negative_float, defaults.shutdown_grace_seconds
            ),
            default_region=read_setting(
                env,
                "CHORUS_DEFAULT_REGION",
                _region,
                read_setting(env, "CHORUS_IDENTITY_DEFAULT_REGION", _region, defaults.default_region),
            ),
            store_timeout_seconds=read_setting(
                env, "CHORUS_STORE_TIMEOUT_SECONDS", positive_float, defaults.store_timeout_seconds
            ),
            store_publish_connections=read_setting(
                env, "CHORUS_STORE_PUBLISH_CONNECTIONS", int_between(0, 256), defaults.store_publish_connections
            ),
            page_token_secret=env.get("CHORUS_PAGE_TOKEN_SECRET", ""),
            **_tls_settings(env),
            grpc_reflection=read_setting(env, "CHORUS_GRPC_REFLECTION", _on_off, defaults.grpc_reflection),
        )

    @property
    def tls(self) -> bool:
        """Whether the gRPC servers speak TLS (a certificate and key are configured)."""
        return self.tls_cert_file is not None

    @property
    def authenticates(self) -> bool:
        """Whether callers must authenticate (tokens are verifiable, or client certificates are required)."""
        return self.token_public_key_file is not None or self.tls_client_auth == "required"

    def grpc_address(self, port: int) -> str:
        """The ``host:port`` a service binds, e.g. ``settings.grpc_address(settings.identity_port)``."""
        host = f"[{self.grpc_host}]" if ":" in self.grpc_host else self.grpc_host
        return f"{host}:{port}"

    def eventstore_env(self, app_name: str) -> dict[str, str]:
        """The ``eventsourcing`` environment of the application ``app_name``: JetStream persistence, protobuf events.

        Pass it as ``Application(env=settings.eventstore_env("identity"))``. Keys prefixed with the upper-cased
        application name are not needed: one process runs one application.
        """
        if not app_name:
            msg = "eventstore_env needs the application name"
            raise ConfigurationError(msg)
        return {
            "PERSISTENCE_MODULE": PERSISTENCE_MODULE,
            "MAPPER_TOPIC": MAPPER_TOPIC,
            "NATS_URL": self.nats_url,
            "NATS_STREAM_REPLICAS": str(self.stream_replicas),
            "NATS_DUPLICATE_WINDOW": str(self.duplicate_window_seconds),
            "NATS_REQUEST_TIMEOUT": str(self.store_timeout_seconds),
            "NATS_PUBLISH_CONNECTIONS": str(self.store_publish_connections),
        }


def read_setting(env: Mapping[str, str], name: str, parse: Callable[[str], _T], default: _T) -> _T:
    """``env[name]`` parsed by ``parse``; empty or unset gives ``default``; a bad value raises
    :class:`ConfigurationError` naming the variable. Services read their own settings with it."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError as error:
        msg = f"{name}={raw!r} is not valid: {error}"
        raise ConfigurationError(msg) from None


def int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            msg = f"expected an integer from {low} to {high}"
            raise ValueError(msg)
        return value

    return parse


_port = int_between(0, 65535)


def non_negative_float(raw: str) -> float:
    value = float(raw)
    if not value >= 0:  # also rejects nan
        msg = "expected a number of seconds >= 0"
        raise ValueError(msg)
    return value


def positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):  # also rejects nan
        msg = "expected a number of seconds > 0"
        raise ValueError(msg)
    return value


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.lower()
        if value not in choices:
            msg = f"expected one of {', '.join(choices)}"
            raise ValueError(msg)
        return value

    return parse


def _nats_url(raw: str) -> str:
    for url in raw.split(","):
        if not url.strip().startswith(("nats://", "tls://", "ws://", "wss://")):
            msg = "expected nats://host:port (comma-separated for several servers)"
            raise ValueError(msg)
    return raw


def _readable_file(raw: str) -> Path:
    path = Path(raw)
    if not path.is_file():
        msg = "no such file"
        raise ValueError(msg)
    return path


def _on_off(raw: str) -> bool:
    value = raw.lower()
    if value not in ("on", "off", "true", "false", "1", "0"):
        msg = "expected on or off"
        raise ValueError(msg)
    return value in ("on", "true", "1")


def _tls_settings(env: Mapping[str, str]) -> dict[str, Any]:
    cert = read_setting(env, "CHORUS_TLS_CERT_FILE", _readable_file, None)
    key = read_setting(env, "CHORUS_TLS_KEY_FILE", _readable_file, None)
    if (cert is None) != (key is None):
        msg = "CHORUS_TLS_CERT_FILE and CHORUS_TLS_KEY_FILE go together: set both for TLS, or neither"
        raise ConfigurationError(msg)
    ca = read_setting(env, "CHORUS_TLS_CA_FILE", _readable_file, None)
    client_auth = read_setting(env, "CHORUS_TLS_CLIENT_AUTH", _one_of(CLIENT_AUTH), "required" if ca else "none")
    if client_auth == "required" and (ca is None or cert is None):
        msg = "CHORUS_TLS_CLIENT_AUTH=required needs CHORUS_TLS_CA_FILE and the server's certificate and key"
        raise ConfigurationError(msg)
    token_key = read_setting(env, "CHORUS_TOKEN_PUBLIC_KEY_FILE", _readable_file, None)
    revoked = read_setting(env, "CHORUS_TOKEN_REVOKED_FILE", Path, None)
    return {
        "tls_cert_file": cert,
        "tls_key_file": key,
        "tls_ca_file": ca,
        "tls_client_auth": client_auth,
        "token_public_key_file": token_key,
        "token_revoked_file": revoked,
    }


def _region(raw: str) -> str | None:
    region = raw.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        msg = "expected a region code such as GB or US"
        raise ValueError(msg)
    return region


def _views_url(raw: str) -> str:
    if not raw.startswith(VIEWS_URL_SCHEMES):
        msg = "expected sqlite:///path, sqlite://:memory: or postgresql://..."
        raise ValueError(msg)
    return raw

"""Composition root of the identity service: settings -> application + resolution projection -> gRPC server.

``python -m services.identity.main`` (or ``chorus``'s runner) reads the common ``CHORUS_*`` settings
(``services.common.config``; ``CHORUS_DEFAULT_REGION`` is the region of national phone numbers) and these of its
own:

| variable | default | meaning |
| --- | --- | --- |
| ``CHORUS_IDENTITY_APP_NAME`` | ``identity`` | application name = the JetStream stream of its events |
| ``CHORUS_IDENTITY_CAPS`` | (built-in) | identifiers per type per party, e.g. ``email=5,crm_id=1`` (overrides the defaults per type) |
| ``CHORUS_IDENTITY_BLOCKED`` | (none) | extra blocked values, comma-separated (``type:value`` blocks for one type) |

Readiness (gRPC health) is "the event stream answers and has room, and the resolution view follows it": connected
to NATS (the client's own disconnect and reconnect callbacks), the last write was not refused for want of
storage, the recorder can read an aggregate (one that never exists, the cheapest round trip to the stream), and
the view's runner is healthy.

It also signs checkpoints of its own stream (``services.common.audit``; key and schedule from
``CHORUS_AUDIT_SIGNING_KEY_FILE`` and ``CHORUS_AUDIT_CHECKPOINT_SECONDS``, see ``services.common.audit.keys``).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import structlog

from services.common.chassis import ServiceDescription, run, store_accepts_writes
from services.common.config import Settings
from services.common.errors import ConfigurationError
from services.common.eventstore.codec import register_events
from services.common.privacy.keyring import open_keyring
from services.common.projections import ProjectionRunner
from services.identity import events
from services.identity.application import IdentityApplication
from services.identity.domain import DEFAULT_BLOCKED, DEFAULT_CAPS, LinkPolicy
from services.identity.grpc_api import registration
from services.identity.projection import ResolutionView, resolution_runner

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class IdentitySettings:
    """The identity service's own settings (see the module docstring)."""

    app_name: str = "identity"
    policy: LinkPolicy = field(default=LinkPolicy(), repr=False)  # its blocked values are personal data

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IdentitySettings:
        env = os.environ if environ is None else environ
        caps = dict(DEFAULT_CAPS)
        for item in filter(None, (part.strip() for part in env.get("CHORUS_IDENTITY_CAPS", "").split(","))):
            name, _, number = item.partition("=")
            if name.strip() not in DEFAULT_CAPS or not number.strip().isdigit():
                msg = f"CHORUS_IDENTITY_CAPS: {item!r} is not <identifier type>=<count>"
                raise ConfigurationError(msg)
            caps[name.strip()] = int(number)
        blocked = DEFAULT_BLOCKED | {
            value.strip().lower() for value in env.get("CHORUS_IDENTITY_BLOCKED", "").split(",") if value.strip()
        }
        return cls(
            app_name=env.get("CHORUS_IDENTITY_APP_NAME", "").strip() or "identity",
            policy=LinkPolicy(caps=caps, blocked=frozenset(blocked)),
        )


@contextlib.contextmanager
def identity_service(
    settings: Settings, identity: IdentitySettings, *, env: Mapping[str, str] | None = None
) -> Iterator[tuple[IdentityApplication, ProjectionRunner]]:
    """The application with its resolution projection running; stopped and closed on exit.

    ``env`` overrides the eventsourcing environment (default: JetStream persistence and protobuf events).
    """
    register_events(events.REGISTRATIONS)
    with contextlib.ExitStack() as running:  # whatever started is stopped, also when a later step fails
        running.enter_context(open_keyring(settings))  # personal data sealed with the deployment's keys
        app = IdentityApplication(
            env=settings.eventstore_env(identity.app_name) if env is None else env,
            name=identity.app_name,
            policy=identity.policy,
            default_region=settings.default_region,
        )
        running.callback(app.close)
        view = ResolutionView(settings.views_url)
        running.callback(view.close)
        runner = resolution_runner(app, view)
        app.attach_projection(runner)
        runner.start(watch=False)  # this process's writes are handed over; other writers' are polled for
        running.callback(runner.stop)
        yield app, runner


#: An aggregate id no aggregate has: reading its events is the cheapest round trip to the stream.
READINESS_PROBE_ID = uuid.UUID(int=0)


def readiness(app: IdentityApplication) -> bool:
    """Ready when connected to NATS, the last write found room, the event stream answers (a read of an aggregate
    that never exists: one cheap round trip) and the resolution view's runner follows it."""
    if not store_accepts_writes(app.recorder.connection):  # type: ignore[attr-defined]  # our JetStream recorder
        return False
    app.recorder.select_events(READINESS_PROBE_ID)
    return app.projection is None or bool(app.projection.healthy)


SERVICE: ServiceDescription[IdentitySettings, tuple[IdentityApplication, ProjectionRunner]] = ServiceDescription(
    name="identity",
    port=lambda settings: settings.identity_port,
    own_settings=IdentitySettings.from_env,
    running=identity_service,
    registrations=lambda running: [registration(running[0])],
    readiness=lambda running: readiness(running[0]),
    started=lambda identity: {"app_name": identity.app_name},
    stream=lambda running: running[0].factory,
)


def main() -> None:
    run(SERVICE)


if __name__ == "__main__":
    main()

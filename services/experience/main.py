"""Composition root of the experience service: settings -> upstream readers + views -> gRPC server.

``python -m services.experience.main`` (or ``chorus serve experience``) reads the common ``CHORUS_*`` settings
(``services.common.config``: ``CHORUS_VIEWS_URL`` holds the views, ``CHORUS_DEFAULT_REGION`` normalises national
phone numbers among touchpoint actors) and these of its own:

| variable | default | meaning |
| --- | --- | --- |
| ``CHORUS_EXPERIENCE_IDENTITY_APP`` | ``identity`` | application name of the identity stream it reads |
| ``CHORUS_EXPERIENCE_TOUCHPOINTS_APP`` | ``touchpoints`` | application name of the touchpoints stream it reads |
| ``CHORUS_EXPERIENCE_AT_RISK_AFTER`` | ``14d`` | silent this long after a bad experience is "at risk" (``36h``) |
| ``CHORUS_EXPERIENCE_BARS`` | (built-in) | expectation bar per channel, e.g. ``x=30m,email=12h`` (see ``domain``) |
| ``CHORUS_EXPERIENCE_POLL_SECONDS`` | ``0.5`` | how often the views look for new events when no nudge came |
| ``CHORUS_EXPERIENCE_BATCH_SIZE`` | ``1000`` | most upstream events applied in one view transaction |

It reads the two streams and writes nothing to them: its NATS user needs read access only.
Readiness (gRPC health) is "both upstream streams answer and the views' runner is following them".
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

import structlog

from services.common.chassis import ServiceDescription, run
from services.common.config import Settings, int_between, non_negative_float, read_setting
from services.common.eventstore.connection import JetStreamConnection
from services.common.privacy.keyring import open_keyring
from services.experience import domain
from services.experience.application import ExperienceApplication, ExperienceSettings
from services.experience.grpc_api import registration
from services.experience.projection import IDENTITY, TOUCHPOINTS

log = structlog.get_logger(__name__)


def experience_settings(settings: Settings, environ: Mapping[str, str] | None = None) -> ExperienceSettings:
    """The experience service's own settings (see the module docstring)."""
    env = os.environ if environ is None else environ
    return ExperienceSettings(
        upstream_apps={
            IDENTITY: read_setting(env, "CHORUS_EXPERIENCE_IDENTITY_APP", str, IDENTITY),
            TOUCHPOINTS: read_setting(env, "CHORUS_EXPERIENCE_TOUCHPOINTS_APP", str, TOUCHPOINTS),
        },
        at_risk_after_seconds=read_setting(
            env, "CHORUS_EXPERIENCE_AT_RISK_AFTER", domain.parse_duration, domain.DEFAULT_AT_RISK_AFTER
        ),
        bars=read_setting(env, "CHORUS_EXPERIENCE_BARS", domain.parse_bars, {}),
        default_region=settings.default_region,
        poll_interval=read_setting(env, "CHORUS_EXPERIENCE_POLL_SECONDS", non_negative_float, 0.5) or 0.5,
        batch_size=read_setting(env, "CHORUS_EXPERIENCE_BATCH_SIZE", int_between(1, 10_000), 1000),
    )


@contextlib.contextmanager
def experience_service(settings: Settings, experience: ExperienceSettings) -> Iterator[ExperienceApplication]:
    """The application with its views' runner started; stopped and closed on exit."""
    with contextlib.ExitStack() as running:
        running.enter_context(open_keyring(settings))  # personal data sealed with the deployment's keys
        connection = JetStreamConnection.open(settings.nats_url)
        running.callback(connection.close)
        app = ExperienceApplication(connection, settings.views_url, experience)
        running.callback(app.close)
        app.start()
        yield app


def readiness(app: ExperienceApplication) -> bool:
    """Ready when both upstream streams answer and the runner follows them."""
    for reader in app.readers:
        reader.last_sequence()
    return app.healthy


SERVICE: ServiceDescription[ExperienceSettings, ExperienceApplication] = ServiceDescription(
    name="experience",
    port=lambda settings: settings.experience_port,
    own_settings=lambda env: experience_settings(Settings.from_env(env), env),
    running=experience_service,
    registrations=lambda app: [registration(app)],
    readiness=readiness,
    started=lambda experience: {"upstreams": dict(experience.upstream_apps)},
)


def main() -> None:
    run(SERVICE)


if __name__ == "__main__":
    main()

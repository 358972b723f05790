"""``chorus credentials``: bearer tokens for callers of a secured Chorus, and the credentials of a deployment.

    chorus credentials issue --role agent --subject desk-7 --days 30     # prints the token
    chorus credentials issue --role ingest --subject crm-sync --out crm.token
    chorus credentials revoke desk-7.token --revoked-file revoked-tokens  # the services' CHORUS_TOKEN_REVOKED_FILE
    chorus credentials deploy-bundle var/deploy      # CA, certificates, token keys, audit key, NATS passwords

The token is signed with ``token-signing-key.pem`` of the credentials directory (``chorus up`` creates it in
``<data dir>/credentials``; ``--credentials-dir`` or ``--signing-key`` name another). Callers send it as
``authorization: Bearer <token>``; services verify it with the matching public key.
"""

from __future__ import annotations

from pathlib import Path

import typer

from services.common.errors import ChorusError
from services.common.security import tokens
from services.common.security.local_ca import CredentialsDir
from services.common.security.roles import ROLES

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_show_locals=False)


@app.command()
def issue(
    role: str = typer.Option(..., help=f"one of {', '.join(ROLES)}"),
    subject: str = typer.Option(..., help="who holds the token (a service account, a desk, a person's login)"),
    days: float = typer.Option(30.0, help="how long the token is valid"),
    credentials_dir: Path = typer.Option(Path("var/credentials"), help="where chorus up keeps its credentials"),  # noqa: B008
    signing_key: Path | None = typer.Option(None, help="the Ed25519 signing key (PEM), instead of the dir's"),  # noqa: B008
    out: Path | None = typer.Option(None, help="write the token to this file (0600) instead of printing it"),  # noqa: B008
) -> None:
    """Issue a signed bearer token for SUBJECT with ROLE, valid for DAYS."""
    key_file = signing_key or CredentialsDir(credentials_dir).signing_key
    if not key_file.is_file():
        typer.secho(
            f"chorus: no signing key at {key_file} (run chorus up once, or pass --signing-key)",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(code=2)
    try:
        token = tokens.issue(key_file.read_bytes(), subject=subject, role=role, days=days)
    except ChorusError as error:
        typer.secho(f"chorus: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    if out is None:
        typer.echo(token)
        return
    out.touch(mode=0o600)
    out.write_text(token + "\n")
    typer.echo(f"wrote a {role} token for {subject} to {out} (valid {days:g} days)", err=True)


@app.command("deploy-bundle")
def deploy_bundle(
    directory: Path = typer.Argument(..., help="an empty directory to write the bundle into"),  # noqa: B008
    namespace: str = typer.Option("chorus", help="the Kubernetes namespace the certificates' DNS names are in"),
) -> None:
    """Write the credentials of a compose or Kubernetes deployment into DIRECTORY: a CA, each service's TLS
    certificate, the token keys and an admin token, the audit signing key and every NATS user's password
    (``services.common.security.deploy_bundle``). Nothing already there is overwritten."""
    from services.catalog import SERVICES
    from services.common.security.deploy_bundle import write_bundle

    try:
        secrets = write_bundle(directory, [entry.name for entry in SERVICES], namespace=namespace)
    except ChorusError as error:
        typer.secho(f"chorus: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    typer.echo(f"wrote a deployment bundle to {directory}; for Kubernetes, create its Secrets with:")
    for name, path in secrets.items():
        typer.echo(f"  kubectl -n {namespace} create secret generic {name} --from-file={path}")
    typer.echo(f"keep {directory / 'operator'} (the CA key, the token signing key) away from the cluster")


@app.command()
def revoke(
    token_file: Path = typer.Argument(..., help="a file holding the token to revoke (as issue --out wrote it)"),  # noqa: B008
    revoked_file: Path = typer.Option(..., help="the revocation list the services read (CHORUS_TOKEN_REVOKED_FILE)"),  # noqa: B008
) -> None:
    """Add the id of the token in TOKEN_FILE to the revocation list: services refuse it from their next call on."""
    try:
        jti = tokens.token_id(token_file.read_text().strip())
    except (OSError, ChorusError) as error:
        typer.secho(f"chorus: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    tokens.RevocationList(revoked_file).revoke(jti)
    typer.echo(f"revoked token {jti} in {revoked_file}", err=True)

"""``chorus party register|get|link|merge|unmerge``: parties and their identifiers, through the identity API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer
from google.protobuf.message import Message
from rich.table import Table

from chorus.common.v1 import types_pb2 as types
from chorus.identity.v1 import identity_service_pb2 as ipb
from services.client.runtime import (
    NOTHING,
    CommandFailed,
    Endpoint,
    console,
    print_answer,
    subcommand,
)
from services.client.values import (
    IDENTIFIER_HELP,
    is_uuid,
    parse_identifier,
    parse_word,
    party_id,
    show_identifier,
    word,
)

app = typer.Typer(no_args_is_help=True, help="Parties (people, organisations, communities) and their identifiers.")

Identifiers = Annotated[
    list[str] | None,
    typer.Option("--identifier", "-i", help=f"an identifier to link at once (repeatable): {IDENTIFIER_HELP}"),
]
Source = Annotated[str, typer.Option(help="evidence: where it came from (crm-import, support-call, agent)")]
Rule = Annotated[str, typer.Option(help="evidence: the rule that justified it (same verified email)")]
By = Annotated[str, typer.Option("--by", help="evidence: who asserted it (an agent's id, a system)")]


@dataclass(frozen=True)
class Evidence:
    """Why a party changes, as identity records it: ``--source``, ``--rule`` and ``--by``."""

    source: Source = "cli"
    rule: Rule = ""
    by: By = ""

    def message(self) -> ipb.Evidence:
        return ipb.Evidence(source=self.source, rule=self.rule, asserted_by=self.by)


def render_party(party: ipb.Party) -> None:
    table = Table(title=f"Party {party.party_id}", show_header=False, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("kind", word(types.PartyKind.DESCRIPTOR, party.kind))
    table.add_row("name", party.display_name or ("(anonymous)" if party.anonymous else ""))
    table.add_row("roles", ", ".join(word(types.PartyRole.DESCRIPTOR, r) for r in party.roles))
    for linked in party.identifiers:
        why = linked.evidence.rule or linked.evidence.source
        table.add_row("identifier", show_identifier(linked.identifier) + (f"  ({why})" if why else ""))
    if party.merged_into_party_id:
        table.add_row("merged into", party.merged_into_party_id)
    for merged in party.merged_party_ids:
        table.add_row("merged in", merged)
    for member in party.member_party_ids:
        table.add_row("member", member)
    if party.do_not_contact:
        table.add_row("contact", "do not contact")
    table.add_row("version", str(party.version))
    console.print(table)


def _change(identity: Endpoint, method: str, request: Message) -> None:
    """Call ``method`` of the identity service once with ``request`` and show the party it answers."""
    party = identity.call(method, request).party
    print_answer(party, lambda: render_party(party))


@subcommand(app, "identity")
def register(
    identity: Endpoint,
    display_name: Annotated[str, typer.Argument(help="how to call the party")],
    kind: Annotated[str, typer.Option(help="person, organisation or community")] = "person",
    role: Annotated[list[str] | None, typer.Option(help="customer, prospect, partner, influencer, employee")] = None,
    identifier: Identifiers = None,
    *,
    evidence: Evidence,
) -> None:
    """Register a party, optionally with identifiers (all linked, or none)."""
    request = ipb.RegisterPartyRequest(
        kind=parse_word(types.PartyKind.DESCRIPTOR, kind, "--kind"),
        display_name=display_name,
        roles=[parse_word(types.PartyRole.DESCRIPTOR, r, "--role") for r in role or []],
        identifiers=[parse_identifier(raw, "--identifier") for raw in identifier or []],
        evidence=evidence.message(),
    )
    _change(identity, "RegisterParty", request)


@subcommand(app, "identity")
def get(
    identity: Endpoint,
    party: Annotated[str, typer.Argument(help=f"a party id, or an identifier it holds: {IDENTIFIER_HELP}")],
) -> None:
    """Show a party as it is now, by id or by an identifier it holds."""
    with identity.connect() as service:
        if is_uuid(party):
            found = service.call(service.stub.GetParty, ipb.GetPartyRequest(party_id=party)).party
        else:
            search = service.call(
                service.stub.SearchParties, ipb.SearchPartiesRequest(identifier=parse_identifier(party, "party"))
            )
            if not search.parties:
                raise CommandFailed(NOTHING, "not found: no party holds that identifier")
            found = search.parties[0]
    print_answer(found, lambda: render_party(found))


@subcommand(app, "identity")
def link(
    identity: Endpoint,
    party: Annotated[str, typer.Argument(help="the party id")],
    identifier: Annotated[str, typer.Argument(help=IDENTIFIER_HELP)],
    force: Annotated[bool, typer.Option(help="move the identifier from the party that holds it now")] = False,
    *,
    evidence: Evidence,
) -> None:
    """Link an identifier to a party, with evidence."""
    request = ipb.LinkIdentifierRequest(
        party_id=party_id(party, "party"),
        identifier=parse_identifier(identifier),
        force=force,
        evidence=evidence.message(),
    )
    _change(identity, "LinkIdentifier", request)


@subcommand(app, "identity")
def merge(
    identity: Endpoint,
    target: Annotated[str, typer.Argument(help="the party that survives")],
    source_party: Annotated[str, typer.Argument(metavar="SOURCE", help="the party merged into the target")],
    rule: Annotated[str, typer.Option(help="the rule that justified the merge (required)")] = "",
    source: Source = "cli",
    by: By = "",
) -> None:
    """Merge SOURCE into TARGET (undo with ``chorus party unmerge SOURCE``)."""
    request = ipb.MergePartiesRequest(
        target_party_id=party_id(target, "target"),
        source_party_id=party_id(source_party, "source"),
        evidence=Evidence(source, rule, by).message(),
    )
    _change(identity, "MergeParties", request)


@subcommand(app, "identity")
def unmerge(
    identity: Endpoint,
    party: Annotated[str, typer.Argument(help="the party that was merged away")],
    rule: Rule = "",
    source: Source = "cli",
    by: By = "",
) -> None:
    """Undo a merge: both parties get back exactly what they had."""
    request = ipb.UnmergePartyRequest(party_id=party_id(party, "party"), evidence=Evidence(source, rule, by).message())
    reply = identity.call("UnmergeParty", request)

    def render() -> None:
        render_party(reply.party)
        render_party(reply.former_target)

    print_answer({"party": reply.party, "former_target": reply.former_target}, render)

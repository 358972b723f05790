"""The gRPC servicer of ``chorus.identity.v1.IdentityService``: protobuf <-> primitives, nothing else.

Requests are validated by the runtime's interceptor (rules in the .proto), errors are mapped to statuses by the
runtime's error interceptor; the rules of the domain live in ``services.identity.domain``. The domain's refusals
of input name domain words; :data:`FIELD_OF` turns each into the field path of the request (one place).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from chorus.common.v1 import types_pb2
from chorus.identity.events.v1 import events_pb2 as events_pb
from chorus.identity.v1 import identity_service_pb2 as pb
from chorus.identity.v1 import identity_service_pb2_grpc as pb_grpc
from services.common import pagination
from services.common.contracts import enum_from_proto, enum_to_proto, from_timestamp, to_timestamp
from services.common.errors import InvalidArgument
from services.common.grpc_runtime.decoding import Undecodable, per_item
from services.common.grpc_runtime.streams import answer_in_micro_batches
from services.common.validation import violations
from services.identity.application import MAX_PAGE_SIZE, IdentityApplication
from services.identity.domain import InvalidIdentityInput
from services.identity.importing import (
    ALREADY_IMPORTED,
    IMPORTED,
    REJECTED,
    ImportOutcome,
    ImportStream,
    ImportViolation,
    PartyImport,
    Prepared,
    Reservation,
)
from services.identity.importing import prepare as prepare_import

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["IdentityService"].full_name

IMPORT_BATCH = 250
"""Most items of an ImportParties stream prepared and answered together (committed in saves the store allows)."""
IMPORT_COMMITS = 2
"""Micro-batches of one ImportParties stream committed at once: one builds its aggregates while another waits
for the store (``importing.ImportStream`` orders those that share a party or an identifier)."""

#: The request field each domain word of a refusal stands for (a word not listed is the field's own name).
FIELD_OF: Mapping[str, str] = {
    "confidence": "evidence.confidence",
    "merge_rule": "evidence.rule",
    "merge_source": "source_party_id",
    "member": "member_party_id",
    "consent_status": "status",
    "effective_time": "time",
    "preferred_channels": "channels",
}

_Servicer = TypeVar("_Servicer", bound=type)


def _naming_request_fields(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except InvalidIdentityInput as refused:
            raise InvalidArgument.field(FIELD_OF.get(refused.subject, refused.subject), refused.description) from None

    return translated


def naming_request_fields(servicer: _Servicer) -> _Servicer:
    """Every RPC of ``servicer`` answers a domain refusal naming the request's field (:data:`FIELD_OF`)."""
    for name in pb.DESCRIPTOR.services_by_name["IdentityService"].methods_by_name:
        if name in vars(servicer):
            setattr(servicer, name, _naming_request_fields(vars(servicer)[name]))
    return servicer


# ---------------------------------------------------------------------------------------------- translation


def enum_name(enum: EnumTypeWrapper, number: int) -> str:
    """``IDENTIFIER_TYPE_EMAIL`` -> ``"email"``; the zero value -> ``""`` (the stored-event convention)."""
    return enum_from_proto(enum, number)


def enum_number(enum: EnumTypeWrapper, name: str) -> int:
    """``"email"`` -> ``IDENTIFIER_TYPE_EMAIL``; ``""`` -> 0."""
    return enum_to_proto(enum, name)


def identifier_in(message: types_pb2.Identifier) -> dict[str, str]:
    return {
        "type": enum_name(types_pb2.IdentifierType, message.type),
        "value": message.value,
        "namespace": message.namespace,
    }


def identifier_out(identifier: Mapping[str, str]) -> types_pb2.Identifier:
    return types_pb2.Identifier(
        type=enum_number(types_pb2.IdentifierType, identifier["type"]),
        value=identifier["value"],
        namespace=identifier["namespace"],
    )


def evidence_in(message: pb.Evidence) -> dict[str, Any]:
    return {
        "source": message.source,
        "confidence": message.confidence if message.HasField("confidence") else 1.0,
        "asserted_by": message.asserted_by,
        "rule": message.rule,
        "note": message.note,
    }


def evidence_out(evidence: Mapping[str, Any]) -> pb.Evidence:
    return pb.Evidence(
        source=evidence.get("source", ""),
        confidence=float(evidence.get("confidence", 1.0)),
        asserted_by=evidence.get("asserted_by", ""),
        rule=evidence.get("rule", ""),
        note=evidence.get("note", ""),
    )


def time_in(message: Any, field: str = "time") -> datetime | None:
    return from_timestamp(getattr(message, field)) if message.HasField(field) else None


def time_out(value: datetime) -> timestamp_pb2.Timestamp:
    return to_timestamp(value)


def version_in(message: Any) -> int | None:
    return message.expected_version if message.HasField("expected_version") else None


def answered_in(message: Any) -> tuple[datetime | None, str, int | None]:
    """When a contact answer takes effect (None: now), where it was given, and the version the caller expects."""
    return time_in(message), message.source, version_in(message)


def party_out(party: Mapping[str, Any]) -> pb.Party:
    return pb.Party(
        party_id=party["party_id"],
        kind=enum_number(types_pb2.PartyKind, party["kind"]),
        roles=[enum_number(types_pb2.PartyRole, role) for role in party["roles"]],
        display_name=party["display_name"],
        anonymous=party["anonymous"],
        identifiers=[
            pb.LinkedIdentifier(
                identifier_id=link["identifier_id"],
                identifier=identifier_out(link),
                evidence=evidence_out(link["evidence"]),
            )
            for link in party["identifiers"]
        ],
        member_party_ids=party["member_party_ids"],
        community_party_ids=party["community_party_ids"],
        consents=[
            pb.Consent(
                channel=enum_number(types_pb2.Channel, consent["channel"]),
                status=enum_number(types_pb2.ConsentStatus, consent["status"]),
                time=time_out(consent["at"]),
                source=consent["source"],
                party_id=consent["party_id"],
            )
            for consent in party["consents"]
        ],
        preferred_channels=[enum_number(types_pb2.Channel, c) for c in party["preferred_channels"]],
        do_not_contact=party["do_not_contact"],
        do_not_contact_party_ids=party["do_not_contact_party_ids"],
        merged_into_party_id=party["merged_into_party_id"],
        merged_party_ids=party["merged_party_ids"],
        version=party["version"],
    )


IMPORT_OUTCOME = {
    IMPORTED: pb.IMPORT_OUTCOME_IMPORTED,
    ALREADY_IMPORTED: pb.IMPORT_OUTCOME_ALREADY_IMPORTED,
    REJECTED: pb.IMPORT_OUTCOME_REJECTED,
}


def party_import_in(message: pb.ImportedParty) -> PartyImport:
    return PartyImport(
        source_system=message.source_system,
        external_id=message.external_id,
        kind=enum_name(types_pb2.PartyKind, message.kind),
        display_name=message.display_name,
        roles=tuple(enum_name(types_pb2.PartyRole, role) for role in message.roles),
        identifiers=tuple(identifier_in(i) for i in message.identifiers),
        consents=tuple(
            {
                "channel": enum_name(types_pb2.Channel, c.channel),
                "status": enum_name(types_pb2.ConsentStatus, c.status),
                "at": time_in(c),
                "source": c.source,
            }
            for c in message.consents
        ),
        preferred_channels=tuple(enum_name(types_pb2.Channel, c) for c in message.preferred_channels),
        evidence=evidence_in(message.evidence) if message.HasField("evidence") else {},
    )


def import_items(frames: Iterator[pb.ImportPartiesRequest | Undecodable]) -> Iterator[pb.ImportedParty | Undecodable]:
    """The items of an ImportParties stream, in order: each frame's ``party`` (when set, or when the frame has no
    ``parties``), then its ``parties``; a frame whose bytes do not decode is one item."""
    for frame in frames:
        if isinstance(frame, Undecodable):
            yield frame
            continue
        if frame.HasField("party") or not frame.parties:
            yield frame.party
        yield from frame.parties


def import_result_out(outcome: ImportOutcome) -> pb.ImportResult:
    return pb.ImportResult(
        index=outcome.index,
        party_id=outcome.party_id,
        outcome=IMPORT_OUTCOME[outcome.outcome],
        violations=[
            pb.ImportViolation(field=v.field, description=v.description, rule=v.rule) for v in outcome.violations
        ],
        conflicting_party_id=outcome.conflicting_party_id,
    )


# ---------------------------------------------------------------------------------------------- servicer


@naming_request_fields
class IdentityServicer(pb_grpc.IdentityServiceServicer):
    """Translates each RPC into one call of :class:`IdentityApplication`."""

    def __init__(self, app: IdentityApplication, *, import_batch: int = IMPORT_BATCH) -> None:
        self.app = app
        self.import_batch = import_batch

    def RegisterParty(
        self, request: pb.RegisterPartyRequest, context: grpc.ServicerContext
    ) -> pb.RegisterPartyResponse:
        party = self.app.register_party(
            kind=enum_name(types_pb2.PartyKind, request.kind),
            display_name=request.display_name,
            roles=[enum_name(types_pb2.PartyRole, role) for role in request.roles],
            identifiers=[identifier_in(i) for i in request.identifiers],
            link_evidence=evidence_in(request.evidence),
        )
        return pb.RegisterPartyResponse(party=party_out(party))

    def GetParty(self, request: pb.GetPartyRequest, context: grpc.ServicerContext) -> pb.GetPartyResponse:
        return pb.GetPartyResponse(party=party_out(self.app.get_party(request.party_id)))

    def ListParties(self, request: pb.ListPartiesRequest, context: grpc.ServicerContext) -> pb.ListPartiesResponse:
        kind = enum_name(types_pb2.PartyKind, request.kind)
        query = pagination.query_fingerprint(method="ListParties", kind=kind)
        size = pagination.page_size(request.page_size, maximum=MAX_PAGE_SIZE)
        start = pagination.decode(request.page_token, query)
        after = start.cursor if isinstance(start.cursor, int) else 0
        parties, last = self.app.list_parties(size, after, kind)
        return pb.ListPartiesResponse(
            parties=[party_out(p) for p in parties],
            next_page_token=start.at(last).encode() if last else "",
        )

    def SearchParties(
        self, request: pb.SearchPartiesRequest, context: grpc.ServicerContext
    ) -> pb.SearchPartiesResponse:
        parties = self.app.search(identifier_in(request.identifier))
        return pb.SearchPartiesResponse(parties=[party_out(p) for p in parties])

    def LinkIdentifier(
        self, request: pb.LinkIdentifierRequest, context: grpc.ServicerContext
    ) -> pb.LinkIdentifierResponse:
        result = self.app.link_identifier(
            request.party_id,
            identifier_in(request.identifier),
            evidence_in(request.evidence),
            force=request.force,
            expected_version=version_in(request),
        )
        return pb.LinkIdentifierResponse(
            party=party_out(result["party"]),
            identifier_id=result["identifier_id"],
            previous_party_id=result["previous_party_id"],
        )

    def UnlinkIdentifier(
        self, request: pb.UnlinkIdentifierRequest, context: grpc.ServicerContext
    ) -> pb.UnlinkIdentifierResponse:
        party = self.app.unlink_identifier(request.party_id, identifier_in(request.identifier), request.reason)
        return pb.UnlinkIdentifierResponse(party=party_out(party))

    def ResolveIdentifier(
        self, request: pb.ResolveIdentifierRequest, context: grpc.ServicerContext
    ) -> pb.ResolveIdentifierResponse:
        result = self.app.resolve(
            identifier_in(request.identifier),
            create_if_missing=request.create_if_missing,
            link_evidence=evidence_in(request.evidence) if request.HasField("evidence") else None,
        )
        return pb.ResolveIdentifierResponse(
            party_id=result["party_id"],
            identifier_id=result["identifier_id"],
            created=result["created"],
            identifier=identifier_out(result["identifier"]),
        )

    def ResolveParty(self, request: pb.ResolvePartyRequest, context: grpc.ServicerContext) -> pb.ResolvePartyResponse:
        path = self.app.resolve_party(request.party_id)
        return pb.ResolvePartyResponse(party_id=path[-1], merge_path=path)

    def MergeParties(self, request: pb.MergePartiesRequest, context: grpc.ServicerContext) -> pb.MergePartiesResponse:
        party = self.app.merge_parties(request.target_party_id, request.source_party_id, evidence_in(request.evidence))
        return pb.MergePartiesResponse(party=party_out(party))

    def UnmergeParty(self, request: pb.UnmergePartyRequest, context: grpc.ServicerContext) -> pb.UnmergePartyResponse:
        result = self.app.unmerge_party(request.party_id, evidence_in(request.evidence))
        return pb.UnmergePartyResponse(
            party=party_out(result["party"]), former_target=party_out(result["former_target"])
        )

    def AddCommunityMember(
        self, request: pb.AddCommunityMemberRequest, context: grpc.ServicerContext
    ) -> pb.AddCommunityMemberResponse:
        community = self.app.add_community_member(request.community_party_id, request.member_party_id)
        return pb.AddCommunityMemberResponse(community=party_out(community))

    def RemoveCommunityMember(
        self, request: pb.RemoveCommunityMemberRequest, context: grpc.ServicerContext
    ) -> pb.RemoveCommunityMemberResponse:
        community = self.app.remove_community_member(request.community_party_id, request.member_party_id)
        return pb.RemoveCommunityMemberResponse(community=party_out(community))

    def RecordConsent(
        self, request: pb.RecordConsentRequest, context: grpc.ServicerContext
    ) -> pb.RecordConsentResponse:
        channel, status = (
            enum_name(types_pb2.Channel, request.channel),
            enum_name(types_pb2.ConsentStatus, request.status),
        )
        party = self.app.record_consent(request.party_id, channel, status, *answered_in(request))
        return pb.RecordConsentResponse(party=party_out(party))

    def SetPreferredChannels(
        self, request: pb.SetPreferredChannelsRequest, context: grpc.ServicerContext
    ) -> pb.SetPreferredChannelsResponse:
        party = self.app.set_preferred_channels(
            request.party_id,
            [enum_name(types_pb2.Channel, c) for c in request.channels],
            expected_version=version_in(request),
        )
        return pb.SetPreferredChannelsResponse(party=party_out(party))

    def SetDoNotContact(
        self, request: pb.SetDoNotContactRequest, context: grpc.ServicerContext
    ) -> pb.SetDoNotContactResponse:
        party = self.app.set_do_not_contact(request.party_id, request.do_not_contact, *answered_in(request))
        return pb.SetDoNotContactResponse(party=party_out(party))

    def CheckContactPermission(
        self, request: pb.CheckContactPermissionRequest, context: grpc.ServicerContext
    ) -> pb.CheckContactPermissionResponse:
        answer = self.app.may_contact(request.party_id, enum_name(types_pb2.Channel, request.channel), time_in(request))
        return pb.CheckContactPermissionResponse(
            allowed=answer["allowed"],
            reason=answer["reason"],
            party_id=answer["party_id"],
            preferred=answer["preferred"],
        )

    @per_item
    def ImportParties(
        self, request_iterator: Iterator[pb.ImportPartiesRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.ImportPartiesResponse]:
        """Micro-batches of the stream, each committed in as few atomic saves as the event store allows, each
        answered once durable (``services.identity.importing``)."""
        stream = ImportStream(self.app)

        def prepare(items: list[pb.ImportedParty | Undecodable], first: int) -> Reservation:
            return stream.reserve(self._prepare_import(items, first))

        def commit(reservation: Reservation) -> pb.ImportPartiesResponse:
            return pb.ImportPartiesResponse(results=[import_result_out(o) for o in stream.commit(reservation)])

        yield from answer_in_micro_batches(
            import_items(request_iterator),
            prepare=prepare,
            commit=commit,
            max_batch=self.import_batch,
            capacity=4 * self.import_batch,
            name="identity-import",
            commits=IMPORT_COMMITS,
        )

    def _prepare_import(self, items: list[pb.ImportedParty | Undecodable], first: int) -> list[Prepared]:
        """Each item checked against its .proto rules, then by :func:`importing.prepare`."""
        prepared: list[Prepared] = []
        for offset, item in enumerate(items):
            if isinstance(item, Undecodable):
                undecodable = (ImportViolation("", item.description),)
                prepared.append(ImportOutcome(first + offset, REJECTED, violations=undecodable))
                continue
            broken = violations(item)
            if broken:
                refused = tuple(ImportViolation(v.field, v.description) for v in broken)
                prepared.append(ImportOutcome(first + offset, REJECTED, violations=refused))
            else:
                prepared.extend(prepare_import(self.app, [party_import_in(item)], first + offset))
        return prepared

    def ForgetParty(self, request: pb.ForgetPartyRequest, context: grpc.ServicerContext) -> pb.ForgetPartyResponse:
        receipt = self.app.forget_party(request.party_id, request.requested_by, request.legal_basis)
        return pb.ForgetPartyResponse(receipt_id=receipt["receipt_id"], receipt=receipt_out(receipt))

    def ExportParty(self, request: pb.ExportPartyRequest, context: grpc.ServicerContext) -> pb.ExportPartyResponse:
        return pb.ExportPartyResponse(
            json=json.dumps(self.app.export_party(request.party_id), default=_json_value, sort_keys=True)
        )


def receipt_out(receipt: Mapping[str, Any]) -> events_pb.ErasureReceipt:
    return events_pb.ErasureReceipt(
        receipt_id=receipt["receipt_id"],
        erased_at=to_timestamp(receipt["erased_at"]),
        requested_by=receipt["requested_by"],
        legal_basis=receipt["legal_basis"],
        categories=list(receipt["categories"]),
        key_ids=list(receipt["key_ids"]),
        party_ids=list(receipt["party_ids"]),
        kept_identifiers=int(receipt["kept_identifiers"]),
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    return str(value)


def registration(app: IdentityApplication) -> tuple[Any, IdentityServicer, str]:
    """The ``(add_to_server, servicer, service name)`` triple for ``grpc_runtime.create_server``."""
    return (pb_grpc.add_IdentityServiceServicer_to_server, IdentityServicer(app), SERVICE_NAME)

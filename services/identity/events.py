"""Which protobuf message stores which identity domain event (``chorus.identity.events.v1``).

The composition root (``services.identity.main``) passes :data:`REGISTRATIONS` to ``register_events`` before the
application stores or reads any event.
The message fields carry the events' attribute names (see ``protos/chorus/identity/events/v1/events.proto``).
"""

from __future__ import annotations

from chorus.identity.events.v1 import events_pb2 as pb
from services.identity.domain import IdentifierClaim, Party

REGISTRATIONS = (
    (Party.Registered, pb.PartyRegistered),
    (Party.IdentifierLinked, pb.PartyIdentifierLinked),
    (Party.IdentifierUnlinked, pb.PartyIdentifierUnlinked),
    (Party.MemberAdded, pb.PartyMemberAdded),
    (Party.MemberRemoved, pb.PartyMemberRemoved),
    (Party.JoinedCommunity, pb.PartyJoinedCommunity),
    (Party.LeftCommunity, pb.PartyLeftCommunity),
    (Party.ConsentRecorded, pb.PartyConsentRecorded),
    (Party.PreferredChannelsSet, pb.PartyPreferredChannelsSet),
    (Party.DoNotContactSet, pb.PartyDoNotContactSet),
    (Party.Absorbed, pb.PartyAbsorbed),
    (Party.MergedInto, pb.PartyMergedInto),
    (Party.Released, pb.PartyReleased),
    (Party.Unmerged, pb.PartyUnmerged),
    (Party.Forgotten, pb.PartyForgotten),
    (IdentifierClaim.Claimed, pb.IdentifierClaimed),
    (IdentifierClaim.Transferred, pb.IdentifierTransferred),
    (IdentifierClaim.Unclaimed, pb.IdentifierUnclaimed),
)

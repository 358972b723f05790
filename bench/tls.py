"""The cost of TLS and caller checks on streaming ingest and on ``GetExperience``, beside plain mode, in one run.

One embedded nats-server, the three services in this process, each served three times: plain and open (what
``chorus up --insecure`` runs), TLS with bearer-token roles (what ``chorus up`` runs, credentials from a local
CA in a temp dir), and TLS alone (to tell the two costs apart). The client calls each the same way; the script prints rates and secure/plain ratios.

    python bench/tls.py --count 5000 --reads 2000
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import touchpoint_input
from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as xpb
from chorus.experience.v1 import experience_service_pb2_grpc as xpb_grpc
from chorus.identity.v1 import identity_service_pb2 as ipb
from chorus.identity.v1 import identity_service_pb2_grpc as ipb_grpc
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as tpb_grpc
from services.common.config import Settings
from services.common.grpc_runtime import OPEN, ServerSecurity, create_server, stop
from services.common.grpc_runtime.client import channel
from services.common.logging import configure_logging
from services.common.nats_server import NatsServer
from services.common.security import roles, tokens
from services.common.security.local_ca import ensure_local_credentials
from services.common.testing import eventually


@contextlib.contextmanager
def serving(registration: tuple, security: ServerSecurity) -> Iterator[int]:  # type: ignore[type-arg]
    server, port = create_server([registration], "127.0.0.1:0", security=security)
    try:
        yield port
    finally:
        stop(server, grace=None)


def stream_ingest(ch: grpc.Channel, count: int, run: str) -> float:
    now = time.time()
    messages = [
        tpb.RecordTouchpointStreamRequest(touchpoint=touchpoint_input(n, run, occurred=now)) for n in range(count)
    ]
    start = time.perf_counter()
    answered = sum(
        len(reply.results) for reply in tpb_grpc.TouchpointServiceStub(ch).RecordTouchpointStream(iter(messages))
    )
    seconds = time.perf_counter() - start
    assert answered == count, f"answered {answered} of {count}"
    return count / seconds


def get_experience(ch: grpc.Channel, reads: int, selector: xpb.PartySelector) -> float:
    stub = xpb_grpc.ExperienceServiceStub(ch)

    def answers() -> None:
        try:
            stub.GetExperience(xpb.GetExperienceRequest(party=selector))
        except grpc.RpcError as error:
            raise AssertionError(error.code()) from None

    eventually(answers, timeout=30)  # the views have caught up with the party
    start = time.perf_counter()
    for _ in range(reads):
        stub.GetExperience(xpb.GetExperienceRequest(party=selector))
    return reads / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=5000, help="touchpoints per streaming measurement")
    parser.add_argument("--reads", type=int, default=2000, help="sequential GetExperience calls per measurement")
    args = parser.parse_args()

    from services.experience.grpc_api import registration as experience_registration
    from services.experience.main import experience_service, experience_settings
    from services.identity.grpc_api import registration as identity_registration
    from services.identity.main import IdentitySettings, identity_service
    from services.touchpoints.grpc_api import registration as touchpoints_registration
    from services.touchpoints.main import TouchpointsSettings, touchpoints_service

    configure_logging("warning", "console")
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="chorus-tls-") as tmp, contextlib.ExitStack() as stack:
        nats = NatsServer(store_dir=Path(tmp) / "nats").start()
        stack.callback(nats.stop)
        credentials = ensure_local_credentials(Path(tmp) / "credentials", ["bench"])
        secure = ServerSecurity.from_settings(
            Settings.from_env(
                {
                    "CHORUS_TLS_CERT_FILE": str(credentials.cert("bench")),
                    "CHORUS_TLS_KEY_FILE": str(credentials.key("bench")),
                    "CHORUS_TOKEN_PUBLIC_KEY_FILE": str(credentials.public_key),
                }
            )
        )
        settings = Settings(nats_url=nats.url, views_url=f"sqlite:///{Path(tmp) / 'views.db'}", default_region="GB")
        identity_app, _ = stack.enter_context(
            identity_service(settings, IdentitySettings.from_env({"CHORUS_IDENTITY_APP_NAME": f"identity_{run}"}))
        )
        touchpoints_app = stack.enter_context(
            touchpoints_service(
                settings, TouchpointsSettings.from_env({"CHORUS_TOUCHPOINTS_APP_NAME": f"touchpoints_{run}"})
            )
        )
        experience_app = stack.enter_context(
            experience_service(
                settings,
                experience_settings(
                    settings,
                    {
                        "CHORUS_EXPERIENCE_IDENTITY_APP": f"identity_{run}",
                        "CHORUS_EXPERIENCE_TOUCHPOINTS_APP": f"touchpoints_{run}",
                        "CHORUS_EXPERIENCE_POLL_SECONDS": "0.2",
                    },
                ),
            )
        )
        ports = {
            (name, mode): stack.enter_context(serving(registration, security))
            for name, registration in (
                ("identity", identity_registration(identity_app)),
                ("touchpoints", touchpoints_registration(touchpoints_app)),
                ("experience", experience_registration(experience_app)),
            )
            for mode, security in (("plain", OPEN), ("tls", secure), ("tls-open", ServerSecurity(secure.credentials)))
        }
        token = {
            role: tokens.issue(credentials.signing_key.read_bytes(), subject="bench", role=role)
            for role in (roles.INGEST, roles.AGENT, roles.IDENTITY_ADMIN)
        }

        def connect(name: str, mode: str, role: str) -> grpc.Channel:
            address = f"127.0.0.1:{ports[(name, mode)]}"
            if mode == "plain":
                return grpc.insecure_channel(address)
            return channel(address, credentials.root, token=token[role] if mode == "tls" else None, certificate=None)

        email = types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="person1@bench.example.org")
        with connect("identity", "plain", roles.IDENTITY_ADMIN) as ch:
            identity = ipb_grpc.IdentityServiceStub(ch)
            party = identity.RegisterParty(
                ipb.RegisterPartyRequest(
                    kind=types.PARTY_KIND_PERSON, display_name="Bench Person", roles=[types.PARTY_ROLE_CUSTOMER]
                )
            )
            identity.LinkIdentifier(
                ipb.LinkIdentifierRequest(
                    party_id=party.party.party_id,
                    identifier=email,
                    evidence=ipb.Evidence(source="bench", rule="told-us"),
                )
            )

        print(
            f"TLS bench: {args.count} streamed touchpoints and {args.reads} GetExperience calls per mode, "
            "client in this process; plain = open, no TLS; tls = TLS 1.3 + EdDSA bearer token + role check; "
            "tls-open = TLS 1.3 alone, no caller checked"
        )
        rates: dict[tuple[str, str], float] = {}
        for round_ in range(2):  # plain, tls, plain, tls: the better of two for each
            for mode in ("plain", "tls", "tls-open"):
                with connect("touchpoints", mode, roles.INGEST) as ch:
                    rate = stream_ingest(ch, args.count, f"{run}-{mode}-{round_}")
                rates[("ingest", mode)] = max(rates.get(("ingest", mode), 0.0), rate)
        selector = xpb.PartySelector(party_id=party.party.party_id)
        for _round in range(2):
            for mode in ("plain", "tls", "tls-open"):
                with connect("experience", mode, roles.AGENT) as ch:
                    rate = get_experience(ch, args.reads, selector)
                rates[("read", mode)] = max(rates.get(("read", mode), 0.0), rate)
        for what, label, unit in (
            ("ingest", "RecordTouchpointStream", "touchpoints/s"),
            ("read", "GetExperience (sequential)", "calls/s"),
        ):
            plain, tls, bare = rates[(what, "plain")], rates[(what, "tls")], rates[(what, "tls-open")]
            print(
                f"{label:28} plain {plain:7.0f} {unit}  tls {tls:7.0f} ({tls / plain:4.2f} x plain)  "
                f"tls-open {bare:7.0f} ({bare / plain:4.2f} x plain)"
            )


if __name__ == "__main__":
    main()

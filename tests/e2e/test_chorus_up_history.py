"""``chorus up`` keeps history across restarts on one data dir and brings back a service process that dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from google.protobuf import timestamp_pb2

from chorus.common.v1 import types_pb2 as types
from chorus.experience.v1 import experience_service_pb2 as xpb
from chorus.experience.v1 import experience_service_pb2_grpc as xpb_grpc
from chorus.identity.v1 import identity_service_pb2 as ipb
from chorus.identity.v1 import identity_service_pb2_grpc as ipb_grpc
from chorus.touchpoints.v1 import touchpoint_service_pb2 as tpb
from chorus.touchpoints.v1 import touchpoint_service_pb2_grpc as tpb_grpc
from services.common.grpc_runtime import client
from services.common.nats_server import free_port
from services.common.testing import eventually
from services.supervisor import serving

CHORUS = [sys.executable, "-m", "services.cli"]
EMAIL = types.Identifier(type=types.IDENTIFIER_TYPE_EMAIL, value="Jane.Smith@Example.com")


class Up:
    """A ``chorus up`` process on free ports."""

    def __init__(self, data_dir: Path) -> None:
        self.credentials = data_dir / "credentials"
        self.ports = {name: free_port() for name in ("nats", "identity", "touchpoints", "experience")}
        self.process = subprocess.Popen(
            [
                *CHORUS,
                "up",
                "--data-dir",
                str(data_dir),
                *(a for name, port in self.ports.items() for a in (f"--{name}-port", str(port))),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []

    def wait_up(self) -> str:
        for line in self._lines():
            if "Chorus is up" in line:
                return line
        raise AssertionError("chorus up exited before it was up:\n" + "".join(self.output))

    def _lines(self) -> Iterator[str]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            yield line

    def channel(self, name: str) -> grpc.Channel:
        return client.channel(f"127.0.0.1:{self.ports[name]}", self.credentials)

    def service_pid(self, service: str) -> int:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.process.pid and command[-2:] == [b"serve", service.encode()]:
                return int(entry.name)
        raise AssertionError(f"no {service} process under chorus up")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        if self.process.stdout is not None:
            self.output.append(self.process.stdout.read())
        return code


def _stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


def test_history_survives_a_restart_and_a_killed_service_comes_back(tmp_path: Path) -> None:
    up = Up(tmp_path)
    try:
        assert "a new, empty history" in up.wait_up()
        with up.channel("identity") as i, up.channel("touchpoints") as t, up.channel("experience") as x:
            party = (
                ipb_grpc.IdentityServiceStub(i)
                .RegisterParty(
                    ipb.RegisterPartyRequest(kind=types.PARTY_KIND_PERSON, display_name="Jane Smith"), timeout=10
                )
                .party.party_id
            )
            ipb_grpc.IdentityServiceStub(i).LinkIdentifier(
                ipb.LinkIdentifierRequest(party_id=party, identifier=EMAIL, evidence=ipb.Evidence(rule="told-us")),
                timeout=10,
            )
            tpb_grpc.TouchpointServiceStub(t).RecordTouchpoint(
                tpb.RecordTouchpointRequest(
                    touchpoint=tpb.TouchpointInput(
                        source=tpb.Source(system="test", external_id="1"),
                        kind=types.TOUCHPOINT_KIND_TOUCHPOINT,
                        channel=types.CHANNEL_EMAIL,
                        direction=types.DIRECTION_INBOUND,
                        visibility=types.VISIBILITY_PRIVATE,
                        occurred_at=_stamp(datetime.now(UTC) - timedelta(hours=1)),
                        actors=[EMAIL],
                        content=tpb.Content(text="Where is my order?"),
                    )
                ),
                timeout=10,
            )
            experience = xpb_grpc.ExperienceServiceStub(x)

            def one_interaction() -> None:
                reply = experience.GetExperience(
                    xpb.GetExperienceRequest(party=xpb.PartySelector(identifier=EMAIL)), timeout=10
                )
                assert reply.experience.interactions == 1

            eventually(one_interaction, timeout=30)
            killed = up.service_pid("experience")
            os.kill(killed, signal.SIGKILL)

            def restarted() -> None:
                assert up.service_pid("experience") != killed
                assert serving("127.0.0.1", up.ports["experience"], credentials_dir=up.credentials)

            eventually(restarted, timeout=60)
            eventually(one_interaction, timeout=30)
    finally:
        code = up.stop()
    log = "".join(up.output)
    assert code == 0, log
    assert "chorus: experience exited with code -9; restarting it" in log

    again = Up(tmp_path)
    try:
        assert "resumed the history already in it" in again.wait_up()
        with again.channel("experience") as x:
            reply = xpb_grpc.ExperienceServiceStub(x).GetExperience(
                xpb.GetExperienceRequest(party=xpb.PartySelector(identifier=EMAIL)), timeout=10
            )
            assert reply.experience.interactions == 1
            assert reply.experience.party_id == party
    finally:
        assert again.stop() == 0

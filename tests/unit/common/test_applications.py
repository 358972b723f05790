"""A service's application takes the name its deployment gives it (its stream's and its settings' prefix), or
its class's; its eventsourcing settings may come as any mapping."""

from __future__ import annotations

from types import MappingProxyType

from services.common.applications import ServiceApplication


class Ledger(ServiceApplication):
    name = "ledger"


def test_an_application_is_named_by_its_class_unless_the_deployment_names_it() -> None:
    assert Ledger().name == "ledger"
    assert Ledger(name="ledger_blue").name == "ledger_blue"
    assert Ledger(name="").name == "ledger"


def test_its_settings_may_be_any_mapping_and_are_read_under_its_name() -> None:
    app = Ledger(
        MappingProxyType({"LEDGER_BLUE_COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}),
        name="ledger_blue",
    )

    assert type(app.factory.compressor()).__name__ == "ZlibCompressor"

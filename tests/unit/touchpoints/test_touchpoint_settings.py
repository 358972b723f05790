"""The touchpoints service's own settings: documented defaults, overrides, and refusals that name the variable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.errors import ConfigurationError
from services.touchpoints.main import TouchpointsSettings, usable_cpus


def test_defaults() -> None:
    settings = TouchpointsSettings.from_env({})
    assert settings.app_name == "touchpoints"
    assert settings.policy.max_future_skew == timedelta(seconds=300)
    assert settings.policy.max_content_bytes == 16 * 1024
    assert settings.policy.brand_handles == frozenset()
    assert settings.policy.enrichment_processes == (1 if usable_cpus() > 1 else 0)


def test_overrides() -> None:
    settings = TouchpointsSettings.from_env(
        {
            "CHORUS_TOUCHPOINTS_APP_NAME": "tp_eu",
            "CHORUS_TOUCHPOINTS_MAX_FUTURE_SKEW_SECONDS": "30",
            "CHORUS_TOUCHPOINTS_MAX_CONTENT_BYTES": "2048",
            "CHORUS_TOUCHPOINTS_BRAND_HANDLES": "@Acme, acme_help,,",
            "CHORUS_TOUCHPOINTS_READ_YOUR_WRITES_SECONDS": "0.5",
            "CHORUS_TOUCHPOINTS_ENRICHMENT_PROCESSES": "3",
        }
    )
    assert settings.app_name == "tp_eu"
    assert settings.policy.max_future_skew == timedelta(seconds=30)
    assert settings.policy.max_content_bytes == 2048
    assert settings.policy.brand_handles == frozenset({"acme", "acme_help"})
    assert settings.policy.read_your_writes_timeout == 0.5
    assert settings.policy.enrichment_processes == 3


@pytest.mark.parametrize(
    "name",
    [
        "CHORUS_TOUCHPOINTS_MAX_FUTURE_SKEW_SECONDS",
        "CHORUS_TOUCHPOINTS_MAX_CONTENT_BYTES",
        "CHORUS_TOUCHPOINTS_ENRICHMENT_PROCESSES",
    ],
)
@pytest.mark.parametrize("value", ["-1", "lots", "nan"])
def test_a_value_that_does_not_parse_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        TouchpointsSettings.from_env({name: value})


@pytest.mark.parametrize("name", ["CHORUS_TOUCHPOINTS_MAX_CONTENT_BYTES", "CHORUS_TOUCHPOINTS_ENRICHMENT_PROCESSES"])
def test_a_count_with_a_fraction_is_refused_not_truncated(name: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        TouchpointsSettings.from_env({name: "1.5"})

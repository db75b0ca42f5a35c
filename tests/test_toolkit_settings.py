"""The toolkit's readers of a provider's own settings (providers/_settings.py): a choice among
aliases, ``when=`` gates built from one, the opt-in ``probe`` call, and base URLs kept in their region."""

from __future__ import annotations

import pytest

from agentgauge.errors import ProviderConfigError
from agentgauge.providers import _settings

REGIONS = {"global": "global", "intl": "global", "china": "china", "cn": "china"}
HOSTS = {"api.example.com": "global", "api.example.cn": "china"}


def region(settings: dict[str, str]) -> str:
    return _settings.choice(settings, "region", REGIONS, default="global", provider="Example", hint="Set region.")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "global"), ("", "global"), ("  ", "global"), ("CN", "china"), (" 'intl' ", "global"), ('"China"', "china")],
)
def test_a_choice_reads_aliases_in_any_case_and_quoting(value: str | None, expected: str) -> None:
    assert region({} if value is None else {"region": value}) == expected


def test_an_unknown_choice_is_a_config_error_quoting_it_shortened() -> None:
    with pytest.raises(ProviderConfigError) as info:
        region({"region": "mars-" + "x" * 40})
    assert info.value.message == "Example: unknown region 'mars-xxxxxxxxxxxxxxx'" and info.value.hint == "Set region."


def test_same_names_stand_for_themselves() -> None:
    assert _settings.same("auto", "app") == {"auto": "auto", "app": "app"}


def test_a_gate_offers_the_allowed_values_and_raises_for_an_invalid_one() -> None:
    global_only = _settings.gate(region, "global")
    assert global_only({}) and global_only({"region": "intl"}) and not global_only({"region": "cn"})
    with pytest.raises(ProviderConfigError):
        global_only({"region": "mars"})


@pytest.mark.parametrize(("value", "on"), [(None, False), ("off", False), ("", False), ("on", True), (" 'ON' ", True)])
def test_probe_is_on_only_when_said_so(value: str | None, on: bool) -> None:
    assert _settings.probe_on({} if value is None else {"probe": value}) is on


def test_the_probe_setting() -> None:
    setting = _settings.probe_setting("'on': one minimal call.")
    assert (setting.name, setting.default, setting.choices) == ("probe", "off", ("off", "on"))


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("api.example.com", "https://api.example.com"),
        (" api.example.com/v1 ", "https://api.example.com/v1"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
    ],
)
def test_a_bare_host_is_an_https_url(value: str, url: str) -> None:
    assert _settings.with_scheme(value) == url


def test_a_url_stays_in_its_region() -> None:
    guard = dict(host_regions=HOSTS, provider="Example", setting="url", hint="Match them.")
    assert _settings.guard_region("https://api.example.cn/v1", "china", **guard) == "https://api.example.cn/v1"
    assert _settings.guard_region("http://127.0.0.1:9/x", "global", **guard) == "http://127.0.0.1:9/x"  # unknown host
    with pytest.raises(ProviderConfigError) as info:
        _settings.guard_region("https://API.example.cn/v1", "global", **guard)
    assert "api.example.cn" in info.value.message and "china" in info.value.message and "global" in info.value.message
    assert info.value.hint == "Match them."

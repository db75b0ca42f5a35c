"""JetBrains AI: the IDE's quota file parsed exactly (samples and hand-made variations), the config
directories of Linux, macOS and Windows found for real on disk (every product, the newest file with a
quota wins, an IDE without one never hides another), and the fetch reading real files."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.engine import Engine
from agentgauge.errors import ParseError, ProviderConfigError
from agentgauge.models import Balance, Status, Usage, Window
from agentgauge.providers.jetbrains import PROVIDER
from agentgauge.providers.jetbrains.quota import duration_seconds
from agentgauge.providers.jetbrains.sim import quota_xml
from agentgauge.store import open_store
from tests.harness import account_config, fetch_usage, fixture_json, fixture_text

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
REFILL = datetime(2026, 1, 16, 14, 0, 54, tzinfo=UTC)
TARIFF = {"current": "250000", "maximum": "1000000", "available": "750000"}
KNOWN = {"type": "Known", "next": "2026-01-16T14:00:54.939Z", "tariff": {"amount": "1000000", "duration": "PT720H"}}


def parse_xml(text: str, **extra: Any) -> Usage:
    return PROVIDER.parse({"quota_xml": text, **extra}, NOW)


def monthly(used_pct: float, used: float, limit: float = 10.0, resets_at: datetime | None = REFILL) -> Window:
    seconds = 2592000 if resets_at is not None else None
    return Window(
        id="monthly",
        label="Monthly credits",
        used_pct=used_pct,
        resets_at=resets_at,
        window_seconds=seconds,
        used=used,
        limit=limit,
        unit="credits",
    )


def write_quota(folder: Path, quota_info: Any, next_refill: Any = KNOWN, *, mtime: float | None = None) -> Path:
    path = folder / "options" / "AIAssistantQuotaManager2.xml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(quota_xml(quota_info, next_refill), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def quota(current: str) -> dict[str, Any]:
    return {"type": "Available", "current": current, "maximum": "1000000", "tariffQuota": {}}


def discovered(home: Path, env: dict[str, str] | None = None) -> list[Any]:
    config = account_config("jetbrains", {}, env=env or {}, home=home)
    return auth.resolve(PROVIDER, config.accounts[0], config)


# -- the shared samples -------------------------------------------------------------------------------
def test_tariff_sample_parsed_exactly() -> None:
    usage = parse_xml(fixture_text("jetbrains", "AIAssistantQuotaManager2-tariff.xml"))
    assert usage == Usage(windows=(monthly(0.7478, 0.074783),))


def test_decoded_samples_match_the_xml() -> None:
    raw = {"quota_info": fixture_json("jetbrains", "quotaInfo-decoded.json")}
    raw["next_refill"] = fixture_json("jetbrains", "nextRefill-decoded.json")
    assert PROVIDER.parse(raw, NOW) == parse_xml(fixture_text("jetbrains", "AIAssistantQuotaManager2-tariff.xml"))


@pytest.mark.parametrize("name", ["quota-empty-component.xml", "quota-empty-option.xml"])
def test_empty_samples_mean_no_quota_yet(name: str) -> None:
    usage = parse_xml(fixture_text("jetbrains", name), ide="PyCharm Professional 2025.3")
    assert usage.windows == () and usage.balances == () and usage.warnings == ()
    assert usage.note is not None and "holds no quota yet" in usage.note
    assert "PyCharm Professional 2025.3" in usage.note and "AI Assistant once" in usage.note


# -- hand-made variations ---------------------------------------------------------------------------
def test_top_up_is_a_balance_and_the_allowance_a_window() -> None:
    info = {
        "type": "Available",
        "current": "361185.755",
        "maximum": "5498808.015",
        "tariffQuota": {"current": "1000000", "maximum": "1000000", "available": "0"},
        "topUpQuota": {"current": "161185.755", "maximum": "4498808.015", "available": "4337622.26"},
    }
    assert parse_xml(quota_xml(info, KNOWN)) == Usage(
        windows=(monthly(100.0, 10.0),),
        balances=(
            Balance(
                id="top_up",
                label="Top-up credits",
                unit="credits",
                remaining=43.376223,
                used=1.611858,
                limit=44.98808,
            ),
        ),
    )


def test_numbers_as_numbers_nulls_and_extra_fields() -> None:
    info = {"current": 500000, "maximum": 1000000, "tariffQuota": None, "topUpQuota": None, "new": {"x": 1}}
    refill = {"type": "Known", "next": 1768572054939, "tariff": {"duration": "P30D"}, "extra": [1]}
    assert parse_xml(quota_xml(info, refill)).windows == (monthly(50.0, 5.0),)


def test_without_next_refill_the_window_has_no_reset() -> None:
    usage = parse_xml(quota_xml({"tariffQuota": TARIFF}, None))
    assert usage.windows == (monthly(25.0, 2.5, resets_at=None),)


def test_available_without_current() -> None:
    info = {"tariffQuota": {"maximum": "1000000", "available": "900000"}}
    assert parse_xml(quota_xml(info, KNOWN)).windows == (monthly(10.0, 1.0),)


def test_other_refill_periods_name_their_window() -> None:
    refill = {"next": "2026-01-06T00:00:00Z", "tariff": {"duration": "PT168H"}}
    (window,) = parse_xml(quota_xml({"tariffQuota": TARIFF}, refill)).windows
    assert (window.id, window.label, window.window_seconds) == ("weekly", "Weekly credits", 604800)
    assert PROVIDER.window_spec(window.id) is not None


def test_a_plan_without_allowance_has_no_window() -> None:
    info = {"tariffQuota": {"current": "0", "maximum": "0"}, "topUpQuota": {"current": "0", "maximum": "200000"}}
    usage = parse_xml(quota_xml(info, KNOWN))
    assert usage.windows == ()
    assert [(b.id, b.remaining, b.limit) for b in usage.balances] == [("top_up", 2.0, 2.0)]


def test_a_drifting_allowance_is_a_warning_beside_the_top_up() -> None:
    info = {"tariffQuota": {"current": "1"}, "topUpQuota": {"current": "100000", "maximum": "200000"}}
    usage = parse_xml(quota_xml(info, KNOWN))
    assert usage.windows == () and [b.id for b in usage.balances] == ["top_up"]
    assert [w.message for w in usage.warnings] == ["JetBrains AI: quotaInfo.tariffQuota has no maximum"]


def test_values_escaped_twice_are_still_read() -> None:
    text = quota_xml({"tariffQuota": TARIFF}, KNOWN).replace("&quot;", "&amp;quot;")
    assert parse_xml(text).windows == (monthly(25.0, 2.5),)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("<application><component name='AIAssistantQuotaManager2'>", "$"),
        ("not xml at all", "$"),
        ("<!DOCTYPE a [<!ENTITY b 'c'>]><application/>", "$"),
        ("<application><component name='Other'/></application>", "component[@name='AIAssistantQuotaManager2']"),
        (
            "<application><component name='AIAssistantQuotaManager2'>"
            "<option name='quotaInfo' value='{not json'/></component></application>",
            "quotaInfo",
        ),
        (
            "<application><component name='AIAssistantQuotaManager2'>"
            "<option name='quotaInfo' value='[1, 2]'/></component></application>",
            "quotaInfo",
        ),
    ],
)
def test_unknown_shapes_name_the_field(text: str, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_xml(text)
    assert info.value.field == field


def test_a_quota_without_figures_names_the_field() -> None:
    usage = PROVIDER.parse({"quota_info": {"tariffQuota": {"maximum": "10"}}, "next_refill": None}, NOW)
    assert usage.windows == ()
    assert [w.message for w in usage.warnings] == [
        "JetBrains AI: quotaInfo.tariffQuota has neither current nor available"
    ]


def test_durations() -> None:
    assert [duration_seconds(v) for v in ("PT720H", "P30D", "P1DT12H", "PT90M", "pt30s")] == [
        2592000,
        2592000,
        129600,
        5400,
        30,
    ]
    assert [duration_seconds(v) for v in (None, "", "P", "PT", "720H", "P1Y", "PT0H", 720)] == [None] * 8


# -- discovery on disk ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("layout", "env"),
    [
        (".config/JetBrains/PyCharm2025.3", {}),
        ("xdg/JetBrains/WebStorm2025.2", {"XDG_CONFIG_HOME": "{home}/xdg"}),
        ("Library/Application Support/JetBrains/GoLand2025.3", {}),
        ("AppData/Roaming/JetBrains/Rider2025.3", {}),
        ("roaming/JetBrains/IdeaIC2026.1", {"APPDATA": "{home}/roaming"}),
        (".config/Google/AndroidStudio2025.1", {}),
        ("Library/Application Support/JetBrains/Fleet", {}),
    ],
)
async def test_found_on_each_platform(tmp_path: Path, layout: str, env: dict[str, str]) -> None:
    folder = tmp_path / layout
    write_quota(folder, {"tariffQuota": TARIFF})
    environment = {k: v.format(home=tmp_path) for k, v in env.items()}
    (creds,) = discovered(tmp_path, environment)
    assert (creds.source, creds.get("path")) == ("local_file", str(folder))
    assert creds.origin == str(folder / "options" / "AIAssistantQuotaManager2.xml")
    usage = await fetch_usage("jetbrains", {}, env=environment, home=tmp_path)
    assert usage.windows == (monthly(25.0, 2.5),)


def test_the_newest_file_wins_across_products_and_platforms(tmp_path: Path) -> None:
    write_quota(tmp_path / ".config/JetBrains/PyCharm2025.3", quota("100000"), mtime=1_000_000)
    write_quota(tmp_path / "Library/Application Support/JetBrains/CLion2025.3", quota("300000"), mtime=3_000_000)
    write_quota(tmp_path / ".config/JetBrains/GoLand2025.3", quota("200000"), mtime=2_000_000)
    (creds,) = discovered(tmp_path)
    assert creds.get("path") == str(tmp_path / "Library/Application Support/JetBrains/CLion2025.3")
    assert creds.details["ide"] == "CLion 2025.3"


def test_an_ide_without_quota_never_hides_one_with(tmp_path: Path) -> None:
    write_quota(tmp_path / ".config/JetBrains/PyCharm2025.3", quota("100000"), mtime=1_000_000)
    empty = tmp_path / ".config/JetBrains/RustRover2026.1/options/AIAssistantQuotaManager2.xml"
    empty.parent.mkdir(parents=True)
    empty.write_text(fixture_text("jetbrains", "quota-empty-option.xml"), encoding="utf-8")
    (creds,) = discovered(tmp_path)
    assert creds.get("path") == str(tmp_path / ".config/JetBrains/PyCharm2025.3")


async def test_no_quota_anywhere_is_nothing_found_not_an_error(tmp_path: Path) -> None:
    for name in ("quota-empty-option.xml", "quota-empty-component.xml"):
        path = tmp_path / ".config/JetBrains" / name / "options/AIAssistantQuotaManager2.xml"
        path.parent.mkdir(parents=True)
        path.write_text(fixture_text("jetbrains", name), encoding="utf-8")
    (tmp_path / ".config/JetBrains/Toolbox").mkdir()  # a folder without options/
    assert discovered(tmp_path) == []
    config = account_config("jetbrains", {}, home=tmp_path)
    store = open_store(str(tmp_path / "m.db"), data_dir=tmp_path)
    async with Engine(config, store) as engine:
        snapshot = await engine.refresh(["jetbrains"])
    store.close()
    (account,) = snapshot.providers
    assert account.status == Status.UNCONFIGURED
    assert account.error is not None and "AI Assistant once" in account.error.hint


def test_nothing_installed(tmp_path: Path) -> None:
    assert discovered(tmp_path) == []


# -- fetch: the path setting -----------------------------------------------------------------------
@pytest.mark.parametrize("target", ["folder", "options", "file", "vendor"])
async def test_path_setting_forms(tmp_path: Path, target: str) -> None:
    vendor = tmp_path / "jb"
    folder = vendor / "PhpStorm2025.3"
    file = write_quota(folder, {"tariffQuota": TARIFF})
    write_quota(vendor / "DataGrip2025.3", quota("900000"), mtime=1_000_000)  # older
    path = {"folder": folder, "options": folder / "options", "file": file, "vendor": vendor}[target]
    usage = await fetch_usage("jetbrains", {"path": str(path)}, home=tmp_path)
    assert usage.windows == (monthly(25.0, 2.5),)


async def test_path_setting_wins_over_discovery(tmp_path: Path) -> None:
    write_quota(tmp_path / ".config/JetBrains/PyCharm2025.3", quota("900000"))
    chosen = tmp_path / "elsewhere/IntelliJIdea2026.1"
    write_quota(chosen, {"tariffQuota": TARIFF}, mtime=1_000)
    assert (await fetch_usage("jetbrains", {"path": str(chosen)}, home=tmp_path)).windows == (monthly(25.0, 2.5),)


async def test_path_without_a_quota_file(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError, match=r"no AIAssistantQuotaManager2\.xml") as info:
        await fetch_usage("jetbrains", {"path": str(tmp_path / "missing")}, home=tmp_path)
    assert "AGENTGAUGE_JETBRAINS_PATH" in info.value.hint


async def test_path_to_an_ide_without_quota_yet(tmp_path: Path) -> None:
    folder = tmp_path / "PyCharmCE2025.1"
    path = folder / "options/AIAssistantQuotaManager2.xml"
    path.parent.mkdir(parents=True)
    path.write_text(fixture_text("jetbrains", "quota-empty-option.xml"), encoding="utf-8")
    usage = await fetch_usage("jetbrains", {"path": str(folder)}, home=tmp_path)
    assert usage.windows == () and usage.note is not None
    assert "quota file of PyCharm Community 2025.1 holds no quota yet" in usage.note


async def test_no_quota_yet_is_an_ok_account_with_a_note(tmp_path: Path) -> None:
    """Through the engine: an IDE without quota data is ok with its note, not a parse error."""
    from agentgauge.engine import Engine
    from agentgauge.models import Status
    from agentgauge.store import open_store
    from tests.harness import account_config

    folder = tmp_path / "GoLand2025.2"
    path = folder / "options/AIAssistantQuotaManager2.xml"
    path.parent.mkdir(parents=True)
    path.write_text(fixture_text("jetbrains", "quota-empty-option.xml"), encoding="utf-8")
    store = open_store(str(tmp_path / "j.db"), data_dir=tmp_path)
    async with Engine(account_config("jetbrains", {"path": str(folder)}, home=tmp_path), store) as engine:
        snapshot = (await engine.refresh()).providers[0]
    store.close()
    assert snapshot.status == Status.OK and snapshot.error is None and snapshot.windows == ()
    assert snapshot.note is not None and "holds no quota yet" in snapshot.note


async def test_a_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "options/AIAssistantQuotaManager2.xml"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe\x00<broken")
    with pytest.raises(ProviderConfigError, match="cannot read the quota file"):
        await fetch_usage("jetbrains", {"path": str(tmp_path)}, home=tmp_path)


def test_declarations() -> None:
    assert [(s.name, s.env_var("jetbrains"), s.secret) for s in PROVIDER.settings] == [
        ("path", "AGENTGAUGE_JETBRAINS_PATH", False)
    ]
    assert PROVIDER.response_format == "local"
    assert [(a.id, a.source, a.requires) for a in PROVIDER.auth] == [("ide", "local_file", ("path",))]

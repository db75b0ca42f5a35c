"""Every registered provider keeps the provider contract: declarations, its own test module, a docs
page naming every setting and variable, fixtures with sources, samples the fuzz tests can use, and a
simulator that speaks its protocol. The fault matrix (tests/test_error_matrix.py) and the import
contract (tests/test_layers.py) are derived from the same registry."""

from __future__ import annotations

import fnmatch
import inspect
from datetime import datetime
from pathlib import Path

import pytest

from agentgauge.models import Usage
from agentgauge.providers import Provider, registry
from agentgauge.sim.server import sim_module
from tests.harness import fetch_usage, sim_settings

ROOT = Path(__file__).resolve().parents[1]
PROVIDERS = registry.all_providers()
SOURCES = ("oauth", "cookie", "api_key", "cli", "local_file", "browser", "extension")
LOCAL = "local"  # response_format of a provider that reads only this machine (no HTTP)


def test_every_builtin_package_loads():
    assert [m.rsplit(".", 1)[1] for m in registry.builtin_modules()] == registry.ids()


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
def test_declarations(provider: Provider):
    assert provider.id == provider.id.lower() and provider.id.isidentifier()
    assert provider.name
    names = [s.name for s in provider.settings]
    assert len(names) == len(set(names)), "duplicate setting"
    assert provider.auth, "at least one auth source"
    for source in provider.auth:
        assert source.requires and source.hint and source.label
        assert source.source in SOURCES and source.discovered_source in SOURCES
        for name in (*source.requires, *source.optional):
            assert name in names, f"auth source {source.id} uses undeclared setting {name}"
        if source.source not in ("cli", "local_file"):  # a CLI source names a binary, not a secret
            spec = provider.setting_spec(source.requires[0])
            assert spec is not None and spec.secret, "a credential setting must be secret"
        if source.browser is not None:
            wanted = {r.setting for r in (*source.browser.cookies, *source.browser.storage)}
            assert wanted <= set(source.requires) | set(source.optional), "browser rules fill the source's settings"
    assert provider.windows, "declare the windows it can report"
    for url_name in provider.urls:
        assert url_name in names, f"URL {url_name} must be an overridable setting"
    assert provider.min_interval >= 30, "be polite upstream"
    assert 0 < provider.timeout <= 60
    for key in provider.sim_credentials:
        assert key in names
    assert provider.response_format in ("json", "html", "text", LOCAL)
    assert type(provider).fetch is not Provider.fetch and type(provider).parse is not Provider.parse
    assert inspect.iscoroutinefunction(type(provider).fetch)
    for variable in provider.environment():
        assert variable == variable.upper() and " " not in variable


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
def test_has_its_own_test_module(provider: Provider):
    assert (ROOT / "tests" / f"test_provider_{provider.id}.py").exists()


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
def test_docs_page_names_every_setting_and_variable(provider: Provider):
    page = ROOT / "docs" / "providers" / f"{provider.id}.md"
    assert page.exists(), f"missing {page}"
    text = page.read_text(encoding="utf-8")
    for setting in provider.settings:
        assert f"`{setting.name}`" in text, f"setting {setting.name} not documented"
    for variable in provider.environment():
        assert variable in text, f"{variable} not documented"


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
def test_fixtures_keep_their_source_and_feed_the_samples(provider: Provider):
    folder = ROOT / "tests" / "fixtures" / provider.id
    assert folder.is_dir() and any(folder.iterdir())
    sources = (folder / "SOURCES.md").read_text(encoding="utf-8")
    files = [f.name for f in folder.iterdir() if f.name != "SOURCES.md"]
    for name in files:
        assert name in sources, f"{name} has no source line"
    assert provider.samples, "declare how recorded payloads become parse input (Provider.samples)"
    for sample in provider.samples:
        assert fnmatch.filter(files, sample.glob), f"no fixture matches {sample.glob}"


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
async def test_sim_round_trip_returns_declared_windows(sim, provider: Provider):
    module = sim_module(provider)
    assert module is not None and hasattr(module, "routes"), "the simulator must speak this provider's protocol"
    settings = sim_settings(provider.id, sim.url)
    if hasattr(module, "demo_settings"):  # a local source (CLI, files) prepared like the demo does it
        settings.update(module.demo_settings(sim.url, Path(sim.workdir) / provider.id))
    usage = await fetch_usage(provider.id, settings)
    assert isinstance(usage, Usage) and (usage.windows or usage.balances)
    for window in usage.windows:
        assert provider.window_spec(window.id) is not None, f"window {window.id} not declared"
        assert isinstance(window.used_pct, float)
        assert window.resets_at is None or isinstance(window.resets_at, datetime)
        assert window.resets_at is None or window.resets_at.tzinfo is not None


def test_every_provider_loads_without_posix_only_modules():
    """Windows has no pty/fcntl/termios/resource: a provider must still load there."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for name in ('pty', 'fcntl', 'termios', 'resource', 'tty'):\n"
        "    sys.modules[name] = None\n"
        "from agentgauge.providers import registry\n"
        "assert len(registry.all_providers()) == len(registry.builtin_modules()), registry.ids()\n"
        "import agentgauge.cli, agentgauge.web.app\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr

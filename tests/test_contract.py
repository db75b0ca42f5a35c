"""Every registered provider keeps the provider contract (declarations, docs, fixtures, sim)."""

from __future__ import annotations

import inspect
from datetime import datetime
from pathlib import Path

import pytest

from agentgauge.models import Usage
from agentgauge.providers import BUILTIN, registry
from agentgauge.providers._base import Provider
from tests.harness import fetch_usage, sim_settings

ROOT = Path(__file__).resolve().parents[1]
PROVIDERS = registry.all_providers()


def test_every_builtin_module_loads():
    assert len(PROVIDERS) == len(BUILTIN)


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
def test_declarations(provider: Provider):
    assert provider.id == provider.id.lower() and provider.id.isidentifier()
    assert provider.name
    names = [s.name for s in provider.settings]
    assert len(names) == len(set(names)), "duplicate setting"
    assert provider.auth, "at least one auth source"
    for source in provider.auth:
        assert source.requires and source.hint and source.label
        for name in (*source.requires, *source.optional):
            assert name in names, f"auth source {source.id} uses undeclared setting {name}"
        if source.source not in ("cli", "local_file"):  # a CLI source names a binary, not a secret
            assert provider.setting_spec(source.requires[0]).secret, "a credential setting must be secret"
    assert provider.windows, "declare the windows it can report"
    for url_name in provider.urls:
        assert url_name in names, f"URL {url_name} must be an overridable setting"
    assert provider.min_interval >= 30, "be polite upstream"
    assert 0 < provider.timeout <= 60
    for key in provider.sim_credentials:
        assert key in names
    assert type(provider).fetch is not Provider.fetch and type(provider).parse is not Provider.parse
    assert inspect.iscoroutinefunction(type(provider).fetch)


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
def test_docs_page_names_every_setting(provider: Provider):
    page = ROOT / "docs" / "providers" / f"{provider.id}.md"
    assert page.exists(), f"missing {page}"
    text = page.read_text(encoding="utf-8")
    for setting in provider.settings:
        assert setting.env_var(provider.id) in text, f"{setting.env_var(provider.id)} not documented"


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
def test_fixtures_keep_their_source(provider: Provider):
    folder = ROOT / "tests" / "fixtures" / provider.id
    assert folder.is_dir() and any(folder.iterdir())
    sources = (folder / "SOURCES.md").read_text(encoding="utf-8")
    for fixture in folder.iterdir():
        if fixture.name != "SOURCES.md":
            assert fixture.name in sources, f"{fixture.name} has no source line"


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
async def test_sim_round_trip_returns_declared_windows(sim, provider: Provider):
    routes = provider.sim_routes.__func__ is not Provider.sim_routes  # type: ignore[attr-defined]
    assert routes, "the simulator must speak this provider's protocol"
    usage = await fetch_usage(provider.id, sim_settings(provider.id, sim.url))
    assert isinstance(usage, Usage) and usage.windows
    for window in usage.windows:
        assert provider.window_spec(window.id) is not None, f"window {window.id} not declared"
        assert isinstance(window.used_pct, float)
        assert window.resets_at is None or isinstance(window.resets_at, datetime)
        assert window.resets_at is None or window.resets_at.tzinfo is not None


def test_every_provider_loads_without_posix_only_modules():
    """Windows has no pty/fcntl/termios/resource: a provider must still load there."""
    import subprocess
    import sys

    code = ("import sys\n"
            "for name in ('pty', 'fcntl', 'termios', 'resource', 'tty'):\n"
            "    sys.modules[name] = None\n"
            "from agentgauge.providers import BUILTIN, registry\n"
            "assert len(registry.all_providers()) == len(BUILTIN), registry.ids()\n"
            "import agentgauge.cli, agentgauge.web.app\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr

"""The extension as shipped: the pack script's zips (both flavours, reproducible, checked before
packing), and the requests in clients/extension/lib/providers.js still being the adapters' own
(same hosts and paths as each provider's cookie source, so one parser reads both)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from agentgauge import __version__
from agentgauge.providers import claude, codex, kimi, ollama, registry, zai
from agentgauge.web.ingest import PARTS, SITES

from .harness_extension import EXTENSION_DIR, PUSHED, ROOT

PACK = ROOT / "scripts" / "pack-extension"
PROVIDERS_JS = (EXTENSION_DIR / "lib" / "providers.js").read_text(encoding="utf-8")
MANIFEST = json.loads((EXTENSION_DIR / "manifest.json").read_text(encoding="utf-8"))


def pack(out: Path, source: Path = EXTENSION_DIR) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PACK), "--out", str(out), "--source", str(source)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_pack_writes_a_chromium_and_a_firefox_zip_reproducibly(tmp_path: Path) -> None:
    done = pack(tmp_path / "a")
    assert done.returncode == 0, done.stderr
    chromium = tmp_path / "a" / f"agentgauge-extension-{__version__}-chromium.zip"
    firefox = tmp_path / "a" / f"agentgauge-extension-{__version__}-firefox.zip"
    with zipfile.ZipFile(chromium) as archive:
        names = set(archive.namelist())
        assert json.loads(archive.read("manifest.json")) == MANIFEST
    expected = {p.relative_to(EXTENSION_DIR).as_posix() for p in EXTENSION_DIR.rglob("*") if p.is_file()}
    assert names == expected
    with zipfile.ZipFile(firefox) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert set(archive.namelist()) == expected
    assert manifest["background"] == {"scripts": ["background.js"], "type": "module"}
    assert manifest["browser_specific_settings"]["gecko"]["id"] == "agentgauge@agentgauge.dev"
    assert "minimum_chrome_version" not in manifest and manifest["version"] == __version__
    assert pack(tmp_path / "b").returncode == 0
    for name in (chromium.name, firefox.name):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_pack_refuses_a_broken_extension(tmp_path: Path) -> None:
    source = tmp_path / "ext"
    shutil.copytree(EXTENSION_DIR, source)
    (source / "popup.js").unlink()
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    manifest["version"] = "9.9.9"
    (source / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (source / "lib" / "format.js").unlink()
    done = pack(tmp_path / "out", source)
    assert done.returncode == 1
    assert "popup.html loads popup.js" in done.stderr and "'9.9.9'" in done.stderr
    assert "imports ./lib/format.js" in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def js_constant(name: str) -> str:
    match = re.search(rf'^export const {name} = "([^"]*)";$', PROVIDERS_JS, re.MULTILINE)
    assert match, name
    return match.group(1)


def test_the_browser_makes_the_adapters_requests() -> None:
    assert js_constant("CLAUDE_WEB") == claude.PROVIDER.urls["web_url"]
    assert js_constant("CLAUDE_BOOTSTRAP_PATH") == claude.BOOTSTRAP_PATH
    assert js_constant("CLAUDE_ORGS_PATH") == claude.ORGS_PATH
    assert js_constant("CODEX_WEB") == codex.PROVIDER.urls["url"]
    assert js_constant("CODEX_SESSION_PATH") == codex.SESSION_PATH
    assert js_constant("CODEX_USAGE_PATH") == codex.USAGE_PATH
    assert js_constant("CODEX_DAILY_PATH") == codex.DAILY_PATH
    assert js_constant("CODEX_SPEND_PATH") == codex.SPEND_PATH
    assert js_constant("KIMI_WEB") == kimi.PROVIDER.urls["web_url"]
    assert js_constant("KIMI_USAGES_PATH") == kimi.USAGES_PATH
    assert js_constant("KIMI_SUBSCRIPTION_PATH") == kimi.SUBSCRIPTION_PATH
    assert js_constant("KIMI_STATS_PATH") == kimi.STATS_PATH
    assert js_constant("KIMI_CODING_SCOPE") == kimi.CODING_SCOPE
    assert js_constant("OLLAMA_WEB") == ollama.PROVIDER.urls["url"]
    assert js_constant("OLLAMA_SETTINGS_PATH") == ollama.SETTINGS_PATH
    assert js_constant("ZAI_QUOTA_URL") == zai.REGION_URLS["global"] + zai.QUOTA_PATH
    assert js_constant("ZAI_SUBSCRIPTIONS_URL") == zai.subscriptions_url(js_constant("ZAI_QUOTA_URL"))
    cookie_rule = next(a for a in kimi.PROVIDER.auth if a.id == "web").browser
    assert cookie_rule is not None and js_constant("KIMI_COOKIE") in cookie_rule.cookies[0].names


def test_the_manifest_reaches_exactly_those_sites_and_the_server() -> None:
    hosts = {re.sub(r"^https?://([^/]+)/\*$", r"\1", h) for h in MANIFEST["host_permissions"]}
    needed = {"claude.ai", "chatgpt.com", "www.kimi.com", "ollama.com", "api.z.ai", "chat.z.ai", "z.ai"}
    assert hosts == needed | {"127.0.0.1", "localhost"}
    # The z.ai login is read where the adapter's browser source reads it (chat.z.ai and z.ai).
    storage = next(a for a in zai.PROVIDER.auth if a.id == "browser").browser
    assert storage is not None
    origins = {origin for rule in storage.storage for origin in rule.origins}
    assert {f"{o}/*" for o in origins} == set(MANIFEST["content_scripts"][0]["matches"])
    assert MANIFEST["permissions"] == ["alarms", "cookies", "storage"]


def test_server_and_extension_agree_on_the_providers() -> None:
    assert (
        set(PARTS)
        == set(SITES)
        == set(PUSHED)
        == set(re.findall(r"^export const FETCHERS = \{ (.*) \};$", PROVIDERS_JS, re.M)[0].split(", "))
    )
    settings_js = (EXTENSION_DIR / "lib" / "settings.js").read_text(encoding="utf-8")
    for provider_id in PUSHED:
        assert f'id: "{provider_id}", name: "{registry.get(provider_id).name}"' in settings_js

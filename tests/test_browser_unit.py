"""Browser import without a browser: profile discovery, the decoding paths, site rules and errors,
on profile files built here (Firefox moz_cookies/LSNG, a Chromium Cookies DB with v10/v11/v20 rows)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import cramjam
import pytest
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from agentgauge.browser import BrowserError, discover_profiles, find_credentials, finder
from agentgauge.browser import firefox as ff
from agentgauge.errors import ConfigError
from agentgauge.providers._base import DiscoverContext

FUTURE = int(time.time()) + 86400
PAST = int(time.time()) - 86400


# -- builders ---------------------------------------------------------------------------------
def firefox_profile(root: Path, folder: str, cookies: list[tuple[str, str, str, int]], attrs: str = "") -> Path:
    """A Firefox profile folder with ``moz_cookies`` rows (host, name, value, expiry)."""
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path / "cookies.sqlite")) as conn, conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS moz_cookies (id INTEGER PRIMARY KEY, originAttributes TEXT NOT NULL "
            "DEFAULT '', name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER, isSecure INTEGER)"
        )
        conn.executemany(
            "INSERT INTO moz_cookies (originAttributes, name, value, host, path, expiry, isSecure) "
            "VALUES (?, ?, ?, ?, '/', ?, 1)",
            [(attrs, n, v, h, e) for h, n, v, e in cookies],
        )
    return path


def lsng(profile: Path, origin: str, rows: list[tuple[str, bytes, int, int]]) -> Path:
    """Firefox LSNG ``data.sqlite`` rows (key, value, compression_type, conversion_type)."""
    folder = profile / "storage/default" / origin.replace(":", "+").replace("/", "+") / "ls"
    folder.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(folder / "data.sqlite")) as conn, conn:
        conn.execute(
            "CREATE TABLE data (key TEXT PRIMARY KEY, utf16_length INTEGER, conversion_type INTEGER, "
            "compression_type INTEGER, last_access_time INTEGER, value BLOB)"
        )
        conn.executemany(
            "INSERT INTO data (key, utf16_length, conversion_type, compression_type, last_access_time, "
            "value) VALUES (?, 0, ?, ?, 0, ?)",
            [(k, conv, comp, v) for k, v, comp, conv in rows],
        )
    return folder / "data.sqlite"


def v10(value: str, host: str) -> bytes:
    """Chromium's Linux ``v10`` cookie: AES-128-CBC, key PBKDF2-SHA1("peanuts", "saltysalt", 1),
    IV of 16 spaces; since DB version 24 the plaintext starts with SHA-256(host_key)."""
    key = PBKDF2HMAC(hashes.SHA1(), 16, b"saltysalt", 1).derive(b"peanuts")
    padder = padding.PKCS7(128).padder()
    plain = padder.update(hashlib.sha256(host.encode()).digest() + value.encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(b" " * 16)).encryptor()
    return b"v10" + enc.update(plain) + enc.finalize()


def chromium_profile(user_data: Path, folder: str, rows: list[tuple[str, str, str, bytes]]) -> Path:
    """A Chromium profile with a version-24 Cookies DB; rows are (host_key, name, value, encrypted_value)."""
    path = user_data / folder
    path.mkdir(parents=True, exist_ok=True)
    expires = (FUTURE + 11644473600) * 1_000_000
    with contextlib.closing(sqlite3.connect(path / "Cookies")) as conn, conn:
        conn.execute("CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR)")
        conn.executemany("INSERT INTO meta VALUES (?, ?)", [("version", "24"), ("last_compatible_version", "24")])
        conn.execute(
            "CREATE TABLE cookies(creation_utc INTEGER NOT NULL,host_key TEXT NOT NULL,top_frame_site_key "
            "TEXT NOT NULL,name TEXT NOT NULL,value TEXT NOT NULL,encrypted_value BLOB NOT NULL,path TEXT "
            "NOT NULL,expires_utc INTEGER NOT NULL,is_secure INTEGER NOT NULL,is_httponly INTEGER NOT NULL,"
            "last_access_utc INTEGER NOT NULL,has_expires INTEGER NOT NULL,is_persistent INTEGER NOT NULL,"
            "priority INTEGER NOT NULL,samesite INTEGER NOT NULL,source_scheme INTEGER NOT NULL,source_port "
            "INTEGER NOT NULL,last_update_utc INTEGER NOT NULL,source_type INTEGER NOT NULL,"
            "has_cross_site_ancestor INTEGER NOT NULL)"
        )
        conn.executemany(
            "INSERT INTO cookies VALUES (0, ?, '', ?, ?, ?, '/', ?, 1, 1, 0, 1, 1, 1, 0, 2, 443, 0, 0, 0)",
            [(h, n, v, e, expires) for h, n, v, e in rows],
        )
    return path


def jwt(exp: int) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part({'exp': exp, 'id': 'u1'})}.c2ln"


# -- decoding ----------------------------------------------------------------------------------
def test_lsng_value_decoding():
    text = "zai-token-é✓" * 40
    assert ff.decode_value(bytes(cramjam.snappy.compress_raw(text.encode())), 1, 1) == text
    assert ff.decode_value(text.encode("utf-16-le"), 0, 0) == text
    assert ff.decode_value(bytes(cramjam.snappy.compress_raw(text.encode("utf-16-le"))), 1, 0) == text
    assert ff.decode_value("already text", 0, 1) == "already text"
    with pytest.raises(cramjam.DecompressionError):
        ff.decode_value(b"\xff\xff\xff\xff", 1, 1)


def test_zai_token_from_firefox_local_storage(tmp_path: Path):
    profile = firefox_profile(tmp_path / ".mozilla/firefox", "p.default", [])
    token = jwt(FUTURE)
    # chat.z.ai: JSON-quoted, UTF-16, snappy-compressed; the open-platform key is a fallback origin.
    lsng(
        profile,
        "https://chat.z.ai",
        [
            ("token", bytes(cramjam.snappy.compress_raw(json.dumps(token).encode("utf-16-le"))), 1, 0),
            ("other", b"x", 0, 1),
        ],
    )
    found = find_credentials("zai", home=tmp_path, env={})
    assert found.values == {"api_key": token}
    assert found.origin == "Firefox profile p.default"
    assert found.expires_at == datetime.fromtimestamp(FUTURE, UTC)


def test_zai_open_platform_key_and_corrupt_value(tmp_path: Path):
    profile = firefox_profile(tmp_path / ".mozilla/firefox", "p.default", [])
    db = lsng(profile, "https://z.ai", [("z-ai-website-token", b"plain-token", 0, 1)])
    assert find_credentials("zai", home=tmp_path, env={}).values == {"api_key": "plain-token"}
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE data SET value = ?, compression_type = 1", (b"\xff\xfe\xfd\xfc",))
    with pytest.raises(BrowserError, match="cannot be decoded") as info:
        find_credentials("zai", home=tmp_path, env={})
    assert "z-ai-website-token" in info.value.message and "https://z.ai" in info.value.message


# -- cookie rules ------------------------------------------------------------------------------
def test_chunked_session_cookie_is_joined_in_order(tmp_path: Path):
    root = tmp_path / ".mozilla/firefox"
    name = "__Secure-next-auth.session-token"
    firefox_profile(
        root,
        "a.default",
        [
            (".chatgpt.com", f"{name}.1", "BBB", FUTURE * 1000),
            (".chatgpt.com", f"{name}.0", "AAA", FUTURE * 1000),
            (".chatgpt.com", f"{name}.2", "CCC", FUTURE),
            (".chatgpt.com.evil.example", name, "nope", FUTURE),
        ],
    )
    found = find_credentials("codex", home=tmp_path, env={})
    assert found.values == {"session_token": "AAABBBCCC"}
    # Firefox stores milliseconds now and seconds in older profiles: both are understood.
    assert found.expires_at == datetime.fromtimestamp(FUTURE, UTC)


def test_unchunked_cookie_wins_and_expired_or_foreign_cookies_are_ignored(tmp_path: Path):
    root = tmp_path / ".mozilla/firefox"
    name = "__Secure-next-auth.session-token"
    firefox_profile(
        root,
        "a.default",
        [
            (".chatgpt.com", f"{name}.0", "chunk", FUTURE),
            ("chatgpt.com", name, "whole", FUTURE),
            ("evilclaude.ai", "sessionKey", "phish", FUTURE),
            ("claude.ai", "sessionKey", "old", PAST),
        ],
    )
    assert find_credentials("codex", home=tmp_path, env={}).values == {"session_token": "whole"}
    with pytest.raises(BrowserError, match=r"No claude\.ai login found in Firefox profile a\.default") as info:
        find_credentials("claude", home=tmp_path, env={})
    assert info.value.hint.startswith("Log in to claude.ai in Firefox, then press Refresh.")
    assert "agentgauge auth set claude" in info.value.hint


def test_ollama_header_and_kimi_parent_domain(tmp_path: Path):
    root = tmp_path / ".mozilla/firefox"
    firefox_profile(
        root,
        "a.default",
        [
            ("ollama.com", "cf_clearance", "cf", FUTURE),
            ("ollama.com", "wos-session", "sess", FUTURE),
            (".kimi.com", "kimi-auth", "kimi-jwt", FUTURE),
        ],
    )
    firefox_profile(root, "a.default", [("ollama.com", "wos-session", "container", FUTURE)], attrs="^userContextId=2")
    assert find_credentials("ollama", home=tmp_path, env={}).values == {"cookie": "wos-session=sess; cf_clearance=cf"}
    assert find_credentials("kimi", home=tmp_path, env={}).values == {"auth_token": "kimi-jwt"}


# -- profile discovery -------------------------------------------------------------------------
def test_profiles_ini_order_and_explicit_profile(tmp_path: Path):
    root = tmp_path / ".mozilla/firefox"
    firefox_profile(root, "old.default", [("claude.ai", "sessionKey", "from-old", FUTURE)])
    firefox_profile(root, "new.default-release", [("claude.ai", "sessionKey", "from-new", FUTURE)])
    (root / "profiles.ini").write_text(
        "[Profile1]\nName=default\nIsRelative=1\nPath=old.default\nDefault=1\n\n"
        "[Profile0]\nName=default-release\nIsRelative=1\nPath=new.default-release\n\n"
        "[Install4F96D1932A9F858E]\nDefault=new.default-release\nLocked=1\n",
        encoding="utf-8",
    )
    # The profile the installed Firefox opens wins over the legacy Default=1.
    assert find_credentials("claude", home=tmp_path, env={}).values == {"session_key": "from-new"}
    found = find_credentials("claude", home=tmp_path, env={"AGENTGAUGE_BROWSER_PROFILE": "default"})
    assert (found.values, found.origin) == ({"session_key": "from-old"}, "Firefox profile default")
    with pytest.raises(BrowserError, match="No browser profile named 'work'") as info:
        find_credentials("claude", home=tmp_path, env={}, profile="work")
    assert "Firefox profile default-release" in info.value.message and info.value.blocking


@pytest.mark.parametrize(
    "layout", ["snap/firefox/common/.mozilla/firefox", ".var/app/org.mozilla.firefox/.mozilla/firefox"]
)
def test_snap_and_flatpak_firefox(tmp_path: Path, layout: str):
    firefox_profile(tmp_path / layout, "z.default", [("claude.ai", "sessionKey", "v", FUTURE)])
    assert find_credentials("claude", home=tmp_path, env={}).origin == "Firefox profile z.default"


def test_jlesage_container_layouts(tmp_path: Path):
    # A dashboard container mounting the jlesage/firefox /config volume at /firefox.
    mounted = tmp_path / "firefox-volume"
    firefox_profile(mounted, "profile", [("claude.ai", "sessionKey", "jl", FUTURE)])
    env = {"AGENTGAUGE_FIREFOX_ROOT": str(mounted)}
    found = find_credentials("claude", home=tmp_path / "empty-home", env=env)
    assert (found.values, found.origin) == ({"session_key": "jl"}, f"Firefox profile {mounted / 'profile'}")
    # Inside the container itself HOME is /config and the profile is /config/profile.
    assert find_credentials("claude", home=mounted, env={}).values == {"session_key": "jl"}


def test_macos_and_windows_locations(tmp_path: Path):
    mac_ff = tmp_path / "Library/Application Support/Firefox/Profiles"
    firefox_profile(mac_ff, "m.default-release", [])
    chromium_profile(tmp_path / "Library/Application Support/Google/Chrome", "Default", [])
    chromium_profile(tmp_path / "Library/Application Support/Arc/User Data", "Profile 1", [])
    profiles, problems = discover_profiles(tmp_path, {}, platform="darwin")
    assert not problems
    assert [p.label for p in profiles] == [
        "Firefox profile m.default-release",
        "Chrome profile Default",
        "Arc profile Profile 1",
    ]
    appdata, local = tmp_path / "Roaming", tmp_path / "Local"
    firefox_profile(appdata / "Mozilla/Firefox/Profiles", "w.default-release", [])
    edge = chromium_profile(local / "Microsoft/Edge/User Data", "Default", [])
    (edge / "Network").mkdir()
    (edge / "Cookies").rename(edge / "Network/Cookies")
    env = {"APPDATA": str(appdata), "LOCALAPPDATA": str(local)}
    profiles, _ = discover_profiles(tmp_path, env, platform="win32")
    assert [p.label for p in profiles] == ["Firefox profile w.default-release", "Edge profile Default"]
    assert profiles[1].cookie_db() == edge / "Network/Cookies"
    assert profiles[1].key_file() == local / "Microsoft/Edge/User Data/Local State"


def test_chromium_profile_order_and_names(tmp_path: Path):
    user_data = tmp_path / ".config/BraveSoftware/Brave-Browser"
    for folder in ("Default", "Profile 2", "Profile 10", "System Profile"):
        chromium_profile(user_data, folder, [])
    (user_data / "Local State").write_text(
        json.dumps({"profile": {"last_used": "Profile 10", "info_cache": {"Profile 2": {"name": "Work"}}}}),
        encoding="utf-8",
    )
    profiles, _ = discover_profiles(tmp_path, {}, browser="brave")
    assert [p.name for p in profiles] == ["Profile 10", "Default", "Profile 2"]
    chosen, _ = discover_profiles(tmp_path, {}, browser="brave", profile="work")
    assert [p.name for p in chosen] == ["Profile 2"]


def test_unknown_or_absent_browser(tmp_path: Path):
    with pytest.raises(BrowserError, match="Unknown browser 'safari'") as info:
        find_credentials("claude", home=tmp_path, env={"AGENTGAUGE_BROWSER": "safari"})
    assert "Safari is not supported" in info.value.hint
    with pytest.raises(BrowserError, match="Chrome: no profile found") as info:
        find_credentials("claude", home=tmp_path, env={}, browser="chrome")
    assert info.value.blocking
    with pytest.raises(BrowserError, match="no browser profile found below") as info:
        find_credentials("claude", home=tmp_path, env={})
    assert not info.value.blocking
    with pytest.raises(BrowserError, match="does not know"):
        find_credentials("nosuchprovider", home=tmp_path, env={})


# -- Chromium without a browser ----------------------------------------------------------------
def test_chromium_v10_cookie_decrypts_with_rookiepy(tmp_path: Path):
    user_data = tmp_path / ".config/chromium"
    chromium_profile(
        user_data,
        "Default",
        [
            (".claude.ai", "sessionKey", "", v10("sk-ant-sid01-x", ".claude.ai")),
            ("ollama.com", "wos-session", "plain-old-value", b""),
        ],
    )
    found = find_credentials("claude", home=tmp_path, env={})
    assert (found.values, found.origin) == ({"session_key": "sk-ant-sid01-x"}, "Chromium profile Default")
    assert found.expires_at == datetime.fromtimestamp(FUTURE, UTC)
    assert find_credentials("ollama", home=tmp_path, env={}).values == {"cookie": "wos-session=plain-old-value"}


def test_chromium_v20_and_undecryptable_v11(tmp_path: Path):
    user_data = tmp_path / ".config/google-chrome"
    profile = chromium_profile(
        user_data,
        "Default",
        [
            ("claude.ai", "sessionKey", "", b"v20" + os.urandom(48)),
            ("chatgpt.com", "__Secure-next-auth.session-token", "", b"v11" + os.urandom(48)),
        ],
    )
    before = (profile / "Cookies").read_bytes()
    with pytest.raises(BrowserError, match=r"app-bound encryption \(v20") as info:
        find_credentials("claude", home=tmp_path, env={})
    assert info.value.blocking and "Chrome profile Default" in info.value.message
    with pytest.raises(BrowserError, match=r"cannot decrypt the chatgpt\.com cookies") as info:
        find_credentials("codex", home=tmp_path, env={})
    assert "keyring" in info.value.message and "agentgauge auth set codex" in info.value.hint
    assert (profile / "Cookies").read_bytes() == before
    assert sorted(p.name for p in profile.iterdir()) == ["Cookies"], "no journal or copy left in the profile"


# -- the auth-source adapter -------------------------------------------------------------------
def browser_discover(provider_id: str, *, when=None):  # type: ignore[no-untyped-def]
    """The provider's browser auth source as discovery runs it (``when`` gates it on the settings)."""
    from dataclasses import replace

    from agentgauge.credentials import discovery
    from agentgauge.providers import registry

    provider = registry.get(provider_id)
    source = next(a for a in provider.auth if a.browser)
    source = replace(source, discover=None, when=when)

    def discover(ctx: DiscoverContext):  # type: ignore[no-untyped-def]
        found = discovery.discover(provider, source, ctx)
        return found[0] if found else None

    return discover


def test_browser_discover_found_absent_off_and_blocking(tmp_path: Path):
    discover = browser_discover("claude")
    ctx = DiscoverContext(env={}, home=tmp_path, settings={})
    assert discover(ctx) is None  # nothing installed: other sources keep working
    firefox_profile(tmp_path / ".mozilla/firefox", "a.default", [("claude.ai", "sessionKey", "sk", FUTURE)])
    found = discover(ctx)
    assert found is not None and found.values["session_key"].reveal() == "sk"
    assert repr(found.values["session_key"]) == "Secret('***')"
    assert found.origin == "Firefox profile a.default"
    assert found.details == {
        "expires_at": str(int(FUTURE)),
        "browser": "Firefox profile a.default",
    }
    assert discover(DiscoverContext(env={"AGENTGAUGE_BROWSER": "off"}, home=tmp_path, settings={})) is None
    with pytest.raises(ConfigError, match="Unknown browser"):
        discover(DiscoverContext(env={"AGENTGAUGE_BROWSER": "netscape"}, home=tmp_path, settings={}))
    gated = browser_discover("claude", when=lambda settings: settings.get("region") == "global")
    assert gated(DiscoverContext(env={}, home=tmp_path, settings={"region": "china"})) is None


def test_corrupt_database_blocks_only_when_chosen(tmp_path: Path):
    profile = firefox_profile(tmp_path / ".mozilla/firefox", "a.default", [])
    (profile / "cookies.sqlite").write_bytes(b"garbage" * 100)
    ctx = DiscoverContext(env={}, home=tmp_path, settings={})
    assert browser_discover("claude")(ctx) is None  # automatic: does not hide other auth sources
    chosen = DiscoverContext(env={"AGENTGAUGE_BROWSER": "firefox"}, home=tmp_path, settings={})
    with pytest.raises(ConfigError, match="not a readable SQLite database"):
        browser_discover("claude")(chosen)


def test_unchanged_files_are_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    profile = firefox_profile(tmp_path / ".mozilla/firefox", "a.default", [("claude.ai", "sessionKey", "v1", FUTURE)])
    calls: list[str] = []
    real = ff.read_cookies

    def counting(*args: object, **kwargs: object) -> object:
        calls.append("read")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ff, "read_cookies", counting)
    monkeypatch.setattr(finder, "_CACHE", {})
    assert find_credentials("claude", home=tmp_path, env={}).values == {"session_key": "v1"}
    assert find_credentials("claude", home=tmp_path, env={}).values == {"session_key": "v1"}
    assert len(calls) == 1
    with contextlib.closing(sqlite3.connect(profile / "cookies.sqlite")) as conn, conn:
        conn.execute("UPDATE moz_cookies SET value = 'v2'")
    os.utime(profile / "cookies.sqlite", ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    assert find_credentials("claude", home=tmp_path, env={}).values == {"session_key": "v2"}
    assert len(calls) == 2

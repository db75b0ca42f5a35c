"""Real browsers (Debian firefox-esr and chromium, installed by .ci/run) log in to the real
provider host names, which are mapped to a local server, and agentgauge imports the
cookies/localStorage from the profile on disk, then runs a full ``status`` against the simulator.

Firefox goes through the local server as an HTTP proxy (plain http: no certificate to trust);
Chromium maps the host names with --host-resolver-rules to a local HTTPS server with a
self-signed certificate (needed for the ``__Secure-`` cookie of chatgpt.com).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agentgauge.browser import BrowserError, find_credentials
from agentgauge.browser import firefox as ff
from agentgauge.browser._copy import copy_database
from agentgauge.browser.profiles import Profile
from agentgauge.errors import ConfigError
from agentgauge.providers import BrowserLogin, StorageRule
from agentgauge.providers._base import DiscoverContext
from agentgauge.providers.registry import get as get_provider
from agentgauge.sim.server import SimServer

FIREFOX_BIN = shutil.which("firefox-esr") or shutil.which("firefox")
CHROMIUM_BIN = shutil.which("chromium") or shutil.which("chromium-browser")

HOSTS = ("claude.ai", "chatgpt.com", "www.kimi.com", "ollama.com", "chat.z.ai")
CLAUDE_KEY = get_provider("claude").sim_credentials["session_key"]
CODEX_TOKEN = get_provider("codex").sim_credentials["session_token"]
KIMI_TOKEN = get_provider("kimi").sim_credentials["auth_token"]
OLLAMA_SESSION = get_provider("ollama").sim_credentials["cookie"].split("=", 1)[1]
ZAI_KEY = get_provider("zai").sim_credentials["api_key"]
BIG_VALUE = json.dumps({"filler": "x" * 5000, "note": "compressed by Firefox"})  # forces snappy in LSNG
AGE = "Max-Age=86400; Path=/"  # persistent: session cookies may never reach the disk


# -- the local "internet" ------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    """Each host sets its login, then redirects to the next host; chat.z.ai ends the chain."""

    server: Any

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _host(self) -> str:
        return (self.headers.get("Host") or "").split(":")[0].lower()

    def do_GET(self) -> None:
        host, tls = self._host(), self.server.tls
        scheme = "https" if tls else "http"
        if self.path.endswith("/ack") or self.path.startswith(f"{scheme}://{host}/ack"):
            self.server.acks.add(host)
            self._send(204, [], b"")
            return
        chain = [h for h in HOSTS if tls or h != "chatgpt.com"]  # __Secure- cookies need https
        cookies: list[str] = []
        if host == "claude.ai":
            cookies = [f"sessionKey={CLAUDE_KEY}; {AGE}; HttpOnly; SameSite=Lax"]
        elif host == "chatgpt.com":  # NextAuth splits a long session token into numbered chunks
            half = len(CODEX_TOKEN) // 2
            cookies = [
                f"__Secure-next-auth.session-token.0={CODEX_TOKEN[:half]}; {AGE}; Secure; HttpOnly",
                f"__Secure-next-auth.session-token.1={CODEX_TOKEN[half:]}; {AGE}; Secure; HttpOnly",
            ]
        elif host == "www.kimi.com":
            cookies = [f"kimi-auth={KIMI_TOKEN}; Domain=kimi.com; {AGE}"]
        elif host == "ollama.com":
            cookies = [f"wos-session={OLLAMA_SESSION}; {AGE}; HttpOnly", f"theme=dark; {AGE}"]
        if host in chain and host != chain[-1]:
            nxt = chain[chain.index(host) + 1]
            self._send(302, [("Location", f"{scheme}://{nxt}/"), *(("Set-Cookie", c) for c in cookies)], b"")
            return
        page = (
            f"<!doctype html><script>localStorage.setItem('token', {json.dumps(ZAI_KEY)});"
            f"localStorage.setItem('big', {json.dumps(BIG_VALUE)});"
            "fetch('/ack').then(() => document.title = 'done');</script>"
        ).encode()
        self._send(200, [("Content-Type", "text/html")], page)

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _server(tls: ssl.SSLContext | None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.tls = tls is not None  # type: ignore[attr-defined]
    server.acks = set()  # type: ignore[attr-defined]
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _tls_context(folder: Path) -> ssl.SSLContext:
    """A self-signed certificate for the provider host names, made here with cryptography."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agentgauge test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in (*HOSTS, "kimi.com")]), False)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return ctx


def _wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = predicate()
        except BrowserError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _status(home: Path, sim: SimServer, *providers: str, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """A full ``agentgauge status --json`` run with HOME at the browser's home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGAUGE_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_STATE_HOME=str(home / ".local/state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        AGENTGAUGE_NO_PLUGINS="1",
    )
    for provider_id in providers:
        for url_name in get_provider(provider_id).urls:
            env[f"AGENTGAUGE_{provider_id.upper()}_{url_name.upper()}"] = f"{sim.url}/{provider_id}/{url_name}"
    if "zai" in providers:
        env["AGENTGAUGE_ZAI_URL"] = f"{sim.url}/zai/url"
    env.update(extra_env or {})
    args = [sys.executable, "-m", "agentgauge", "status", "--json"]
    for provider_id in providers:
        args += ["--provider", provider_id]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, cwd=home)
    assert result.returncode == 0, result.stderr
    return {p["provider"]: p for p in json.loads(result.stdout)["providers"]}


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    # World-traversable (not pytest's 0700 tmp root) so the unreadable-profile check can run as nobody.
    folder = Path(tempfile.mkdtemp(prefix="agentgauge-browsers-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# -- Chromium -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chromium_home(workdir: Path) -> Iterator[Path]:
    """A home whose ~/.config/chromium was filled by a real Chromium, then stopped with SIGTERM."""
    home = workdir / "chromium-home"
    user_data = home / ".config" / "chromium"
    user_data.mkdir(parents=True)
    server = _server(_tls_context(workdir))
    port = server.server_address[1]
    rules = ", ".join(f"MAP {h} 127.0.0.1:{port}" for h in (*HOSTS, "kimi.com"))
    # DevTools over a pipe (fds 3/4): ``Browser.close`` is an orderly quit, which writes the cookie
    # database. A SIGTERM here often exits before the pending cookie commit (hot journal, no rows).
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()

    def devtools_fds() -> None:
        high_in = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        high_out = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        os.dup2(high_in, 3)
        os.dup2(high_out, 4)

    proc = subprocess.Popen(
        [
            CHROMIUM_BIN or "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--remote-debugging-pipe",
            "--ignore-certificate-errors",
            f"--host-resolver-rules={rules}",
            f"--user-data-dir={user_data}",
            "https://claude.ai/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=devtools_fds,
        pass_fds=(3, 4, to_browser_r, from_browser_w),
    )
    os.close(to_browser_r)
    os.close(from_browser_w)
    try:
        _wait(lambda: "chat.z.ai" in server.acks, 30, "Chromium to run the page")  # type: ignore[attr-defined]
        # localStorage is in the leveldb .log within seconds, readable while Chromium runs.
        live = _wait(lambda: find_credentials("zai", home=home, env={}), 15, "Chromium localStorage")
        assert live.values == {"api_key": ZAI_KEY} and live.origin == "Chromium profile Default"
        # While it runs the cookies are not on disk yet: Chromium commits them at exit or every ~30 s.
        os.write(to_browser_w, json.dumps({"id": 1, "method": "Browser.close"}).encode() + b"\0")
        proc.wait(timeout=20)
        yield home
    finally:
        _stop(proc)
        server.shutdown()
        os.close(to_browser_w)
        os.close(from_browser_r)


def test_chromium_cookies_decrypt_from_disk(chromium_home: Path):
    db = chromium_home / ".config/chromium/Default/Cookies"
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        prefixes = {bytes(r[0])[:3] for r in conn.execute("SELECT encrypted_value FROM cookies")}
    assert prefixes == {b"v10"}, "Chromium without a keyring writes v10 (peanuts) cookies"
    expected = {
        "claude": {"session_key": CLAUDE_KEY},
        "codex": {"session_token": CODEX_TOKEN},
        "kimi": {"auth_token": KIMI_TOKEN},
        "ollama": {"cookie": f"wos-session={OLLAMA_SESSION}; theme=dark"},
    }
    for provider_id, values in expected.items():
        found = find_credentials(provider_id, home=chromium_home, env={})
        assert found.values == values, provider_id
        assert found.origin == "Chromium profile Default"
        assert found.expires_at is not None and found.expires_at > dt.datetime.now(dt.UTC)


def test_chromium_status_runs_with_browser_credentials(chromium_home: Path, simulator: SimServer):
    before = _hashes(chromium_home / ".config/chromium")
    rows = _status(chromium_home, simulator, "claude", "codex", "kimi", "ollama", "zai")
    for provider_id in ("claude", "codex", "kimi", "ollama", "zai"):
        assert rows[provider_id]["status"] == "ok", (provider_id, rows[provider_id].get("error"))
    assert {p: rows[p]["source"] for p in rows} == dict.fromkeys(
        ("claude", "codex", "kimi", "ollama", "zai"), "browser"
    )
    assert rows["claude"]["source_label"] == "browser cookie (Chromium)"
    assert rows["zai"]["source_label"] == "browser login (Chromium)"
    assert _hashes(chromium_home / ".config/chromium") == before, "the browser's files are never written"


def _home_copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns("Singleton*"))
    return dest


def test_chromium_v20_cookie_gives_a_clear_error(chromium_home: Path, workdir: Path):
    home = _home_copy(chromium_home, workdir / "v20-home")
    db = home / ".config/chromium/Default/Cookies"
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE cookies SET encrypted_value = ? WHERE name = 'sessionKey'", (b"v20" + os.urandom(60),))
    before = _hashes(home)
    with pytest.raises(BrowserError) as info:
        find_credentials("claude", home=home, env={})
    message = info.value.message + " " + info.value.hint
    assert "v20" in info.value.message and "Chromium profile Default" in info.value.message
    assert "agentgauge auth set claude" in info.value.hint and "Firefox" in info.value.hint
    assert CLAUDE_KEY not in message
    # As an auth source it is a real problem (the login is there), not "nothing found".
    from agentgauge.credentials import discovery

    claude = get_provider("claude")
    source = next(a for a in claude.auth if a.id == "web")
    with pytest.raises(ConfigError, match="v20"):
        discovery.discover(claude, source, DiscoverContext(env={}, home=home, settings={}))
    # Other providers in the same profile are unaffected.
    assert find_credentials("kimi", home=home, env={}).values == {"auth_token": KIMI_TOKEN}
    assert _hashes(home) == before


def test_chromium_locked_corrupt_and_missing_database(chromium_home: Path, workdir: Path):
    home = _home_copy(chromium_home, workdir / "bad-home")
    db = home / ".config/chromium/Default/Cookies"
    # Locked: another process holds an exclusive lock; the copy-first reader still reads it.
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        before = _hashes(home)
        assert find_credentials("claude", home=home, env={}).values == {"session_key": CLAUDE_KEY}
        assert _hashes(home) == before
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Corrupt: garbage bytes.
    db.write_bytes(os.urandom(4096))
    before = _hashes(home)
    with pytest.raises(BrowserError) as info:
        find_credentials("claude", home=home, env={})
    assert "not a readable SQLite database" in info.value.message and str(db) in info.value.message
    assert _hashes(home) == before
    # Missing: the profile has no cookie database.
    db.unlink()
    with pytest.raises(BrowserError) as info:
        find_credentials("claude", home=home, env={}, browser="chromium")
    assert "Cookies not found" in info.value.message and "Chromium profile Default" in info.value.message
    assert not db.exists(), "nothing is created in the browser's profile"


def test_unreadable_profile_folder(chromium_home: Path, workdir: Path):
    home = _home_copy(chromium_home, workdir / "locked-home")
    for path in [home, *home.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    user_data = home / ".config/chromium"
    user_data.chmod(0o000)
    before = (user_data.stat().st_mode, user_data.stat().st_uid)
    code = (
        "import sys; from pathlib import Path; from agentgauge.browser import find_credentials, BrowserError\n"
        "try:\n    find_credentials('claude', home=Path(sys.argv[1]), env={}, browser='chromium')\n"
        "except BrowserError as e:\n    print(e.message); print(e.hint)\nelse:\n    print('FOUND')\n"
    )
    prefix: list[str] = []
    if os.geteuid() == 0:  # root reads through chmod 000: drop the override capabilities for the check
        prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"]
    result = subprocess.run(
        [*prefix, sys.executable, "-c", code, str(home)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr
    assert "cannot list" in result.stdout and str(user_data) in result.stdout, result.stdout
    assert "permissions" in result.stdout
    assert (user_data.stat().st_mode, user_data.stat().st_uid) == before
    user_data.chmod(0o755)


# -- Firefox --------------------------------------------------------------------------------
_FIREFOX_PREFS = {
    # Everything goes to the local server as an HTTP proxy; no HTTPS upgrades of the real names.
    "network.proxy.type": 1,
    "network.proxy.http": "127.0.0.1",
    "network.proxy.no_proxies_on": "",
    "network.proxy.allow_hijacking_localhost": True,
    "network.stricttransportsecurity.preloadlist": False,
    "dom.security.https_first": False,
    "dom.security.https_first_schemeless": False,
    "dom.security.https_only_mode": False,
    "browser.fixup.fallback-to-https": False,
    # Network-off prefs from the research recipe: no update, telemetry or remote settings traffic.
    "app.update.enabled": False,
    "app.update.auto": False,
    "app.normandy.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "extensions.update.enabled": False,
    "browser.newtabpage.enabled": False,
    "browser.region.update.enabled": False,
    "browser.search.update": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "network.trr.mode": 5,
    "browser.shell.checkDefaultBrowser": False,
    "browser.aboutwelcome.enabled": False,
}


def _user_js(port: int) -> str:
    prefs = {**_FIREFOX_PREFS, "network.proxy.http_port": port}
    return "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())


def test_firefox_running_and_after_exit(workdir: Path, simulator: SimServer, monkeypatch: pytest.MonkeyPatch):
    home = workdir / "firefox-home"
    root = home / ".mozilla" / "firefox"
    profile_dir = root / "x1y2z3.default-release"
    profile_dir.mkdir(parents=True)
    (root / "profiles.ini").write_text(
        "[Install4F96D1932A9F858E]\nDefault=x1y2z3.default-release\nLocked=1\n\n"
        "[Profile0]\nName=default-release\nIsRelative=1\nPath=x1y2z3.default-release\nDefault=1\n\n"
        "[General]\nStartWithLastProfile=1\nVersion=2\n",
        encoding="utf-8",
    )
    server = _server(None)
    (profile_dir / "user.js").write_text(_user_js(server.server_address[1]), encoding="utf-8")
    proc = subprocess.Popen(
        [FIREFOX_BIN or "firefox-esr", "--headless", "--no-remote", "--profile", str(profile_dir), "http://claude.ai/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(home), "MOZ_CRASHREPORTER_DISABLE": "1"},
    )
    try:
        _wait(lambda: "chat.z.ai" in server.acks, 40, "Firefox to run the page")  # type: ignore[attr-defined]
        # While Firefox runs: cookies.sqlite is locked and the fresh rows are only in the WAL.
        running = _wait(lambda: find_credentials("claude", home=home, env={}), 15, "Firefox cookies")
        assert running.values == {"session_key": CLAUDE_KEY}
        assert running.origin == "Firefox profile default-release"
        wal = profile_dir / "cookies.sqlite-wal"
        assert wal.exists() and wal.stat().st_size > 0
        direct = sqlite3.connect(f"file:{profile_dir / 'cookies.sqlite'}?mode=ro", uri=True)
        with pytest.raises(sqlite3.OperationalError, match="locked"), contextlib.closing(direct):
            direct.execute("SELECT count(*) FROM moz_cookies").fetchone()  # Firefox holds it exclusively
        assert find_credentials("kimi", home=home, env={}).values == {"auth_token": KIMI_TOKEN}
        assert find_credentials("ollama", home=home, env={}).values == {
            "cookie": f"wos-session={OLLAMA_SESSION}; theme=dark"
        }
        # LSNG reaches disk a few seconds after setItem. Served over http here, so the origin is
        # http://chat.z.ai (the real site is https; the reader is the same).
        http_zai = BrowserLogin("chat.z.ai", storage=(StorageRule("api_key", ("http://chat.z.ai",), ("token",)),))
        zai = _wait(lambda: find_credentials("zai", http_zai, home=home, env={}), 20, "Firefox localStorage")
        assert zai.values == {"api_key": ZAI_KEY}
        profile = Profile("firefox", "default-release", profile_dir)
        assert ff.read_local_storage(profile, "http://chat.z.ai", ("big",)) == {"big": BIG_VALUE}
        ls_db = profile_dir / "storage/default/http+++chat.z.ai/ls/data.sqlite"
        copy = copy_database(ls_db, workdir / "ls-copy", what="test")  # the original is locked while Firefox runs
        with contextlib.closing(sqlite3.connect(copy)) as conn:
            compression = conn.execute("SELECT compression_type FROM data WHERE key = 'big'").fetchone()
        assert compression == (1,), "the long value is stored snappy-compressed"
        monkeypatch.undo()

        _stop(proc)  # a clean exit leaves the WAL behind, never checkpointed
        assert wal.exists() and wal.stat().st_size > 0
        before = _hashes(root)
        assert find_credentials("claude", home=home, env={}).values == {"session_key": CLAUDE_KEY}
        # A full status run reads the same profile from disk.
        rows = _status(home, simulator, "claude", "kimi", "ollama")
        assert {p: (r["status"], r["source"]) for p, r in rows.items()} == {
            "claude": ("ok", "browser"),
            "kimi": ("ok", "browser"),
            "ollama": ("ok", "browser"),
        }
        assert _hashes(root) == before, "reading never writes to the profile"
    finally:
        _stop(proc)
        server.shutdown()

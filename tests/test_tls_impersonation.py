"""Browser-like TLS (agentgauge.net): the ClientHello a server sees, and whole requests through the
curl transport, against real HTTPS servers on 127.0.0.1 with a test CA (tls_hello.py).

The expected handshake is the pinned profile's (chrome152 in curl_cffi 0.17.0); a second check
compares it with the ClientHello of the real Chromium that .ci/run installs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentgauge import net
from agentgauge.errors import ConfigError
from tests.tls_hello import (
    ALPN,
    APPLICATION_SETTINGS,
    COMPRESS_CERTIFICATE,
    EC_POINT_FORMATS,
    ENCRYPTED_CLIENT_HELLO,
    EXTENDED_MASTER_SECRET,
    KEY_SHARE,
    PSK_KEY_EXCHANGE_MODES,
    RENEGOTIATION_INFO,
    SCT,
    SERVER_NAME,
    SESSION_TICKET,
    SIGNATURE_ALGORITHMS,
    STATUS_REQUEST,
    SUPPORTED_GROUPS,
    SUPPORTED_VERSIONS,
    HelloRecordingServer,
    LocalPKI,
    is_grease,
    make_pki,
)
from tests.tls_servers import ConnectProxy, closed_port, nginx_h2

PROFILE = net.DEFAULT_PROFILE
MODES = ["off", PROFILE]  # every request test runs on plain httpx and on the impersonating transport

TRUST_ANCHORS = 0xCA34  # draft-ietf-tls-trust-anchor-ids, new in Chrome 152
# Chrome's cipher order (after a leading GREASE): TLS 1.3 suites, then ECDHE GCM/ChaCha, then legacy.
CHROME_CIPHERS = [
    0x1301,
    0x1302,
    0x1303,
    0xC02B,
    0xC02F,
    0xC02C,
    0xC030,
    0xCCA9,
    0xCCA8,
    0xC013,
    0xC014,
    0x009C,
    0x009D,
    0x002F,
    0x0035,
]
CHROME_EXTENSIONS = {
    SERVER_NAME,
    STATUS_REQUEST,
    SUPPORTED_GROUPS,
    EC_POINT_FORMATS,
    SIGNATURE_ALGORITHMS,
    ALPN,
    SCT,
    EXTENDED_MASTER_SECRET,
    COMPRESS_CERTIFICATE,
    SESSION_TICKET,
    SUPPORTED_VERSIONS,
    PSK_KEY_EXCHANGE_MODES,
    KEY_SHARE,
    APPLICATION_SETTINGS,
    ENCRYPTED_CLIENT_HELLO,
    RENEGOTIATION_INFO,
    TRUST_ANCHORS,
}
X25519MLKEM768, X25519, SECP256R1, SECP384R1 = 0x11EC, 0x001D, 0x0017, 0x0018
CHROME_SIGNATURE_ALGORITHMS = [0x0904, 0x0905, 0x0906, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
BROTLI = 2
TLS13, TLS12 = 0x0304, 0x0303


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LocalPKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def server(pki: LocalPKI) -> Iterator[HelloRecordingServer]:
    with HelloRecordingServer(pki.server_context()) as srv:
        yield srv


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's proxy settings must not route test traffic; proxy tests set their own."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _client(
    mode: str, pki: LocalPKI, timeout: float = 10.0, headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    return net.client(mode, timeout, headers or {}, verify=str(pki.ca_path))


# -- the ClientHello -----------------------------------------------------------------------
async def test_impersonating_hello_is_the_pinned_chrome_profile(server: HelloRecordingServer, pki: LocalPKI):
    async with _client(PROFILE, pki) as http:
        response = await http.get(f"https://localhost:{server.port}/echo")
    assert response.status_code == 200  # the same handshake then carried a real request
    (hello,) = server.wait_for_hellos(1)

    assert hello.grease_everywhere() == dict.fromkeys(
        ("cipher", "first_extension", "last_extension", "groups", "versions", "key_share"), True
    )
    assert hello.grease_free_ciphers == CHROME_CIPHERS
    assert hello.extension_set == CHROME_EXTENSIONS
    assert hello.alpn == ["h2", "http/1.1"]
    assert hello.application_settings == ["h2"]
    assert hello.certificate_compression == [BROTLI]
    assert hello.supported_groups[1:] == [X25519MLKEM768, X25519, SECP256R1, SECP384R1]
    assert hello.key_share_groups[1:] == [X25519MLKEM768, X25519]
    assert hello.supported_versions[1:] == [TLS13, TLS12]
    assert hello.signature_algorithms == CHROME_SIGNATURE_ALGORITHMS
    assert hello.server_name == "localhost"


async def test_impersonating_hello_permutes_extensions_like_chrome(server: HelloRecordingServer, pki: LocalPKI):
    # Chrome shuffles its extensions on every connection (17! orders; two equal ones are ~1e-15).
    for _ in range(2):
        async with _client(PROFILE, pki) as http:  # a new client: a new connection
            assert (await http.get(f"https://127.0.0.1:{server.port}/echo")).status_code == 200
    first, second = server.wait_for_hellos(2)
    assert first.extension_set == second.extension_set == CHROME_EXTENSIONS - {SERVER_NAME}  # no SNI for an IP
    assert first.extensions != second.extensions


async def test_plain_httpx_hello_is_pythons_not_chromes(server: HelloRecordingServer, pki: LocalPKI):
    async with _client("off", pki) as http:
        assert (await http.get(f"https://localhost:{server.port}/echo")).status_code == 200
    (hello,) = server.wait_for_hellos(1)
    assert not hello.has_any_grease()
    assert hello.grease_free_ciphers != CHROME_CIPHERS
    assert hello.ciphers[0] != CHROME_CIPHERS[0]  # OpenSSL leads with AES-256-GCM, Chrome with AES-128-GCM
    assert hello.alpn == ["http/1.1"]
    assert not {COMPRESS_CERTIFICATE, APPLICATION_SETTINGS, ENCRYPTED_CLIENT_HELLO} & hello.extension_set


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_pinned_profile_matches_the_installed_chromium(server: HelloRecordingServer, pki: LocalPKI, tmp_path: Path):
    """The real browser's hello on this machine (Debian chromium, installed by .ci/run) has the
    pinned profile's shape. A failure here means the profile fell behind the browser: bump
    curl_cffi and DEFAULT_PROFILE together (docs/tls.md)."""
    assert CHROMIUM, "chromium is required (.ci/run installs it)"
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            f"https://localhost:{server.port}/echo",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        browser = server.wait_for_hellos(1)[0]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert browser.grease_everywhere() == dict.fromkeys(
        ("cipher", "first_extension", "last_extension", "groups", "versions", "key_share"), True
    )
    assert browser.grease_free_ciphers == CHROME_CIPHERS
    assert browser.extension_set == CHROME_EXTENSIONS
    assert browser.alpn == ["h2", "http/1.1"]
    assert browser.application_settings == ["h2"]
    assert browser.certificate_compression == [BROTLI]
    assert browser.supported_groups[1:] == [X25519MLKEM768, X25519, SECP256R1, SECP384R1]
    assert browser.key_share_groups[1:] == [X25519MLKEM768, X25519]
    # Newer Chrome also puts a GREASE value first in signature_algorithms; the rest is the profile's.
    assert [a for a in browser.signature_algorithms if not is_grease(a)] == CHROME_SIGNATURE_ALGORITHMS


# -- whole requests ------------------------------------------------------------------------
def _seen(server: HelloRecordingServer, index: int = -1) -> dict[str, str]:
    return {k.lower(): v for k, v in server.requests[index]["headers"]}


@pytest.mark.parametrize("mode", MODES)
async def test_get_with_cookies_and_headers(mode: str, server: HelloRecordingServer, pki: LocalPKI):
    async with _client(mode, pki, headers={"X-Client": "agentgauge"}) as http:
        response = await http.get(
            f"https://127.0.0.1:{server.port}/echo?q=1",
            headers={"Cookie": "sessionKey=sk-1; cf_clearance=cf-2", "Accept": "application/json"},
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        echo = response.json()
        assert echo["method"] == "GET" and echo["path"] == "/echo?q=1"
        seen = _seen(server)
        assert seen["cookie"] == "sessionKey=sk-1; cf_clearance=cf-2"
        assert seen["accept"] == "application/json" and seen["x-client"] == "agentgauge"

        # Set-Cookie lands in httpx's jar and goes back on the next request, as with plain httpx.
        await http.get(f"https://127.0.0.1:{server.port}/cookies")
        assert dict(http.cookies) == {"session": "abc", "theme": "dark"}
        await http.get(f"https://127.0.0.1:{server.port}/echo")
        assert _seen(server)["cookie"] == "session=abc; theme=dark"


async def test_impersonating_client_sends_the_profiles_browser_headers(server: HelloRecordingServer, pki: LocalPKI):
    async with _client(PROFILE, pki, headers={"User-Agent": "agentgauge"}) as http:
        await http.get(f"https://127.0.0.1:{server.port}/echo")
        seen = _seen(server)
        assert "Chrome/152." in seen["user-agent"] and "agentgauge" not in seen["user-agent"]
        assert '"Google Chrome";v="152"' in seen["sec-ch-ua"]
        assert seen["accept-encoding"] == "gzip, deflate, br, zstd"
        # One request may still choose its own User-Agent.
        await http.get(f"https://127.0.0.1:{server.port}/echo", headers={"User-Agent": "probe/1"})
        assert _seen(server)["user-agent"] == "probe/1"


@pytest.mark.parametrize("mode", MODES)
async def test_post_bodies(mode: str, server: HelloRecordingServer, pki: LocalPKI):
    url = f"https://127.0.0.1:{server.port}/echo"
    async with _client(mode, pki) as http:
        echo = (await http.post(url, json={"scope": ["FEATURE_CODING"]})).json()
        assert json.loads(echo["body"]) == {"scope": ["FEATURE_CODING"]}
        assert _seen(server)["content-type"] == "application/json"

        echo = (await http.post(url, data={"grant_type": "refresh_token", "x": "a b"})).json()
        assert echo["body"] == "grant_type=refresh_token&x=a+b"
        assert _seen(server)["content-type"] == "application/x-www-form-urlencoded"

        echo = (await http.post(url, content=b'{"raw":1}', headers={"Connect-Protocol-Version": "1"})).json()
        assert echo["body"] == '{"raw":1}' and echo["method"] == "POST"
        seen = _seen(server)
        assert "content-type" not in seen  # raw bytes carry no Content-Type, as with plain httpx
        assert seen["content-length"] == "9" and seen["connect-protocol-version"] == "1"


@pytest.mark.parametrize("mode", MODES)
async def test_compressed_response_is_decoded_once(mode: str, server: HelloRecordingServer, pki: LocalPKI):
    async with _client(mode, pki) as http:
        response = await http.get(f"https://127.0.0.1:{server.port}/gzip")
    assert response.json() == {"zipped": True}


@pytest.mark.parametrize("mode", MODES)
async def test_redirects_follow_only_when_asked(mode: str, server: HelloRecordingServer, pki: LocalPKI):
    url = f"https://127.0.0.1:{server.port}/redirect"
    async with _client(mode, pki) as http:
        response = await http.get(url)
        assert response.status_code == 302 and response.headers["location"] == "/echo?from=redirect"
        assert [r["path"] for r in server.requests] == ["/redirect"]

        followed = await http.get(url, follow_redirects=True)
        assert followed.status_code == 200 and followed.json()["path"] == "/echo?from=redirect"
        assert [r.status_code for r in followed.history] == [302]


@pytest.mark.parametrize("mode", MODES)
async def test_a_silent_server_is_a_read_timeout(mode: str, server: HelloRecordingServer, pki: LocalPKI):
    async with _client(mode, pki, timeout=0.5) as http:
        with pytest.raises(httpx.ReadTimeout) as caught:
            await http.get(f"https://127.0.0.1:{server.port}/hang")
    assert isinstance(caught.value, httpx.TimeoutException)


@pytest.mark.parametrize("mode", MODES)
async def test_a_stalled_handshake_is_a_connect_timeout(mode: str, pki: LocalPKI):
    with socket.socket() as listener:  # accepts TCP (backlog) but never answers the ClientHello
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        async with _client(mode, pki, timeout=0.5) as http:
            with pytest.raises(httpx.ConnectTimeout):
                await http.get(f"https://127.0.0.1:{listener.getsockname()[1]}/")


@pytest.mark.parametrize("mode", MODES)
async def test_a_refused_connection_is_a_connect_error(mode: str, pki: LocalPKI):
    async with _client(mode, pki) as http:
        with pytest.raises(httpx.ConnectError) as caught:
            await http.get(f"https://127.0.0.1:{closed_port()}/")
    assert isinstance(caught.value, httpx.TransportError)


@pytest.mark.parametrize("mode", MODES)
async def test_certificates_are_verified(mode: str, server: HelloRecordingServer):
    # Without the test CA (certifi's bundle only) the server's certificate is not trusted.
    async with net.client(mode, 10.0, {}) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"https://127.0.0.1:{server.port}/echo")
    assert server.requests == []


async def test_the_http_version_and_status_come_through(server: HelloRecordingServer, pki: LocalPKI):
    async with _client(PROFILE, pki) as http:
        response = await http.get(f"https://127.0.0.1:{server.port}/echo")
    assert response.http_version == "HTTP/1.1" and response.reason_phrase == "OK"


async def test_http2_through_nginx(pki: LocalPKI, tmp_path: Path):
    """Real sites answer over HTTP/2: status, repeated headers, cookies and a gzip body survive it."""
    with nginx_h2(pki, tmp_path) as base_url:
        async with _client(PROFILE, pki) as http:
            response = await http.get(f"{base_url}/echo", headers={"Cookie": "sessionKey=sk-1; cf_clearance=cf-2"})
            jar = dict(http.cookies)
    assert response.status_code == 200 and response.http_version == "HTTP/2"
    assert response.reason_phrase == "OK"
    body = response.json()  # nginx gzips it for the browser's Accept-Encoding; curl has decoded it
    assert body["protocol"] == "HTTP/2.0" and "Chrome/152." in body["ua"]
    assert body["cookie"] == "sessionKey=sk-1; cf_clearance=cf-2"
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert jar == {"a": "1", "b": "2"}


# -- proxies, like httpx -------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
async def test_https_proxy_from_the_environment(
    mode: str, server: HelloRecordingServer, pki: LocalPKI, monkeypatch: pytest.MonkeyPatch
):
    with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        async with _client(mode, pki) as http:
            response = await http.get(f"https://localhost:{server.port}/echo")
        assert response.status_code == 200
        assert proxy.tunnels == [f"localhost:{server.port}"]

        monkeypatch.setenv("NO_PROXY", "localhost")
        async with _client(mode, pki) as http:
            assert (await http.get(f"https://localhost:{server.port}/echo")).status_code == 200
        assert proxy.tunnels == [f"localhost:{server.port}"]  # bypassed: no second tunnel


@pytest.mark.parametrize("mode", MODES)
async def test_proxy_credentials_stay_out_of_errors(mode: str, pki: LocalPKI, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HTTPS_PROXY", f"http://agent:s3cr3t-pw@127.0.0.1:{closed_port()}")
    async with _client(mode, pki) as http:
        with pytest.raises(httpx.TransportError) as caught:
            await http.get("https://localhost:1/")
    assert "s3cr3t-pw" not in str(caught.value) and "s3cr3t-pw" not in repr(caught.value)


# -- the setting and the lifecycle ---------------------------------------------------------
def test_setting_values():
    assert net.profile_from_env({}) == PROFILE
    assert net.profile_from_env({net.IMPERSONATE_ENV: ""}) == PROFILE
    assert net.profile_from_env({net.IMPERSONATE_ENV: "OFF"}) is None
    assert net.profile_from_env({net.IMPERSONATE_ENV: "firefox153"}) == "firefox153"


@pytest.mark.parametrize("name", ["chrome999", "chrome"])  # "chrome" moves with curl_cffi: not a pin
def test_an_unknown_or_moving_profile_is_a_config_error(name: str):
    with pytest.raises(ConfigError) as caught:
        net.client(name, 5.0, {})
    assert repr(name) in caught.value.message and "chrome152" in caught.value.hint and "off" in caught.value.hint


async def test_aclose_closes_the_curl_session(server: HelloRecordingServer, pki: LocalPKI):
    http = _client(PROFILE, pki)
    await http.get(f"https://127.0.0.1:{server.port}/echo")
    await http.aclose()
    with pytest.raises(RuntimeError):  # httpx refuses a closed client, whatever its transport
        await http.get(f"https://127.0.0.1:{server.port}/echo")
    assert len(server.requests) == 1


def test_curl_cffi_loads_only_for_an_impersonating_client():
    code = (
        "import sys, agentgauge.net as net\n"
        "net.client(None, 5.0, {})\n"
        "assert 'curl_cffi' not in sys.modules, 'plain client loaded curl_cffi'\n"
        "net.client('chrome152', 5.0, {})\n"
        "assert 'curl_cffi' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

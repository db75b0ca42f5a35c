"""Web security of the real app over real HTTP (and the CSP in real Chromium): security headers on
every response, the body cap before authentication, the login throttle, the constant-time token
compare, Origin + CSRF checks on cookie-authenticated POSTs, and login forms sent with
``Upgrade: h2c``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import socket
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest

from agentgauge.web.limits import MAX_BODY, LoginThrottle

from .harness_web import ServerInfo, chromium, running_server, serve

TOKEN = "s3cret-t0ken-for-tests"


@pytest.fixture(scope="module")
def guarded() -> Iterator[ServerInfo]:
    """Bound to every interface (so a token is required), reached on 127.0.0.1."""
    with running_server(token=TOKEN, history_days=0, bind_host="0.0.0.0") as info:
        yield info


@pytest.fixture(scope="module")
def tokenless() -> Iterator[ServerInfo]:
    with running_server(history_days=0) as info:
        yield info


def client_from(info: ServerInfo, address: str, **kw: Any) -> httpx.Client:
    """A client whose connections come from ``address`` (any 127.x.y.z reaches the server): the
    throttle keys on the client's address, so each test gets its own."""
    return httpx.Client(base_url=info.url, transport=httpx.HTTPTransport(local_address=address), timeout=30, **kw)


def sign_in(info: ServerInfo, address: str) -> tuple[httpx.Client, str]:
    """A browser-like session: the login cookie, and the CSRF token the dashboard page carries."""
    client = client_from(info, address)
    assert client.post("/login", data={"token": TOKEN}).status_code == 303
    page = client.get("/")
    assert page.status_code == 200
    found = re.search(r'<meta name="agentgauge-csrf" content="([0-9a-f]+)">', page.text)
    assert found, "a signed-in page carries its CSRF token"
    return client, found.group(1)


def raw_request(info: ServerInfo, head: str, body: bytes = b"", *, timeout: float = 20) -> bytes:
    """Send bytes as they are and return what the server answers before closing (or the timeout)."""
    port = int(info.origin.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


# -- security headers ---------------------------------------------------------------------------


def _check_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    csp = {
        d.strip().split(" ", 1)[0]: d.strip().split(" ", 1)[1:]
        for d in response.headers.get("content-security-policy", "").split(";")
        if d.strip()
    }
    assert csp.get("script-src") == ["'self'"], where  # no inline script, ever
    assert csp.get("frame-ancestors") == ["'none'"], where
    assert csp.get("object-src") == ["'none'"] and csp.get("base-uri") == ["'none'"], where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "no-referrer", where
    assert response.headers.get("cross-origin-opener-policy") == "same-origin", where
    assert response.headers.get("x-frame-options") == "DENY", where


def test_security_headers_on_every_response(guarded: ServerInfo) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with client_from(guarded, "127.0.0.10") as client:
        responses = [
            client.get("/"),  # 303 to the login page
            client.get("/login"),
            client.get("/api/usage"),  # 401
            client.get("/api/usage", headers=bearer),  # served by the pre-encoded fast path
            client.get("/api/config", headers=bearer),
            client.get("/api/nope", headers=bearer),  # 404
            client.get("/static/app.js"),
            client.get("/api/ping", headers={"Host": "rebind.example"}),  # 421
            client.post("/login", content=b"x" * (MAX_BODY + 1)),  # 413
            client.post("/api/refresh", headers={**bearer, "Origin": "null"}),  # bearer: not cross-site checked
        ]
    assert [r.status_code for r in responses] == [303, 200, 401, 200, 200, 404, 200, 421, 413, 202]
    for response in responses:
        _check_headers(response)


def test_login_page_style_is_allowed_by_hash(guarded: ServerInfo) -> None:
    page = httpx.get(guarded.url + "/login")
    style = re.search(r"<style>(.*?)</style>", page.text, re.S)
    assert style and "<script" not in page.text
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["content-security-policy"]


# -- the body cap -------------------------------------------------------------------------------


def test_declared_oversized_body_is_refused_before_it_is_read(guarded: ServerInfo) -> None:
    head = (
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 104857600\r\n\r\n"
    )
    answer = raw_request(guarded, head)  # not one byte of the 100 MB is sent: the answer comes anyway
    assert status_of(answer) == 413
    assert b"content-security-policy" in answer.lower()


def test_chunked_body_is_counted_while_read(guarded: ServerInfo) -> None:
    head = (
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    chunk = b"a" * 16384
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_BODY // len(chunk) + 2)) + b"0\r\n\r\n"
    assert status_of(raw_request(guarded, head, body)) == 413
    small = f"token={TOKEN}".encode()
    ok = raw_request(guarded, head, b"%x\r\n%s\r\n0\r\n\r\n" % (len(small), small))
    assert status_of(ok) == 303  # a chunked body under the cap is read as usual


# -- the login throttle -------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_login_throttle_backs_off_per_client(guarded: ServerInfo) -> None:
    clock = FakeClock()
    guarded.app.state.login_throttle = LoginThrottle(clock)
    try:
        with client_from(guarded, "127.0.0.20") as attacker, client_from(guarded, "127.0.0.21") as other:
            for _ in range(5):  # the first five failures are free
                assert attacker.post("/login", data={"token": "guess"}).status_code == 401
            assert attacker.post("/login", data={"token": "guess"}).status_code == 401  # ...this one blocks 1 s
            blocked = attacker.post("/login", data={"token": TOKEN})  # even the right token is not checked
            assert blocked.status_code == 429 and blocked.headers["retry-after"] == "1"
            assert "set-cookie" not in blocked.headers
            assert other.post("/login", data={"token": TOKEN}).status_code == 303  # per client
            clock.now += 1
            assert attacker.post("/login", data={"token": "guess"}).status_code == 401  # blocks 2 s now
            assert attacker.post("/login", data={"token": "guess"}).headers["retry-after"] == "2"
            clock.now += 2
            assert attacker.post("/login", data={"token": "guess"}).status_code == 401  # 4 s
            assert attacker.post("/login", data={"token": "guess"}).headers["retry-after"] == "4"
            clock.now += 4
            assert attacker.post("/login", data={"token": TOKEN}).status_code == 303  # success clears it
            assert attacker.post("/login", data={"token": "guess"}).status_code == 401
            assert attacker.post("/login", data={"token": "guess"}).status_code == 401
    finally:
        guarded.app.state.login_throttle = LoginThrottle()


def test_login_compares_the_token_in_constant_time(guarded: ServerInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((bytes(a), bytes(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    guess = "a-wrong-guess"
    with client_from(guarded, "127.0.0.30") as client:
        assert client.post("/login", data={"token": guess}).status_code == 401
    digests = {hashlib.sha256(guess.encode()).digest(), hashlib.sha256(TOKEN.encode()).digest()}
    assert any({a, b} == digests for a, b in compared), "the guess must meet the token only in compare_digest"


# -- Origin and CSRF on state-changing requests ---------------------------------------------------


def test_cookie_posts_need_a_matching_origin_and_the_csrf_token(guarded: ServerInfo) -> None:
    client, csrf = sign_in(guarded, "127.0.0.40")
    other, other_csrf = sign_in(guarded, "127.0.0.41")
    assert csrf != other_csrf, "CSRF tokens are per session"
    here = guarded.origin
    port = int(here.rsplit(":", 1)[1])
    refresh = "/api/refresh?provider=zai"
    with closing(client), closing(other):
        assert client.get("/api/usage").status_code == 200  # reads need neither
        refused = [
            {},
            {"Origin": here},  # no CSRF token
            {"X-AgentGauge-CSRF": csrf},  # no Origin or Referer
            {"Origin": f"http://127.0.0.1:{port + 1}", "X-AgentGauge-CSRF": csrf},  # same host, other port
            {"Origin": "http://evil.example", "X-AgentGauge-CSRF": csrf},
            {"Origin": "null", "X-AgentGauge-CSRF": csrf},
            {"Referer": f"http://localhost:{port}/", "X-AgentGauge-CSRF": csrf},  # another name: another site
            {"Origin": here, "X-AgentGauge-CSRF": other_csrf},  # another session's token
            {"Origin": here, "X-AgentGauge-CSRF": csrf[:-1] + ("0" if csrf[-1] != "0" else "1")},
        ]
        for headers in refused:
            response = client.post(refresh, headers=headers)
            assert response.status_code == 403, headers
            assert response.json()["error"]
        assert client.post(refresh, headers={"Origin": here, "X-AgentGauge-CSRF": csrf}).status_code == 202
        referer = {"Referer": f"{guarded.url}/", "X-AgentGauge-CSRF": csrf}
        assert client.post(refresh, headers=referer).status_code == 202  # a browser that sends no Origin
        assert other.post(refresh, headers={"Origin": here, "X-AgentGauge-CSRF": other_csrf}).status_code == 202
    # Scripts authenticate with the bearer header, which no other site can make a browser send.
    bearer = httpx.post(guarded.url + refresh, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 202


def test_login_form_works_with_the_null_origin_of_a_no_referrer_page(guarded: ServerInfo) -> None:
    # Referrer-Policy: no-referrer makes a browser send "Origin: null" with a form post.
    with client_from(guarded, "127.0.0.42") as client:
        response = client.post("/login", data={"token": TOKEN}, headers={"Origin": "null"})
        assert response.status_code == 303 and "agentgauge_session=" in response.headers["set-cookie"]
        assert TOKEN not in response.headers["set-cookie"]


def test_tokenless_server_refuses_cross_site_posts(tokenless: ServerInfo) -> None:
    refresh = tokenless.url + "/api/refresh?provider=zai"
    for origin in ("http://evil.example", "null", "http://localhost:1"):
        assert httpx.post(refresh, headers={"Origin": origin}).status_code == 403, origin
    assert httpx.post(refresh, headers={"Origin": tokenless.origin}).status_code == 202
    assert httpx.post(refresh).status_code == 202  # scripts and curl send no Origin
    assert "agentgauge-csrf" not in httpx.get(tokenless.url + "/").text  # no sessions without a token


# -- Upgrade: h2c --------------------------------------------------------------------------------


def test_login_form_sent_with_upgrade_h2c_keeps_its_body(guarded: ServerInfo) -> None:
    """curl --http2 on plain http sends these headers; the body must still arrive (h11, not httptools)."""
    body = f"token={TOKEN}".encode()
    head = (
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
        "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    answer = raw_request(guarded, head, body)
    assert status_of(answer) == 303, answer[:200]
    assert b"agentgauge_session=" in answer


# -- the CSP in Chromium ----------------------------------------------------------------------------

VIOLATIONS = """() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation",
    e => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
}"""


def test_dashboard_works_in_chromium_under_the_csp() -> None:
    with chromium() as browser, serve(token=TOKEN, history_days=1) as info:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_init_script(f"({VIOLATIONS})()")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        try:
            page.goto(info.url + "/")
            assert page.url.endswith("/login")
            page.fill("#token", TOKEN)
            with page.expect_navigation():
                page.click("button[type=submit]")
            first = page.wait_for_selector(".card .bar .fill", timeout=15_000)
            assert first is not None
            # bar widths come from style attributes, which the policy allows
            widths = page.evaluate("() => [...document.querySelectorAll('.card .bar .fill')].map(f => f.style.width)")
            assert any(w not in ("", "0%") for w in widths), widths
            with page.expect_response(lambda r: "/api/refresh" in r.url) as refreshed:
                page.locator("#refresh-all").click()
            assert refreshed.value.status == 200  # Origin and the CSRF header went with the POST
            card = page.locator('[data-key="zai/default"]')
            card.locator(".history > summary").click()
            page.wait_for_selector('[data-key="zai/default"] .chart canvas', timeout=15_000)
            assert page.evaluate("() => window.__violations") == []
            # ...and the policy is enforced: an injected inline script does not run
            page.evaluate(
                "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
                " document.body.append(s); }"
            )
            assert page.evaluate("() => window.__ran") is None
            assert any(v.startswith("script-src") for v in page.evaluate("() => window.__violations"))
            unexpected = [e for e in errors if "Content Security Policy" in e and "inline script" not in e]
            assert not unexpected, unexpected
            assert not [e for e in errors if "Content Security Policy" not in e], errors
        finally:
            context.close()

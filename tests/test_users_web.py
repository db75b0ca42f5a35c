"""Multi-user mode over real HTTP (uvicorn as ``serve`` runs it): the setup code, sign-in with its
back-off, cookie attributes, roles, CSRF and Origin on session POSTs, API keys (scopes, owners, revoked
at once, never managing keys), sign-out and password changes; single-user mode as before; and the
pages in real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime

import httpx
import pytest

from agentgauge.users import keys, people
from agentgauge.web.limits import LoginThrottle

from .harness_users import Running, csrf_of, sign_in, users_server
from .harness_web import chromium
from .test_store_outage import Cluster, cluster  # noqa: F401  (a throwaway PostgreSQL cluster to stop)

ADMIN_PW = "admin password 1"
VIEWER_PW = "viewer password 1"
TOKEN = "users-mode-access-token"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    """Users mode with an access token too; an admin and a viewer made through the store."""
    with users_server(token=TOKEN) as running:
        now = datetime.now(UTC)
        people.add(running.store, "ann", ADMIN_PW, "admin", now)
        people.add(running.store, "vic", VIEWER_PW, "viewer", now)
        yield running


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_first_start_setup_code_makes_the_admin_once() -> None:
    with users_server() as running, running.client("127.0.0.60") as client:
        code = running.setup_code
        assert code and running.store.query("SELECT COUNT(*) FROM setup_codes")[0][0] == 1
        assert client.get("/").headers["location"] == "/setup"
        assert client.get("/login").headers["location"] == "setup"
        refused = client.get("/api/usage")
        assert refused.status_code == 401 and "no user exists yet" in refused.json()["error"]
        page = client.get("/setup")
        assert page.status_code == 200 and code not in page.text
        form = {"username": "ann", "password": ADMIN_PW, "password2": ADMIN_PW}
        running.app.state.login_throttle = LoginThrottle(FakeClock())
        for _ in range(5):
            assert client.post("/setup", data={**form, "code": "AAAA-BBBB-CCCC"}).status_code == 401
        assert client.post("/setup", data={**form, "code": "AAAA-BBBB-CCCC"}).status_code == 401  # blocks now
        blocked = client.post("/setup", data={**form, "code": code})
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "1"
        running.app.state.login_throttle = LoginThrottle()
        differ = client.post("/setup", data={**form, "code": code, "password2": "something else"})
        assert differ.status_code == 400 and "differ" in differ.text
        done = client.post("/setup", data={**form, "code": code})
        assert done.status_code == 303 and done.headers["location"] == "settings"
        cookie = done.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie  # plain http here
        me = client.get("/api/me").json()
        assert me["user"]["name"] == "ann" and me["role"] == "admin" and me["via"] == "session"
        again = running.client("127.0.0.61")
        assert again.get("/setup").headers["location"] == "login"  # setup is over
        assert again.post("/setup", data={**form, "code": code, "username": "eve"}).status_code == 303
        assert [u.name for u in people.all_users(running.store)] == ["ann"]
        assert again.get("/").headers["location"] == "/login"
        again.close()


def test_sign_in_is_throttled_and_cookies_are_per_session(server: Running) -> None:
    server.app.state.login_throttle = LoginThrottle(clock := FakeClock())
    try:
        with server.client("127.0.0.62") as attacker, server.client("127.0.0.63") as other:
            for _ in range(5):
                answer = attacker.post("/login", data={"username": "ann", "password": "guess"})
                assert answer.status_code == 401 and "set-cookie" not in answer.headers
            assert attacker.post("/login", data={"username": "nobody", "password": "guess"}).status_code == 401
            blocked = attacker.post("/login", data={"username": "ann", "password": ADMIN_PW})
            assert blocked.status_code == 429 and blocked.headers["retry-after"] == "1"
            assert other.post("/login", data={"username": "ann", "password": ADMIN_PW}).status_code == 303
            clock.now += 1
            assert attacker.post("/login", data={"username": "ANN", "password": ADMIN_PW}).status_code == 303
    finally:
        server.app.state.login_throttle = LoginThrottle()


def test_roles_decide_what_each_may_do(server: Running) -> None:
    admin, admin_h = sign_in(server, "ann", ADMIN_PW, "127.0.0.64")
    viewer, viewer_h = sign_in(server, "vic", VIEWER_PW, "127.0.0.65")
    with closing(admin), closing(viewer):
        assert viewer.get("/api/usage").status_code == 200
        assert viewer.get("/settings").status_code == 200
        assert viewer.post("/api/refresh?provider=zai", headers=viewer_h).status_code == 202
        for method, path in [
            ("GET", "/api/accounts"),
            ("GET", "/api/users"),
            ("POST", "/api/users"),
            ("DELETE", "/api/users/ann"),
            ("GET", "/extension"),
            ("POST", "/api/extensions/pairing"),
            ("POST", "/api/accounts"),
        ]:
            refused = viewer.request(method, path, headers=viewer_h, json={})
            assert refused.status_code == 403, (method, path)
            assert "admin" in refused.json()["error"]
        own = viewer.post("/api/keys", headers=viewer_h, json={"name": "vic's deck", "scope": "write"})
        assert own.status_code == 400 and "read keys" in own.json()["error"]
        made = viewer.post("/api/keys", headers=viewer_h, json={"name": "vic's deck"})
        assert made.status_code == 201 and made.json()["scope"] == "read"
        assert [k["name"] for k in viewer.get("/api/keys").json()["keys"]] == ["vic's deck"]  # only their own
        assert admin.get("/api/users").status_code == 200
        assert admin.get("/api/accounts").status_code == 200
        assert "vic's deck" in [k["name"] for k in admin.get("/api/keys").json()["keys"]]  # an admin sees all
        added = admin.post("/api/users", headers=admin_h, json={"name": "zed", "password": "zed password 1"})
        assert added.status_code == 201 and added.json()["user"]["role"] == "viewer"
        assert "zed password" not in added.text
        assert admin.patch("/api/users/zed", headers=admin_h, json={"role": "admin"}).json()["user"]["role"] == "admin"
        assert admin.delete("/api/users/zed", headers=admin_h).status_code == 200
        assert admin.delete("/api/users/zed", headers=admin_h).status_code == 404


def test_session_posts_need_origin_and_csrf(server: Running) -> None:
    client, headers = sign_in(server, "ann", ADMIN_PW, "127.0.0.66")
    other, other_headers = sign_in(server, "ann", ADMIN_PW, "127.0.0.67")
    body = {"name": "csrf check", "scope": "read"}
    with closing(client), closing(other):
        assert headers["X-AgentGauge-CSRF"] != other_headers["X-AgentGauge-CSRF"]
        for bad in (
            {},
            {"Origin": server.url},
            {"X-AgentGauge-CSRF": headers["X-AgentGauge-CSRF"]},
            {"Origin": "http://evil.example", "X-AgentGauge-CSRF": headers["X-AgentGauge-CSRF"]},
            {"Origin": server.url, "X-AgentGauge-CSRF": other_headers["X-AgentGauge-CSRF"]},
        ):
            assert client.post("/api/keys", headers=bad, json=body).status_code == 403, bad
        assert client.post("/api/keys", headers=headers, json=body).status_code == 201


def test_api_keys_scopes_and_revocation(server: Running) -> None:
    now = datetime.now(UTC)
    ann = people.by_name(server.store, "ann")
    read, _ = keys.create(server.store, "deck", "read", ann, now)
    write, write_key = keys.create(server.store, "ci", "write", ann, now)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get("/api/usage", headers=bearer(read)).status_code == 200
        assert client.get("/api/me", headers=bearer(read)).json()["via"] == "key"
        assert client.post("/api/refresh?provider=zai", headers=bearer(read)).status_code == 202  # no CSRF: bearer
        assert client.post("/mcp", headers=bearer(read), json={}).status_code != 403  # MCP is read-side
        assert client.get("/api/accounts", headers=bearer(read)).status_code == 403
        assert client.patch("/api/accounts/zai/nope", headers=bearer(write), json={}).status_code == 404  # allowed in
        for key in (read, write):  # a key never manages users or keys, whatever its scope
            assert client.post("/api/keys", headers=bearer(key), json={"name": "more"}).status_code == 403
            assert client.get("/api/users", headers=bearer(key)).status_code == 403
        assert client.get(f"/api/usage?key={read}").status_code == 401  # never from a query string
        assert client.get("/api/usage", headers=bearer(read + "x")).status_code == 401
        listed = client.get("/api/keys", headers=bearer(TOKEN)).text
        assert read not in listed and write not in listed and write_key.id in listed
        assert client.delete(f"/api/keys/{write_key.id}", headers=bearer(TOKEN)).status_code == 200
        assert client.get("/api/usage", headers=bearer(write)).status_code == 401  # at once
        # The access token is an admin: it makes an ownerless key, answered once.
        made = client.post("/api/keys", headers=bearer(TOKEN), json={"name": "hub", "scope": "write"})
        assert made.status_code == 201 and made.json()["key"].startswith("agk_") and made.json()["user"] is None


def test_sign_out_and_password_change_end_sessions(server: Running) -> None:
    people.add(server.store, "pat", "pat password 1", "viewer", datetime.now(UTC))
    first, first_h = sign_in(server, "pat", "pat password 1", "127.0.0.68")
    second, _ = sign_in(server, "pat", "pat password 1", "127.0.0.69")
    with closing(first), closing(second):
        wrong = first.post("/api/me/password", headers=first_h, json={"current": "nope", "new": "pat password 2"})
        assert wrong.status_code == 403
        weak = first.post("/api/me/password", headers=first_h, json={"current": "pat password 1", "new": "short"})
        assert weak.status_code == 400
        done = first.post(
            "/api/me/password", headers=first_h, json={"current": "pat password 1", "new": "pat password 2"}
        )
        assert done.status_code == 200
        assert second.get("/api/me").status_code == 401  # the other session ended
        assert first.get("/api/me").status_code == 200  # this one goes on
        cookie = first.cookies.get("agentgauge_session")
        out = first.post("/logout", headers=first_h)
        assert out.status_code == 200 and "agentgauge_session=" in out.headers["set-cookie"]
        replay = server.client("127.0.0.70", cookies={"agentgauge_session": cookie or ""})
        assert replay.get("/api/me").status_code == 401  # the old cookie is dead on the server too
        replay.close()
        assert server.client("127.0.0.71").post("/login", data={"username": "pat", "password": "pat password 2"})


def test_single_user_mode_stays_as_it_was() -> None:
    with users_server(auth="single") as running, running.client() as client:
        assert running.setup_code is None
        me = client.get("/api/me").json()
        assert me == {**me, "mode": "single", "via": "open", "role": "admin", "user": None}
        assert client.get("/setup").headers["location"] == "./"
        assert client.get("/api/accounts").status_code == 200
        assert "agentgauge-csrf" not in client.get("/settings").text
    with users_server(auth="single", token=TOKEN) as running, running.client() as client:
        read, _ = keys.create(running.store, "deck", "read", None, datetime.now(UTC))
        assert client.get("/api/usage").status_code == 401
        assert client.get("/api/usage", headers=bearer(read)).status_code == 200  # keys work with a token too
        assert client.get("/api/accounts", headers=bearer(read)).status_code == 403
        assert client.post("/login", data={"token": TOKEN}).status_code == 303
        page = client.get("/")
        assert client.get("/api/me").json()["via"] == "token" and csrf_of(page.text)


def test_pages_in_chromium() -> None:
    """Setup through the page, the settings page per role, the dashboard's sign-out."""
    manager = users_server()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(manager.__enter__).result()
    try:
        with chromium() as browser:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(running.url + "/")
            assert page.url.endswith("/setup")
            page.fill("#code", running.setup_code or "")
            page.fill("#username", "ann")
            page.fill("#password", ADMIN_PW)
            page.fill("#password2", ADMIN_PW)
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert page.url.endswith("/settings")
            page.wait_for_selector("#accounts:not([hidden])")
            assert page.locator("#who").inner_text() == "ann · admin"
            page.fill("#user-name", "vic")
            page.fill("#user-password", VIEWER_PW)
            page.click("#user-form button")
            page.wait_for_selector('tr[data-user="vic"]')
            page.fill("#key-name", "deck")
            page.click("#key-form button")
            page.wait_for_selector("#new-key:not([hidden])")
            shown = page.locator("#new-key-text").inner_text()
            assert shown.startswith("agk_") and page.locator("#keys-table tr[data-key] td").first.inner_text() == "deck"
            page.reload()
            assert shown not in page.content()  # shown once
            page.goto(running.url + "/")
            page.wait_for_selector("#sign-out:not([hidden])")
            with page.expect_navigation(url="**/login"):
                page.click("#sign-out")
            page.fill("#username", "vic")
            page.fill("#password", VIEWER_PW)
            with page.expect_navigation():
                page.click("button[type=submit]")
            page.goto(running.url + "/settings")
            page.wait_for_selector("#keys:not([hidden])")
            assert page.locator("#accounts").is_hidden() and page.locator("#users").is_hidden()
            assert page.locator("#key-scope option").all_inner_texts() == ["read"]
            context.close()
            assert not errors, errors
    finally:
        manager.__exit__(None, None, None)


def test_a_database_outage_answers_503_then_recovers(cluster: Cluster) -> None:  # noqa: F811
    """Sessions and keys live in the database: while it is down, a request cannot be authenticated and
    is answered 503 with Retry-After (never a 500, never let through); once it is back, the same key works."""
    with users_server(database_url=cluster.url) as running:
        people.add(running.store, "ann", ADMIN_PW, "admin", datetime.now(UTC))
        key, _ = keys.create(running.store, "deck", "read", None, datetime.now(UTC))
        with httpx.Client(base_url=running.url, timeout=60) as client:
            assert client.get("/api/usage", headers=bearer(key)).status_code == 200
            cluster.stop("fast")
            try:
                down = client.get("/api/usage", headers=bearer(key))
                assert down.status_code == 503 and down.headers["retry-after"] == "5"
                assert "database is unavailable" in down.json()["error"] and key not in down.text
                assert client.get("/login").status_code == 503
            finally:
                cluster.start()
            statuses = []
            for _ in range(30):  # each try waits at most the pool's timeout for a fresh connection
                statuses.append(client.get("/api/usage", headers=bearer(key)).status_code)
                if statuses[-1] == 200:
                    break
            assert statuses[-1] == 200, statuses

"""``serve --root-path`` behind nginx, configured with the block docs/deploy.md gives (so the page
cannot drift): the sub-path redirect, the open ping, sign-in with the cookie scoped to the sub-path,
the dashboard and its assets, a cookie-authenticated change passing the Origin check through the
proxy, and Server-Sent Events arriving unbuffered."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "/gauge"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def documented_nginx_block() -> str:
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"```nginx\n(.*?)```", text, re.S)
    return block


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(the proxy's base URL, the token): serve on one loopback port, nginx on another."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.path.exists(nginx), "nginx is not installed (Debian: nginx-light; scripts/test installs it)"
    token = secrets.token_urlsafe(24)
    upstream, front = free_port(), free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "agentgauge", "serve", "--port", str(upstream), "--root-path", PREFIX],
        env={**os.environ, "AGENTGAUGE_SERVE_TOKEN": token, "AGENTGAUGE_STATUS_PAGES": "off"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    root = tmp_path / "nginx"
    (root / "logs").mkdir(parents=True)
    block = documented_nginx_block().replace("127.0.0.1:8777", f"127.0.0.1:{upstream}")
    (root / "nginx.conf").write_text(
        f"""daemon off;
pid {root}/nginx.pid;
error_log {root}/logs/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/body; proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi; uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{front};
        {block}
    }}
}}
"""
    )
    proxy = subprocess.Popen([nginx, "-p", str(root), "-c", str(root / "nginx.conf")], stderr=subprocess.PIPE)
    try:
        assert server.stderr is not None
        for line in server.stderr:  # serve prints this once it listens
            if "agentgauge dashboard:" in line:
                break
        else:
            raise AssertionError("serve exited before listening")
        deadline = time.monotonic() + 20
        while True:  # nginx has no readiness signal: its port accepts once it is up
            try:
                socket.create_connection(("127.0.0.1", front), timeout=1).close()
                break
            except OSError:
                assert proxy.poll() is None, proxy.stderr.read() if proxy.stderr else "nginx exited"
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{front}", token
    finally:
        for process in (proxy, server):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_dashboard_api_and_sign_in_under_a_sub_path_behind_nginx(proxied: tuple[str, str]) -> None:
    base, token = proxied
    with httpx.Client(base_url=base, timeout=10) as client:
        bare = client.get(PREFIX)
        assert bare.status_code == 301 and bare.headers["location"].endswith(f"{PREFIX}/")
        assert client.get(f"{PREFIX}/api/ping").json()["ok"] is True
        assert client.get(f"{PREFIX}/api/usage").status_code == 401
        to_login = client.get(f"{PREFIX}/")
        assert to_login.status_code == 303 and to_login.headers["location"] == f"{PREFIX}/login"

        signed_in = client.post(f"{PREFIX}/login", data={"token": token}, headers={"Origin": base})
        assert signed_in.status_code == 303, signed_in.text
        cookie = signed_in.headers["set-cookie"]
        assert f"Path={PREFIX}" in cookie and token not in cookie
        page = client.get(f"{PREFIX}/")
        assert page.status_code == 200 and 'href="static/app.css"' in page.text
        assert client.get(f"{PREFIX}/static/app.css").status_code == 200
        match = re.search(r'<meta name="agentgauge-csrf" content="([^"]+)">', page.text)
        assert match is not None

        # A change made with the cookie: the Origin must match the Host nginx passes on.
        refused = client.post(f"{PREFIX}/api/refresh", headers={"Origin": base})
        assert refused.status_code == 403
        refreshed = client.post(f"{PREFIX}/api/refresh", headers={"Origin": base, "X-AgentGauge-CSRF": match.group(1)})
        assert refreshed.status_code == 202, refreshed.text[:300]  # accepted: the refresh runs in the background
        foreign = client.post(
            f"{PREFIX}/api/refresh",
            headers={"Origin": "https://elsewhere.example", "X-AgentGauge-CSRF": match.group(1)},
        )
        assert foreign.status_code == 403


def test_events_stream_through_nginx_unbuffered(proxied: tuple[str, str]) -> None:
    base, token = proxied
    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=base, timeout=httpx.Timeout(10, read=10)) as client,
        client.stream("GET", f"{PREFIX}/api/events", headers=headers) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        # The first event is sent at once; a buffering proxy would hold it (the read would time out).
        lines = stream.iter_lines()
        assert next(line for line in lines if line.startswith("event:")) == "event: snapshot"

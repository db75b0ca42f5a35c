"""Debian's Firefox ESR driven over WebDriver BiDi (its built-in remote protocol; no geckodriver, no
downloaded browser), for the extension's Firefox build: a stdlib WebSocket client, the few BiDi
commands the test needs, and an HTTP CONNECT proxy that sends the providers' host names to the
HTTPS front (Firefox has no --host-resolver-rules)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
_OLD_DOCUMENT = "agentgaugeOldDocument"  # a marker set on a document about to be replaced
EXTENSION_UUID = "5b0e1c2d-3a4f-4b6c-8d9e-0f1a2b3c4d5e"  # moz-extension://<this>/ (pinned by a pref)
GECKO_ID = "agentgauge@agentgauge.dev"
PREFS: dict[str, Any] = {
    "extensions.webextensions.uuids": json.dumps({GECKO_ID: EXTENSION_UUID}),
    "network.proxy.type": 1,
    "network.proxy.allow_hijacking_localhost": False,  # the agentgauge server on 127.0.0.1 is reached directly
    "network.trr.mode": 5,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "app.update.enabled": False,
    "app.normandy.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "extensions.update.enabled": False,
    "browser.region.update.enabled": False,
    "browser.search.update": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "browser.shell.checkDefaultBrowser": False,
    "browser.aboutwelcome.enabled": False,
}


class WebSocket:
    """Just enough RFC 6455 for a local BiDi session: text frames, masked from the client."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the BiDi endpoint closed during the handshake")
            head += chunk
        status, self.buffer = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in status.split(b"\r\n", 1)[0]:
            raise ConnectionError(status.decode(errors="replace"))

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the BiDi endpoint closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text: str) -> None:
        self._frame(0x1, text.encode())

    def recv(self) -> str:
        parts: list[bytes] = []
        while True:
            first, second = self._exactly(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._exactly(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._exactly(8))[0]
            payload = self._exactly(size)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("the BiDi endpoint closed the session")
            if opcode == 0x9:
                self._frame(0xA, payload)
                continue
            if opcode in (0x0, 0x1):
                parts.append(payload)
                if first & 0x80:
                    return b"".join(parts).decode()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._frame(0x8, b"")
        self.sock.close()


class Bidi:
    """A BiDi session: commands answered by id (events, none subscribed, are set aside)."""

    def __init__(self, port: int) -> None:
        self.ws = WebSocket(port, "/session")
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if message.get("type") == "error":
                    raise RuntimeError(f"{method}: {message.get('error')}: {message.get('message')}")
                result: dict[str, Any] = message["result"]
                return result
            if message.get("type") == "event":
                self.events.append(message)

    def evaluate(self, context: str, expression: str) -> Any:
        """``expression`` in the page (promises awaited); its JSON-able value, or RuntimeError."""
        answer = self.call(
            "script.evaluate",
            {
                "expression": f"(async () => JSON.stringify(await ({expression})))()",
                "target": {"context": context},
                "awaitPromise": True,
            },
        )
        if answer["type"] != "success":
            raise RuntimeError(answer["exceptionDetails"]["text"])
        value = answer["result"].get("value")
        return json.loads(value) if isinstance(value, str) else None

    def content_context(self) -> str:
        return str(self.call("browsingContext.getTree")["contexts"][0]["context"])

    def open_privileged(self, url: str) -> str:
        """Load ``url`` (a moz-extension:// page, which BiDi's navigate refuses) in the tab through
        the browser window's own code, then wait for the new document: the tab's context."""
        tab = str(self.call("browsingContext.getTree")["contexts"][0]["context"])
        # The tab may already show ``url`` (an earlier test opened it): mark the old document, so
        # the wait below cannot mistake it for the new one while the load replaces it.
        with contextlib.suppress(RuntimeError):
            self.evaluate(tab, f"(window.{_OLD_DOCUMENT} = true)")
        chrome = self.call("browsingContext.getTree", {"moz:scope": "chrome"})["contexts"][0]["context"]
        load = (
            f"gBrowser.selectedBrowser.fixupAndLoadURIString({json.dumps(url)}, "
            "{triggeringPrincipal: Services.scriptSecurityManager.getSystemPrincipal()})"
        )
        self.call("script.evaluate", {"expression": load, "target": {"context": chrome}, "awaitPromise": False})
        # BiDi sends no load event for extension pages: poll until the tab holds the new document.
        ready = (
            f"location.href === {json.dumps(url)} && window.{_OLD_DOCUMENT} === undefined "
            "&& document.readyState === 'complete'"
        )
        deadline = time.monotonic() + 30
        while True:
            tab = str(self.call("browsingContext.getTree")["contexts"][0]["context"])
            try:
                if self.evaluate(tab, ready):
                    return tab
            except RuntimeError:
                pass  # the document was being replaced as the check ran
            assert time.monotonic() < deadline, f"{url} did not load"
            time.sleep(0.05)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("session.end")
        self.ws.close()


def until(condition: str, value: str = "true", timeout_ms: int = 30_000) -> str:
    """A JS promise that resolves with ``value`` once ``condition`` holds (checked as the page runs);
    on timeout it rejects with ``value`` as it then was, so a failure shows what the page showed."""
    return (
        f"new Promise((resolve, reject) => {{ const end = Date.now() + {timeout_ms}; const check = () => {{ "
        f"let ok = false; try {{ ok = ({condition}); }} catch (e) {{}} "
        f"if (ok) resolve({value}); "
        "else if (Date.now() > end) { let seen; try { seen = JSON.stringify(" + value + "); } "
        "catch (e) { seen = String(e); } "
        f"reject(new Error('timed out: ' + {json.dumps(condition)} + ' (showing ' + seen + ')')); }} "
        "else setTimeout(check, 100); }; check(); })"
    )


class _Tunnel(BaseHTTPRequestHandler):
    """An HTTP proxy that only tunnels (CONNECT) the providers' host names to the HTTPS front."""

    server: Any

    def log_message(self, *args: Any) -> None:
        pass

    def do_CONNECT(self) -> None:
        host = self.path.rsplit(":", 1)[0].lower()
        if host not in self.server.hosts:
            self.send_error(403)
            return
        upstream = socket.create_connection(("127.0.0.1", self.server.front_port), timeout=30)
        self.send_response(200, "Connection Established")
        self.end_headers()
        sockets = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], 30)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()

    def do_GET(self) -> None:
        self.send_error(403)  # plain http to the outside: nothing here needs it


@contextlib.contextmanager
def tunnel(front_port: int, hosts: tuple[str, ...]) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tunnel)
    server.front_port = front_port  # type: ignore[attr-defined]
    server.hosts = set(hosts)  # type: ignore[attr-defined]
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def firefox(proxy_port: int) -> Iterator[Bidi]:
    """Headless Firefox ESR with a fresh profile behind ``proxy_port``, and a BiDi session on it that
    accepts the front's self-signed certificate."""
    assert FIREFOX, "firefox-esr is part of the test tooling (scripts/test installs it)"
    profile = Path(tempfile.mkdtemp(prefix="agentgauge-firefox-"))
    prefs = {
        **PREFS,
        "network.proxy.http": "127.0.0.1",
        "network.proxy.http_port": proxy_port,
        "network.proxy.ssl": "127.0.0.1",
        "network.proxy.ssl_port": proxy_port,
    }
    (profile / "user.js").write_text(
        "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items()), encoding="utf-8"
    )
    proc = subprocess.Popen(
        [
            FIREFOX,
            "--headless",
            "--no-remote",
            "--profile",
            str(profile),
            "--remote-debugging-port=0",
            "--remote-allow-system-access",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1"},
    )
    session: Bidi | None = None
    try:
        assert proc.stderr is not None
        port = None
        for line in proc.stderr:  # Firefox says where it listens once it does
            found = re.search(rb"WebDriver BiDi listening on ws://127\.0\.0\.1:(\d+)", line)
            if found:
                port = int(found.group(1))
                break
        assert port, "Firefox did not start its BiDi endpoint"
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe drained
        session = Bidi(port)
        session.call("session.new", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}})
        yield session
    finally:
        if session is not None:
            session.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)

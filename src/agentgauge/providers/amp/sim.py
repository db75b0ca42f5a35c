"""The simulator's amp endpoints (the balance API, the settings page and its free-tier remote query)
and the demo's stand-in ``amp`` CLI, which prints the balance API's display text as the real
``amp usage`` does."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import BALANCE_PATH, BALANCE_QUERY, PROVIDER, REMOTE_PATH, SESSION_COOKIE, SETTINGS_PATH

FAKE_CLI = '''#!{python} -IS
"""A stand-in amp CLI written by agentgauge's demo: `amp usage` prints the simulator's display text."""
import json, socket, sys
sys.stdout.reconfigure(encoding="utf-8")
def call(method, url, body=None, headers=()):
    """One HTTP/1.1 request to the simulator over a plain socket (urllib takes longer to import
    than this script takes to run)."""
    hostport, _, path = url.split("://", 1)[1].partition("/")
    host, _, port = hostport.partition(":")
    payload = json.dumps(body).encode() if body is not None else b""
    head = [method + " /" + path + " HTTP/1.1", "Host: " + hostport, "Connection: close"]
    head += ["Content-Length: %d" % len(payload), *headers]
    with socket.create_connection((host, int(port or 80)), timeout=10) as conn:
        conn.sendall(("\\r\\n".join(head) + "\\r\\n\\r\\n").encode() + payload)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\\r\\n")
    return int(status_line.split()[1]), rest.partition(b"\\r\\n\\r\\n")[2]
if sys.argv[1:] != ["usage"]:
    print("error: this demo amp only answers: amp usage", file=sys.stderr)
    sys.exit(2)
try:
    headers = ["Authorization: Bearer " + {token!r}, "Content-Type: application/json"]
    status, content = call("POST", {url!r}, {{"method": "userDisplayBalanceInfo", "params": {{}}}}, headers)
except OSError as exc:
    print("Error: " + type(exc).__name__, file=sys.stderr)
    sys.exit(1)
if status != 200:
    print("Error: not signed in; run amp login" if status == 401 else "Error: HTTP %d" % status, file=sys.stderr)
    sys.exit(1)
text = json.loads(content)["result"]["displayText"]
first, _, rest = text.partition("\\n")
print("\\x1b[2m" + first + "\\x1b[0m")
print(rest)
'''


def display_text(sim: SimContext, account: str) -> str:
    free, _ = sim.window(f"amp:{account}:free", 86400, high=95)
    other, renewal = sim.window(f"amp:{account}:other", 30 * 86400, high=85)
    orb, _ = sim.window(f"amp:{account}:orb", 30 * 86400, high=40)
    days = max(1, int((renewal - sim.now()).total_seconds() // 86400))
    credits = round(40 - 0.35 * other, 2)
    return "\n".join(
        [
            f"Signed in as demo@example.com ({account})",
            f"Amp Free: {round(100 - free)}% remaining today (resets daily) - https://ampcode.com/settings#amp-free",
            f"Amp Gigawatt Subscription: {round(100 - other)}% other usage and {round(100 - orb)}% orb usage "
            f"remaining - resets upon renewal in {days} days",
            f"Individual credits: ${credits:.2f} remaining (set up auto-reload to avoid running out) - "
            "https://ampcode.com/settings",
            "Workspace demo: $1,204.50 remaining (set up auto-reload to avoid running out) - "
            "https://ampcode.com/workspaces/demo",
        ]
    )


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def balance(request: Request) -> Response:
        if BALANCE_QUERY not in request.url.query.split("&"):
            return JSONResponse({"ok": False, "error": {"code": "not-found", "message": "Not found"}}, status_code=404)
        account = sim.bearer_account(request, PROVIDER.id, "api_key")
        if account is None:
            error = {"code": "auth-required", "message": "You must be signed in to do that."}
            return JSONResponse({"ok": False, "error": error}, status_code=401)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict) or body.get("method") != BALANCE_QUERY:
            error = {"code": "invalid-request", "message": "Unknown method"}
            return JSONResponse({"ok": False, "error": error}, status_code=400)
        return JSONResponse({"ok": True, "result": {"displayText": display_text(sim, account)}})

    async def settings(request: Request) -> Response:
        presented = request.cookies.get(SESSION_COOKIE)
        account = sim.account_of(PROVIDER.id, "cookie", f"{SESSION_COOKIE}={presented}" if presented else None)
        if account is None:
            return RedirectResponse("/auth/sign-in?returnTo=%2Fsettings", status_code=302)
        used, _ = sim.window(f"amp:{account}:free", 86400, high=95)
        data = f'{{bucket:"ubi",quota:1000,hourlyReplenishment:42,windowHours:24,used:{round(used * 10, 1)}}}'
        credits = round(40 - 0.3 * sim.window(f"amp:{account}:other", 30 * 86400, high=85)[0], 2)
        page = (
            "<!doctype html><html><head><title>Settings | Amp</title></head><body><div id=app>"
            '<section><h2>Balance</h2><p><span class="break-all font-mono text-2xl">'
            f'{credits:.2f}</span> <span class="text-muted">USD</span></p></section></div>'
            f'<script>__sveltekit_x.data = {{user:{{username:"{account}"}},\n"a1b2c3/getFreeTierUsage/":{data}}};'
            "</script></body></html>"
        )
        return HTMLResponse(page)

    async def free_tier(request: Request) -> Response:
        """The settings page's SvelteKit remote query: JSON around a devalue string, read by key."""
        if request.headers.get("x-sveltekit-pathname") != SETTINGS_PATH:
            return JSONResponse({"type": "error", "status": 400, "error": {"message": "Bad request"}}, status_code=400)
        presented = request.cookies.get(SESSION_COOKIE)
        if not presented:
            return JSONResponse({"type": "error", "status": 401, "error": {"message": "Unauthorized"}}, status_code=401)
        account = sim.account_of(PROVIDER.id, "cookie", f"{SESSION_COOKIE}={presented}")
        if account is None:  # a session SvelteKit no longer knows: the query redirects to sign-in
            return JSONResponse({"type": "redirect", "location": "/auth/sign-in?returnTo=%2Fsettings"})
        used, _ = sim.window(f"amp:{account}:free", 86400, high=95)
        # The current shape (no windowHours since 2026-02), keys in an order a positional decoder would miss.
        flat = [
            {"bucket": 1, "validProviderModels": 2, "used": 3, "quota": 4, "hourlyReplenishment": 5},
            "ubi",
            "all",
            round(used * 10, 1),
            1000,
            42,
        ]
        return JSONResponse({"type": "result", "result": orjson.dumps(flat).decode()})

    return {
        "url": [
            Route(BALANCE_PATH, balance, methods=["POST"]),
            Route(SETTINGS_PATH, settings),
            Route(REMOTE_PATH, free_tier),
        ]
    }


def write_cli(folder: Path, name: str, script: str) -> str:
    """``script`` as an executable ``name`` (POSIX) plus a ``name.cmd`` wrapper (Windows); the path
    this platform runs."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(script, encoding="utf-8")
    path.chmod(0o755)
    wrapper = folder / f"{name}.cmd"
    wrapper.write_text(f'@"{sys.executable}" -IS "%~dp0{name}" %*\r\n', encoding="utf-8")
    return str(wrapper if sys.platform == "win32" else path)


def demo_settings(sim_url: str, workdir: Path) -> dict[str, str]:
    script = FAKE_CLI.format(
        python=sys.executable,
        url=f"{sim_url}/amp/url{BALANCE_PATH}?{BALANCE_QUERY}",
        token=PROVIDER.sim_credentials["api_key"],
    )
    return {"cli": write_cli(workdir / "bin", "amp", script)}

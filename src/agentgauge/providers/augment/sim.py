"""The simulator's augment endpoints (credits, subscription and the NextAuth-style session
endpoint that renews the cookie) and the demo's stand-in ``auggie`` CLI, which prints the current
``auggie account status`` panel from the simulator's credits."""

from __future__ import annotations

import email.utils
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import CREDITS_PATH, PROVIDER, SUBSCRIPTION_PATH

SESSION_PATH = "/api/auth/session"
SESSION_COOKIE = "_session"
SESSION_SECONDS = 3600  # the renewed cookie's Max-Age
ALLOWANCE = 450_000

FAKE_CLI = '''#!{python} -IS
"""A stand-in auggie written by agentgauge's demo: `auggie account status` prints the current
panel, built from the simulator's credits."""
import json, socket, sys
from datetime import datetime
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
if sys.argv[1:] != ["account", "status"]:
    print("error: this demo auggie only answers: account status", file=sys.stderr)
    sys.exit(2)
answers = []
for path in ("/api/credits", "/api/subscription"):
    status, content = call("GET", {base!r} + path, None, ["Cookie: " + {cookie!r}, "Accept: application/json"])
    if status == 401:
        print("Authentication failed. Please run 'auggie login' to sign in again.", file=sys.stderr)
        sys.exit(1)
    if status != 200:
        print("Error: HTTP %d" % status, file=sys.stderr)
        sys.exit(1)
    answers.append(json.loads(content))
credits, subscription = answers
ends = datetime.fromisoformat(subscription["billingPeriodEnd"].replace("Z", "+00:00"))
days = max(0, (ends - datetime.now(ends.tzinfo)).days)
left = "{{:,}} credits remaining".format(int(credits["usageUnitsRemaining"]))
plan = subscription["planName"]
month = "{{:,}} credits / month".format(int(credits["usageUnitsAvailable"]))
width = 56
print("\\u256d\\u2500 Account " + "\\u2500" * (width - 10) + "\\u256e")
print("\\u2502" + " " * width + "\\u2502")
print("\\u2502 " + left + " " * (width - 2 - len(left) - len(plan)) + plan + " \\u2502")
print("\\u2502 " + " " * (width - 2 - len(month)) + month + " \\u2502")
print("\\u2502" + " " * width + "\\u2502")
print("\\u2570" + "\\u2500" * width + "\\u256f")
print()
print(" %d days remaining in this billing cycle (ends %d/%d/%d)" % (days, ends.month, ends.day, ends.year))
print(" For more detail, visit https://app.augmentcode.com/account")
'''


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> str | None:
        presented = request.cookies.get(SESSION_COOKIE)
        return sim.account_of(PROVIDER.id, "cookie", f"{SESSION_COOKIE}={presented}" if presented else None)

    def unauthorized() -> Response:
        return JSONResponse({"error": "Unauthorized"}, status_code=401)

    async def credits(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return unauthorized()
        pct, _ = sim.window(f"augment:{account}:credits", 30 * 86400, high=90)
        used = round(ALLOWANCE * pct / 100)
        return JSONResponse(
            {
                "usageUnitsRemaining": ALLOWANCE - used,
                "usageUnitsConsumedThisBillingCycle": used,
                "usageUnitsAvailable": ALLOWANCE,
                "usageBalanceStatus": "active",
            }
        )

    async def subscription(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return unauthorized()
        _, reset = sim.window(f"augment:{account}:credits", 30 * 86400, high=90)
        return JSONResponse(
            {
                "planName": "Max Plan",
                "billingPeriodEnd": iso(reset),
                "email": f"{account}@example.com",
                "organization": None,
            }
        )

    async def session(request: Request) -> Response:
        """Like NextAuth: the session (or ``{}`` when there is none) and the cookie renewed."""
        account = account_of(request)
        if account is None:
            return JSONResponse({})
        expires = sim.now() + timedelta(seconds=SESSION_SECONDS)
        response = JSONResponse({"user": {"email": f"{account}@example.com"}, "expires": iso(expires)})
        response.set_cookie(
            SESSION_COOKIE,
            request.cookies[SESSION_COOKIE],
            max_age=SESSION_SECONDS,
            expires=email.utils.format_datetime(expires, usegmt=True),
            path="/",
            secure=True,
            httponly=True,
            samesite="lax",
        )
        return response

    return {
        "url": [
            Route(CREDITS_PATH, credits),
            Route(SUBSCRIPTION_PATH, subscription),
            Route(SESSION_PATH, session),
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
        python=sys.executable, base=f"{sim_url}/augment/url", cookie=PROVIDER.sim_credentials["cookie"]
    )
    return {"cli": write_cli(workdir / "bin", "auggie", script)}

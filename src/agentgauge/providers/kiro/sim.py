"""The simulator's kiro endpoint (CodeWhisperer ``GetUsageLimits``) and the demo's stand-in kiro-cli.

``demo_settings`` writes a small ``kiro-cli`` script that answers ``chat --no-interactive /usage``
like the real CLI: it asks the simulator's GetUsageLimits (the service the real CLI asks) and
prints the report in the current format, ANSI and all. Beside it goes a kiro-cli state database
holding the simulator's token and profile, for the provider's own GetUsageLimits call.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import CONTENT_TYPE, PROFILE_KEY, STATE_DB, TARGET, TOKEN_KEY

SIM_TOKEN = "sim-kiro-access-token"
SIM_ARN = "arn:aws:codewhisperer:us-east-1:000000000000:profile/SIMPROFILE"
PLAN_LIMIT = 10000.0

FAKE_CLI = '''#!{python} -IS
"""A stand-in kiro-cli written by agentgauge's demo: `chat --no-interactive /usage` prints the
current report, built from the simulator's GetUsageLimits as the real CLI builds it."""
import json, socket, sys
from datetime import datetime, timezone
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
if sys.argv[1:] != ["chat", "--no-interactive", "/usage"]:
    print("error: this demo kiro-cli only answers: chat --no-interactive /usage", file=sys.stderr)
    sys.exit(2)
headers = ["Authorization: Bearer " + {token!r}, "Content-Type: " + {content_type!r}, "X-Amz-Target: " + {target!r}]
try:
    status, content = call("POST", {url!r}, {{"profileArn": {arn!r}}}, headers)
    if status != 200:
        raise RuntimeError("HTTP %d" % status)
    data = json.loads(content)
    credit = [e for e in data["usageBreakdownList"] if e["resourceType"] == "CREDIT"][0]
except Exception as exc:
    print("\\x1b[38;5;11m\\u26a0\\ufe0f  Warning: Could not retrieve usage information from backend")
    print("\\x1b[38;5;8mError: dispatch failure (" + str(exc) + ")\\x1b[0m")
    sys.exit(0)
overage = credit.get("currentOveragesWithPrecision", 0)
used = credit["currentUsageWithPrecision"] - overage
limit = credit["usageLimitWithPrecision"]
reset = datetime.fromtimestamp(data["nextDateReset"], timezone.utc).strftime("%Y-%m-%d")
plan = data["subscriptionInfo"]["subscriptionTitle"]
print("\\x1b[1mEstimated Usage\\x1b[0m | resets on " + reset + " | \\x1b[m" + plan + "\\x1b[0m")
print()
print("\\x1b[1mCredits\\x1b[0m (%.2f of %d covered in plan)" % (used, limit))
print("\\u2588" * 80 + " %d%%" % int(used / limit * 100))
print()
if data["overageConfiguration"]["overageStatus"] == "ENABLED":
    print("Overages: \\x1b[1mEnabled\\x1b[0m billed at $%.2f per request" % credit["overageRate"])
    print("Credits used: %.2f" % overage)
    print("Est. cost: $%.2f USD" % credit["overageCharges"])
else:
    print("Overages: \\x1b[1mDisabled\\x1b[0m")
print()
print("To manage your plan or configure overages navigate to https://app.kiro.dev/account/usage")
'''


def _aws_error(kind: str, message: str, status: int) -> Response:
    body = {"__type": f"com.amazon.aws.codewhisperer#{kind}", "message": message}
    return JSONResponse(body, status_code=status, media_type=CONTENT_TYPE)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def usage_limits(request: Request) -> Response:
        if request.headers.get("x-amz-target") != TARGET:
            return _aws_error("UnknownOperationException", "Unknown operation", 400)
        if request.headers.get("authorization") != f"Bearer {SIM_TOKEN}":
            return _aws_error("AccessDeniedException", "The bearer token included in the request is invalid.", 403)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _aws_error("SerializationException", "Malformed request body", 400)
        if not isinstance(body, dict) or body.get("profileArn") != SIM_ARN:
            return _aws_error("ValidationException", "Improperly formed request.", 400)
        plan_pct, reset = sim.window("kiro:default:monthly", 30 * 86400, high=99)
        overage_pct, _ = sim.window("kiro:default:overage", 30 * 86400, low=0, high=12)
        plan_used = round(PLAN_LIMIT * plan_pct / 100, 2)
        overage = round(PLAN_LIMIT * overage_pct / 100, 2)
        reset_epoch = float(int(reset.timestamp()))
        entry = {
            "bonuses": [],
            "currency": "USD",
            "currentOverages": int(overage),
            "currentOveragesWithPrecision": overage,
            "currentUsage": int(plan_used + overage),
            "currentUsageWithPrecision": round(plan_used + overage, 2),
            "displayName": "Credit",
            "nextDateReset": reset_epoch,
            "overageCap": int(PLAN_LIMIT),
            "overageCapWithPrecision": PLAN_LIMIT,
            "overageCharges": round(overage * 0.04, 6),
            "overageCredits": [],
            "overageRate": 0.04,
            "resourceType": "CREDIT",
            "unit": "INVOCATIONS",
            "usageLimit": int(PLAN_LIMIT),
            "usageLimitWithPrecision": PLAN_LIMIT,
        }
        days = max(0, int((reset - sim.now()).total_seconds() // 86400))
        return JSONResponse(
            {
                "daysUntilReset": days,
                "limits": [],
                "nextDateReset": reset_epoch,
                "overageConfiguration": {
                    "__type": "com.amazon.aws.codewhisperer#OverageConfiguration",
                    "overageStatus": "ENABLED",
                },
                "subscriptionInfo": {
                    "overageCapability": "OVERAGE_CAPABLE",
                    "subscriptionTitle": "KIRO POWER",
                    "type": "Q_DEVELOPER_STANDALONE_POWER",
                },
                "usageBreakdownList": [entry],
            },
            media_type=CONTENT_TYPE,
        )

    return {"url": [Route("/", usage_limits, methods=["POST"])]}


def write_state(database: Path, token: str, arn: str) -> None:
    """A kiro-cli state database with the tables and keys the provider reads."""
    database.unlink(missing_ok=True)
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE auth_kv (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB)")
        expires = datetime.now(UTC).replace(microsecond=0).isoformat()
        token_json = orjson.dumps({"access_token": token, "refresh_token": "sim-refresh", "expires_at": expires})
        db.execute("INSERT INTO auth_kv VALUES (?, ?)", (TOKEN_KEY, token_json.decode()))
        db.execute("INSERT INTO state VALUES (?, ?)", (PROFILE_KEY, orjson.dumps({"arn": arn, "profile_name": "sim"})))
    db.close()


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
    data_dir = workdir / "kiro-cli-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    write_state(data_dir / STATE_DB, SIM_TOKEN, SIM_ARN)
    script = FAKE_CLI.format(
        python=sys.executable,
        url=f"{sim_url}/kiro/url/",
        arn=SIM_ARN,
        token=SIM_TOKEN,
        content_type=CONTENT_TYPE,
        target=TARGET,
    )
    return {"cli": write_cli(workdir / "bin", "kiro-cli", script), "data_dir": str(data_dir)}

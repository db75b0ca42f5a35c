"""``agentgauge doctor --bundle PROVIDER``: a redacted fixture a user can attach to a bug report.

It holds what the provider's endpoint answered (fetched now when the account's gate is open, else
the copy kept from the last parse failure), what agentgauge made of it, and the versions, with
every credential, every recognisable part of one and every secret-looking key masked. Nothing in
it can sign anyone in; tests check that with sentinel credentials the upstream echoes back.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from . import __version__
from .accounts import Target
from .engine import Engine
from .errors import AgentGaugeError, ConfigError
from .secret import redact, scrub

SCHEMA = "agentgauge.bundle.v1"


async def capture(engine: Engine, target: Target) -> dict[str, Any]:
    """The bundle of one account as a JSON-ready dict (every value already redacted)."""
    provider = target.provider
    result = await engine.capture(target)
    secrets = result.secrets
    raw = result.raw
    stored = None
    state = await _state(engine, target)
    if state is not None and state.last_raw:
        stored = orjson.loads(scrub(state.last_raw, secrets))
    body: dict[str, Any] = {
        "schema": SCHEMA,
        "agentgauge": __version__,
        "python": platform.python_version(),
        "platform": platform.system(),
        "created_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "provider": provider.id,
        "account": target.account.account,
        "source": result.source,
        "fetched": raw is not None,
        "note": result.note,
        "raw": redact(raw, extra_keys=provider.redact_keys) if raw is not None else None,
        "last_failed_raw": stored,
        "parsed": result.parsed,
        "error": result.error,
    }
    # Last line of defence: any credential value or part of one that survived redaction goes too.
    text = scrub(orjson.dumps(body, default=str).decode(), secrets)
    data: dict[str, Any] = orjson.loads(text)
    return data


async def _state(engine: Engine, target: Target) -> Any:
    import asyncio

    try:
        return await asyncio.to_thread(engine.store.state, target.provider.id, target.account.account)
    except AgentGaugeError:
        return None


def write(data: dict[str, Any], folder: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"agentgauge-bundle-{data['provider']}-{data['account']}-{stamp}.json"
    try:
        path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror}", hint="Run it from a folder you can write to."
        ) from None
    return path

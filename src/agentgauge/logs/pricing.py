"""Token prices, offline: genai-prices' bundled snapshot plus a small table for what it lacks.

Rates are resolved once per model and cached in the store (``log_prices``), so a warm report
never imports genai-prices (its data takes ~0.14 s to load). All costs are estimates.

Gaps filled here, as data:
- 1-hour cache writes: genai-prices has ``cache_write_1h_mtok`` for current Anthropic models
  (its ``calc_price`` cannot take the split, so we apply the rates ourselves). When a model lacks
  it we bill 1-hour writes at 2x base input, Anthropic's published rule.
- ``speed: "fast"``: ccusage appends ``-fast`` to the model; we do the same and multiply the
  model's rates by ``FAST_MULTIPLIER`` (Anthropic's fast-mode price for Claude Opus 4.6 is 6x the
  standard rate: $30/$150 per MTok). A fast model not in the table has an unknown cost.
- Long context: genai-prices applies the tier to the *whole request* when its total input exceeds
  the threshold (Anthropic's rule); entries carry a ``long_ctx`` flag for input above 200k.

Which price list applies (``price_provider``): each agent's own provider (Claude Code: Anthropic,
Codex: OpenAI, Gemini CLI: Google, Grok Build: xAI); agents that call many providers (OpenCode,
Amp, ...) let genai-prices find the model's provider by its name ("auto"). Claude Code entries
that went through Google Vertex AI (a model with ``@`` as the version separator,
``claude-opus-4-5@20251101``, or marked ``vertexai/`` by the reader when the line's metadata names
Vertex) are priced at Vertex's list prices and reported as ``vertexai``; Bedrock model ids
(``anthropic.claude-...``, ``us.anthropic.claude-...``, an inference-profile ARN) at Bedrock's and
reported as ``bedrock`` (``route``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

import orjson

from ..store import Store, Transaction
from . import cloud

SOURCE = "genai-prices (bundled snapshot, offline)"
FAST_MULTIPLIER: dict[str, float] = {"claude-opus-4-6": 6.0}
ONE_HOUR_WRITE_FACTOR = 2.0  # x base input, when the price data has no 1-hour cache-write rate
# genai-prices provider of each agent's models; an agent not listed uses "auto" (found by model name).
PROVIDER = {"claude": "anthropic", "codex": "openai", "gemini": "google", "grok": "x-ai"}
AUTO = "auto"
VERTEX_PREFIX = cloud.VERTEX
# A Bedrock model id (``anthropic.claude-...``, with a region prefix ``us.``/``eu.``/``global.``...,
# or an inference-profile ARN ending with one) or the Claude reader's ``bedrock/`` mark.
_BEDROCK = re.compile(r"^(?:bedrock/|(?:arn:aws[^/]*:bedrock:.*/)?(?:[a-z]{2,6}(?:-gov)?\.)?anthropic\.)")
# Vendor prefixes a multi-provider agent may put before a model id, and genai-prices' provider ids.
_VENDOR = {
    "anthropic": "anthropic",
    "openai": "openai",
    "google": "google",
    "gemini": "google",
    "vertex_ai": "google",
    "xai": "x-ai",
    "x-ai": "x-ai",
    "deepseek": "deepseek",
    "moonshotai": "moonshotai",
    "moonshot": "moonshotai",
    "mistral": "mistral",
    "zai": "zai",
    "z-ai": "zai",
}


def route(agent: str, model: str) -> str:
    """The agent an entry is reported under: Claude Code's calls through Vertex AI or Bedrock are
    reported as ``vertexai`` / ``bedrock``; every other entry under its own agent."""
    if agent == "claude":
        if "@" in model or model.startswith(cloud.VERTEX):
            return "vertexai"
        if _BEDROCK.match(model):
            return "bedrock"
    return agent


def price_provider(agent: str, model: str) -> str:
    """The genai-prices provider whose list prices apply to ``model`` logged by ``agent``."""
    reported = route(agent, model)
    if reported == "vertexai":
        return "google"
    if reported == "bedrock":
        return "aws"
    return PROVIDER.get(agent, AUTO)


# Rates per token: base input, cache write (5 min), cache write (1 h), cache read, output; then the
# same five above the long-context threshold.
Rates = tuple[float, ...]


def _split(value: Any) -> tuple[float | None, float | None]:
    """(base, long-context) price per MTok from a genai-prices value (Decimal or TieredPrices)."""
    if value is None:
        return None, None
    base = getattr(value, "base", value)
    tiers = getattr(value, "tiers", None) or []
    tier = next((t.price for t in tiers if t.start == 200_000), None)
    return float(base), float(tier if tier is not None else base)


class Resolver:
    """A forked process that resolves models' rates once told which (a cold index build: loading
    genai-prices costs ~0.15 s of CPU, which then runs on a core the index workers left idle
    while the parent builds the key index and commits; the report finds every rate cached). It
    is forked before the build grows the parent's memory, so the parent's writes copy few pages."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        to_child, self._send = os.pipe()
        self._recv, from_child = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                os.close(self._send)
                os.close(self._recv)
                with open(to_child, "rb") as f:
                    wanted = orjson.loads(f.read() or b"[]")
                data = orjson.dumps([resolve(m, provider) for m in wanted]) if wanted else b""
                with open(from_child, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(to_child)
        os.close(from_child)
        self.wanted: list[str] = []
        self._sent = False

    def send(self, models: Iterable[str]) -> None:
        """Start resolving ``models`` (call once; an empty set ends the child)."""
        self.wanted = sorted(models)
        self._sent = True
        with open(self._send, "wb") as f:
            f.write(orjson.dumps(self.wanted))

    def collect(self, store: Store | None) -> None:
        """Save the rates found (``store`` None: just end the child); on any failure save nothing
        (the report then resolves the models itself)."""
        if self.pid <= 0:
            return
        if not self._sent:
            os.close(self._send)  # the child reads an empty list and ends
            self._sent = True
        with open(self._recv, "rb") as f:
            data = f.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if store is None or status != 0 or not data or not self.wanted:
            return
        found = orjson.loads(data)
        _save(store, [(self.provider, m, tuple(v) if v else None) for m, v in zip(self.wanted, found, strict=True)])


def _save(store: Store, new: list[tuple[str, str, Rates | None]]) -> None:
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO log_prices (provider, model, source, rates) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (provider, model) DO NOTHING",
            [(p, m, SOURCE, orjson.dumps(r).decode() if r else None) for p, m, r in new],
        )


def cached_models(conn: Transaction, store: Store, provider: str) -> set[str]:
    """Models with a cached rate (``conn``: inside the caller's transaction)."""
    return {m for (m,) in conn.execute("SELECT model FROM log_prices WHERE provider = ?", (provider,)).fetchall()}


def _candidates(model: str, provider: str) -> list[tuple[str, str | None]]:
    """(model ref, provider id) to try in genai-prices, best first."""
    if provider == "google" and model.startswith(VERTEX_PREFIX):
        return [(model[len(VERTEX_PREFIX) :], "google")]
    if provider == "aws":
        return [(model.rsplit("/", 1)[-1], "aws")]  # an inference-profile ARN ends with the model id
    if provider != AUTO:
        return [(model, provider)]
    out: list[tuple[str, str | None]] = [(model, None)]
    parts = model.split("/")
    if len(parts) > 1:  # "anthropic/claude-sonnet-4-5", "openrouter/google/gemini-2.5-pro"
        vendor = next((_VENDOR[p.lower()] for p in parts[:-1] if p.lower() in _VENDOR), None)
        out += [(parts[-1], vendor), (parts[-1], None)]
    return out


def resolve(model: str, provider: str) -> Rates | None:
    """Look a model up in genai-prices; None when it is unknown (its cost is then shown as unknown)."""
    from genai_prices import Usage, calc_price

    base_model, multiplier = model, 1.0
    if model.endswith("-fast") and "claude" in model:  # Anthropic's fast mode; "grok-4-fast" is a model
        base_model = model[: -len("-fast")]
        fast = base_model.rsplit("/", 1)[-1].split("@")[0]
        if fast not in FAST_MULTIPLIER:
            return None
        multiplier = FAST_MULTIPLIER[fast]
    price = None
    for ref, provider_id in _candidates(base_model, provider):
        try:
            price = calc_price(Usage(input_tokens=1), model_ref=ref, provider_id=provider_id).model_price
            break
        except (LookupError, ValueError):
            continue
    if price is None:
        return None
    inp, inp_t = _split(price.input_mtok)
    out, out_t = _split(price.output_mtok)
    if inp is None or out is None or inp_t is None or out_t is None:
        return None
    cw, cw_t = _split(price.cache_write_mtok)
    cr, cr_t = _split(price.cache_read_mtok)
    c1, c1_t = _split(getattr(price, "cache_write_1h_mtok", None))
    base = (
        inp,
        cw if cw is not None else inp,
        c1 if c1 is not None else inp * ONE_HOUR_WRITE_FACTOR,
        cr if cr is not None else inp,
        out,
    )
    long = (
        inp_t,
        cw_t if cw_t is not None else inp_t,
        c1_t if c1_t is not None else inp_t * ONE_HOUR_WRITE_FACTOR,
        cr_t if cr_t is not None else inp_t,
        out_t,
    )
    return tuple(v * multiplier / 1e6 for v in (*base, *long))


def rates(
    store: Store, pairs: Iterable[tuple[str, str]], *, reprice: bool = False
) -> dict[tuple[str, str], Rates | None]:
    """Rates for (agent, model) pairs, from the store's cache; unseen models are resolved and saved."""
    pairs = set(pairs)
    wanted = {(price_provider(agent, model), model) for agent, model in pairs}
    with store.transaction() as conn:
        if reprice:
            conn.execute("DELETE FROM log_prices")
        cached = {(p, m): r for p, m, r in conn.execute("SELECT provider, model, rates FROM log_prices").fetchall()}
    found: dict[tuple[str, str], Rates | None] = {}
    missing = []
    for key in wanted:
        if key in cached:
            found[key] = tuple(orjson.loads(cached[key])) if cached[key] else None
        else:
            missing.append(key)
    if missing:
        new = [(p, m, resolve(m, p)) for p, m in missing]
        _save(store, new)
        found.update({(p, m): r for p, m, r in new})
    return {(agent, model): found[(price_provider(agent, model), model)] for agent, model in pairs}


def cost(
    r: Rates | None, long_ctx: int, inp: int, out: int, cache_write: int, cache_write_1h: int, cache_read: int
) -> float | None:
    """USD for one group of tokens (``cache_write`` includes the 1-hour part); None if unpriced."""
    if r is None:
        return None
    o = 5 if long_ctx else 0
    return (
        inp * r[o]
        + (cache_write - cache_write_1h) * r[o + 1]
        + cache_write_1h * r[o + 2]
        + cache_read * r[o + 3]
        + out * r[o + 4]
    )

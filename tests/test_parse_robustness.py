"""Every parser is defensive about every field: mutated upstream payloads (keys dropped, values
nulled, numbers as strings, wrong types, odd numbers) give a Usage or a typed ProviderError,
never any other exception. Built from every JSON sample, so new samples are covered too."""

from __future__ import annotations

import copy
import fnmatch
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgauge.errors import ProviderError
from agentgauge.models import Usage
from agentgauge.providers import registry

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


# Every JSON fixture that a provider's declared samples cover, with the wrapping its fetch applies.
def _cases() -> list[tuple[str, str]]:
    out = []
    for provider in registry.all_providers():
        folder = FIXTURES / provider.id
        for sample in provider.samples:
            if sample.format != "json":
                continue
            out += [(provider.id, f.name) for f in sorted(folder.glob(sample.glob))]
    return out


def _sample(provider_id: str, name: str):  # type: ignore[no-untyped-def]
    provider = registry.get(provider_id)
    return next(s for s in provider.samples if fnmatch.fnmatch(name, s.glob))


CASES = _cases()

ODD_VALUES = st.one_of(
    st.none(),
    st.just(""),
    st.just("n/a"),
    st.just("0E-10"),
    st.just("1e400"),
    st.just(-1),
    st.just(1e20),
    st.just(float("nan")),
    st.just(True),
    st.just([]),
    st.just({}),
    st.just([None, 1, "x"]),
    st.just("2026-13-45T99:00:00Z"),
    st.just("1785816000000"),
    st.just(10**18),
    st.text(max_size=8),
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def mutate(payload: Any, path: tuple, action: str, odd: Any) -> Any:
    if not path:
        return odd if action == "replace" else payload
    data = copy.deepcopy(payload)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if action == "drop" and isinstance(parent, dict):
        del parent[last]
    elif action == "stringify" and isinstance(parent[last], int | float) and not isinstance(parent[last], bool):
        parent[last] = str(parent[last])
    else:
        parent[last] = odd
    return data


@given(
    case=st.sampled_from(CASES),
    data=st.data(),
    action=st.sampled_from(["drop", "replace", "stringify"]),
    odd=ODD_VALUES,
)
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_payloads_parse_or_fail_typed(case: tuple[str, str], data: st.DataObject, action: str, odd: Any):
    provider_id, name = case
    payload = json.loads((FIXTURES / provider_id / name).read_text())
    where = data.draw(st.sampled_from(paths(payload)))
    mutated = mutate(payload, where, action, odd)
    provider = registry.get(provider_id)
    try:
        usage = provider.parse(_sample(provider_id, name).raw(mutated), NOW)
    except ProviderError:
        return
    assert isinstance(usage, Usage)
    for window in usage.windows:
        assert window.used_pct == window.used_pct  # never NaN
        assert provider.window_spec(window.id) is not None


@given(html=st.text(max_size=400), cut=st.integers(min_value=0, max_value=2000))
@settings(max_examples=200, deadline=None)
def test_ollama_any_html_parses_or_fails_typed(html: str, cut: int):
    provider = registry.get("ollama")
    sample = (FIXTURES / "ollama" / "settings-cloud-usage.html").read_text()
    for page in (html, sample[:cut], sample[:cut] + html):
        try:
            usage = provider.parse({"settings_html": page}, NOW)
        except ProviderError:
            continue
        assert isinstance(usage, Usage)


@given(text=st.text(max_size=300), cut=st.integers(min_value=0, max_value=700))
@settings(max_examples=200, deadline=None)
def test_claude_cli_panel_any_text_parses_or_fails_typed(text: str, cut: int):
    provider = registry.get("claude")
    sample = (FIXTURES / "claude" / "cli-usage-panel.txt").read_text()
    for panel in (text, sample[:cut], sample[:cut] + text, sample.replace("1%", text[:5] + "%")):
        try:
            usage = provider.parse({"panel": panel, "plan": None}, NOW)
        except ProviderError:
            continue
        assert isinstance(usage, Usage)

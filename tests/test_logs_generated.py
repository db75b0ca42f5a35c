"""Every reader against the generator's ground truth on a tree that mixes all agents (one process,
and a process pool with many small batches), and the generator's determinism for the new agents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentgauge.logs import READERS
from agentgauge.logs.index import refresh_index
from agentgauge.store import Store
from tests.loggen import WRITERS, Options, generate
from tests.logs_agents import Cells, cells, usage_cells

NEW = [name for name in WRITERS if name not in ("claude", "codex")]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mixed") / "t"
    generate(Options(out=out, size_mb=4, seed=11, agents=("all",)))
    return out


def truth(gt: dict[str, Any], agent: str) -> Cells:
    return {
        (day, model): (
            c["input_tokens"],
            c["output_tokens"],
            c["cache_creation_input_tokens"],
            c["cache_read_input_tokens"],
            c["reasoning_output_tokens"],
            c["entries"],
        )
        for day, rec in gt[agent]["by_day"].items()
        for model, c in rec["models"].items()
    }


def test_every_agent_has_a_writer_and_a_reader() -> None:
    assert sorted(WRITERS) == sorted(r.agent for r in READERS)


def test_every_agent_matches_its_ground_truth(store: Store, mixed: Path) -> None:
    gt = json.loads((mixed / "ground-truth.json").read_text())
    assert gt["generator"]["agents"] == list(WRITERS)
    refresh_index(store, {"HOME": str(mixed)}, home=mixed)
    for agent in NEW:
        assert gt[agent]["totals"]["entries"] > 20, agent  # the tree really holds this agent's usage
        assert cells(store, agent) == truth(gt, agent), agent
        assert usage_cells(store, agent) == truth(gt, agent), agent
    again = refresh_index(store, {"HOME": str(mixed)}, home=mixed)
    assert (again.files_read, again.entries) == (0, 0)  # unchanged files and databases are not read again


def test_process_pool_agrees(store: Store, mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentgauge.logs import index

    gt = json.loads((mixed / "ground-truth.json").read_text())
    monkeypatch.setattr(index, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(index, "BATCH_BYTES", 32 << 10)
    refresh_index(store, {"HOME": str(mixed)}, home=mixed, workers=2)
    for agent in NEW:
        assert cells(store, agent) == truth(gt, agent), agent


def test_new_agents_are_deterministic_and_off_by_default(tmp_path: Path) -> None:
    def tree(name: str, agents: tuple[str, ...]) -> dict[str, bytes]:
        out = tmp_path / name
        generate(Options(out=out, size_mb=0.6, seed=4, days=5, agents=agents))
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    a, b = tree("a", ("all",)), tree("b", ("all",))
    assert a == b and any(k.endswith(".db") for k in a)  # the SQLite databases too, byte for byte
    default = tree("c", ())
    assert {k.split("/")[0] for k in default} == {".claude", ".codex", "ground-truth.json"}

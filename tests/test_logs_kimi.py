"""Kimi CLI: StatusUpdate token usage from wire.jsonl, the model from Kimi's config, a copied update
counted once, appended lines read incrementally."""

from __future__ import annotations

from pathlib import Path

from agentgauge.logs.kimi import DEFAULT_MODEL, KimiReader, configured_model
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, usage_cells

MODEL = "kimi-k2-turbo-preview"
EXPECTED = {("2025-11-29", MODEL): (1350, 390, 512, 10800, 0, 2)}


def test_wire_logs(store: Store, tmp_path: Path) -> None:
    home = fixture_home("kimi", tmp_path)
    index(store, home, "kimi")
    assert cells(store, "kimi") == EXPECTED  # sess-1-copy repeats sess-1's first update: once
    assert usage_cells(store, "kimi") == EXPECTED
    wire = home / ".kimi" / "sessions" / "3f9a0c" / "sess-1" / "wire.jsonl"
    with wire.open("a") as f:
        f.write(
            '{"timestamp":1764489600.0,"message":{"type":"StatusUpdate","payload":{"token_usage":'
            '{"input_other":10,"output":20,"input_cache_read":30,"input_cache_creation":40},"message_id":"chatcmpl-3"}}}\n'
        )
    stats = index(store, home, "kimi")
    assert stats.files_read == 1 and stats.bytes_read < 300  # only the appended line
    assert cells(store, "kimi") == {**EXPECTED, ("2025-11-30", MODEL): (10, 20, 40, 30, 0, 1)}


def test_model_from_config_files(tmp_path: Path) -> None:
    assert configured_model(tmp_path) == DEFAULT_MODEL
    (tmp_path / "config.json").write_text('{"model": "kimi-k2"}')
    assert configured_model(tmp_path) == "kimi-k2"
    (tmp_path / "config.toml").write_text('default_model = "kimi-for-coding"\n')
    assert configured_model(tmp_path) == "kimi-for-coding"
    (tmp_path / "d" / "sessions").mkdir(parents=True)
    assert KimiReader().roots({"KIMI_DATA_DIR": str(tmp_path / "d")}, tmp_path) == [tmp_path / "d" / "sessions"]

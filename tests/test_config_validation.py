"""Config mistakes are caught when the config loads, each with a message that says where and a hint
that fits, and the real CLI turns them into exit 2 with no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentgauge.config import load
from agentgauge.errors import ConfigError
from agentgauge.providers import registry


def load_error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load(path, env=env or {}, home=tmp_path)
    return info.value


MISTAKES = [  # (config file text, part of the message, part of the hint)
    ("[providers.cluade]\n", "[providers.cluade] names no provider (did you mean 'claude'?)", "agentgauge providers"),
    (
        "[providers.zai]\napi_kee = 'x'\n",
        "[providers.zai]: unknown setting(s) api_kee (did you mean 'api_key'?)",
        "api_key",
    ),
    ("[providers.zai]\nenabled = 'maybe'\n", "[providers.zai]: enabled must be true or false, got 'maybe'", "= false"),
    (
        "[providers.zai.accounts.work]\napi_key = 'k'\nenabled = 'perhaps'\n",
        "[providers.zai.accounts.work]: enabled must be true or false, got 'perhaps'",
        "enabled = false",
    ),
    ("[providers.zai]\nregion = 'mars'\n", "z.ai: region 'mars' (from config file", "AGENTGAUGE_ZAI_REGION"),
    ("warn_pct = 80\ncrit_pct = 50\n", "warn_pct (80) must be below crit_pct (50)", "warn_pct = 40"),
    ("crit_pct = 120\n", "and crit_pct at most 100", "crit_pct = 70"),
    ("refresh_intervall = 60\n", "refresh_intervall (did you mean 'refresh_interval'?)", "refresh_interval"),
    ("refresh_interval = 'soon'\n", "refresh_interval must be a positive number of seconds, got 'soon'", "Seconds"),
    ("refresh_interval = -5\n", "refresh_interval must be a positive number of seconds, got -5", "Seconds"),
    ("warn_pct = 'nan'\n", "warn_pct must be a percentage above 0, got 'nan'", "amber"),
    ("history_raw_days = 0\n", "history_raw_days must be a positive number of days, got 0", "raw samples"),
]


@pytest.mark.parametrize(("text", "message", "hint"), MISTAKES)
def test_a_config_file_mistake_names_where_and_how_to_fix_it(
    tmp_path: Path, text: str, message: str, hint: str
) -> None:
    error = load_error(tmp_path, text)
    assert message in error.message, error.message
    assert hint in error.hint, error.hint


ENV_MISTAKES = [  # (environment, part of the message)
    ({"AGENTGAUGE_ZAI_ENABLED": "maybe"}, "environment variable AGENTGAUGE_ZAI_ENABLED: enabled must be true"),
    ({"AGENTGAUGE_ZAI_REGION": "moon"}, "region 'moon' (from environment variable AGENTGAUGE_ZAI_REGION)"),
    ({"AGENTGAUGE_REFRESH_INTERVAL": "0"}, "environment variable AGENTGAUGE_REFRESH_INTERVAL: refresh_interval"),
    ({"AGENTGAUGE_CRIT_PCT": "30"}, "warn_pct (40) must be below crit_pct (30)"),
]


@pytest.mark.parametrize(("env", "message"), ENV_MISTAKES)
def test_an_environment_mistake_names_the_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    assert message in load_error(tmp_path, "", env).message


def test_a_good_config_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "refresh_interval = 120\nwarn_pct = 50\ncrit_pct = 90\n"
        "[providers.zai]\nregion = 'china'\nenabled = true\n[providers.kimi]\nenabled = 'off'\n"
    )
    config = load(path, env={}, home=tmp_path)
    assert config.refresh_interval == 120 and (config.warn_pct, config.crit_pct) == (50, 90)
    assert config.account("zai") is not None and config.account("zai").enabled  # type: ignore[union-attr]
    assert config.account("kimi") is not None and not config.account("kimi").enabled  # type: ignore[union-attr]


def run(*args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AGENTGAUGE_CONFIG"}
    prefix = ["--config", str(config)] if config else []
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", *prefix, *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[providers.cluade]\n", "did you mean 'claude'?"),
        ("[providers.zai]\nenabled = 'maybe'\n", "enabled must be true or false, got 'maybe'"),
        ("[providers.zai]\nregion = 'mars'\n", "region 'mars'"),
        ("warn_pct = 80\ncrit_pct = 50\n", "thresholds out of order"),
    ],
)
def test_the_cli_exits_2_with_the_message_and_a_hint(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    for command in (["status"], ["status", "--json"], ["doctor"]):
        result = run(*command, config=path)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        shown = result.stderr + result.stdout  # status: stderr; doctor: its report
        assert expected in shown and "hint:" in shown and "Traceback" not in shown, (command, shown)
        if command == ["status", "--json"]:
            assert result.stdout == ""  # nothing but JSON on stdout, and there is none


def test_an_unknown_provider_option_lists_the_known_ids() -> None:
    result = run("status", "--provider", "nosuch")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: unknown provider 'nosuch' (known: ")
    assert all(provider_id in first for provider_id in registry.ids())
    close = run("status", "--provider", "cladue")
    assert close.returncode == 2 and "did you mean 'claude'?" in close.stderr

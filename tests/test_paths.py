"""The data and config directories worked out without platformdirs (a status line's fast path) are
the ones platformdirs gives, in every environment the quick rule answers for."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from agentgauge import paths

ENVIRONMENTS = [
    {"HOME": "/home/ada"},
    {"HOME": "/home/ada/"},
    {"HOME": "/home/ada", "XDG_DATA_HOME": "/srv/data", "XDG_CONFIG_HOME": "/srv/conf/"},
    {"HOME": "/home/ada", "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": ""},
    {"HOME": "/home/ada", "XDG_DATA_HOME": "relative/data", "XDG_CONFIG_HOME": "conf"},
    {"HOME": "relative"},
    {"HOME": "/"},
    {},
]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_quick_rule_agrees_with_platformdirs(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    expected = {
        "data": platformdirs.user_data_dir(paths.APP, appauthor=False),
        "config": platformdirs.user_config_dir(paths.APP, appauthor=False),
    }
    for kind, want in expected.items():
        quick = paths.quick_dir(kind)
        assert quick is None or quick == want, (kind, env)
    assert paths.data_dir() == Path(expected["data"])
    assert paths.default_config_path().parent == paths.config_dir()
    if (
        sys.platform == "linux"
        and env.get("HOME", "").startswith("/home/")
        and not env.get("XDG_DATA_HOME", "x").startswith("r")
    ):
        assert paths.quick_dir("data") is not None  # the usual cases take the quick rule


def test_the_quick_rule_leaves_other_systems_to_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths.sys, "platform", "darwin")
    assert paths.quick_dir("data", {"HOME": "/Users/ada"}) is None

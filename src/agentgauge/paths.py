"""Where agentgauge keeps its files (the platform's config and data dirs); no other imports, so every
layer can use it.

platformdirs decides, everywhere. On Linux its answer for a plain environment (absolute
``$XDG_*_HOME`` or ``$HOME``) is worked out here without importing it: the import costs a status
line about a fifth of its time budget (bench/agents.py). Any other case asks platformdirs, and a test
holds the two answers equal.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

APP = "agentgauge"
_XDG = {"data": ("XDG_DATA_HOME", ".local/share"), "config": ("XDG_CONFIG_HOME", ".config")}


def quick_dir(kind: str, env: Mapping[str, str] | None = None) -> str | None:
    """The ``kind`` ("data" or "config") directory as platformdirs gives it on Linux, or None when
    only platformdirs can say (another system, a relative or unusual variable)."""
    if sys.platform != "linux":
        return None
    env = os.environ if env is None else env
    variable, fallback = _XDG[kind]
    xdg = env.get(variable, "")
    if xdg:
        return os.path.join(xdg, APP) if xdg.startswith("/") else None
    home = env.get("HOME", "")
    if not home.startswith("/") or home.rstrip("/") == "":
        return None
    return os.path.join(home.rstrip("/"), fallback, APP)


def config_dir() -> Path:
    from pathlib import Path  # here, not at the top: the status line's fast path needs only quick_dir

    found = quick_dir("config")
    if found is not None:
        return Path(found)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    from pathlib import Path

    found = quick_dir("data")
    if found is not None:
        return Path(found)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def default_config_path() -> Path:
    return config_dir() / "config.toml"

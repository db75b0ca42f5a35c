"""A web server that shows exactly a list of seeded account states, and no other account.

``harness_web.serve(seed=...)`` writes the states into a server configured with every demo account, so
the scheduler fills the page with all the other providers as well, one fetch at a time. Tests about
how the seeded states look need only them: ``serve_seeded`` cuts the demo config down to the seeded
accounts while the server is built (the simulator, the store and the app stay ``serve``'s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any

import pytest

from agentgauge.config import Config
from agentgauge.models import ProviderSnapshot

from . import harness_web
from .harness_web import ServerInfo, serve


def only_accounts(demo_config: Callable[..., Config], keys: set[tuple[str, str]]) -> Callable[..., Config]:
    """``demo_config`` with only the accounts named by ``keys`` ((provider, account) pairs)."""

    def build(*args: Any, **kwargs: Any) -> Config:
        config = demo_config(*args, **kwargs)
        accounts = tuple(a for a in config.accounts if (a.provider, a.account) in keys)
        missing = keys - {(a.provider, a.account) for a in accounts}
        assert not missing, f"seeded accounts the demo does not configure: {sorted(missing)}"
        return replace(config, accounts=accounts)

    return build


@contextmanager
def serve_seeded(states: Sequence[ProviderSnapshot], **kwargs: Any) -> Iterator[ServerInfo]:
    """``harness_web.serve(seed=states, **kwargs)`` configured with the seeded accounts only."""
    keys = {(s.provider, s.account) for s in states}
    with ExitStack() as stack:
        with pytest.MonkeyPatch.context() as patch:  # only while the server is built, on this worker
            patch.setattr(harness_web, "demo_config", only_accounts(harness_web.demo_config, keys))
            info = stack.enter_context(serve(seed=states, **kwargs))
        yield info

"""Proxy choice for the curl transport follows httpx's reading of the environment."""

from __future__ import annotations

import httpx
import pytest

from agentgauge.net._proxy import environment_rules


@pytest.mark.parametrize(
    ("found", "url", "proxy"),
    [
        ({"https": "proxy:3128"}, "https://claude.ai/api", "http://proxy:3128"),
        ({"https": "http://p:1"}, "http://claude.ai/", None),
        ({"all": "socks5://p:1"}, "http://claude.ai/", "socks5://p:1"),
        ({"https": "http://p:1", "no": "claude.ai"}, "https://claude.ai/", None),
        ({"https": "http://p:1", "no": "claude.ai"}, "https://api.claude.ai/", None),
        ({"https": "http://p:1", "no": "claude.ai"}, "https://notclaude.ai/", "http://p:1"),
        ({"https": "http://p:1", "no": ".claude.ai"}, "https://claude.ai/", "http://p:1"),
        ({"https": "http://p:1", "no": ".claude.ai"}, "https://www.claude.ai/", None),
        ({"https": "http://p:1", "no": "127.0.0.1,::1"}, "https://[::1]:8443/", None),
        ({"https": "http://p:1", "no": "localhost:8443"}, "https://localhost:8443/", None),
        ({"https": "http://p:1", "no": "localhost:8443"}, "https://localhost:9443/", "http://p:1"),
        ({"https": "http://p:1", "no": "*"}, "https://claude.ai/", None),
    ],
)
def test_proxy_rules_follow_httpx(found: dict[str, str], url: str, proxy: str | None):
    assert environment_rules(found).proxy_for(httpx.URL(url)) == proxy

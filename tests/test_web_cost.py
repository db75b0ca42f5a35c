"""The spend panel and GET /api/cost, from real generated agent logs in the user's home."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from tests.harness_web import running_server
from tests.loggen import Options, generate

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def test_cost_api_and_panel(tmp_path: Path):
    home = Path(os.environ["HOME"])  # the autouse fixture points HOME at a temp dir
    today = datetime.now(UTC).date()
    truth = generate(Options(out=home, size_mb=2, seed=3, days=3, end=today))
    box: dict[str, object] = {}
    ready, done = threading.Event(), threading.Event()

    def serve() -> None:  # the server runs in its own thread; Playwright's sync API owns this one
        with running_server(history_days=0) as info:
            box["info"] = info
            ready.set()
            done.wait(120)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(60)
    info = box["info"]
    try:
        cost = httpx.get(info.url + "/api/cost", timeout=120).json()  # type: ignore[attr-defined]
        assert cost["costIsEstimate"] is True
        month = cost["periods"]["30d"]
        assert month["agents"]["claude"]["totalTokens"] == truth["claude"]["totals"]["total_tokens"]
        assert month["totalCost"] and month["totalCost"] > 0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(info.url + "/")  # type: ignore[attr-defined]
            page.wait_for_selector("#cost:not([hidden]) tr[data-agent='all']", timeout=30000)
            shown = page.text_content("#cost tr[data-agent='all'] td[data-period='30d']")
            assert shown and shown.startswith("$")
            expected = month["totalCost"]
            value = float(shown.strip("$+").replace(",", ""))
            assert abs(value - expected) <= max(0.01, expected * 0.01)
            assert "estimate" in (page.text_content("#cost") or "").lower()
            browser.close()
    finally:
        done.set()
        thread.join(30)

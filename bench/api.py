"""Web/API benchmark (loopback only). Prints a table:

- GET /api/usage requests/s, p50 and p99 with 50 connections (wrk), beside nginx serving the same
  bytes as a static file on another loopback port (the upper bound); goal >= 0.15 x nginx, p99 < 10 ms;
- page weight (bytes the dashboard loads, all local; goal < 250 KB) and first contentful paint in
  headless Chromium (goal < 300 ms);
- the history query for 7 days at 500 points over a year of one-minute samples for 30 windows
  (goal < 50 ms) and the database size for that year (goal < 200 MB);
- the idle server's memory and CPU over a minute with the demo's providers (goal < 64 MB RSS, < 0.2 % CPU).

Run: .venv/bin/python bench/api.py   (needs wrk, nginx and chromium from Debian)
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from agentgauge import query
from agentgauge.store import open_store

DURATION = 10  # seconds per wrk run
IDLE_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def wrk(url: str) -> tuple[float, float, float]:
    out = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{DURATION}s", "--latency", url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)  # type: ignore[union-attr]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return rps, pct("50"), pct("99")


def nginx_serving(body: bytes, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    root = tmp / "nginx"
    (root / "html" / "api").mkdir(parents=True)
    (root / "logs").mkdir()
    (root / "html" / "api" / "usage").write_bytes(body)
    conf = root / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/logs/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  server {{
    listen 127.0.0.1:{port};
    root {root}/html;
    location /api/ {{ default_type application/json; }}
  }}
}}
""")
    proc = subprocess.Popen(
        ["nginx", "-p", str(root), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/api/usage"
    wait_http(url)
    return proc, url


def proc_stats(pid: int) -> tuple[int, float]:
    """(RSS bytes, CPU seconds user+system) from /proc."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


def page_metrics(url: str) -> tuple[int, float, list[str]]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        sizes: dict[str, int] = {}
        foreign: list[str] = []

        def on_response(response):  # type: ignore[no-untyped-def]
            if "/api/events" in response.url:
                return
            try:
                sizes[response.url] = len(response.body())
            except Exception:
                sizes.setdefault(response.url, 0)

        page.on("response", on_response)
        page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(url.rstrip("/")) else None)
        fcps = []
        for _ in range(3):
            page.goto(url, wait_until="load")
            fcp = page.evaluate("""() => new Promise(resolve => {
                const e = performance.getEntriesByName('first-contentful-paint')[0];
                if (e) return resolve(e.startTime);
                new PerformanceObserver(l => resolve(l.getEntries()[0].startTime))
                    .observe({type: 'paint', buffered: true});
            })""")
            fcps.append(float(fcp))
        page.wait_for_timeout(1500)  # let lazily loaded assets (the chart library) arrive
        browser.close()
    return sum(sizes.values()), statistics.median(fcps), foreign


def history_year(tmp: Path) -> tuple[float, float, float, int]:
    """A year of one-minute samples for 30 windows, stored as the retention policy leaves it:
    raw samples for the last 14 days, hourly and daily rollups for the year."""
    store = open_store(str(tmp / "year.db"), data_dir=tmp)
    end = int(datetime.now(UTC).timestamp()) // 60 * 60
    start = end - 365 * 86400
    raw_from = end - 14 * 86400
    rng = random.Random(42)
    for w in range(30):
        provider, window = f"p{w // 3}", f"w{w % 3}"
        hourly: dict[int, list[float]] = {}
        daily: dict[int, list[float]] = {}
        raw: list[tuple[int, float]] = []
        pct = rng.uniform(0, 50)
        for ts in range(start, end, 60):
            pct = min(100.0, max(0.0, pct + rng.uniform(-0.3, 0.35)))
            if ts % (5 * 3600) == 0:
                pct = rng.uniform(0, 5)  # the window resets
            value = round(pct, 1)
            for table, size in ((hourly, 3600), (daily, 86400)):
                bucket = table.setdefault(ts - ts % size, [0.0, 0.0, 0])
                bucket[0] = max(bucket[0], value)
                bucket[1], bucket[2] = value, ts
            if ts >= raw_from:
                raw.append((ts, value))
        for resolution, table in (("hourly", hourly), ("daily", daily)):
            store.load_rollups(
                provider, "default", window, resolution, [(b, m, last, t) for b, (m, last, t) in table.items()]
            )
        store.bulk_load(provider, "default", window, raw)
    until = datetime.fromtimestamp(end, UTC)
    timings = {}
    for label, span in (("3h", timedelta(hours=3)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30))):
        runs = []
        for i in range(5):
            t = time.perf_counter()
            data = query.history(store, f"p{i}", "default", None, until - span, until, 500)
            runs.append((time.perf_counter() - t) * 1000)
            assert all(len(s["t"]) <= 500 for s in data["series"]) and data["series"][0]["t"]
        timings[label] = statistics.median(runs)
    size = sum(p.stat().st_size for p in tmp.glob("year.db*"))
    store.close()
    return timings["3h"], timings["7d"], timings["30d"], size


def main() -> int:
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is required (apt-get install wrk nginx-light)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        env = {
            **os.environ,
            "HOME": str(tmp),
            "XDG_DATA_HOME": str(tmp / "data"),
            "XDG_CONFIG_HOME": str(tmp / "config"),
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "agentgauge", "serve", "--demo", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(base + "/api/ping", timeout=120)
            time.sleep(3)
            body = httpx.get(base + "/api/usage").content
            ours = wrk(base + "/api/usage")
            ngx_proc, ngx_url = nginx_serving(body, tmp)
            try:
                ref = wrk(ngx_url)
            finally:
                ngx_proc.terminate()
                ngx_proc.wait()
            weight, fcp, foreign = page_metrics(base + "/")
            time.sleep(5)
            _, cpu0 = proc_stats(server.pid)
            time.sleep(IDLE_SECONDS)
            rss1, cpu1 = proc_stats(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
        h3, h7, h30, size = history_year(tmp)

    cpu_pct = (cpu1 - cpu0) / IDLE_SECONDS * 100
    rows = [
        (
            "GET /api/usage req/s (50 conns)",
            f"{ours[0]:,.0f}",
            f"nginx {ref[0]:,.0f}",
            f"{ours[0] / ref[0]:.2f} x nginx (goal >= 0.15)",
        ),
        (
            "GET /api/usage p50 / p99",
            f"{ours[1]:.2f} / {ours[2]:.2f} ms",
            f"nginx {ref[1]:.2f} / {ref[2]:.2f} ms",
            "goal p99 < 10 ms",
        ),
        ("response size", f"{len(body):,} B", "", ""),
        ("page weight (all requests)", f"{weight / 1024:.1f} KB", "", "goal < 250 KB"),
        ("requests outside the origin", str(len(foreign)), "", "goal 0"),
        ("first contentful paint (median of 3)", f"{fcp:.0f} ms", "", "goal < 300 ms"),
        ("history 3h / 7d / 30d at 500 points", f"{h3:.1f} / {h7:.1f} / {h30:.1f} ms", "", "goal 7d < 50 ms"),
        ("database size, 1 year x 30 windows", f"{size / 1e6:.1f} MB", "", "goal < 200 MB"),
        (
            f"idle RSS / CPU over {IDLE_SECONDS} s",
            f"{rss1 / 2**20:.1f} MiB / {cpu_pct:.3f} %",
            "",
            "goal < 64 MB, < 0.2 %",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'agentgauge':>24}  {'reference':>26}  note")
    for name, value, ref_value, note in rows:
        print(f"{name:<{width}}  {value:>24}  {ref_value:>26}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

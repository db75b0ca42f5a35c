"""The Docker image and the compose files, built and run for real in a private engine (dockerd.py).

Run by ``tests/docker/run.sh`` (a step of scripts/test), not by the plain ``pytest`` run: the build
takes minutes. Every container uses the host's network and is reached on 127.0.0.1 only; providers
are the simulator, in this process.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import yaml

from agentgauge.providers.registry import get as get_provider
from agentgauge.sim.server import SimServer

from .dockerd import Dockerd, compose_command, engine, free_port, import_base, pip_ca_bundle
from .layers import certificates, scan_layers

REPO = Path(__file__).resolve().parents[2]
IMAGE = "agentgauge:latest"  # the name docs/deploy.md uses
READY = "agentgauge dashboard:"  # serve's line once it listens
WARP_KEY = get_provider("warp").sim_credentials["api_key"]
PG_URL = os.environ.get("AGENTGAUGE_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def docker() -> Iterator[Dockerd]:
    with engine() as daemon:
        yield daemon


def say(config: pytest.Config, line: str) -> None:
    """A figure for the run's output, past pytest's capture."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if capture is not None and reporter is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


def documented(*starts: str) -> list[str]:
    """The commands of docs/deploy.md's shell blocks that start with one of ``starts`` (continuation
    lines joined), in the order given: the tests run what the page tells people to run."""
    text = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        commands += [c.strip() for c in block.replace("\\\n", " ").splitlines() if c.strip()]
    found = []
    for start in starts:
        matches = [c for c in commands if c.startswith(start)]
        assert len(matches) == 1, f"docs/deploy.md: {len(matches)} commands start with {start!r}"
        found.append(matches[0])
    return found


def shell(docker: Dockerd, command: str, cwd: Path) -> None:
    """One documented command, run by sh with `docker` talking to the test engine."""
    done = subprocess.run(
        ["sh", "-c", command],
        cwd=cwd,
        env=docker.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{command}\n{done.stderr}"


@pytest.fixture(scope="module")
def image(docker: Dockerd, pytestconfig: pytest.Config) -> str:
    base = import_base(docker)
    build = ["build", "--progress", "plain", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "-t", IMAGE]
    bundle = pip_ca_bundle()
    if bundle is not None:
        build += ["--secret", f"id=pip_ca,src={bundle}"]
    started = time.monotonic()
    docker.run([*build, str(REPO)], timeout=1500)
    say(pytestconfig, f"image built in {time.monotonic() - started:.0f} s")
    return IMAGE


@pytest.fixture(scope="module")
def token_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The serve token in an env file (0600), the way the docs pass it: never on a command line."""
    token = secrets.token_urlsafe(32)
    path = tmp_path_factory.mktemp("token") / "agentgauge.env"
    path.touch(mode=0o600)
    path.write_text(f"AGENTGAUGE_SERVE_TOKEN={token}\n")
    return path, token


def serve(
    docker: Dockerd,
    name: str,
    port: int,
    token_file: Path,
    *,
    env: dict[str, str] | None = None,
    volumes: tuple[str, ...] = (),
    health_interval: str = "1s",
) -> None:
    """``serve`` on every interface of the host's network, as the image's default command does."""
    settings = {
        "AGENTGAUGE_STATUS_PAGES": "off",  # no status-page requests off this machine
        "AGENTGAUGE_HEALTHCHECK_URL": f"http://127.0.0.1:{port}/api/ping",
        **(env or {}),
    }
    args = ["run", "-d", "--name", name, "--network", "host", "--env-file", str(token_file)]
    args += ["--health-interval", health_interval, "--health-start-period", "60s"]
    for key, value in settings.items():
        args += ["-e", f"{key}={value}"]
    for volume in volumes:
        args += ["-v", volume]
    docker.run([*args, IMAGE, "serve", "--host", "0.0.0.0", "--port", str(port)])


def stop(docker: Dockerd, name: str) -> tuple[int, float]:
    """``docker stop`` with a long grace period: exit code 0 means the server stopped by itself on
    SIGTERM (a kill would be 137). Returns (exit code, seconds the stop took)."""
    started = time.monotonic()
    docker.run(["stop", "--time", "30", name], timeout=60)
    took = time.monotonic() - started
    return int(docker.output(["inspect", "--format", "{{.State.ExitCode}}", name])), took


def windows(provider: dict[str, Any]) -> list[tuple[str, float, str]]:
    return [(w["id"], w["used_pct"], w["resets_at"]) for w in provider["windows"]]


# -- the image -----------------------------------------------------------------------------------------
def test_image_runs_as_a_user_with_a_healthcheck_and_the_data_volume(docker: Dockerd, image: str) -> None:
    config = json.loads(docker.output(["image", "inspect", image]))[0]["Config"]
    assert config["User"] == "agentgauge"
    assert config["Entrypoint"] == ["agentgauge"]
    assert config["Cmd"] == ["serve", "--host", "0.0.0.0", "--port", "8777"]
    assert "8777/tcp" in config["ExposedPorts"]
    assert "/data" in config["Volumes"]
    assert "AGENTGAUGE_HEALTHCHECK_URL" in " ".join(config["Healthcheck"]["Test"])
    assert docker.output(["run", "--rm", "--entrypoint", "id", image, "-u"]) == "1000"


def test_without_a_token_the_default_command_refuses_to_serve(docker: Dockerd, image: str) -> None:
    done = docker.run(["run", "--rm", image], check=False)
    assert done.returncode == 2, done.stderr
    assert "refusing to serve on 0.0.0.0 without an access token" in done.stderr
    assert "AGENTGAUGE_SERVE_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr


def test_serves_keeps_its_data_across_a_restart_and_restores_a_backup(
    docker: Dockerd, image: str, token_file: tuple[Path, str], pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    # The names the docs use (this engine is private to the test).
    env_file, token = token_file
    name, volume, port = "agentgauge", "agentgauge-data", free_port()
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    with SimServer() as sim:
        warp = {"AGENTGAUGE_WARP_URL": f"{sim.url}/warp/url", "AGENTGAUGE_WARP_API_KEY": WARP_KEY}
        since = time.time()
        serve(docker, name, port, env_file, env=warp, volumes=(f"{volume}:/data",))
        docker.wait_for_log(name, READY)
        ping = httpx.get(f"{base}/api/ping")
        assert ping.status_code == 200 and ping.json()["ok"] is True
        assert httpx.get(f"{base}/api/usage").status_code == 401  # bound off loopback: the token is required
        assert httpx.post(f"{base}/api/refresh", params={"wait": 30}, headers=auth, timeout=40).status_code == 200
        before = httpx.get(f"{base}/api/usage/warp", headers=auth).json()["providers"][0]
        assert before["status"] == "ok" and windows(before), before
        docker.wait_for_event(name, "health_status: healthy", since=since)  # the image's HEALTHCHECK passes
    code, took = stop(docker, name)
    say(pytestconfig, f"docker stop: exit {code} after {took:.2f} s")
    assert code == 0

    # The simulator is gone: whatever warp shows now was read back from the volume.
    docker.run(["start", name])
    docker.wait_for_log(name, READY, occurrence=2)
    after = httpx.get(f"{base}/api/usage/warp", headers=auth).json()["providers"][0]
    assert after["last_success_at"] == before["last_success_at"]
    assert windows(after) == windows(before)

    # docs/deploy.md's backup, then its restore into a new, empty volume.
    for command in documented("docker exec agentgauge python3", "docker cp agentgauge:/data/backup.db"):
        shell(docker, command, tmp_path)
    assert (tmp_path / "agentgauge-backup.db").stat().st_size > 0
    assert stop(docker, name)[0] == 0
    docker.run(["rm", "-v", name])
    docker.run(["volume", "rm", volume])
    serve(docker, name, port, env_file, env=warp, volumes=(f"{volume}:/data",))
    docker.wait_for_log(name, READY)
    assert httpx.get(f"{base}/api/usage/warp", headers=auth).json()["providers"][0]["last_success_at"] is None
    for command in documented("docker stop agentgauge", "docker run --rm -i -v agentgauge-data:/data", "docker start"):
        shell(docker, command, tmp_path)
    docker.wait_for_log(name, READY, occurrence=2)
    restored = httpx.get(f"{base}/api/usage/warp", headers=auth).json()["providers"][0]
    assert restored["last_success_at"] == before["last_success_at"] and windows(restored) == windows(before)
    assert stop(docker, name)[0] == 0
    docker.run(["rm", "-v", name])
    docker.run(["volume", "rm", volume])


def test_reads_a_firefox_profile_from_a_read_only_volume(docker: Dockerd, image: str) -> None:
    """The seed-000 layout: jlesage/firefox writes its profile to a volume (as UID 1000, umask 022)
    that agentgauge mounts read-only. A container of ours plays the Firefox side."""
    write_profile = """
import os, sqlite3, time
os.makedirs('/data/profile', exist_ok=True)
db = sqlite3.connect('/data/profile/cookies.sqlite')
db.execute("CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, originAttributes TEXT NOT NULL DEFAULT '', "
           "name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER, isSecure INTEGER)")
db.execute("INSERT INTO moz_cookies (name, value, host, path, expiry, isSecure) VALUES (?, ?, 'ollama.com', '/', ?, 1)",
           (os.environ['NAME'], os.environ['VALUE'], int(time.time()) + 86400))
db.commit()
"""
    cookie_name, cookie_value = get_provider("ollama").sim_credentials["cookie"].split("=", 1)
    writer = ["run", "--rm", "-v", "ag-firefox:/data", "-e", f"NAME={cookie_name}", "-e", f"VALUE={cookie_value}"]
    docker.run([*writer, "--entrypoint", "python3", image, "-c", write_profile])
    reader = ["run", "--rm", "--network", "host", "-v", "ag-firefox:/firefox:ro"]
    reader += ["-e", "AGENTGAUGE_FIREFOX_ROOT=/firefox", "-e", "AGENTGAUGE_BROWSER=firefox"]
    with SimServer() as sim:
        reader += ["-e", f"AGENTGAUGE_OLLAMA_URL={sim.url}/ollama/url", "-e", "AGENTGAUGE_STATUS_PAGES=off", image]
        status = docker.run([*reader, "status", "--json", "--provider", "ollama"], check=False, timeout=120)
    assert status.returncode == 0, status.stderr
    ollama = json.loads(status.stdout)["providers"][0]
    assert (ollama["provider"], ollama["status"], ollama["source"]) == ("ollama", "ok", "browser"), ollama
    accounts = json.loads(docker.output([*reader, "auth", "status", "--json"]))["accounts"]
    origins = [s["origin"] for a in accounts if a["provider"] == "ollama" for s in a["sources"] if s["usable"]]
    assert origins == ["Firefox profile /firefox/profile"]  # via AGENTGAUGE_FIREFOX_ROOT, in the jlesage layout
    assert cookie_value not in status.stdout + status.stderr
    docker.run(["volume", "rm", "ag-firefox"])


def test_postgresql_from_the_image(docker: Dockerd, image: str, token_file: tuple[Path, str]) -> None:
    import psycopg

    database = f"agentgauge_docker_{secrets.token_hex(4)}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
        role = conn.info.user  # the URL may leave it to the OS user, who is another one in the container
    parts = urlsplit(PG_URL)
    netloc = parts.netloc if "@" in parts.netloc else f"{role}@{parts.netloc}"
    url = urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))
    env_file, token = token_file
    name, port = "ag-postgres", free_port()
    try:
        with SimServer() as sim:
            serve(
                docker,
                name,
                port,
                env_file,
                env={
                    "AGENTGAUGE_DATABASE_URL": url,
                    "AGENTGAUGE_WARP_URL": f"{sim.url}/warp/url",
                    "AGENTGAUGE_WARP_API_KEY": WARP_KEY,
                },
            )
            docker.wait_for_log(name, READY)
            refreshed = httpx.post(
                f"http://127.0.0.1:{port}/api/refresh",
                params={"wait": 30},
                headers={"Authorization": f"Bearer {token}"},
                timeout=40,
            )
            assert refreshed.status_code == 200
        assert stop(docker, name)[0] == 0
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT provider, snapshot FROM account_state WHERE provider = 'warp'").fetchall()
            samples = conn.execute("SELECT count(*) FROM samples").fetchone()
        assert len(rows) == 1 and json.loads(rows[0][1])["status"] == "ok"
        assert samples is not None and samples[0] >= 1
    finally:
        docker.run(["rm", "-f", name], check=False)
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# -- compose -------------------------------------------------------------------------------------------
def compose_project(tmp_path: Path, token_file: Path) -> Path:
    """A project directory holding the env files the compose files name (dummy values)."""
    (tmp_path / "agentgauge.env").write_text(token_file.read_text() + "PGPASSWORD=not-a-real-password\n")
    (tmp_path / "postgres.env").write_text("POSTGRES_PASSWORD=not-a-real-password\n")
    return tmp_path


@pytest.mark.parametrize("layout", ["sqlite", "firefox", "postgres"])
def test_compose_file_is_valid(docker: Dockerd, layout: str, tmp_path: Path, token_file: tuple[Path, str]) -> None:
    project = compose_project(tmp_path, token_file[0])
    command = [*compose_command(), "--project-directory", str(project), "-f", str(REPO / "compose" / f"{layout}.yml")]
    done = subprocess.run([*command, "config"], env=docker.env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    gauge = services["agentgauge"]
    assert gauge["restart"] == "unless-stopped"
    assert any(str(v).endswith(":/data") or ":/data:" in str(v) for v in gauge["volumes"]), gauge["volumes"]
    assert "8777" in json.dumps(gauge["ports"])
    if layout == "firefox":
        assert any(":/firefox:ro" in str(v) for v in gauge["volumes"])
        assert gauge["environment"]["AGENTGAUGE_FIREFOX_ROOT"] == "/firefox"
        assert services["firefox"]["image"].startswith("jlesage/firefox")
    if layout == "postgres":
        assert "@" in gauge["environment"]["AGENTGAUGE_DATABASE_URL"]
        assert ":" not in urlsplit(gauge["environment"]["AGENTGAUGE_DATABASE_URL"]).netloc.split("@")[0]
        assert gauge["depends_on"]["db"]["condition"] == "service_healthy"


def test_sqlite_compose_file_runs(docker: Dockerd, image: str, tmp_path: Path, token_file: tuple[Path, str]) -> None:
    """compose/sqlite.yml for real, with one change: no bridge networks here, so the published port
    becomes the host's network and a free port."""
    project = compose_project(tmp_path, token_file[0])
    port = free_port()
    spec = yaml.safe_load((REPO / "compose" / "sqlite.yml").read_text())
    service = spec["services"]["agentgauge"]
    assert service.pop("ports")
    service.pop("build")
    service["network_mode"] = "host"
    service["command"] = ["serve", "--host", "0.0.0.0", "--port", str(port)]
    service["environment"].update(
        AGENTGAUGE_STATUS_PAGES="off", AGENTGAUGE_HEALTHCHECK_URL=f"http://127.0.0.1:{port}/api/ping"
    )
    (project / "compose.yml").write_text(yaml.safe_dump(spec))
    compose = [
        *compose_command(),
        "--project-directory",
        str(project),
        "-p",
        "agtest",
        "-f",
        str(project / "compose.yml"),
    ]
    env = {**docker.env, "AGENTGAUGE_IMAGE": image}
    try:
        up = subprocess.run([*compose, "up", "-d", "--no-build"], env=env, capture_output=True, text=True, check=False)
        assert up.returncode == 0, up.stderr
        container = subprocess.run([*compose, "ps", "-q", "agentgauge"], env=env, capture_output=True, text=True)
        cid = container.stdout.strip()
        docker.wait_for_log(cid, READY)
        assert httpx.get(f"http://127.0.0.1:{port}/api/ping").json()["ok"] is True
        inspected = json.loads(docker.output(["inspect", cid]))[0]
        assert inspected["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
        assert [m["Name"] for m in inspected["Mounts"] if m["Destination"] == "/data"] == ["agtest_agentgauge-data"]
        assert stop(docker, cid)[0] == 0
    finally:
        subprocess.run([*compose, "down", "-v"], env=env, capture_output=True, check=False)
    assert docker.output(["ps", "-aq", "--filter", "label=com.docker.compose.project=agtest"]) == ""


# -- size and contents ---------------------------------------------------------------------------------
def test_image_size_and_no_build_secret_in_any_layer(docker: Dockerd, image: str, pytestconfig: pytest.Config) -> None:
    bundle = pip_ca_bundle()
    host = certificates(bundle.read_text()) if bundle else {}
    inside = certificates(
        docker.output(["run", "--rm", "--entrypoint", "cat", image, "/etc/ssl/certs/ca-certificates.crt"])
    )
    extra = {f"host certificate {i}": needle for i, (body, needle) in enumerate(host.items()) if body not in inside}
    layers = scan_layers(docker, image, extra)
    assert not layers.found, f"the build's CA bundle leaked into the image: {sorted(layers.found)}"
    assert not any("pip_ca" in name for name in layers.names)

    base_layers = len(
        json.loads(docker.output(["image", "inspect", "agentgauge-test-base:bookworm"]))[0]["RootFS"]["Layers"]
    )
    ours, ours_gz = sum(layers.sizes[base_layers:]), sum(layers.gzipped[base_layers:])
    total = int(docker.output(["image", "inspect", "--format", "{{.Size}}", image]))
    mb = 1_000_000
    say(
        pytestconfig,
        f"image size: {total / mb:.0f} MB ({sum(layers.gzipped) / mb:.0f} MB gzipped) on the debootstrap test base; "
        f"the layers this Dockerfile adds to its base: {ours / mb:.0f} MB ({ours_gz / mb:.0f} MB gzipped)",
    )
    assert ours < 200 * mb  # stripped wheels, no pip, no build tools: a regression guard, not a target

"""Shared fixtures: a temporary data folder and Dagster instances on the project's dagster.yaml."""

import os
import shutil
import uuid
from pathlib import Path

import dagster as dg
import pytest

from pipeline_tests.services import ROOT, RedisServer, free_port, start_services

# Every test session projects into its own Redis namespace, never into a user's keys.
os.environ["PIPELINE_REDIS_PREFIX"] = f"pytest-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """An empty data folder with the repository's example sources in it."""
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "sources", folder / "sources")
    return folder


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    """A DAGSTER_HOME that uses the project's own dagster.yaml (SQLite: DAGSTER_POSTGRES_URL unset)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("DAGSTER_POSTGRES_URL", raising=False)
    return home


@pytest.fixture
def postgres_url(monkeypatch):
    """A fresh PostgreSQL database on this machine's server, dropped afterwards."""
    import psycopg2

    name = f"pipeline_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user=os.environ.get("PGUSER", "postgres"),
                             dbname="postgres", connect_timeout=5)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://{os.environ.get('PGUSER', 'postgres')}@127.0.0.1:5432/{name}"
    yield url
    with admin.cursor() as cur:
        cur.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


@pytest.fixture
def instance(dagster_home):
    with dg.DagsterInstance.get() as inst:
        yield inst


@pytest.fixture
def webserver(dagster_home, data_dir):
    """A real dagster-webserver on the project's workspace and the test's DAGSTER_HOME; yields its URL."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "PIPELINE_DATA_DIR": str(data_dir)}
    exe = Path(sys.executable).parent / "dagster-webserver"
    proc = subprocess.Popen([str(exe), "-h", "127.0.0.1", "-p", str(port), "-w", str(ROOT / "workspace.yaml")],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"dagster-webserver exited: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("dagster-webserver did not start within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stderr.close()


@pytest.fixture
def redis_server(tmp_path, monkeypatch):
    """REDIS_URL pointed at a fresh redis-server of this test's own."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    monkeypatch.setenv("REDIS_URL", server.url)
    yield server
    if server.proc.poll() is None:
        server.proc.terminate()
        server.proc.wait(timeout=20)


@pytest.fixture(params=["sqlite"])
def backend(request):
    """The storage backend of the services (tests parametrize it indirectly with "postgres")."""
    return request.param


@pytest.fixture
def services(dagster_home, data_dir, monkeypatch, backend, request):
    """A real webserver and daemon on the test's instance; PIPELINE_DAGSTER_URL points at them."""
    if backend == "postgres":
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", request.getfixturevalue("postgres_url"))
    running = start_services(dagster_home, data_dir, monkeypatch, {})
    yield running
    running.stop()


@pytest.fixture
def services_with_text_api(dagster_home, data_dir, monkeypatch):
    """Services whose text provider is a loopback OpenAI-compatible server that refuses one topic."""
    import json as _json

    from pipeline_tests.providers import fakes

    server = fakes.openai_server()
    chat = server.routes["/v1/chat/completions"]

    def refusing(srv, seen):
        if "FORBIDDEN-TOPIC" in seen.body.decode(errors="replace"):
            body = {"error": {"message": "This request was rejected by the safety system.",
                              "type": "invalid_request_error", "code": "content_policy_violation"}}
            return 400, {"Content-Type": "application/json"}, _json.dumps(body).encode()
        return chat(srv, seen)

    server.routes["/v1/chat/completions"] = refusing
    server.start()
    running = start_services(dagster_home, data_dir, monkeypatch, {
        "PIPELINE_TEXT_PROVIDER": "openai", "PIPELINE_TEXT_BASE_URL": f"{server.url}/v1",
        "PIPELINE_RESPONSE_CACHE": "off"})
    yield running
    running.stop()
    server.stop()

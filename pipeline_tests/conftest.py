"""Shared fixtures: a temporary data folder and Dagster instances on the project's dagster.yaml."""

import os
import shutil
import uuid
from pathlib import Path

import dagster as dg
import pytest

ROOT = Path(__file__).resolve().parent.parent
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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webserver(dagster_home, data_dir):
    """A real dagster-webserver on the project's workspace and the test's DAGSTER_HOME; yields its URL."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
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


class RedisServer:
    """A redis-server of the test's own on a free port, which the test may stop and restart."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> None:
        import subprocess
        import time

        import redis

        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--dbfilename", "dump.rdb", "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self, keep_data: bool) -> None:
        """Shut down: saving the data (it comes back with it) or not (it comes back empty)."""
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            client.shutdown(save=keep_data, nosave=not keep_data)
        except redis.ConnectionError:
            pass
        self.proc.wait(timeout=20)
        if not keep_data:
            (self.folder / "dump.rdb").unlink(missing_ok=True)


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


class DagsterServices:
    """dagster-webserver and dagster-daemon of the test's own, on its DAGSTER_HOME."""

    def __init__(self, home: Path, env: dict[str, str]):
        self.home = home
        self.env = env
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list = []

    def start(self) -> None:
        import subprocess
        import sys
        import time
        import urllib.request

        bin_dir = Path(sys.executable).parent
        workspace = str(ROOT / "workspace.yaml")
        # create the instance's storage once, so the daemon and the webserver do not race to create it
        subprocess.run([str(bin_dir / "dagster"), "instance", "info"], env=self.env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        logs = open(self.home / "services.log", "ab")
        self.procs = [
            subprocess.Popen([str(bin_dir / "dagster-daemon"), "run", "-w", workspace], cwd=ROOT, env=self.env,
                             stdout=logs, stderr=subprocess.STDOUT),
            subprocess.Popen([str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port),
                              "-w", workspace], cwd=ROOT, env=self.env, stdout=logs, stderr=subprocess.STDOUT),
        ]
        logs.close()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if self._location_loaded():
                    return
            except OSError:
                if any(p.poll() is not None for p in self.procs):
                    break
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Dagster services did not start: {(self.home / 'services.log').read_text()[-3000:]}")

    def _location_loaded(self) -> bool:
        """The webserver answers and has loaded the `pipeline` code location."""
        import json as _json
        import urllib.request

        query = '{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename } } } } }'
        request = urllib.request.Request(f"{self.url}/graphql", data=_json.dumps({"query": query}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            entries = _json.load(response)["data"]["workspaceOrError"]["locationEntries"]
        return any(e["name"] == "pipeline" and e["loadStatus"] == "LOADED"
                   and e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries)

    def stop(self) -> None:
        import subprocess

        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def dagster_yaml_for_tests(home: Path) -> None:
    """The project's dagster.yaml with run monitoring polling every 2 s instead of 30 (faster tests)."""
    text = (ROOT / "dagster.yaml").read_text().replace("poll_interval_seconds: 30", "poll_interval_seconds: 2")
    (home / "dagster.yaml").write_text(text)


@pytest.fixture(params=["sqlite"])
def backend(request):
    """The storage backend of the services (tests parametrize it indirectly with "postgres")."""
    return request.param


@pytest.fixture
def services(dagster_home, data_dir, monkeypatch, backend, request):
    """A real webserver and daemon on the test's instance; PIPELINE_DAGSTER_URL points at them."""
    if backend == "postgres":
        monkeypatch.setenv("DAGSTER_POSTGRES_URL", request.getfixturevalue("postgres_url"))
    running = _start_services(dagster_home, data_dir, monkeypatch, {})
    yield running
    running.stop()


def _start_services(dagster_home: Path, data_dir: Path, monkeypatch, extra_env: dict[str, str]) -> DagsterServices:
    dagster_yaml_for_tests(dagster_home)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "PIPELINE_DATA_DIR": str(data_dir), **extra_env}
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    running = DagsterServices(dagster_home, env)
    running.start()
    monkeypatch.setenv("PIPELINE_DAGSTER_URL", running.url)
    return running


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
    running = _start_services(dagster_home, data_dir, monkeypatch, {
        "PIPELINE_TEXT_PROVIDER": "openai", "PIPELINE_TEXT_BASE_URL": f"{server.url}/v1",
        "PIPELINE_RESPONSE_CACHE": "off"})
    yield running
    running.stop()
    server.stop()

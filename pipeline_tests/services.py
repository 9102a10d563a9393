"""Services of a test's own (redis-server, dagster-webserver + dagster-daemon) on free ports.

No import-time side effects, so the benchmarks use them too (pipeline_tests/conftest.py sets the
test session's Redis prefix; this module does not).
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own on a free port, which the test may stop and restart."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> None:

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
        client = redis.Redis.from_url(self.url)
        try:
            client.shutdown(save=keep_data, nosave=not keep_data)
        except redis.ConnectionError:
            pass
        self.proc.wait(timeout=20)
        if not keep_data:
            (self.folder / "dump.rdb").unlink(missing_ok=True)


class DagsterServices:
    """dagster-webserver and dagster-daemon of the test's own, on its DAGSTER_HOME."""

    def __init__(self, home: Path, env: dict[str, str], root: Path = ROOT):
        self.home = home
        self.env = env
        self.root = root  # the folder of workspace.yaml (a benchmark may use its own)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list = []

    def start(self) -> None:

        bin_dir = Path(sys.executable).parent
        workspace = str(self.root / "workspace.yaml")
        # create the instance's storage once, so the daemon and the webserver do not race to create it
        subprocess.run([str(bin_dir / "dagster"), "instance", "info"], env=self.env, cwd=self.root, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        logs = open(self.home / "services.log", "ab")
        self.procs = [
            subprocess.Popen([str(bin_dir / "dagster-daemon"), "run", "-w", workspace], cwd=self.root, env=self.env,
                             stdout=logs, stderr=subprocess.STDOUT),
            subprocess.Popen([str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port),
                              "-w", workspace], cwd=self.root, env=self.env, stdout=logs, stderr=subprocess.STDOUT),
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

        query = '{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename } } } } }'
        request = urllib.request.Request(f"{self.url}/graphql", data=json.dumps({"query": query}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
        return any(e["name"] == "pipeline" and e["loadStatus"] == "LOADED"
                   and e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries)

    def stop(self) -> None:
        """Also the code servers they started, which otherwise outlive them until a heartbeat times out."""
        children = [c for p in self.procs for c in descendants(p.pid)]
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children, ...)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in map(int, (task / "children").read_text().split()):
                found += [child, *descendants(child)]
    return found


def dagster_yaml_for_tests(home: Path) -> None:
    """The project's dagster.yaml with run monitoring polling every 2 s instead of 30 (faster tests)."""
    text = (ROOT / "dagster.yaml").read_text().replace("poll_interval_seconds: 30", "poll_interval_seconds: 2")
    (home / "dagster.yaml").write_text(text)


def start_services(dagster_home: Path, data_dir: Path, monkeypatch, extra_env: dict[str, str]) -> DagsterServices:
    dagster_yaml_for_tests(dagster_home)
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), "PIPELINE_DATA_DIR": str(data_dir), **extra_env}
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    running = DagsterServices(dagster_home, env)
    running.start()
    monkeypatch.setenv("PIPELINE_DAGSTER_URL", running.url)
    return running

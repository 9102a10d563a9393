"""A distributed deployment on one machine: daemon + webserver on PostgreSQL, and Celery workers that
behave as separate hosts.

Each worker runs in its own mount and UTS namespace (`unshare`): its own host name, its own empty
scratch folder, and neither the daemon's DAGSTER_HOME nor the repository's data folder; the only
folder it shares with the daemon is the shared path (PIPELINE_DATA_DIR), as with NFS.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import psycopg2
from celery import Celery

from pipeline_tests.services import ROOT, DagsterServices, dagster_yaml_for_tests

BIN = Path(sys.executable).parent


def create_database() -> tuple[str, str]:
    name = f"pipeline_dist_{uuid.uuid4().hex[:10]}"
    _sql(f'CREATE DATABASE "{name}"')
    return name, f"postgresql://{os.environ.get('PGUSER', 'postgres')}@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    _sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
         f'DROP DATABASE IF EXISTS "{name}"')


def _sql(*statements: str) -> None:
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user=os.environ.get("PGUSER", "postgres"),
                             dbname="postgres", connect_timeout=5)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        admin.close()


def rabbitmq_vhost() -> str:
    """A RabbitMQ virtual host of the test's own (no leftover queue of another run), for guest."""
    vhost = f"pipeline-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, timeout=60, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True,
                   timeout=60, capture_output=True)
    return vhost


def drop_vhost(vhost: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], timeout=60, capture_output=True)


@dataclass
class Worker:
    """One `pipeline worker` as a host of its own."""

    name: str
    host: str
    queues: str
    cluster: "Cluster"
    concurrency: int = 1
    proc: subprocess.Popen | None = None

    @property
    def node(self) -> str:
        return f"{self.name}@{self.host}"

    @property
    def scratch(self) -> Path:
        return self.cluster.root / "scratch" / self.host

    def start(self) -> None:
        c = self.cluster
        hidden = [c.home, ROOT / "data", c.root / "scratch"]  # the daemon's folders and every scratch
        script = " && ".join([*(f"mount -t tmpfs tmpfs {p}" for p in hidden), f"mkdir -p {self.scratch}",
                              f"hostname {self.host}",
                              f"exec {BIN / 'pipeline'} worker --name {self.name} --queues {self.queues} "
                              f"--concurrency {self.concurrency} --scratch {self.scratch} --loglevel INFO"])
        env = {k: v for k, v in c.env.items() if k != "DAGSTER_HOME"}
        log = open(c.root / f"{self.host}.log", "ab")
        self.proc = subprocess.Popen(["unshare", "--mount", "--uts", "--propagation", "private", "--",
                                      "sh", "-c", script], env=env, cwd="/", stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.node} exited: {self.log()[-3000:]}")
            if self.node in c.answering():
                return
        raise RuntimeError(f"worker {self.node} did not answer within 90 s: {self.log()[-3000:]}")

    def log(self) -> str:
        return (self.cluster.root / f"{self.host}.log").read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the host's every process (the worker and its pool), as a power cut would."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Cluster:
    """PostgreSQL instance, daemon + webserver with PIPELINE_EXECUTOR=celery, and its workers."""

    root: Path
    redis_url: str
    broker_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)
    services: DagsterServices | None = None
    database: str = ""

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def shared(self) -> Path:
        return self.root / "shared"

    def start(self) -> None:
        self.home.mkdir(parents=True)
        (self.root / "scratch").mkdir()
        shutil.copytree(ROOT / "data" / "sources", self.shared / "sources")
        dagster_yaml_for_tests(self.home)
        self.database, url = create_database()
        self.env = {**os.environ, "DAGSTER_HOME": str(self.home), "DAGSTER_POSTGRES_URL": url,
                    "PIPELINE_DATA_DIR": str(self.shared), "REDIS_URL": self.redis_url,
                    "PIPELINE_EXECUTOR": "celery", **self.extra_env}
        if self.broker_url:
            self.env["PIPELINE_BROKER_URL"] = self.broker_url
        self.services = DagsterServices(self.home, self.env)
        self.services.start()

    def add_worker(self, name: str, host: str, queues: str, concurrency: int = 1) -> Worker:
        worker = Worker(name, host, queues, self, concurrency)
        worker.start()
        self.workers.append(worker)
        return worker

    def answering(self) -> set[str]:
        app = Celery(broker=self.broker_url or self.redis_url)
        try:
            return {name for reply in app.control.ping(timeout=1.0) or [] for name in reply}
        finally:
            app.close()

    def instance(self) -> dg.DagsterInstance:
        """The deployment's instance, as the test process sees it (DAGSTER_HOME and the URL from its env)."""
        from dagster._core.instance.ref import InstanceRef

        saved = {k: os.environ.get(k) for k in ("DAGSTER_POSTGRES_URL", "PIPELINE_EVENTS")}
        os.environ.update({"DAGSTER_POSTGRES_URL": self.env["DAGSTER_POSTGRES_URL"], "PIPELINE_EVENTS": "off"})
        try:
            return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(self.home)))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.services is not None:
            self.services.stop()
        if self.database:
            drop_database(self.database)

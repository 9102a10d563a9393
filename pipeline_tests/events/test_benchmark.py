"""The events benchmark runs as shipped, on SQLite and PostgreSQL, and leaves nothing behind, also when it fails."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
import redis

from pipeline_tests.services import ROOT, free_port

BENCHMARK = ROOT / "benchmarks" / "events" / "run.py"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    marker = uuid.uuid4().hex  # inherited by every process the benchmark starts
    environment = {**os.environ, "BENCHMARK_TEST_MARKER": marker, **env}
    environment.pop("DAGSTER_HOME", None)
    result = subprocess.run([sys.executable, str(BENCHMARK), "--events", "60", "--burst", "60", *args], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=300)
    assert not _processes_marked(marker), "a process of the benchmark is still running"
    return result


def _processes_marked(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and f"BENCHMARK_TEST_MARKER={marker}".encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _cleaned(result: subprocess.CompletedProcess) -> re.Match:
    line = re.search(r"cleaned up: .*Redis keys (\S+)\* (?:deleted|not deleted).*, (\S+) removed", result.stderr)
    assert line, result.stderr[-2000:]
    assert not Path(line.group(2)).exists(), "its folder is left behind"
    return line


def _rows(result: subprocess.CompletedProcess) -> list[list[str]]:
    return [[c.strip() for c in row.strip("|").split("|")] for row in result.stdout.splitlines() if row.startswith("|")]


@pytest.mark.e2e
def test_the_benchmark_runs_and_removes_its_keys_processes_and_folder(redis_server):
    result = _run()
    assert result.returncode == 0, result.stderr[-3000:]
    rows = _rows(result)
    assert [(r[0], r[1], r[2]) for r in rows] == [("sqlite", "paced 200/s", "60"), ("sqlite", "burst", "60")]
    assert "missing" not in result.stdout, "every event reached the stream"
    assert all(float(r[3]) > 0 and float(r[4]) >= float(r[3]) for r in rows)
    prefix = _cleaned(result).group(1)
    assert redis.Redis.from_url(redis_server.url).keys(f"{prefix}*") == []


@pytest.mark.e2e
def test_the_benchmark_on_postgres_drops_the_database_it_made(redis_server):
    result = _run("--postgres", "postgresql://postgres@127.0.0.1:5432/postgres")
    assert result.returncode == 0, result.stderr[-3000:]
    assert [r[0] for r in _rows(result)] == ["postgres", "postgres"]
    name = re.search(r"database (\S+) dropped", result.stderr).group(1)
    with psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        assert cur.fetchone()[0] == 0
    conn.close()


def test_a_failing_benchmark_still_ends_its_processes_and_removes_its_folder():
    result = _run(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")  # no Redis there: the reader cannot start
    assert result.returncode != 0
    assert "the reader did not start" in result.stderr
    _cleaned(result)

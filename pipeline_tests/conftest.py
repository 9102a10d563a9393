"""Shared fixtures: a temporary data folder and Dagster instances on the project's dagster.yaml."""

import os
import shutil
import uuid
from pathlib import Path

import dagster as dg
import pytest

ROOT = Path(__file__).resolve().parent.parent


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

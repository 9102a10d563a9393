"""dagster.yaml's storage: SQLite by default, PostgreSQL when DAGSTER_POSTGRES_URL is set."""

import dagster as dg
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from pipeline.storage import storage_backend
from pipeline.storage.backends import SqliteEvents


@dg.asset(partitions_def=dg.DynamicPartitionsDefinition(name="projects"))
def probe_asset() -> int:
    return 1


def _run_once(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("projects", ["p1"])
    return dg.materialize([probe_asset], instance=instance, partition_key="p1")


def test_sqlite_by_default(instance, dagster_home):
    assert storage_backend() == "sqlite"
    assert isinstance(instance.event_log_storage, SqliteEvents)
    result = _run_once(instance)
    assert result.success
    assert (dagster_home / "storage" / "runs.db").exists()
    assert instance.get_run_by_id(result.run_id).is_success
    assert instance.get_latest_materialization_event(dg.AssetKey("probe_asset")) is not None
    assert instance.run_monitoring_enabled


def test_postgres_when_url_set(dagster_home, postgres_url, monkeypatch):
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", postgres_url)
    assert storage_backend() == "postgres"
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        result = _run_once(instance)
        assert result.success
        records = instance.get_records_for_run(result.run_id).records
        assert any(r.event_log_entry.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for r in records)
    assert not (dagster_home / "storage" / "runs.db").exists()


def test_project_runs_on_postgres(dagster_home, postgres_url, data_dir, monkeypatch):
    from pipeline.run import run_locally
    from pipeline_tests.defs.briefs import small_brief

    monkeypatch.setenv("DAGSTER_POSTGRES_URL", postgres_url)
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    with dg.DagsterInstance.get() as instance:
        outcome = run_locally(small_brief("on-postgres"), stop_at="manuscript", instance=instance)
        assert outcome.success
        assert instance.get_dynamic_partitions("projects") == ["on-postgres"]
        event = instance.get_latest_materialization_event(dg.AssetKey("manuscript"))
        assert event.dagster_event.partition == "on-postgres"
    assert (data_dir / "projects" / "on-postgres" / "manuscript.md").exists()

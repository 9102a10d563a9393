"""The distributed mode's settings: checked before a worker connects or a run starts, one message each."""

import pytest

from pipeline.cli import main
from pipeline.workers import settings


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/unused")
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


@pytest.mark.parametrize(("argv", "unset", "message"), [
    (["--queues", "Render"], None, "queue name(s) 'Render'"),
    (["--queues", "default,default"], None, "give each queue once"),
    (["--queues", "a,b,c,d,e"], None, "at most 4 per worker"),
    (["--queues", ","], None, "name at least one queue"),
    (["--name", "w1@elsewhere"], None, "--name 'w1@elsewhere'"),
    (["--concurrency", "0"], None, "--concurrency 0"),
    ([], "DAGSTER_POSTGRES_URL", "DAGSTER_POSTGRES_URL is not set"),
    ([], "PIPELINE_DATA_DIR", "PIPELINE_DATA_DIR='' is not a folder"),
    (["--scratch", ""], None, "--scratch '': name a local folder"),
    (["--scratch", "{file}"], None, "cannot be a folder here"),
    (["--scratch", "{data}/tmp"], None, "is inside PIPELINE_DATA_DIR"),
    (["--scratch", "{data}/x/../tmp"], None, "is inside PIPELINE_DATA_DIR"),
])
def test_a_worker_with_bad_settings_says_which_and_starts_nothing(env, capsys, tmp_path, argv, unset, message):
    (tmp_path / "a-file").write_bytes(b"\xff\xfe not a folder")
    argv = [a.format(file=tmp_path / "a-file", data=tmp_path / "data") for a in argv]
    if unset:
        env.delenv(unset)
    before = sorted(tmp_path.rglob("*"))
    assert main(["worker", *argv]) == 2
    assert sorted(tmp_path.rglob("*")) == before, "a refused worker creates nothing"
    err = capsys.readouterr().err
    assert err.startswith("error [SETTINGS_INVALID] ") and message in err and err.count("\n") == 1, err


def test_the_executor_setting_is_one_of_two(monkeypatch):
    monkeypatch.setenv(settings.EXECUTOR_ENV, "dask")
    with pytest.raises(settings.SettingsError, match="PIPELINE_EXECUTOR='dask' is not one of in_process, celery"):
        settings.distributed()
    monkeypatch.setenv(settings.EXECUTOR_ENV, "Celery")
    assert settings.distributed()
    monkeypatch.delenv(settings.EXECUTOR_ENV)
    assert not settings.distributed() and settings.executor_kind() == "in_process"


def test_broker_and_result_backend_default_to_redis(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://:secret@10.0.0.5:6379/2")
    monkeypatch.delenv(settings.BROKER_ENV, raising=False)
    monkeypatch.delenv(settings.BACKEND_ENV, raising=False)
    assert settings.broker_url() == settings.result_backend() == "redis://:secret@10.0.0.5:6379/2"
    monkeypatch.setenv(settings.BROKER_ENV, "amqp://guest:pw@rabbit:5672//")
    assert settings.result_backend() == "redis://:secret@10.0.0.5:6379/2"  # results never on AMQP's rpc
    assert "pw" not in settings.describe(settings.broker_url())


def test_celery_mode_on_sqlite_refuses_to_start_a_run_and_says_what_to_set(monkeypatch, instance):
    import dagster as dg

    from pipeline.definitions import defs
    from pipeline.defs.ops.executor import pipeline_executor

    monkeypatch.setenv(settings.EXECUTOR_ENV, "celery")
    job = defs.resolve_job_def("produce_project")
    context = dg.InitExecutorContext(job=dg.reconstructable(_job), executor_def=pipeline_executor,
                                     executor_config={"retries": {"enabled": {}}}, instance=instance)
    with pytest.raises(dg.DagsterInvalidConfigError, match="PIPELINE_EXECUTOR=celery needs .* DAGSTER_POSTGRES_URL"):
        pipeline_executor.executor_creation_fn(context)
    assert job.executor_def is pipeline_executor


def _job():
    from pipeline.definitions import defs

    return defs.resolve_job_def("produce_project")

"""Warm run workers (pipeline/launch/warm.py): ready before their run, used only while fresh, cancelable."""

import os
import subprocess
import sys
import time

import dagster as dg
import pytest

from pipeline.cli.projects import launch_brief
from pipeline.launch.client import PipelineClient
from pipeline.launch.coordinator import OneRunPerProjectCoordinator
from pipeline.launch.launcher import WARM_WORKER_TAG, MonitoredRunLauncher, worker_pid
from pipeline.launch.warm import WarmPool, code_fingerprint
from pipeline_tests.defs.briefs import LONGER_VIDEO, small_brief
from pipeline_tests.events.streams import client as redis_client
from pipeline_tests.events.streams import wait_for_asset_progress


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A one-module package `warmpkg` importable here and by the workers the pool starts."""
    root = tmp_path / "src"
    (root / "warmpkg").mkdir(parents=True)
    (root / "warmpkg" / "__init__.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    return root / "warmpkg"


def _ready(pool: WarmPool, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while pool._ready is None:
        assert time.monotonic() < deadline, "no warm worker became ready"
        time.sleep(0.05)
    return pool._ready


def test_fingerprint_follows_the_package_files(package):
    before = code_fingerprint(("warmpkg",))
    assert code_fingerprint(("warmpkg",)) == before
    (package / "more.py").write_text("X = 2\n")
    assert code_fingerprint(("warmpkg",)) != before


def test_a_ready_worker_is_used_once_and_never_after_the_code_changed(package):
    pool = WarmPool(("warmpkg",))
    try:
        assert pool.take() is None, "nothing is ready before the first launch: that run starts cold"
        first = _ready(pool).process
        assert pool.take() is first
        first.stdin.close()  # handed nothing: it exits without running anything
        assert first.wait(timeout=30) == 0
        stale = _ready(pool).process
        (package / "__init__.py").write_text("VALUE = 2  # edited after the worker imported it\n")
        assert pool.take() is None, "a worker that imported older code is not used"
        assert stale.wait(timeout=30) is not None, "the stale worker was stopped"
        fresh = _ready(pool).process
        assert fresh is not stale and pool.take() is fresh
        fresh.stdin.close()
    finally:
        pool.close()


def test_a_warm_worker_that_exits_before_its_run_starts_fails_the_run_at_once(instance):
    run = instance.create_run_for_job(dg.GraphDefinition(name="nothing").to_job(), status=dg.DagsterRunStatus.STARTING)
    launcher = MonitoredRunLauncher()
    launcher.register_instance(instance)
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    launcher._fail_if_never_started(process, run.run_id)
    failed = instance.get_run_by_id(run.run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    message = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records[0]
    assert "exited with code 3 before starting the run" in message.event_log_entry.dagster_event.message


def test_dequeue_interval_takes_fractions_down_to_half_a_second():
    inst = dg.DagsterInstance.ephemeral()
    coordinator = OneRunPerProjectCoordinator.from_config_value(None, {"dequeue_interval_seconds": 0.5})
    assert coordinator.dequeue_interval_seconds == 0.5
    with pytest.raises(dg.DagsterInvalidConfigError, match="at least 0.5"):
        OneRunPerProjectCoordinator.from_config_value(None, {"dequeue_interval_seconds": 0.1})
    inst.dispose()


def test_runs_go_to_warm_workers_through_the_daemon_and_cancel_reaches_them(redis_server, services, data_dir):
    client = PipelineClient()
    cold = launch_brief(client, small_brief("warm-first", stop_at="outline"), "outline")
    assert client.wait(cold, timeout=180)["status"] == "SUCCESS"
    time.sleep(3)  # the worker started after the first launch is ready by now
    brief = small_brief("warm-cancel", video=LONGER_VIDEO)
    run_id = launch_brief(client, brief, None)
    r = redis_client()
    wait_for_asset_progress(r, brief.project_id, run_id, "narration")
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        assert WARM_WORKER_TAG in run.tags, "the second run went to the worker made ready after the first"
        assert run.tags[WARM_WORKER_TAG] == f"{os.uname().nodename}:{worker_pid(instance, run_id)}"
    client.terminate(run_id)
    assert client.wait(run_id, timeout=120)["status"] == "CANCELED"
    with dg.DagsterInstance.get() as instance:
        assert not instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY).records
    time.sleep(3)
    assert client.run(run_id)["status"] == "CANCELED", "never retried into success (dagster#15026)"

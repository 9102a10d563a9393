"""Launching through a real webserver and daemon: submit, refuse duplicates atomically, cancel, resume."""

import json
import threading
import time

import dagster as dg
import pytest

from pipeline.cli.projects import launch_brief
from pipeline.defs.ops.jobs import run_config
from pipeline.launch.client import ClientError, PipelineClient
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import LONGER_VIDEO, small_brief
from pipeline_tests.events.streams import client as redis_client
from pipeline_tests.events.streams import entries, final_entry, wait_for_asset_progress


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_submit_and_wait_for_success_then_delete(redis_server, services, data_dir, backend):
    client = PipelineClient()
    brief = small_brief("ops-submit", stop_at="script")
    run_id = launch_brief(client, brief, brief.stop_at)
    run = client.wait(run_id, timeout=180)
    assert run["status"] == "SUCCESS"
    assert ProjectFiles(data_dir, brief.project_id).path("script.json").exists()
    stream = entries(redis_client(), brief.project_id, run_id)
    assert [e["type"] for e in stream if e["type"] != "task_progress"] == ["task_queued", "task_started",
                                                                         "task_completed"]
    assert {"RUN_ENQUEUED", "RUN_STARTING", "RUN_START", "RUN_SUCCESS"} <= {e["dagster_event"] for e in stream}

    import argparse

    from pipeline.cli.delete import cmd_delete

    assert cmd_delete(argparse.Namespace(project=brief.project_id, yes=True)) == 0
    assert brief.project_id not in client.partitions()
    assert client.runs(brief.project_id) == []
    assert not ProjectFiles(data_dir, brief.project_id).root.exists()
    assert entries(redis_client(), brief.project_id) == []
    assert entries(redis_client(), brief.project_id, stream="events") == []


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_second_launch_refused_and_simultaneous_launches_give_one_run(redis_server, services, data_dir, backend):
    client = PipelineClient()
    brief = small_brief("ops-busy")
    first = launch_brief(client, brief, None)
    with pytest.raises(ClientError, match=f"already has run {first}"):
        launch_brief(client, brief, None)  # the client refuses before creating anything
    with pytest.raises(ClientError, match=f"already has run {first}"):  # the coordinator refuses atomically
        client.launch(brief.project_id, run_config(brief))
    assert client.wait(first, timeout=240)["status"] == "SUCCESS"

    # two launches at the same instant, both past the client's check: exactly one run
    outcomes: list = []
    barrier = threading.Barrier(2)

    def launch() -> None:
        barrier.wait()
        try:
            outcomes.append(("ok", client.launch(brief.project_id, run_config(brief), ["brief", "outline"])))
        except ClientError as e:
            outcomes.append(("refused", str(e)))

    threads = [threading.Thread(target=launch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
    winner = next(value for kind, value in outcomes if kind == "ok")
    assert client.wait(winner, timeout=120)["status"] == "SUCCESS"
    # refused launches never reach the stream and are never retried
    time.sleep(3)
    r = redis_client()
    assert {e["run_id"] for e in entries(r, brief.project_id)} == {first, winner}
    with dg.DagsterInstance.get() as instance:
        refused = instance.get_runs(dg.RunsFilter(tags={"pipeline/refused": "true"}))
        assert len(refused) == 2
        assert all(r.tags.get("dagster/will_retry") != "true" for r in refused)
        assert not instance.get_runs(dg.RunsFilter(tags={"dagster/parent_run_id": refused[0].run_id}))


def test_cancel_then_resume_reuses_finished_items(redis_server, services, data_dir):
    client = PipelineClient()
    # long enough narration (about 40 cues) that the cancel lands in the middle of it
    brief = small_brief("ops-cancel", video=LONGER_VIDEO)
    run_id = launch_brief(client, brief, None)
    r = redis_client()
    wait_for_asset_progress(r, brief.project_id, run_id, "narration")
    client.terminate(run_id)
    assert client.wait(run_id, timeout=120)["status"] == "CANCELED"
    assert final_entry(r, brief.project_id, run_id)["type"] == "task_canceled"
    # the interrupted step failed; it was never put up for retry (dagster#15026), in the log nor in Redis
    assert "STEP_UP_FOR_RETRY" not in [e["dagster_event"] for e in entries(r, brief.project_id, run_id)]
    with dg.DagsterInstance.get() as instance:
        assert not instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY).records
    progress = json.loads(r.get(f"{__import__('os').environ['PIPELINE_REDIS_PREFIX']}generation_progress:{brief.project_id}"))
    assert progress["status"] == "canceled"
    spoken_before = len(list(ProjectFiles(data_dir, brief.project_id).path("narration", "items").glob("*.wav")))
    assert spoken_before > 0, "finished cues stay on disk"

    resumed = client.reexecute(run_id)
    assert client.wait(resumed, timeout=240)["status"] == "SUCCESS"
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("narration"))
        assert event.run_id == resumed
        metadata = event.asset_materialization.metadata
        assert metadata["reused"].value >= spoken_before - 1
        chapters = instance.get_latest_materialization_event(dg.AssetKey("chapters"))
        assert chapters.run_id == run_id, "finished assets are not run again"


def test_cancel_waits_out_the_moment_a_run_is_starting_then_cancels(monkeypatch):
    """Dagster refuses to cancel a STARTING run (the daemon is handing it to its run worker): the client
    asks again until the run is STARTED, rather than failing a `pipeline cancel` given right after submit."""
    answers = [{"__typename": "TerminateRunFailure", "message": "Run r could not be terminated due to having "
                "status STARTING.", "run": {"status": "STARTING"}}] * 3 + [{"__typename": "TerminateRunSuccess"}]
    asked = []
    client = PipelineClient("http://127.0.0.1:9")
    monkeypatch.setattr(client, "query", lambda *a, **k: asked.append(a) or {"terminateRun": answers[len(asked) - 1]})
    client.terminate("r", poll=0.01)
    assert len(asked) == 4
    # a run that stays STARTING past the wait, or any other refusal, is reported at once
    asked.clear()
    answers[:] = [answers[0]] * 100
    with pytest.raises(ClientError, match="canceling run r failed .*status STARTING"):
        client.terminate("r", starting_timeout=0.05, poll=0.01)
    asked.clear()
    answers[:] = [{"__typename": "TerminateRunFailure", "message": "Run r could not be terminated due to "
                   "having status SUCCESS.", "run": {"status": "SUCCESS"}}]
    with pytest.raises(ClientError, match="status SUCCESS"):
        client.terminate("r")
    assert len(asked) == 1

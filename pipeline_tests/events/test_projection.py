"""The Redis projection of Dagster's event log, against real Redis servers."""

import json
import threading
import time
from pathlib import Path

import dagster as dg
import jsonschema
import pytest

from pipeline.events.entries import RunView
from pipeline.run import run_locally
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.events.streams import client, dagster_events, entries, final_entry, key, progress, wait_for

# The brief asset's config (typed: a prompt is required) for runs made directly on the instance.
BRIEF_ONLY = {"ops": {"brief": {"config": {"prompt": "A test run."}}}}

SCHEMA = json.loads((Path(__file__).parents[2] / "pipeline/events/schema/event-entry.v3.json").read_text())


@pytest.fixture
def env_data(data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    return data_dir


def assert_stream_matches_log(r, instance, project, run_id):
    stream = entries(r, project, run_id)
    log = dagster_events(instance, run_id)
    assert [e["dagster_event"] for e in stream] == [t for t, _ in log]
    assert [e["step"] for e in stream if e["type"] == "task_progress"] == \
        [s for t, s in log if t not in ("RUN_ENQUEUED", "RUN_START", "RUN_SUCCESS", "RUN_FAILURE", "RUN_CANCELED")]
    seqs = [int(e["seq"]) for e in stream]
    assert seqs == sorted(set(seqs)), "seq must increase, without repeats"
    glob = entries(r, project, run_id, stream="events")
    assert [e["dagster_event"] for e in glob] == [e["dagster_event"] for e in stream]
    return stream


def test_stream_equals_event_log_entry_by_entry(redis_server, instance, env_data):
    brief = small_brief("proj-full", stop_at="script")
    outcome = run_locally(brief, stop_at="script", instance=instance)
    r = client()
    final = final_entry(r, brief.project_id, outcome.run_id)
    assert final["type"] == "task_completed"
    stream = assert_stream_matches_log(r, instance, brief.project_id, outcome.run_id)
    for entry in stream:
        jsonschema.validate(entry, SCHEMA)
    assert stream[-1]["progress_percent"] == "100"
    percents = [int(e["progress_percent"]) for e in stream if "progress_percent" in e]
    assert percents == sorted(percents), "progress never decreases within a run"
    chapter_reports = [json.loads(e["data"]) for e in stream if e["dagster_event"] == "ASSET_OBSERVATION"
                       and e["asset"] == "chapters"]
    assert [(d["done"], d["total"]) for d in chapter_reports] == [(1, 2), (2, 2)]
    record = progress(r, brief.project_id)
    assert (record["status"], record["progress_percent"], record["run_id"]) == ("succeeded", 100, outcome.run_id)
    assert r.get(key(f"active_task:{brief.project_id}")) is None
    result = json.loads(r.get(key(f"job_result:{outcome.run_id}")))
    assert result["status"] == "succeeded" and result["outputs"]["outline"].endswith("outline.json")
    assert 0 < r.ttl(key(f"job_result:{outcome.run_id}")) <= 3600
    logs = [json.loads(line) for line in r.lrange(key(f"generation_logs:{brief.project_id}"), 0, -1)]
    assert any("chapter 2 of 2 written" in line["message"] for line in logs)


def test_failure_entry_names_asset_and_error(redis_server, instance, env_data):
    brief = small_brief("proj-fail")
    instance.add_dynamic_partitions("projects", [brief.project_id])
    result = dg.execute_job(
        dg.reconstructable(_job), instance=instance, tags={"dagster/partition": brief.project_id},
        run_config={"ops": {"brief": {"config": {"project_id": brief.project_id, "prompt": ""}}},
                    },
        asset_selection=[dg.AssetKey("brief")])
    assert not result.success
    final = final_entry(client(), brief.project_id, result.run_id)
    assert final["type"] == "task_failed"
    assert final["asset"] == "brief" and "prompt: String should have at least 1 character" in final["error"]
    assert progress(client(), brief.project_id)["status"] == "failed"


def _job():
    from pipeline.run import produce_project_job

    return produce_project_job()


@pytest.mark.parametrize("keep_data", [True, False], ids=["redis-keeps-data", "redis-comes-back-empty"])
def test_redis_restart_mid_run_loses_nothing_and_duplicates_nothing(redis_server, instance, env_data, keep_data):
    brief = small_brief(f"proj-outage-{keep_data}".lower())
    r = client()
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(o=run_locally(brief, instance=instance)))
    runner.start()
    wait_for(lambda: any(e["dagster_event"] == "STEP_START" and e["step"] == "chapters"
                         for e in entries(r, brief.project_id)), 60, "the chapters step in the stream")
    redis_server.stop(keep_data=keep_data)
    time.sleep(1.5)  # the run goes on while Redis is down
    redis_server.start()
    runner.join(timeout=240)
    assert outcome["o"].success, "the run is unaffected by the outage"
    run_id = outcome["o"].run_id
    final_entry(r, brief.project_id, run_id, timeout=30)
    assert_stream_matches_log(r, instance, brief.project_id, run_id)
    assert progress(r, brief.project_id)["status"] == "succeeded"


def test_runs_complete_while_redis_is_down(redis_server, instance, env_data):
    redis_server.stop(keep_data=False)
    brief = small_brief("proj-no-redis", stop_at="manuscript")
    started = time.monotonic()
    outcome = run_locally(brief, stop_at="manuscript", instance=instance)
    assert outcome.success and time.monotonic() - started < 60
    redis_server.start()
    r = client()
    final_entry(r, brief.project_id, outcome.run_id, timeout=30)
    assert_stream_matches_log(r, instance, brief.project_id, outcome.run_id)


def test_resync_rebuilds_without_duplicates(redis_server, instance, env_data):
    from pipeline.events.projector import Projector, state_for
    from pipeline.events.redis_sink import RedisSink, connect, redis_prefix

    brief = small_brief("proj-resync", stop_at="outline")
    outcome = run_locally(brief, stop_at="outline", instance=instance)
    r = client()
    final_entry(r, brief.project_id, outcome.run_id)
    before = entries(r, brief.project_id, outcome.run_id)
    projector = Projector(instance, state_for(instance), RedisSink(connect(), redis_prefix()))
    assert projector.resync(brief.project_id) == 0  # everything is there already
    r.delete(key(f"events:{brief.project_id}"))  # the project's stream is lost, the global one is not
    assert projector.resync(brief.project_id) == len(before)
    after = entries(r, brief.project_id, outcome.run_id)
    assert [e["dagster_event"] for e in after] == [e["dagster_event"] for e in before]
    glob = entries(r, brief.project_id, outcome.run_id, stream="events")
    assert len(glob) == len(before), "the global stream got nothing twice"


def test_batch_progress_from_tagged_runs(redis_server, instance, env_data):
    brief = small_brief("proj-batch", stop_at="outline")
    instance.add_dynamic_partitions("projects", [brief.project_id])
    from pipeline.defs.ops.jobs import run_config

    result = dg.execute_job(dg.reconstructable(_job), instance=instance, run_config=run_config(brief),
                            tags={"dagster/partition": brief.project_id, "pipeline/batch": "b-1"},
                            asset_selection=[dg.AssetKey("brief"), dg.AssetKey("outline")])
    r = client()
    final_entry(r, brief.project_id, result.run_id)
    record = wait_for(lambda: json.loads(r.get(key("batch_progress:b-1")) or "null"), 10, "batch_progress")
    assert record["succeeded"] == 1 and record["total"] == 1
    assert record["results"] == [{"project": brief.project_id, "run_id": result.run_id, "status": "succeeded",
                                  "error": None}]


def test_percent_rules_are_pure():
    view = RunView(project="p", run_id="r", selected=["brief", "outline"])
    assert view.percent == 0
    view._raise(50)
    view._raise(30)
    assert view.percent == 50
    view._raise(100)
    assert view.percent == 99  # 100 only on success


def _started_run(instance, project: str) -> dg.DagsterRun:
    """A run of produce_project whose worker has started (RUN_START), as a run worker leaves it."""
    instance.add_dynamic_partitions("projects", [project])
    run = instance.create_run_for_job(_job(), tags={"dagster/partition": project},
                                      asset_selection=frozenset({dg.AssetKey("brief")}), run_config=BRIEF_ONLY)
    instance.report_dagster_event(dg.DagsterEvent(event_type_value=dg.DagsterEventType.RUN_START.value,
                                                  job_name=run.job_name), run_id=run.run_id)
    return run


def test_run_failed_from_outside_its_worker(redis_server, instance, env_data):
    run = _started_run(instance, "proj-dead-worker")
    r = client()
    wait_for(lambda: r.get(key("active_task:proj-dead-worker")), 10, "active_task at start")
    assert progress(r, "proj-dead-worker")["status"] == "running"
    # what run monitoring writes when it finds the run worker dead
    instance.report_run_failed(run, "Run worker died (run monitoring)")
    final = final_entry(r, "proj-dead-worker", run.run_id)
    assert final["type"] == "task_failed" and "Run worker died" in final["error"]
    assert (final["error_code"], final["retryable"]) == ("RUN_WORKER_LOST", "true") and "resume" in final["hint"]
    assert r.get(key("active_task:proj-dead-worker")) is None
    assert progress(r, "proj-dead-worker")["status"] == "failed"
    job = json.loads(r.get(key(f"job_result:{run.run_id}")))
    assert job["status"] == "failed" and job["error"]["error_code"] == "RUN_WORKER_LOST"


def test_cancel_events(redis_server, instance, env_data):
    run = _started_run(instance, "proj-cancel")
    instance.report_run_canceling(run)
    instance.report_run_canceled(run)
    r = client()
    final = final_entry(r, "proj-cancel", run.run_id)
    stream = entries(r, "proj-cancel", run.run_id)
    assert [e["dagster_event"] for e in stream[-3:]] == ["RUN_START", "RUN_CANCELING", "RUN_CANCELED"]
    assert [e["type"] for e in stream[-3:]] == ["task_started", "task_progress", "task_canceled"]
    assert final["dagster_event"] == "RUN_CANCELED"
    assert (final["error_code"], final["retryable"]) == ("CANCELED", "false")
    assert json.loads(r.get(key(f"job_result:{run.run_id}")))["error"]["error_code"] == "CANCELED"
    assert progress(r, "proj-cancel")["status"] == "canceled"
    assert r.get(key("active_task:proj-cancel")) is None


def test_refused_launch_never_projected(redis_server, instance, env_data):
    run = _started_run(instance, "proj-active")
    refused = instance.create_run_for_job(_job(), tags={"dagster/partition": "proj-active", "pipeline/refused": "1"},
                                          asset_selection=frozenset({dg.AssetKey("brief")}), run_config=BRIEF_ONLY)
    instance.report_run_failed(refused, "refused: project proj-active has an active run")
    r = client()
    wait_for(lambda: entries(r, "proj-active"), 10, "the active run's entries")
    time.sleep(2.5)  # a sweep has passed
    assert {e["run_id"] for e in entries(r, "proj-active")} == {run.run_id}
    assert progress(r, "proj-active")["run_id"] == run.run_id and progress(r, "proj-active")["status"] == "running"


def test_projection_on_postgres(redis_server, dagster_home, postgres_url, env_data, monkeypatch):
    monkeypatch.setenv("DAGSTER_POSTGRES_URL", postgres_url)
    with dg.DagsterInstance.get() as instance:
        brief = small_brief("proj-pg", stop_at="outline")
        outcome = run_locally(brief, stop_at="outline", instance=instance)
        r = client()
        assert final_entry(r, brief.project_id, outcome.run_id)["type"] == "task_completed"
        assert_stream_matches_log(r, instance, brief.project_id, outcome.run_id)


def test_follow_prints_the_run_and_exits_when_it_ends(redis_server, instance, env_data):
    from pipeline.events.follow import describe, follow
    from pipeline.events.redis_sink import connect, redis_prefix

    brief = small_brief("proj-follow", stop_at="chapters")
    runner = threading.Thread(target=lambda: run_locally(brief, stop_at="chapters", instance=instance))
    seen = []
    runner.start()
    for entry in follow(connect(), redis_prefix(), brief.project_id, block_ms=200):
        seen.append(describe(entry))
    runner.join(timeout=60)
    assert "TASK_STARTED" in seen[0] and "TASK_COMPLETED" in seen[-1]
    assert any("[" in line and "%" in line and "chapter 2 of 2" in line for line in seen), "a progress bar"

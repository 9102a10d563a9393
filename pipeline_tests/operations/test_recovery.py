"""A killed run worker, an edited script, and a batch, through a real webserver and daemon."""

import json
import os
import signal

import dagster as dg

from pipeline.cli.projects import launch_brief
from pipeline.launch.client import PipelineClient
from pipeline.launch.launcher import worker_pid
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import LONGER_VIDEO, small_brief
from pipeline_tests.events.streams import client as redis_client
from pipeline_tests.events.streams import final_entry, wait_for, wait_for_asset_progress



def _materialization(instance, asset: str) -> dg.EventLogEntry:
    return instance.get_latest_materialization_event(dg.AssetKey(asset))


def test_killed_run_worker_is_noticed_and_the_project_recovers(redis_server, services, data_dir):
    client = PipelineClient()
    brief = small_brief("ops-crash", video=LONGER_VIDEO)
    run_id = launch_brief(client, brief, None)
    r = redis_client()
    wait_for_asset_progress(r, brief.project_id, run_id, "narration")
    with dg.DagsterInstance.get() as instance:
        pid = worker_pid(instance, run_id)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        assert client.wait(run_id, timeout=60)["status"] == "FAILURE"  # run monitoring noticed
        lost = final_entry(r, brief.project_id, run_id)
        assert (lost["type"], lost["error_code"]) == ("task_failed", "RUN_WORKER_LOST"), lost
        spoken_before = len(list(ProjectFiles(data_dir, brief.project_id).path("narration", "items").glob("*.wav")))
        retry = wait_for(lambda: instance.get_runs(dg.RunsFilter(tags={"dagster/parent_run_id": run_id})), 60,
                         "the automatic retry")[0]
        assert client.wait(retry.run_id, timeout=300)["status"] == "SUCCESS"
        narration = _materialization(instance, "narration")
        assert narration.run_id == retry.run_id
        metadata = narration.asset_materialization.metadata
        assert metadata["reused"].value >= spoken_before - 1, "cues spoken before the crash are not spoken again"
        assert metadata["spoken"].value + metadata["reused"].value == metadata["cues"].value
        assert _materialization(instance, "chapters").run_id == run_id, "chapters were not written again"


def test_edited_script_respeaks_only_changed_cues(redis_server, services, data_dir):
    client = PipelineClient()
    brief = small_brief("ops-edit", stop_at="script")
    assert client.wait(launch_brief(client, brief, "script"), timeout=180)["status"] == "SUCCESS"
    first = launch_brief(client, brief, "video")
    assert client.wait(first, timeout=240)["status"] == "SUCCESS"
    files = ProjectFiles(data_dir, brief.project_id)
    script = json.loads(files.path("script.json").read_text())
    script["segments"][1]["text"] = "This sentence was edited by a person. So was this one."
    files.path("script.json").write_text(json.dumps(script))
    from pipeline.cli.projects import downstream_of

    run_id = client.launch(brief.project_id, {}, downstream_of("script"))
    assert client.wait(run_id, timeout=240)["status"] == "SUCCESS"
    with dg.DagsterInstance.get() as instance:
        narration = _materialization(instance, "narration").asset_materialization.metadata
        assert narration["spoken"].value == 2, "only the two edited cues are spoken again"
        video = _materialization(instance, "video").asset_materialization.metadata
        images = _materialization(instance, "images").asset_materialization.metadata
        # the two edited cues' stills, encoded once: ahead by the images step, the rest by the video step
        assert images["stills_encoded_ahead"].value + video["stills_encoded"].value == 2
    srt = files.path("video.srt").read_text()
    assert "This sentence was edited by a person." in srt


def test_batch_of_five(redis_server, services_with_text_api, data_dir, tmp_path):
    from pipeline.launch.batch import read_batch, write_batch_progress

    batch_file = tmp_path / "batch.yaml"
    good = {"kind": "document", "chapters": 2, "chapter_words": 100, "stop_at": "outline"}
    projects = [dict(good, project_id=f"batch-{n}", prompt=f"Topic number {n}, explained plainly.") for n in range(3)]
    projects.append(dict(good, project_id="batch-refused", prompt="FORBIDDEN-TOPIC, explained plainly."))
    projects.append({"project_id": "../escape", "prompt": ""})
    import yaml

    batch_file.write_text(yaml.safe_dump({"batch": "b5", "projects": projects}))
    batch = read_batch(batch_file, data_dir)
    assert len(batch.briefs) == 4 and len(batch.rejected) == 1
    client = PipelineClient()
    launched = []
    for brief in batch.briefs:
        run_id = launch_brief(client, brief, brief.stop_at, {"pipeline/batch": batch.id})
        launched.append({"project": brief.project_id, "run_id": run_id, "status": "queued", "error": None})
    write_batch_progress(batch.record(launched))
    outcomes = {item["project"]: client.wait(item["run_id"], timeout=240)["status"] for item in launched}
    assert outcomes == {"batch-0": "SUCCESS", "batch-1": "SUCCESS", "batch-2": "SUCCESS", "batch-refused": "FAILURE"}
    r = redis_client()
    prefix = os.environ["PIPELINE_REDIS_PREFIX"]

    def settled():
        record = json.loads(r.get(f"{prefix}batch_progress:b5") or "{}")
        return record if record.get("succeeded") == 3 and record.get("failed") == 1 else None

    record = wait_for(settled, 30, "batch_progress to settle")
    assert (record["total"], record["rejected"], record["queued"], record["running"]) == (5, 1, 0, 0)
    failed = next(x for x in record["results"] if x["project"] == "batch-refused")
    assert "content policy" in failed["error"].lower() or "refused" in failed["error"].lower()
    with dg.DagsterInstance.get() as instance:
        failed_run = instance.get_run_by_id(failed["run_id"])
        steps = instance.get_records_for_run(failed_run.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY).records
        assert not steps, "a permanent provider error is not retried"

"""The distributed mode keeps every guarantee: steps on two Celery workers that behave as hosts.

One deployment for the module (pipeline_tests/distributed/conftest.py): PostgreSQL, daemon and
webserver with PIPELINE_EXECUTOR=celery, Redis as broker, w1@host-a serving `default` and `render`,
w2@host-b serving `default`, speech from a loopback OpenAI-compatible server that counts requests.
"""

import collections
import json
import time
from pathlib import Path

import dagster as dg
import pytest

from pipeline.cli.projects import launch_brief
from pipeline.defs.ops.jobs import run_config
from pipeline.events.keys import Keys
from pipeline.events.redis_sink import redis_prefix
from pipeline.launch.client import ClientError, PipelineClient
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.distributed.conftest import SPEECH_DELAY
from pipeline_tests.events.streams import client as redis_client
from pipeline_tests.events.streams import entries, final_entry, wait_for

pytestmark = pytest.mark.distributed
STEPS = (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE,
         dg.DagsterEventType.STEP_UP_FOR_RETRY)


def _brief(project: str, **changes):
    """A small project of its own words: its cues are never answered by another test's cached speech."""
    prompt = f"The keeper of the {project.replace('-', ' ')} archive finds a letter that was never sent."
    return small_brief(project, prompt=prompt, **changes)


def _records(cluster, run_id: str) -> list:
    with cluster.instance() as instance:
        return instance.get_records_for_run(run_id).records


def _workers(cluster, run_id: str) -> dict[str, str]:
    """asset -> node name its materialisation recorded."""
    found = {}
    for record in _records(cluster, run_id):
        event = record.event_log_entry.dagster_event
        if event is not None and event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            found[event.step_key] = event.event_specific_data.materialization.metadata["worker"].value
    return found


def _spans(cluster, run_id: str) -> dict[str, tuple[float, float]]:
    starts, ends = {}, {}
    for record in _records(cluster, run_id):
        entry = record.event_log_entry
        if entry.dagster_event is None:
            continue
        if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            starts[entry.step_key] = entry.timestamp
        elif entry.dagster_event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            ends[entry.step_key] = entry.timestamp
    return {k: (starts[k], ends[k]) for k in ends if k in starts}


def _events(cluster, run_id: str, *types) -> list:
    return [r.event_log_entry for r in _records(cluster, run_id) if r.event_log_entry.dagster_event is not None
            and r.event_log_entry.dagster_event.event_type in types]


def _started_on(cluster, run_id: str, step: str) -> str | None:
    """The Celery node that took the step's task (dagster-celery's engine event names it)."""
    for entry in _events(cluster, run_id, dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.event_specific_data
        if entry.step_key == step and data is not None and "Celery worker" in (data.metadata or {}):
            node = data.metadata["Celery worker"].value
    return locals().get("node")


def test_a_project_runs_on_both_workers_renders_on_the_render_queue_and_projects_once(cluster, speech_api):
    client = PipelineClient()
    brief = _brief("dist-whole")
    run_id = launch_brief(client, brief, None)
    assert client.wait(run_id, timeout=400)["status"] == "SUCCESS"

    workers = _workers(cluster, run_id)
    assert set(workers.values()) == {"w1@host-a", "w2@host-b"}, workers
    assert workers["video"] == "w1@host-a", "the render queue is served by w1 only"
    spans = _spans(cluster, run_id)
    parallel = [(a, b) for a in ("narration", "images", "presenter") for b in ("narration", "images", "presenter")
                if a < b and workers[a] != workers[b] and spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]]
    assert parallel, f"narration, images and presenter ran one after another: {spans}"

    # job_result's outputs come from the materialisations, whichever host made them
    r = redis_client()
    result = json.loads(wait_for(lambda: r.get(Keys(redis_prefix()).job_result(run_id)), 30, "job_result"))
    files = ProjectFiles(cluster.shared, brief.project_id)
    assert result["outputs"] == {name: str(files.path(rel)) for name, rel in
                                 [("outline", "outline.json"), ("manuscript", "manuscript.md"),
                                  ("video", "video.mp4"), ("thumbnail", "thumbnail.jpg"),
                                  ("subtitles", "video.srt")]}
    assert all(Path(p).stat().st_size > 0 for p in result["outputs"].values())

    # the project's stream: each event once, in the event log's order, though written from three hosts
    final_entry(r, brief.project_id, run_id)

    def both() -> tuple[list[dict], list[str]]:  # events written after RUN_SUCCESS (the launcher's) may trail
        logged = [r.event_log_entry.dagster_event.event_type.name for r in _records(cluster, run_id)
                  if r.event_log_entry.dagster_event is not None]
        return entries(r, brief.project_id, run_id), logged

    stream, logged = both()
    deadline = time.monotonic() + 15
    while len(stream) != len(logged) and time.monotonic() < deadline:
        time.sleep(0.5)
        stream, logged = both()
    seqs = [int(e["seq"]) for e in stream]
    assert seqs == sorted(set(seqs)), "the stream repeats or reorders entries"
    assert [e["dagster_event"] for e in stream] == logged


def test_one_run_per_project_holds_on_every_route(cluster):
    client = PipelineClient()
    brief = _brief("dist-once", stop_at="outline")
    first = launch_brief(client, brief, brief.stop_at)
    with pytest.raises(ClientError, match=f"already has run {first}"):
        launch_brief(client, brief, brief.stop_at)  # the client refuses before creating anything
    with pytest.raises(ClientError, match=f"already has run {first}"):  # the coordinator refuses atomically
        client.launch(brief.project_id, run_config(brief), ["brief", "outline"])
    assert client.wait(first, timeout=200)["status"] == "SUCCESS"
    assert [r["status"] for r in client.runs(brief.project_id)] == ["SUCCESS"]


def _wait_for_step_start(cluster, run_id: str, step: str, timeout: float = 200) -> None:
    wait_for(lambda: any(e.step_key == step for e in _events(cluster, run_id, dg.DagsterEventType.STEP_START)),
             timeout, f"{step} to start")


def test_cancel_ends_canceled_within_seconds_never_retried_items_kept(cluster, speech_api):
    client = PipelineClient()
    brief = _brief("dist-cancel")
    run_id = launch_brief(client, brief, None)
    _wait_for_step_start(cluster, run_id, "narration")
    files = ProjectFiles(cluster.shared, brief.project_id)
    wait_for(lambda: len(list(files.path("narration", "items").glob("*.wav"))) >= 2, 60, "two cues spoken")
    asked = time.monotonic()
    client.terminate(run_id)
    run = client.wait(run_id, timeout=60)
    took = time.monotonic() - asked
    assert run["status"] == "CANCELED" and took < 20, (run["status"], took)
    kinds = [(e.dagster_event.event_type, e.step_key) for e in _events(cluster, run_id, *STEPS)]
    assert not [k for k in kinds if k[0] == dg.DagsterEventType.STEP_UP_FOR_RETRY], "a cancel is never a retry"
    assert (dg.DagsterEventType.STEP_SUCCESS, "narration") not in kinds
    assert (dg.DagsterEventType.STEP_START, "video") not in kinds
    kept = list(files.path("narration", "items").glob("*.wav"))
    assert len(kept) >= 2, "finished cues are kept"
    time.sleep(3)  # nothing starts after the cancel
    assert _events(cluster, run_id, dg.DagsterEventType.STEP_START)[-1].step_key == "narration" or \
        (dg.DagsterEventType.STEP_START, "video") not in kinds


def test_provider_limits_hold_for_the_deployment_not_per_worker(cluster, speech_api):
    """PIPELINE_SPEECH_MAX_IN_FLIGHT=1: two narrations on two workers still send one request at a time."""
    client = PipelineClient()
    speech_api.peak = 0
    speech_api.delay = 4.0  # each narration lasts longer than the stagger of the runs, so they overlap
    briefs = [_brief(f"dist-limit-{n}", stop_at="narration") for n in range(2)]
    ready = [launch_brief(client, b, "script") for b in briefs]  # the text first, so both narrations start together
    assert [client.wait(r, timeout=400)["status"] for r in ready] == ["SUCCESS", "SUCCESS"]
    try:
        runs = [launch_brief(client, b, b.stop_at) for b in briefs]
        assert [client.wait(r, timeout=400)["status"] for r in runs] == ["SUCCESS", "SUCCESS"]
    finally:
        speech_api.delay = SPEECH_DELAY
    spans = [_spans(cluster, r)["narration"] for r in runs]
    nodes = {_workers(cluster, r)["narration"] for r in runs}
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1] and len(nodes) == 2, (spans, nodes)
    assert speech_api.peak == 1


def test_a_killed_worker_loses_no_finished_item_and_the_project_finishes(cluster, speech_api):
    client = PipelineClient()
    brief = _brief("dist-kill")
    seen_before = len(speech_api.seen)
    run_id = launch_brief(client, brief, None)
    _wait_for_step_start(cluster, run_id, "narration")
    files = ProjectFiles(cluster.shared, brief.project_id)
    wait_for(lambda: len(list(files.path("narration", "items").glob("*.wav"))) >= 3, 60, "three cues spoken")
    node = wait_for(lambda: _started_on(cluster, run_id, "narration"), 30, "the node running narration")
    victim = next(w for w in cluster.workers if w.node == node)
    before = {p.name for p in files.path("narration", "items").glob("*.wav")}
    victim.kill()
    cluster.workers.remove(victim)
    cluster.add_worker(victim.name, victim.host, victim.queues)  # the host comes back, without the task
    assert client.wait(run_id, timeout=400)["status"] == "SUCCESS"

    lost = [e for e in _events(cluster, run_id, dg.DagsterEventType.ENGINE_EVENT) if "RUN_WORKER_LOST" in e.message]
    assert lost and lost[0].step_key == "narration", "the lost step is reported and submitted again"
    asked = collections.Counter(s.json()["input"] for s in list(speech_api.seen)[seen_before:]
                                if s.path.endswith("/audio/speech"))
    cues = len(json.loads(files.path("narration.json").read_text())["cues"])
    again = [text for text, n in asked.items() if n > 1]
    assert len(again) <= 1, f"finished cues were spoken again: {again}"  # at most the one in flight
    assert before <= {p.name for p in files.path("narration", "items").glob("*.wav")}
    assert sum(asked.values()) <= cues + 1


def test_a_batch_of_twenty_text_projects_across_workers_one_failing(cluster):
    client = PipelineClient()
    briefs = [_brief(f"dist-batch-{n:02d}", stop_at="manuscript",
                          **({"budget": {"tokens": 1}} if n == 7 else {})) for n in range(20)]
    runs = {b.project_id: launch_brief(client, b, b.stop_at) for b in briefs}
    outcome = {p: client.wait(r, timeout=900)["status"] for p, r in runs.items()}
    assert outcome.pop("dist-batch-07") == "FAILURE"
    assert set(outcome.values()) == {"SUCCESS"}, outcome
    nodes = set()
    for run_id in runs.values():
        nodes |= set(_workers(cluster, run_id).values())
    assert nodes == {"w1@host-a", "w2@host-b"}
    failed = final_entry(redis_client(), "dist-batch-07", runs["dist-batch-07"])
    assert failed["type"] == "task_failed" and failed["error_code"] == "BUDGET_EXCEEDED"

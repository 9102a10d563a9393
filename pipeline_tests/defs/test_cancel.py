"""A canceled run stops at once: the interrupted step fails, it is never put up for retry (dagster#15026)."""

import os
import signal
import threading
import time
import wave
from typing import ClassVar

import dagster as dg
import pytest

from pipeline.defs.ops.jobs import run_config
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import CountingImages, CountingSpeech
from pipeline_tests.events.streams import client, entries, final_entry

SELECTION = ["brief", "outline", "chapters", "script", "narration", "images"]
_COUNTING = threading.Lock()


class Terminate:
    """What a terminate request does to a run: mark it canceling, then interrupt its worker (here, this process)."""

    during: ClassVar[str] = ""  # the step to cancel: "narration" or "images"

    @staticmethod
    def now() -> None:
        with dg.DagsterInstance.get() as instance:
            run = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]), limit=1)[0]
            instance.report_run_canceling(run)
        os.kill(os.getpid(), signal.SIGINT)  # the worker's main thread gets it, wherever it is


class CancelAtThirdCue(CountingSpeech):
    """Cancels the run while the third cue's WAV is being written, as a real cancel lands in the speech engine:
    the file's close then raises wave.Error ('# channels not specified'), which hides the interrupt."""

    spoken: ClassVar[int] = 0

    def synthesize(self, text, language, voice, out_path):
        CancelAtThirdCue.spoken += 1
        if Terminate.during == "narration" and CancelAtThirdCue.spoken == 3:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            with wave.open(str(out_path), "wb"):
                Terminate.now()
                time.sleep(10)  # interrupted long before this ends
        return super().synthesize(text, language, voice, out_path)


class CancelAtSecondImage(CountingImages):
    """Cancels the run from a worker thread while images are drawn: the interrupt lands in the step's own wait."""

    drawn: ClassVar[int] = 0

    def generate(self, description, seed, width, height, out_path):
        with _COUNTING:
            CancelAtSecondImage.drawn += 1
            stop = Terminate.during == "images" and CancelAtSecondImage.drawn == 2
        if stop:
            Terminate.now()
        return super().generate(description, seed, width, height, out_path)


def _job() -> dg.JobDefinition:
    from pipeline.definitions import assets
    from pipeline.defs.ops.jobs import produce_project
    from pipeline.defs.resources import build_resources

    resources = {**build_resources(), "speech_provider": CancelAtThirdCue(), "image_provider": CancelAtSecondImage()}
    return dg.Definitions(assets=assets, jobs=[produce_project], resources=resources).resolve_job_def("produce_project")


@pytest.fixture
def no_stray_interrupt():
    """Should an interrupt ever arrive outside the run, it must not stop the test session."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("step", ["narration", "images"])
def test_canceled_run_fails_its_step_once_without_a_retry(redis_server, instance, data_dir, monkeypatch,
                                                          no_stray_interrupt, step):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    Terminate.during, CancelAtThirdCue.spoken, CancelAtSecondImage.drawn = step, 0, 0
    brief = small_brief(f"cancel-{step}", seed=0)
    instance.add_dynamic_partitions("projects", [brief.project_id])
    result = dg.execute_job(dg.reconstructable(_job), instance=instance, run_config=run_config(brief),
                            tags={"dagster/partition": brief.project_id},
                            asset_selection=[dg.AssetKey(a) for a in SELECTION])

    assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.CANCELED
    records = instance.get_records_for_run(result.run_id).records
    events = [r.event_log_entry.dagster_event for r in records if r.event_log_entry.dagster_event is not None]
    kinds = [(e.event_type, e.step_key) for e in events]
    assert not [k for k in kinds if k[0] == dg.DagsterEventType.STEP_UP_FOR_RETRY], "a cancel is never a retry"
    assert kinds.count((dg.DagsterEventType.STEP_START, step)) == 1
    # narration and images run at the same time: the cancel stops whichever of them is running
    failed = [e for e in events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert step in [e.step_key for e in failed] and {e.step_key for e in failed} <= {"narration", "images"}
    for event in failed:
        description = event.step_failure_data.user_failure_data.description
        assert description.startswith(event.step_key) and "canceled: the run was terminated" in description
        metadata = {k: v.value for k, v in event.step_failure_data.user_failure_data.metadata.items()}
        assert metadata["error_code"] == "CANCELED" and metadata["retryable"] is False
        assert metadata["where"].startswith(event.step_key) and "re-execute the run from failure" in metadata["hint"]
    after = kinds[kinds.index((dg.DagsterEventType.STEP_FAILURE, failed[0].step_key)):]
    assert not [k for k in after if k[0] == dg.DagsterEventType.STEP_START], "no step starts after the cancel"
    assert kinds[-1] == (dg.DagsterEventType.RUN_CANCELED, None)

    r = client()
    assert final_entry(r, brief.project_id, result.run_id)["type"] == "task_canceled"
    assert "STEP_UP_FOR_RETRY" not in [e["dagster_event"] for e in entries(r, brief.project_id, result.run_id)]


def test_every_asset_body_is_inside_the_step_boundary():
    from pipeline.definitions import assets

    bodies = {a.op.name: a.op.compute_fn.decorated_fn for a in assets}
    assert {"brief", "narration", "images", "video", "publication"} <= set(bodies)
    outside = [name for name, fn in bodies.items() if not fn.__code__.co_qualname.startswith("step_boundary.")]
    assert not outside, f"a cancel or a full disk in {outside} would be retried: decorate them with @step_boundary"

"""Independent steps of one run at the same time in the default (in-process) mode, logs kept apart."""

import logging
import time
from typing import ClassVar

import dagster as dg
import pytest

from pipeline.defs.ops.jobs import run_config
from pipeline.providers.images import ProceduralImages
from pipeline.providers.speech import OfflineSpeech
from pipeline_tests.defs.briefs import small_brief

SELECTION = ["brief", "outline", "chapters", "script", "narration", "images", "presenter"]
log = logging.getLogger("pipeline.providers.test")
log.setLevel(logging.INFO)


class SlowSpeech(OfflineSpeech):
    """A hosted voice: every cue waits on the network."""

    def synthesize(self, text, language, voice, out_path):
        time.sleep(0.3)
        log.info("speech said: %s", text[:20])
        return super().synthesize(text, language, voice, out_path)


class SlowImages(ProceduralImages):
    drawn: ClassVar[int] = 0

    def generate(self, description, seed, width, height, out_path):
        time.sleep(0.6)
        log.info("image drawn: %s", description[:20])
        return super().generate(description, seed, width, height, out_path)


def _job() -> dg.JobDefinition:
    from pipeline.definitions import assets
    from pipeline.defs.ops.jobs import produce_project
    from pipeline.defs.resources import build_resources

    resources = {**build_resources(), "speech_provider": SlowSpeech(), "image_provider": SlowImages()}
    return dg.Definitions(assets=assets, jobs=[produce_project], resources=resources).resolve_job_def("produce_project")


def _run(instance, data_dir, monkeypatch, project: str, parallel: str):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PIPELINE_PARALLEL_STEPS", parallel)
    brief = small_brief(project, seed=0)
    instance.add_dynamic_partitions("projects", [brief.project_id])
    result = dg.execute_job(dg.reconstructable(_job), instance=instance, run_config=run_config(brief),
                            tags={"dagster/partition": brief.project_id},
                            asset_selection=[dg.AssetKey(a) for a in SELECTION])
    assert result.success
    spans, lines = {}, {}
    for record in instance.get_records_for_run(result.run_id).records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is not None and event.event_type == dg.DagsterEventType.STEP_START:
            spans[entry.step_key] = [entry.timestamp, None]
        elif event is not None and event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            spans[entry.step_key][1] = entry.timestamp
        elif event is None and entry.user_message.startswith(("speech said", "image drawn")):
            lines.setdefault(entry.step_key, []).append(entry.user_message)
    return spans, lines


def _overlap(a, b) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


@pytest.mark.parametrize("parallel", ["4", "1"])
def test_narration_and_images_run_at_the_same_time_each_with_its_own_log(instance, data_dir, monkeypatch, parallel):
    spans, lines = _run(instance, data_dir, monkeypatch, f"parallel-{parallel}", parallel)
    if parallel == "1":  # PIPELINE_PARALLEL_STEPS=1: one step after another, as before
        assert _overlap(spans["narration"], spans["images"]) < 0
        return
    assert _overlap(spans["narration"], spans["images"]) > 1.0, spans
    assert _overlap(spans["narration"], spans["presenter"]) > 0 or _overlap(spans["images"], spans["presenter"]) > 0
    # a provider's log line reaches the step that made the call, never the step beside it
    assert lines["narration"] and all(m.startswith("speech said") for m in lines["narration"])
    assert lines["images"] and all(m.startswith("image drawn") for m in lines["images"])


def test_a_bad_parallel_setting_is_refused_with_the_variable(monkeypatch):
    from pipeline.defs.ops.parallel import parallel_steps

    monkeypatch.setenv("PIPELINE_PARALLEL_STEPS", "many")
    with pytest.raises(dg.DagsterInvalidConfigError, match="PIPELINE_PARALLEL_STEPS='many'"):
        parallel_steps()

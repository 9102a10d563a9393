"""Narration spoken several cues at a time sounds, and is timed, exactly as when spoken one cue after another."""

import json
import shutil

import pytest

from pipeline.providers.speech import OfflineSpeech, espeak_voices
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import materialize

UP_TO_SCRIPT = ["brief", "outline", "chapters", "script"]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_parallel_and_sequential_narration_give_identical_wavs(tmp_path, data_dir, language):
    if language == "zh" and not espeak_voices():
        pytest.skip("espeak-ng is not installed")
    brief = small_brief(f"narrate-{language}", language=language)
    assert materialize(brief, data_dir, UP_TO_SCRIPT).success
    parallel_dir = tmp_path / "parallel"
    shutil.copytree(data_dir, parallel_dir)  # the same script, no cue spoken yet

    sequential = materialize(brief, data_dir, ["narration"], speech_provider=OfflineSpeech(threads=1))
    parallel = materialize(brief, parallel_dir, ["narration"], speech_provider=OfflineSpeech(threads=4))
    assert sequential.success and parallel.success
    one, many = ProjectFiles(data_dir, brief.project_id), ProjectFiles(parallel_dir, brief.project_id)
    cues = json.loads(one.path("narration.json").read_text())["cues"]
    assert len(cues) > 5
    assert one.path("narration.json").read_text() == many.path("narration.json").read_text()  # order and timing
    for cue in cues:
        assert one.path(cue["audio"]).read_bytes() == many.path(cue["audio"]).read_bytes(), cue["text"]
    assert one.path("narration.wav").read_bytes() == many.path("narration.wav").read_bytes()
    spoken = parallel.asset_materializations_for_node("narration")[0].metadata["spoken"].value
    assert spoken == len({c["audio"] for c in cues})

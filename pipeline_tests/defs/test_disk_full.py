"""A full disk fails the step once, at once, saying so: where it happened and what to free, never a retry."""

import dagster as dg
import pytest

from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.defs.harness import CALLS, materialize
from pipeline_tests.render.disk import fill, tmpfs

UP_TO_SCRIPT = ["brief", "outline", "chapters", "script"]


@pytest.fixture
def small_disk(tmp_path, data_dir):
    """A data folder on a 64 MB filesystem of its own, with the example sources in it."""
    import shutil

    with tmpfs(tmp_path / "disk", "64m") as disk:
        folder = disk / "data"
        shutil.copytree(data_dir / "sources", folder / "sources")
        yield folder


def _step_events(result: dg.ExecuteInProcessResult, step: str) -> list[dg.DagsterEventType]:
    return [e.event_type for e in result.all_events if e.step_key == step]


def _assert_failed_once_for_disk(result: dg.ExecuteInProcessResult, step: str, folder) -> str:
    assert not result.success
    kinds = _step_events(result, step)
    assert kinds.count(dg.DagsterEventType.STEP_START) == 1
    assert kinds.count(dg.DagsterEventType.STEP_FAILURE) == 1
    assert dg.DagsterEventType.STEP_UP_FOR_RETRY not in kinds, "a full disk is not retried"
    failure = next(e for e in result.all_events if e.is_step_failure and e.step_key == step).step_failure_data
    assert failure.user_failure_data is not None, "the step failed through the project's boundary"
    description = failure.user_failure_data.description
    assert "disk full" in description and "Exceeded max_retries" not in failure.error.message
    assert f"free space on the filesystem of {folder}" in description and "pipeline delete" in description
    assert failure.user_failure_data.metadata["retryable"].value is False
    metadata = {k: v.value for k, v in failure.user_failure_data.metadata.items()}
    assert metadata["error_code"] == "DISK_FULL" and metadata["where"] == step
    assert metadata["hint"].startswith(f"free space on the filesystem of {folder}")
    return description


def test_python_write_on_a_full_disk_fails_the_step_once(small_disk):
    brief = small_brief("disk-full-py")
    assert materialize(brief, small_disk, UP_TO_SCRIPT).success
    fill(small_disk)
    CALLS.clear()
    result = materialize(brief, small_disk, ["narration"])
    description = _assert_failed_once_for_disk(result, "narration", small_disk)
    assert description.startswith("narration: disk full (no space left on device), writing")
    assert str(small_disk) in description
    # cues are spoken `concurrency()` at once: those under way when the first hit the full disk finish,
    # no other one starts
    from pipeline.providers.speech import OfflineSpeech

    assert 1 <= CALLS["speech"] <= OfflineSpeech().concurrency() + 1, CALLS


def test_ffmpeg_on_a_full_disk_fails_the_render_once_with_its_output_path(small_disk):
    brief = small_brief("disk-full-ffmpeg")
    assert materialize(brief, small_disk, [*UP_TO_SCRIPT, "narration", "images", "presenter"]).success
    fill(small_disk)
    result = materialize(brief, small_disk, ["video"])
    description = _assert_failed_once_for_disk(result, "video", small_disk)
    # ffmpeg said "No space left on device": the message names what it was doing and the file it was writing
    assert description.startswith("video: disk full (no space left on device) while ")
    assert f", writing {small_disk}/" in description, description


def test_saving_an_output_on_a_full_disk_is_not_retried(small_disk):
    from pydantic import BaseModel

    from pipeline.defs.resources import ProjectIOManager

    class Value(BaseModel):
        text: str

    fill(small_disk)
    manager = ProjectIOManager(data_dir=str(small_disk))
    context = dg.build_output_context(asset_key=dg.AssetKey("outline"), partition_key="p1")
    with pytest.raises(dg.Failure) as caught:
        manager.handle_output(context, Value(text="x" * 100_000))
    assert not caught.value.allow_retries
    assert caught.value.description.startswith("saving outline: disk full (no space left on device), writing")
    assert str(small_disk) in caught.value.description


def test_espeak_on_a_full_disk_says_disk_full_not_a_bad_voice(small_disk):
    brief = small_brief("disk-full-zh", language="zh")
    assert materialize(brief, small_disk, UP_TO_SCRIPT).success
    fill(small_disk)
    result = materialize(brief, small_disk, ["narration"])
    description = _assert_failed_once_for_disk(result, "narration", small_disk)
    assert "voice" not in description
